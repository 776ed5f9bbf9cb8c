//! User accounts: look-ups for sign-in and the actor, and the scoped user list.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use doi178_shared::Role;
use uuid::Uuid;

use super::schema::{team_members, users};
use super::AnyConnection;
use crate::actor::Actor;
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub agency_id: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn find_by_id(conn: &mut AnyConnection, id: Uuid) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::id.eq(id.to_string()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_username(conn: &mut AnyConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &UserRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::User, &row.id)?;
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

/// Users the actor may see: everyone for admins; for staff, accounts attached to a unit in their
/// jurisdiction or to a team there; for team members, the members of their own teams.
/// In username order, after the username `after`, at most `limit`.
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    after: Option<&str>,
    limit: Option<i64>,
) -> QueryResult<Vec<UserRow>> {
    use super::schema::teams;
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::username.asc())
        .into_boxed();
    if let Some(a) = after {
        query = query.filter(users::username.gt(a.to_string()));
    }
    if let Some(l) = limit {
        query = query.limit(l.max(1));
    }
    if actor.is_admin() {
        return query.load(conn);
    }
    if actor.is_staff() {
        let units = actor.unit_ids().unwrap_or_default();
        let team_users = team_members::table
            .inner_join(teams::table)
            .filter(teams::unit_id.eq_any(units.clone()))
            .select(team_members::user_id);
        query = query.filter(
            users::unit_id
                .eq_any(units)
                .or(users::id.eq_any(team_users)),
        );
    } else {
        let mates = team_members::table
            .filter(team_members::team_id.eq_any(actor.team_ids()))
            .select(team_members::user_id);
        query = query.filter(users::id.eq_any(mates));
    }
    query.load(conn)
}

pub fn get_visible(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: Uuid,
) -> QueryResult<Option<UserRow>> {
    Ok(list(conn, actor, None, None)?
        .into_iter()
        .find(|u| u.id == id.to_string()))
}
