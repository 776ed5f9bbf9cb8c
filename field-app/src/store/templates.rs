//! The `templates` table: checklist templates (JSON in `body`) by establishment type and version.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::templates::dsl as t;
use crate::error::FieldResult;

/// One template to store.
#[derive(Debug, Clone)]
pub(crate) struct TemplateRow {
    pub id: String,
    pub establishment_type: String,
    pub version: i32,
    pub valid_from: String,
    pub body: String,
}

/// Inserts or replaces `row`.
pub(crate) fn upsert(c: &mut SqliteConnection, row: &TemplateRow) -> FieldResult<()> {
    diesel::replace_into(t::templates)
        .values((
            t::id.eq(&row.id),
            t::establishment_type.eq(&row.establishment_type),
            t::version.eq(row.version),
            t::valid_from.eq(&row.valid_from),
            t::body.eq(&row.body),
        ))
        .execute(c)?;
    Ok(())
}

pub(crate) fn clear(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::delete(t::templates).execute(c)?;
    Ok(())
}

/// The templates of `establishment_type` as (valid_from, body), newest version first.
pub(crate) fn of_type(
    c: &mut SqliteConnection,
    establishment_type: &str,
) -> FieldResult<Vec<(String, String)>> {
    Ok(t::templates
        .filter(t::establishment_type.eq(establishment_type))
        .order(t::version.desc())
        .select((t::valid_from, t::body))
        .load(c)?)
}
