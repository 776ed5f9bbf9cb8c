//! Assignments (phân công): which team inspects which establishments in which window. Visibility:
//! an inspector sees only released (or finished) assignments of their own team; drafts are seen
//! only by the leaders of the team; unannounced work stays inside the team until it is done.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use doi178_shared::Role;
use uuid::Uuid;

use super::schema::{assignment_establishments, assignments, teams};
use super::AnyConnection;
use crate::audit::{self, Kind, Who};
use crate::auth::Actor;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = assignments)]
#[diesel(treat_none_as_null = true)]
pub struct AssignmentRow {
    pub id: String,
    pub team_id: String,
    pub kind: String,
    pub status: String,
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
    pub status: Option<String>,
    pub after_seq: Option<i64>,
    pub up_to_seq: Option<i64>,
    pub limit: i64,
}

/// The visibility rule, in one place.
pub fn visible(actor: &Actor, row: &AssignmentRow, team_unit: &str) -> bool {
    let team = Uuid::parse_str(&row.team_id).ok();
    let led = team.is_some_and(|t| actor.leads(t));
    let member = team.is_some_and(|t| actor.member_of(t));
    let released_or_later = row.status != "draft";
    let finished = row.status == "done" || row.status == "cancelled";
    if led {
        return true;
    }
    if member {
        return released_or_later;
    }
    if row.kind == "unannounced" {
        // Nobody outside the team may learn of an unannounced inspection before it is over.
        return finished && actor.is_staff() && actor.sees_unit(team_unit);
    }
    actor.is_staff() && actor.sees_unit(team_unit)
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &Filter,
) -> QueryResult<Vec<AssignmentRow>> {
    let mut query = assignments::table
        .inner_join(teams::table)
        .select((AssignmentRow::as_select(), teams::unit_id))
        .order((assignments::created_at.desc(), assignments::id.asc()))
        .into_boxed();
    // Narrow in SQL by what can possibly be visible, then apply the exact rule.
    match actor.role {
        Role::Admin => {}
        Role::ProvincialStaff => {
            if let Some(units) = actor.unit_ids() {
                query = query.filter(teams::unit_id.eq_any(units));
            }
        }
        Role::TeamLeader | Role::Inspector => {
            query = query.filter(assignments::team_id.eq_any(actor.team_ids()));
            if actor.led_team_ids().is_empty() {
                query = query.filter(assignments::status.ne("draft"));
            }
        }
    }
    if let Some(team) = &filter.team_id {
        query = query.filter(assignments::team_id.eq(team.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(assignments::status.eq(status.clone()));
    }
    if let Some(after) = filter.after_seq {
        query = query.filter(assignments::seq.gt(after));
    }
    if let Some(up_to) = filter.up_to_seq {
        query = query.filter(assignments::seq.le(up_to));
    }
    let rows: Vec<(AssignmentRow, String)> = query.limit(filter.limit.max(1) * 4).load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(row, unit)| visible(actor, row, unit))
        .map(|(row, _)| row)
        .take(filter.limit.max(1) as usize)
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
