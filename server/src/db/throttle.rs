//! Failed sign-ins, kept in the database so that every server replica sees the same counts: one
//! row per failure and per scope (the account tried, the client address), keyed by a SHA-256 of
//! the scope and value, removed when they fall out of the throttling window.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::auth_failures;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_failures)]
pub struct FailureRow {
    pub id: String,
    /// `account` or `address`.
    pub scope: String,
    pub key_hash: String,
    pub failed_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &FailureRow) -> QueryResult<()> {
    diesel::insert_into(auth_failures::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Failures recorded for `key_hash` since `since` (id and time), newest first, at most `limit`.
pub fn recent(
    conn: &mut AnyConnection,
    key_hash: &str,
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    auth_failures::table
        .filter(auth_failures::key_hash.eq(key_hash))
        .filter(auth_failures::failed_at.gt(since))
        .order((auth_failures::failed_at.desc(), auth_failures::id.desc()))
        .select((auth_failures::id, auth_failures::failed_at))
        .limit(limit)
        .load(conn)
}

/// Number of failures recorded for `key_hash` since `since`.
pub fn count_since(
    conn: &mut AnyConnection,
    key_hash: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    auth_failures::table
        .filter(auth_failures::key_hash.eq(key_hash))
        .filter(auth_failures::failed_at.gt(since))
        .count()
        .get_result(conn)
}

pub fn delete_ids(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<usize> {
    diesel::delete(auth_failures::table.filter(auth_failures::id.eq_any(ids))).execute(conn)
}

/// Forgets every failure of one key (a successful sign-in resets the account's counter).
pub fn delete_key(conn: &mut AnyConnection, key_hash: &str) -> QueryResult<usize> {
    diesel::delete(auth_failures::table.filter(auth_failures::key_hash.eq(key_hash))).execute(conn)
}

/// Removes failures older than `before` (outside every window).
pub fn purge_before(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(auth_failures::table.filter(auth_failures::failed_at.lt(before))).execute(conn)
}
