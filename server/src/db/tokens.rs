//! Refresh tokens: stored hashed, one row per issued token, grouped in families (one per sign-in).

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::refresh_tokens;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut AnyConnection, row: &RefreshRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_hash(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<RefreshRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a token as used; returns false when another request used it first.
pub fn mark_used(conn: &mut AnyConnection, id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Utc::now().naive_utc()))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn revoke_family(conn: &mut AnyConnection, family: &str) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now().naive_utc()))
    .execute(conn)
}

/// Closes every session of `user` except `keep` (the one changing its own password): their
/// refresh tokens are revoked, and their access tokens stop working at the next request.
pub fn revoke_user(conn: &mut AnyConnection, user: &str, keep: Option<&str>) -> QueryResult<usize> {
    let mut q = diesel::update(refresh_tokens::table)
        .filter(refresh_tokens::user_id.eq(user))
        .filter(refresh_tokens::revoked_at.is_null())
        .into_boxed();
    if let Some(k) = keep {
        q = q.filter(refresh_tokens::family_id.ne(k));
    }
    q.set(refresh_tokens::revoked_at.eq(Utc::now().naive_utc()))
        .execute(conn)
}

/// True while the session `family` of `user` is open: it has a token that was not revoked. Signing
/// out and reuse detection revoke every token of the family; a family that does not exist, or
/// belongs to someone else, is not open either.
pub fn family_live(conn: &mut AnyConnection, family: Uuid, user: Uuid) -> QueryResult<bool> {
    let n: i64 = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family.to_string()))
        .filter(refresh_tokens::user_id.eq(user.to_string()))
        .filter(refresh_tokens::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// True when a token of `family` other than `except` was used at or after `since`: the successor
/// of the token used at `since` (or one after it) has been used.
pub fn used_since(
    conn: &mut AnyConnection,
    family: &str,
    except: &str,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    let n: i64 = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family))
        .filter(refresh_tokens::id.ne(except))
        .filter(refresh_tokens::used_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Revokes the tokens of `family` that were never used (the successor a lost answer carried);
/// the family itself stays open through its used tokens. Returns how many were revoked.
pub fn revoke_unused(conn: &mut AnyConnection, family: &str) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now().naive_utc()))
    .execute(conn)
}

/// The authorisation epoch: a number the database's triggers change with every change to
/// accounts, sessions, memberships, teams and units. A user loaded at one epoch is still the same
/// user while the epoch is unchanged.
pub fn auth_epoch(conn: &mut AnyConnection) -> QueryResult<i64> {
    crate::on_conn!(conn, |c| {
        super::schema::auth_epoch::table
            .find(1)
            .select(super::schema::auth_epoch::n)
            .get_result(c)
    })
}
