//! The `kv` table: JSON values under a key (settings, the pull cursor, the last sync's outcome).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::kv::dsl as k;
use crate::error::{FieldError, FieldResult};
use crate::types::Settings;

const KEY_SETTINGS: &str = "settings";
const KEY_CURSOR: &str = "sync_cursor";
const KEY_LAST_SYNC: &str = "last_sync_at";
const KEY_LAST_ERROR: &str = "last_sync_error";

/// A JSON value of the `kv` table.
pub fn kv_get<T: serde::de::DeserializeOwned>(
    c: &mut SqliteConnection,
    key: &str,
) -> FieldResult<Option<T>> {
    let raw: Option<String> = k::kv
        .filter(k::key.eq(key))
        .select(k::value)
        .first(c)
        .optional()?;
    raw.map(|r| serde_json::from_str(&r).map_err(FieldError::from))
        .transpose()
}

pub fn kv_set<T: serde::Serialize>(
    c: &mut SqliteConnection,
    key: &str,
    value: &T,
) -> FieldResult<()> {
    let v = serde_json::to_string(value)?;
    diesel::replace_into(k::kv)
        .values((k::key.eq(key), k::value.eq(v)))
        .execute(c)?;
    Ok(())
}

pub fn kv_delete(c: &mut SqliteConnection, key: &str) -> FieldResult<()> {
    diesel::delete(k::kv.filter(k::key.eq(key))).execute(c)?;
    Ok(())
}

/// The stored settings, if any were ever stored.
pub(crate) fn settings(c: &mut SqliteConnection) -> FieldResult<Option<Settings>> {
    kv_get(c, KEY_SETTINGS)
}

pub(crate) fn set_settings(c: &mut SqliteConnection, s: &Settings) -> FieldResult<()> {
    kv_set(c, KEY_SETTINGS, s)
}

/// The cursor of the last pulled page.
pub(crate) fn cursor(c: &mut SqliteConnection) -> FieldResult<Option<String>> {
    kv_get(c, KEY_CURSOR)
}

pub(crate) fn set_cursor(c: &mut SqliteConnection, cursor: &str) -> FieldResult<()> {
    kv_set(c, KEY_CURSOR, &cursor)
}

pub(crate) fn delete_cursor(c: &mut SqliteConnection) -> FieldResult<()> {
    kv_delete(c, KEY_CURSOR)
}

/// When the last sync finished without error.
pub(crate) fn last_sync(c: &mut SqliteConnection) -> FieldResult<Option<DateTime<Utc>>> {
    kv_get(c, KEY_LAST_SYNC)
}

pub(crate) fn set_last_sync(c: &mut SqliteConnection, at: &DateTime<Utc>) -> FieldResult<()> {
    kv_set(c, KEY_LAST_SYNC, at)
}

/// Why the last sync stopped (`None` when it finished).
pub(crate) fn last_error(c: &mut SqliteConnection) -> FieldResult<Option<FieldError>> {
    Ok(kv_get::<Option<FieldError>>(c, KEY_LAST_ERROR)?.flatten())
}

pub(crate) fn set_last_error(
    c: &mut SqliteConnection,
    error: Option<&FieldError>,
) -> FieldResult<()> {
    kv_set(c, KEY_LAST_ERROR, &error)
}
