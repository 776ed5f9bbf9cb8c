//! The `assignments` table: the team's assignments as the pull sync brought them (the server's
//! JSON in `body`, with the columns the queries filter on).

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::assignments::dsl as a;
use crate::error::FieldResult;

/// One assignment to store.
#[derive(Debug, Clone)]
pub(crate) struct AssignmentRow {
    pub id: String,
    pub team_id: String,
    pub status: String,
    pub window_start: String,
    pub window_end: String,
    pub body: String,
}

/// Inserts or replaces `row`.
pub(crate) fn upsert(c: &mut SqliteConnection, row: &AssignmentRow) -> FieldResult<()> {
    diesel::replace_into(a::assignments)
        .values((
            a::id.eq(&row.id),
            a::team_id.eq(&row.team_id),
            a::status.eq(&row.status),
            a::window_start.eq(&row.window_start),
            a::window_end.eq(&row.window_end),
            a::body.eq(&row.body),
        ))
        .execute(c)?;
    Ok(())
}

pub(crate) fn delete(c: &mut SqliteConnection, id: &str) -> FieldResult<()> {
    diesel::delete(a::assignments.find(id)).execute(c)?;
    Ok(())
}

pub(crate) fn clear(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::delete(a::assignments).execute(c)?;
    Ok(())
}

/// Bodies of the released assignments whose window contains `day` (`YYYY-MM-DD`), by window end
/// then id.
pub(crate) fn released_on(c: &mut SqliteConnection, day: &str) -> FieldResult<Vec<String>> {
    Ok(a::assignments
        .filter(a::status.eq("released"))
        .filter(a::window_start.le(day))
        .filter(a::window_end.ge(day))
        .order((a::window_end, a::id))
        .select(a::body)
        .load(c)?)
}

/// Every assignment as (id, body).
pub(crate) fn all(c: &mut SqliteConnection) -> FieldResult<Vec<(String, String)>> {
    Ok(a::assignments.select((a::id, a::body)).load(c)?)
}

/// The body of one assignment.
pub(crate) fn body(c: &mut SqliteConnection, id: &str) -> FieldResult<Option<String>> {
    Ok(a::assignments
        .find(id)
        .select(a::body)
        .first(c)
        .optional()?)
}
