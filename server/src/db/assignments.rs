//! Assignments (phân công): which team inspects which establishments in which window. Visibility:
//! an inspector sees only released (or finished) assignments of their own team; drafts are seen
//! only by the leaders of the team; unannounced work stays inside the team until it is done.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use doi178_shared::assignment::{AssignmentKind, AssignmentStatus};
use doi178_shared::Role;
use uuid::Uuid;

use super::schema::{assignment_establishments, assignments, teams};
use super::AnyConnection;
use crate::actor::Actor;
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = assignments)]
#[diesel(treat_none_as_null = true)]
pub struct AssignmentRow {
    pub id: String,
    pub team_id: String,
    pub kind: AssignmentKind,
    pub status: AssignmentStatus,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub note: Option<String>,
    pub tip_id: Option<String>,
    pub follow_up_of: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub released_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub seq: i64,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub team_id: Option<String>,
    pub status: Option<AssignmentStatus>,
    /// Start after this assignment (its creation time and id), for the next page.
    pub before: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// The visibility rule, in one place.
pub fn visible(actor: &Actor, row: &AssignmentRow, team_unit: &str) -> bool {
    visible_parts(actor, &row.team_id, row.kind, row.status, team_unit)
}

/// [`visible`] from the columns it reads (a count needs no whole row).
fn visible_parts(
    actor: &Actor,
    team_id: &str,
    kind: AssignmentKind,
    status: AssignmentStatus,
    team_unit: &str,
) -> bool {
    let team = Uuid::parse_str(team_id).ok();
    let led = team.is_some_and(|t| actor.leads(t));
    let member = team.is_some_and(|t| actor.member_of(t));
    let released_or_later = status != AssignmentStatus::Draft;
    let finished = matches!(status, AssignmentStatus::Done | AssignmentStatus::Cancelled);
    if led {
        return true;
    }
    if member {
        return released_or_later;
    }
    if kind == AssignmentKind::Unannounced {
        // Nobody outside the team may learn of an unannounced inspection before it is over.
        return finished && actor.is_staff() && actor.sees_unit(team_unit);
    }
    actor.is_staff() && actor.sees_unit(team_unit)
}

/// Narrows `$query` (over assignments joined with teams) in SQL to what `$actor` can possibly
/// see and to `$filter`'s team and status; the exact rule, [`visible`], is applied to each row
/// after.
macro_rules! narrowed {
    ($query:expr, $actor:expr, $filter:expr) => {{
        let mut query = $query;
        match $actor.role {
            Role::Admin => {}
            Role::ProvincialStaff => {
                if let Some(units) = $actor.unit_ids() {
                    query = query.filter(teams::unit_id.eq_any(units));
                }
            }
            Role::TeamLeader | Role::Inspector => {
                query = query.filter(assignments::team_id.eq_any($actor.team_ids()));
                if $actor.led_team_ids().is_empty() {
                    query = query.filter(assignments::status.ne(AssignmentStatus::Draft));
                }
            }
        }
        if let Some(team) = &$filter.team_id {
            query = query.filter(assignments::team_id.eq(team.clone()));
        }
        if let Some(status) = &$filter.status {
            query = query.filter(assignments::status.eq(*status));
        }
        query
    }};
}

/// The assignments `actor` may see, newest first (then by id), at most `filter.limit`, starting
/// after `filter.before` (the creation time and id of the last one of the previous page).
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &Filter,
) -> QueryResult<Vec<AssignmentRow>> {
    let want = filter.limit.max(1) as usize;
    let batch = filter.limit.max(1).saturating_mul(2).clamp(64, 2000);
    let mut out = Vec::new();
    let mut before = filter.before.clone();
    // Rows the exact rule hides are skipped by reading on until the page is full or nothing is
    // left: never a short page that looks like the end.
    loop {
        let mut query = narrowed!(
            assignments::table
                .inner_join(teams::table)
                .select((AssignmentRow::as_select(), teams::unit_id))
                .order((assignments::created_at.desc(), assignments::id.asc()))
                .into_boxed(),
            actor,
            filter
        );
        if let Some((at, id)) = before.clone() {
            query = query.filter(
                assignments::created_at
                    .lt(at)
                    .or(assignments::created_at.eq(at).and(assignments::id.gt(id))),
            );
        }
        let rows: Vec<(AssignmentRow, String)> = query.limit(batch).load(conn)?;
        let exhausted = (rows.len() as i64) < batch;
        if let Some((last, _)) = rows.last() {
            before = Some((last.created_at, last.id.clone()));
        }
        for (row, unit) in rows {
            if visible(actor, &row, &unit) {
                out.push(row);
                if out.len() == want {
                    return Ok(out);
                }
            }
        }
        if exhausted {
            return Ok(out);
        }
    }
}

