//! The `establishments` table: the server's establishments (JSON in `body`), with a folded
//! search key and the location.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::establishments::dsl as e;
use crate::error::FieldResult;

/// One establishment to store.
#[derive(Debug, Clone)]
pub(crate) struct EstablishmentRow {
    pub id: String,
    pub establishment_type: String,
    /// Name, address, owner, licence, registration and phone, folded (see `shared::text::fold`).
    pub search_key: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub body: String,
}

/// Inserts or replaces `row`.
pub(crate) fn upsert(c: &mut SqliteConnection, row: &EstablishmentRow) -> FieldResult<()> {
    diesel::replace_into(e::establishments)
        .values((
            e::id.eq(&row.id),
            e::establishment_type.eq(&row.establishment_type),
            e::search_key.eq(&row.search_key),
            e::lat.eq(row.lat),
            e::lon.eq(row.lon),
            e::body.eq(&row.body),
        ))
        .execute(c)?;
    Ok(())
}

pub(crate) fn clear(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::delete(e::establishments).execute(c)?;
    Ok(())
}

/// The body of one establishment.
pub(crate) fn body(c: &mut SqliteConnection, id: &str) -> FieldResult<Option<String>> {
    Ok(e::establishments
        .find(id)
        .select(e::body)
        .first(c)
        .optional()?)
}

/// The body of one establishment (an error when there is none).
pub(crate) fn body_of(c: &mut SqliteConnection, id: &str) -> FieldResult<String> {
    Ok(e::establishments.find(id).select(e::body).first(c)?)
}

pub(crate) fn exists(c: &mut SqliteConnection, id: &str) -> FieldResult<bool> {
    Ok(e::establishments.find(id).count().get_result::<i64>(c)? > 0)
}

/// The type of one establishment.
pub(crate) fn type_of(c: &mut SqliteConnection, id: &str) -> FieldResult<Option<String>> {
    Ok(e::establishments
        .find(id)
        .select(e::establishment_type)
        .first(c)
        .optional()?)
}

/// Bodies of the establishments whose search key contains every one of `words` (already
/// folded, with `\`, `%` and `_` escaped by `\`).
pub(crate) fn matching(c: &mut SqliteConnection, words: &[String]) -> FieldResult<Vec<String>> {
    let mut query = e::establishments.select(e::body).into_boxed();
    for w in words {
        query = query.filter(e::search_key.like(format!("%{w}%")).escape('\\'));
    }
    Ok(query.load(c)?)
}
