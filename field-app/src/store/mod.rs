//! The local SQLite store: WAL, `synchronous = FULL` (a commit is on disk when the call returns,
//! so a killed app loses nothing it reported as recorded), migrations from `migrations/field/`
//! embedded in the binary.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{FieldError, FieldResult};

pub(crate) mod assignments;
pub(crate) mod establishments;
pub(crate) mod kv;
pub(crate) mod photos;
pub(crate) mod roster;
pub(crate) mod session;
pub(crate) mod team_visits;
pub(crate) mod templates;
pub(crate) mod visits;

pub use kv::{kv_delete, kv_get, kv_set};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/field");

/// File name of the store inside the data directory.
pub const DB_FILE: &str = "field.sqlite";

pub mod schema {
    diesel::table! {
        kv (key) {
            key -> Text,
            value -> Text,
        }
    }
    diesel::table! {
        session (id) {
            id -> Integer,
            user_id -> Text,
            username -> Text,
            display_name -> Text,
            role -> Text,
            teams_json -> Text,
            access_token -> Nullable<Text>,
            access_expires_at -> BigInt,
            refresh_token -> Nullable<Text>,
            needs_sign_in -> Integer,
        }
    }
    diesel::table! {
        assignments (id) {
            id -> Text,
            team_id -> Text,
            status -> Text,
            window_start -> Text,
            window_end -> Text,
            body -> Text,
        }
    }
    diesel::table! {
        establishments (id) {
            id -> Text,
            establishment_type -> Text,
            search_key -> Text,
            lat -> Nullable<Double>,
            lon -> Nullable<Double>,
            body -> Text,
        }
    }
    diesel::table! {
        templates (id) {
            id -> Text,
            establishment_type -> Text,
            version -> Integer,
            valid_from -> Text,
            body -> Text,
        }
    }
    diesel::table! {
        team_visits (id) {
            id -> Text,
            establishment_id -> Text,
            review_status -> Text,
            review_comment -> Nullable<Text>,
            evidence_pending -> Integer,
            body -> Text,
        }
    }
    diesel::table! {
        visits (id) {
            id -> Text,
            owner_user_id -> Text,
            establishment_id -> Text,
            status -> Text,
            draft -> Text,
            input -> Nullable<Text>,
            digest -> Nullable<Text>,
            distance_m -> Nullable<Double>,
            created_at -> Text,
            submitted_at -> Nullable<Text>,
            acknowledged_at -> Nullable<Text>,
            server_status -> Nullable<Integer>,
            attempts -> Integer,
            last_error -> Nullable<Text>,
        }
    }
    diesel::table! {
        photos (id) {
            id -> Text,
            visit_id -> Text,
            seq -> Integer,
            file_name -> Text,
            mime -> Text,
            original_sha256 -> Text,
            sha256 -> Text,
            size_bytes -> BigInt,
            taken_at -> Nullable<Text>,
            status -> Text,
            server_status -> Nullable<Integer>,
            attempts -> Integer,
            last_error -> Nullable<Text>,
        }
    }
    diesel::table! {
        roster (team_id, user_id) {
            team_id -> Text,
            user_id -> Text,
            username -> Text,
            display_name -> Text,
            role -> Text,
            agency_id -> Nullable<Text>,
            agency_name -> Nullable<Text>,
        }
    }
    diesel::joinable!(photos -> visits (visit_id));
    diesel::allow_tables_to_appear_in_same_query!(
        kv,
        session,
        assignments,
        establishments,
        templates,
        team_visits,
        visits,
        photos,
        roster
    );
}

/// The store's connection.
pub(crate) type Conn = SqliteConnection;

/// Runs `f` in an immediate transaction (the write lock taken at once): committed when `f`
/// returns `Ok`, rolled back otherwise.
pub(crate) fn immediate_transaction<T>(
    c: &mut SqliteConnection,
    f: impl FnOnce(&mut SqliteConnection) -> FieldResult<T>,
) -> FieldResult<T> {
    c.immediate_transaction(f)
}

/// Opens (creating if needed) the store in `dir` and brings its schema up to date.
pub fn open(dir: &Path) -> FieldResult<SqliteConnection> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(DB_FILE);
    let url = path
        .to_str()
        .ok_or_else(|| FieldError::store("the data directory is not valid UTF-8"))?;
    let mut conn = SqliteConnection::establish(url).map_err(FieldError::store)?;
    conn.batch_execute(
        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA foreign_keys = ON;",
    )?;
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| FieldError::store(format!("migrations: {e}")))?;
    Ok(conn)
}

/// Forgets everything the pull sync brought (assignments, establishments, templates, the team's
/// visits, the roster) and its cursor, so that the next pull starts over.
pub(crate) fn forget_pulled(c: &mut SqliteConnection) -> FieldResult<()> {
    assignments::clear(c)?;
    establishments::clear(c)?;
    templates::clear(c)?;
    team_visits::clear(c)?;
    roster::clear(c)?;
    kv::delete_cursor(c)
}

/// Writes `bytes` to `path` durably: a temporary file, fsync, rename, fsync of the directory.
pub fn write_durably(path: &Path, bytes: &[u8]) -> FieldResult<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| FieldError::store("a file needs a directory"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("partial");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // Directory fsync makes the rename durable (not supported on every platform: best effort).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