/// How many assignments in `filter`'s team and status `actor` may see (all of them).
pub fn count(conn: &mut AnyConnection, actor: &Actor, filter: &Filter) -> QueryResult<usize> {
    let query = narrowed!(
        assignments::table
            .inner_join(teams::table)
            .select((
                assignments::team_id,
                assignments::kind,
                assignments::status,
                teams::unit_id,
            ))
            .into_boxed(),
        actor,
        filter
    );
    let rows: Vec<(String, AssignmentKind, AssignmentStatus, String)> = query.load(conn)?;
    Ok(rows
        .iter()
        .filter(|(team, kind, status, unit)| visible_parts(actor, team, *kind, *status, unit))
        .count())
}

/// For a phone's sync: the assignments of the caller's own teams changed after `after` up to
/// `up_to`, in change order, at most `limit` rows read, each with whether the caller may see it
/// ([`visible`]). The rows the caller may not see are returned too: the sync page counts what it
/// read (`doi178_shared::sync::page_end`).
pub fn changed_since(
    conn: &mut AnyConnection,
    actor: &Actor,
    after: i64,
    up_to: i64,
    limit: i64,
) -> QueryResult<Vec<(AssignmentRow, bool)>> {
    let rows: Vec<(AssignmentRow, String)> = assignments::table
        .inner_join(teams::table)
        .select((AssignmentRow::as_select(), teams::unit_id))
        .filter(assignments::team_id.eq_any(actor.team_ids()))
        .filter(assignments::seq.gt(after))
        .filter(assignments::seq.le(up_to))
        .order(assignments::seq.asc())
        .limit(limit.max(1))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, unit)| {
            let seen = visible(actor, &row, &unit);
            (row, seen)
        })
        .collect())
}

pub fn get(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: Uuid,
) -> QueryResult<Option<AssignmentRow>> {
    let row: Option<(AssignmentRow, String)> = assignments::table
        .inner_join(teams::table)
        .filter(assignments::id.eq(id.to_string()))
        .select((AssignmentRow::as_select(), teams::unit_id))
        .first(conn)
        .optional()?;
    Ok(row
        .filter(|(r, unit)| visible(actor, r, unit))
        .map(|(r, _)| r))
}

pub fn insert(
    conn: &mut AnyConnection,
    who: &Who,
    row: &AssignmentRow,
    establishments: &[String],
) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::Assignment, &row.id)?;
    diesel::insert_into(assignments::table)
        .values(row)
        .execute(conn)?;
    let links: Vec<_> = establishments
        .iter()
        .map(|e| {
            (
                assignment_establishments::assignment_id.eq(row.id.clone()),
                assignment_establishments::establishment_id.eq(e.clone()),
            )
        })
        .collect();
    for chunk in links.chunks(200) {
        crate::insert_rows!(conn, assignment_establishments::table, chunk.to_vec())?;
    }
    change.commit(conn, who)?;
    Ok(())
}

pub fn update(conn: &mut AnyConnection, who: &Who, row: &AssignmentRow) -> QueryResult<()> {
    let change = audit::begin(conn, Kind::Assignment, &row.id)?;
    diesel::update(assignments::table.filter(assignments::id.eq(&row.id)))
        .set(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

pub fn establishment_ids(conn: &mut AnyConnection, assignment: &str) -> QueryResult<Vec<String>> {
    assignment_establishments::table
        .filter(assignment_establishments::assignment_id.eq(assignment))
        .select(assignment_establishments::establishment_id)
        .order(assignment_establishments::establishment_id.asc())
        .load(conn)
}
