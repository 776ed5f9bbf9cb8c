//! The `team_visits` table: the team's visits as the server has them (JSON in `body`), with
//! their review.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::team_visits::dsl as t;
use crate::error::FieldResult;

/// One team visit to store.
#[derive(Debug, Clone)]
pub(crate) struct TeamVisitRow {
    pub id: String,
    pub establishment_id: String,
    pub review_status: String,
    pub review_comment: Option<String>,
    pub evidence_pending: bool,
    pub body: String,
}

/// Inserts or replaces `row`.
pub(crate) fn upsert(c: &mut SqliteConnection, row: &TeamVisitRow) -> FieldResult<()> {
    diesel::replace_into(t::team_visits)
        .values((
            t::id.eq(&row.id),
            t::establishment_id.eq(&row.establishment_id),
            t::review_status.eq(&row.review_status),
            t::review_comment.eq(&row.review_comment),
            t::evidence_pending.eq(i32::from(row.evidence_pending)),
            t::body.eq(&row.body),
        ))
        .execute(c)?;
    Ok(())
}

pub(crate) fn clear(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::delete(t::team_visits).execute(c)?;
    Ok(())
}

/// Bodies of the team's visits of one establishment.
pub(crate) fn of_establishment(
    c: &mut SqliteConnection,
    establishment_id: &str,
) -> FieldResult<Vec<String>> {
    Ok(t::team_visits
        .filter(t::establishment_id.eq(establishment_id))
        .select(t::body)
        .load(c)?)
}
