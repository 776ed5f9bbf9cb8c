//! Teams (Đội kiểm tra liên ngành) and their members.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use doi178_shared::{MemberRole, TeamLevel};
use uuid::Uuid;

use super::schema::{agencies, team_members, teams, users};
use super::AnyConnection;
use crate::actor::{Actor, Membership};
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = teams)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub level: TeamLevel,
    pub unit_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = team_members)]
pub struct MemberRow {
    pub team_id: String,
    pub user_id: String,
    pub role: MemberRole,
}

pub fn memberships_of(conn: &mut AnyConnection, user: Uuid) -> QueryResult<Vec<Membership>> {
    let rows: Vec<(String, MemberRole, String)> = team_members::table
        .inner_join(teams::table)
        .filter(team_members::user_id.eq(user.to_string()))
        .select((team_members::team_id, team_members::role, teams::unit_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(team, role, unit)| {
            Some(Membership {
                team_id: Uuid::parse_str(&team).ok()?,
                role,
                unit_id: unit,
            })
        })
        .collect())
}

/// Teams the actor may see: in their jurisdiction for staff, their own teams otherwise.
pub fn list(conn: &mut AnyConnection, actor: &Actor) -> QueryResult<Vec<TeamRow>> {
    list_page(conn, actor, None, None)
}

/// [`list`] by name (then id), after the team `after` (its name and id), at most `limit`.
pub fn list_page(
    conn: &mut AnyConnection,
    actor: &Actor,
    after: Option<(String, String)>,
    limit: Option<i64>,
) -> QueryResult<Vec<TeamRow>> {
    let mut query = teams::table
        .select(TeamRow::as_select())
        .order((teams::name.asc(), teams::id.asc()))
        .into_boxed();
    if let Some((name, id)) = after {
        query = query.filter(
            teams::name
                .gt(name.clone())
                .or(teams::name.eq(name).and(teams::id.gt(id))),
        );
    }
    if let Some(l) = limit {
        query = query.limit(l.max(1));
    }
    if actor.is_staff() {
        if let Some(units) = actor.unit_ids() {
            query = query.filter(teams::unit_id.eq_any(units));
        }
    } else {
        query = query.filter(teams::id.eq_any(actor.team_ids()));
    }
    query.load(conn)
}

pub fn get(conn: &mut AnyConnection, actor: &Actor, id: Uuid) -> QueryResult<Option<TeamRow>> {
    Ok(list(conn, actor)?
        .into_iter()
        .find(|t| t.id == id.to_string()))
}

/// Any team by id, unscoped: for checks where the caller already proved the right to act.
pub fn get_unscoped(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<TeamRow>> {
    teams::table
        .filter(teams::id.eq(id))
        .select(TeamRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &TeamRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::Team, &row.id)?;
    diesel::insert_into(teams::table)
        .values(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

/// A team member's id in the audit log.
pub fn member_key(team: &str, user: &str) -> String {
    format!("{team}/{user}")
}

pub fn upsert_member(conn: &mut AnyConnection, who: &Who, row: &MemberRow) -> QueryResult<()> {
    let change = audit::begin(
        conn,
        Kind::TeamMember,
        &member_key(&row.team_id, &row.user_id),
    )?;
    diesel::delete(
        team_members::table
            .filter(team_members::team_id.eq(&row.team_id))
            .filter(team_members::user_id.eq(&row.user_id)),
    )
    .execute(conn)?;
    diesel::insert_into(team_members::table)
        .values(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

pub fn remove_member(
    conn: &mut AnyConnection,
    who: &Who,
    team: &str,
    user: &str,
) -> QueryResult<usize> {
    let change = audit::begin(conn, Kind::TeamMember, &member_key(team, user))?;
    let n = diesel::delete(
        team_members::table
            .filter(team_members::team_id.eq(team))
            .filter(team_members::user_id.eq(user)),
    )
    .execute(conn)?;
    change.commit(conn, who)?;
    Ok(n)
}

/// A member as listed with the team: user id, username, display name, role in the team, agency.
pub type MemberListing = (String, String, String, MemberRole, Option<String>);

/// Members with display name and agency.
pub fn members(conn: &mut AnyConnection, team: &str) -> QueryResult<Vec<MemberListing>> {
    team_members::table
        .inner_join(users::table)
        .filter(team_members::team_id.eq(team))
        .select((
            users::id,
            users::username,
            users::display_name,
            team_members::role,
            users::agency_id,
        ))
        .order(users::display_name.asc())
        .load(conn)
}

pub fn member_ids(conn: &mut AnyConnection, team: &str) -> QueryResult<Vec<String>> {
    crate::on_conn!(conn, |c| {
        team_members::table
            .filter(team_members::team_id.eq(team))
            .select(team_members::user_id)
            .load(c)
    })
}

/// A member of one of the phone's teams, as `GET /api/v1/sync` carries it: team id, user id,
/// username, display name, role in the team, agency id and agency name.
pub type RosterEntry = (
    String,
    String,
    String,
    String,
    MemberRole,
    Option<String>,
    Option<String>,
);

/// The active members of `team_ids` (and only those teams), by team then display name.
pub fn roster(conn: &mut AnyConnection, team_ids: &[String]) -> QueryResult<Vec<RosterEntry>> {
    if team_ids.is_empty() {
        return Ok(Vec::new());
    }
    team_members::table
        .inner_join(users::table.left_join(agencies::table))
        .filter(team_members::team_id.eq_any(team_ids))
        .filter(users::active.eq(true))
        .select((
            team_members::team_id,
            users::id,
            users::username,
            users::display_name,
            team_members::role,
            users::agency_id,
            agencies::name.nullable(),
        ))
        .order((team_members::team_id.asc(), users::display_name.asc()))
        .load(conn)
}
