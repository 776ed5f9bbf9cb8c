//! [`FieldCore`]: the store, the session, pull and push sync, queries and visit capture.
//!
//! The methods live by concern: [`session`] (sign-in, tokens, authenticated requests),
//! [`capture`] (drafts, photos, submission), [`queries`] (what the screens show) and [`sync`]
//! (push, then pull); this module holds the core itself, its store access and the settings.

mod capture;
mod queries;
mod session;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;

pub use self::capture::ProcessedPhoto;
use crate::error::{code, FieldError, FieldResult};
use crate::http::Transport;
use crate::retry::RetryPolicy;
use crate::store::Conn as SqliteConnection;
use crate::store::{self, photos, visits};
use crate::types::*;

/// Tuning that is not a user setting (tests use short retries).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub retry: RetryPolicy,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
        }
    }
}

const PHOTO_DIR: &str = "photos";

pub struct FieldCore {
    dir: PathBuf,
    conn: Mutex<SqliteConnection>,
    http: Transport,
    sync_lock: Mutex<()>,
    /// Held while the access token is checked and refreshed (see `fresh_token`).
    refresh_lock: Mutex<()>,
}

fn now_s() -> String {
    Utc::now().to_rfc3339()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn bad(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(code::INVALID, message).with_field(field)
}

impl FieldCore {
    /// Opens the store in `data_dir` (created if needed). `settings`, when given, replace the
    /// stored ones; otherwise the stored settings (or the defaults) apply.
    pub fn open(data_dir: impl AsRef<Path>, settings: Option<Settings>) -> FieldResult<Self> {
        Self::open_with(data_dir, settings, Options::default())
    }

    pub fn open_with(
        data_dir: impl AsRef<Path>,
        settings: Option<Settings>,
        options: Options,
    ) -> FieldResult<Self> {
        let dir = data_dir.as_ref().to_path_buf();
        let mut conn = store::open(&dir)?;
        // A request in flight when the app died is sent again (idempotent PUTs).
        visits::requeue_sending(&mut conn)?;
        photos::requeue_sending(&mut conn)?;
        if let Some(s) = settings {
            validate_settings(&s)?;
            store::kv::set_settings(&mut conn, &s)?;
        }
        Ok(Self {
            dir,
            conn: Mutex::new(conn),
            http: Transport::new(options.retry, options.timeout)?,
            sync_lock: Mutex::new(()),
            refresh_lock: Mutex::new(()),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    fn db<T>(&self, f: impl FnOnce(&mut SqliteConnection) -> FieldResult<T>) -> FieldResult<T> {
        let mut c = lock(&self.conn);
        f(&mut c)
    }

    fn tx<T>(&self, f: impl FnOnce(&mut SqliteConnection) -> FieldResult<T>) -> FieldResult<T> {
        let mut c = lock(&self.conn);
        store::immediate_transaction(&mut c, f)
    }

    pub fn settings_get(&self) -> FieldResult<Settings> {
        Ok(self.db(store::kv::settings)?.unwrap_or_default())
    }

    pub fn settings_set(&self, patch: SettingsPatch) -> FieldResult<Settings> {
        self.tx(|c| {
            let mut s = store::kv::settings(c)?.unwrap_or_default();
            if let Some(u) = patch.server_url {
                s.server_url = u;
            }
            if let Some(r) = patch.gps_warning_radius_m {
                s.gps_warning_radius_m = r;
            }
            if let Some(e) = patch.photo_long_edge {
                s.photo_long_edge = e;
            }
            if let Some(q) = patch.photo_quality {
                s.photo_quality = q;
            }
            if let Some(n) = patch.upload_concurrency {
                s.upload_concurrency = n;
            }
            if let Some(u) = patch.map_tiles_url {
                let u = u.trim().to_string();
                s.map_tiles_url = (!u.is_empty()).then_some(u);
            }
            validate_settings(&s)?;
            store::kv::set_settings(c, &s)?;
            Ok(s)
        })
    }

    fn base_url(&self) -> FieldResult<String> {
        Ok(self
            .settings_get()?
            .server_url
            .trim()
            .trim_end_matches('/')
            .to_string())
    }
}

fn validate_settings(s: &Settings) -> FieldResult<()> {
    let url = s.server_url.trim();
    if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
        return Err(bad(
            "server_url",
            "must start with https:// (or http:// for a local server)",
        ));
    }
    if !(s.gps_warning_radius_m.is_finite() && (5.0..=10_000.0).contains(&s.gps_warning_radius_m)) {
        return Err(bad("gps_warning_radius_m", "between 5 and 10000 m"));
    }
    if !(320..=8000).contains(&s.photo_long_edge) {
        return Err(bad("photo_long_edge", "between 320 and 8000 pixels"));
    }
    if !(30..=100).contains(&s.photo_quality) {
        return Err(bad("photo_quality", "between 30 and 100"));
    }
    if !(1..=8).contains(&s.upload_concurrency) {
        return Err(bad("upload_concurrency", "between 1 and 8"));
    }
    if let Some(u) = &s.map_tiles_url {
        let ok = (u.starts_with("https://") || u.starts_with("http://"))
            && ["{z}", "{x}", "{y}"].iter().all(|k| u.contains(k))
            && u.len() <= 500;
        if !ok {
            return Err(bad(
                "map_tiles_url",
                "an http(s) URL with {z}, {x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            ));
        }
    }
    Ok(())
}
