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
    /// The password is a temporary one set by an administrator: the account must choose its own
    /// before anything else. Left out of the row's JSON when false, so the audit digests of
    /// accounts written before the column existed still match.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub must_change_password: bool,
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

/// Writes an account's changed fields (everything but its id, username and creation), audited,
/// with the reason given when there is one.
pub fn update(
    conn: &mut AnyConnection,
    who: &Who,
    row: &UserRow,
    reason: Option<&str>,
) -> QueryResult<()> {
    let change = audit::begin(conn, Kind::User, &row.id)?;
    diesel::update(users::table.filter(users::id.eq(&row.id)))
        .set((
            users::display_name.eq(&row.display_name),
            users::password_hash.eq(&row.password_hash),
            users::role.eq(row.role),
            users::unit_id.eq(&row.unit_id),
            users::agency_id.eq(&row.agency_id),
            users::active.eq(row.active),
            users::must_change_password.eq(row.must_change_password),
            users::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    change.commit_with_note(conn, who, reason)?;
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
    list_filtered(conn, actor, &Filter::default(), None, after, limit)
}

/// What the account list is narrowed to (the administration page's search and filters).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Part of the username or the display name, case and diacritics ignored.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Accounts of a unit's subtree (ids).
    pub units: Option<Vec<String>>,
}

/// [`list`] narrowed by `filter` (and to the one account `only`).
pub fn list_filtered(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &Filter,
    only: Option<&str>,
    after: Option<&str>,
    limit: Option<i64>,
) -> QueryResult<Vec<UserRow>> {
    use super::schema::teams;
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::username.asc())
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(users::id.eq(id.to_string()));
    }
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::active.eq(active));
    }
    if let Some(units) = &filter.units {
        query = query.filter(users::unit_id.eq_any(units.clone()));
    }
    let search = filter
        .q
        .as_deref()
        .map(doi178_shared::text::fold)
        .filter(|q| !q.is_empty());
    if let Some(a) = after {
        query = query.filter(users::username.gt(a.to_string()));
    }
    if let Some(l) = limit {
        query = query.limit(l.max(1));
    }
    let matches = |rows: Vec<UserRow>| -> Vec<UserRow> {
        match &search {
            None => rows,
            Some(q) => rows
                .into_iter()
                .filter(|u| {
                    u.username.contains(q.as_str())
                        || doi178_shared::text::fold(&u.display_name).contains(q.as_str())
                })
                .collect(),
        }
    };
    if search.is_some() {
        // Names are matched without diacritics in Rust (the table has no folded column): the
        // page limit applies after the match.
        if let Some(l) = limit {
            let rows = list_filtered(
                conn,
                actor,
                &Filter {
                    q: None,
                    ..filter.clone()
                },
                only,
                after,
                None,
            )?;
            return Ok(matches(rows).into_iter().take(l.max(1) as usize).collect());
        }
    }
    if actor.is_admin() {
        return query.load(conn).map(matches);
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
    query.load(conn).map(matches)
}

pub fn get_visible(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: Uuid,
) -> QueryResult<Option<UserRow>> {
    Ok(list_filtered(
        conn,
        actor,
        &Filter::default(),
        Some(&id.to_string()),
        None,
        None,
    )?
    .into_iter()
    .next())
}
