//! [`FieldCore`]: the store, the session, pull and push sync, queries and visit capture.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use doi178_shared::geo::{haversine_m, GpsFix, GpsInput};
use doi178_shared::photo::{Sha256Digest, MAX_PHOTOS_PER_VISIT, MAX_PHOTO_BYTES};
use doi178_shared::text::fold;
use doi178_shared::time::vietnam_date;
use doi178_shared::visit::{VisitInput, VisitRecord};
use doi178_shared::DomainError;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{code, FieldError, FieldResult};
use crate::http::{Request, Response, Transport};
use crate::outbox::{PhotoStatus, VisitEvent, VisitStatus};
use crate::retry::RetryPolicy;
use crate::store::assignments::AssignmentRow;
use crate::store::establishments::EstablishmentRow;
use crate::store::photos::{NewPhoto, PhotoRow};
use crate::store::session::Session;
use crate::store::team_visits::TeamVisitRow;
use crate::store::templates::TemplateRow;
use crate::store::visits::VisitRow;
use crate::store::Conn as SqliteConnection;
use crate::store::{self, establishments, photos, session, visits};
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

/// Refresh the access token when it has less than this many seconds left.
const ACCESS_MARGIN_S: i64 = 30;
const PHOTO_DIR: &str = "photos";

/// A photo already processed by the photo pipeline (integration point for `crate::photo`): the
/// bytes to upload, the SHA-256 of the original camera file and of these bytes.
#[derive(Debug, Clone)]
pub struct ProcessedPhoto {
    pub id: Option<Uuid>,
    pub bytes: Vec<u8>,
    pub original_sha256: String,
    pub sha256: String,
    pub taken_at: Option<DateTime<Utc>>,
    pub mime: Option<String>,
}

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

fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn opt_s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn summary(body: &str, from: Option<(f64, f64)>) -> FieldResult<EstablishmentSummary> {
    let v: Value = serde_json::from_str(body)?;
    let loc = v.get("location").filter(|l| !l.is_null());
    let lat = loc.and_then(|l| l.get("lat")).and_then(Value::as_f64);
    let lon = loc.and_then(|l| l.get("lon")).and_then(Value::as_f64);
    let distance_m = match (from, lat, lon) {
        (Some((a, b)), Some(la), Some(lo)) => Some(haversine_m(a, b, la, lo)),
        _ => None,
    };
    Ok(EstablishmentSummary {
        id: s(&v, "id"),
        name: s(&v, "name"),
        address: s(&v, "address"),
        establishment_type: s(&v, "establishment_type"),
        status: s(&v, "status"),
        risk: s(&v, "risk"),
        lat,
        lon,
        distance_m,
    })
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

    // ------------------------------------------------------------------------------------------
    // Settings
    // ------------------------------------------------------------------------------------------

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

    // ------------------------------------------------------------------------------------------
    // Session
    // ------------------------------------------------------------------------------------------

    fn session(&self) -> FieldResult<Option<Session>> {
        self.db(session::get)
    }

    fn require_user(&self) -> FieldResult<Session> {
        self.session()?.ok_or_else(|| {
            FieldError::new(
                code::NOT_SIGNED_IN,
                "nobody has signed in on this phone yet",
            )
        })
    }

    fn store_tokens(&self, tokens: &Value) -> FieldResult<String> {
        let access = opt_s(tokens, "access_token")
            .ok_or_else(|| FieldError::new(code::SERVER, "no access_token in the answer"))?;
        let refresh = opt_s(tokens, "refresh_token")
            .ok_or_else(|| FieldError::new(code::SERVER, "no refresh_token in the answer"))?;
        let ttl = tokens
            .get("expires_in")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let exp = Utc::now().timestamp() + ttl;
        self.tx(|c| session::set_tokens(c, &access, &refresh, exp))?;
        Ok(access)
    }

    fn mark_needs_sign_in(&self) -> FieldResult<()> {
        self.tx(session::mark_needs_sign_in)
    }

    /// Exchanges the refresh token; a refusal ends the session (`needs_sign_in`).
    fn refresh(&self) -> FieldResult<String> {
        let sess = self.require_user()?;
        let Some(rt) = sess.refresh_token.filter(|_| sess.needs_sign_in == 0) else {
            return Err(FieldError::needs_sign_in());
        };
        let body = serde_json::to_vec(&json!({ "refresh_token": rt }))?;
        let r = self.http.send(
            &self.base_url()?,
            &Request {
                method: Method::POST,
                path: "/api/v1/auth/refresh",
                token: None,
                headers: vec![("content-type", "application/json".into())],
                body: Some(body),
            },
        )?;
        match r.status {
            200 => self.store_tokens(&r.json()?),
            401 | 403 => {
                self.mark_needs_sign_in()?;
                Err(FieldError::needs_sign_in())
            }
            _ => Err(FieldError::new(
                code::SERVER,
                format!("refresh: {}", r.reason()),
            )),
        }
    }

    /// A usable access token: the stored one while it is fresh, else a refreshed one.
    fn access_token(&self) -> FieldResult<String> {
        self.fresh_token(None)
    }

    /// The stored access token unless it expires soon or is `stale` (the server refused it);
    /// otherwise refreshes. Serialised: parallel uploads that all meet an expired token refresh
    /// once (presenting a rotated refresh token twice would make the server revoke the session).
    fn fresh_token(&self, stale: Option<&str>) -> FieldResult<String> {
        let _one_at_a_time = lock(&self.refresh_lock);
        let sess = self.require_user()?;
        if sess.needs_sign_in != 0 || sess.refresh_token.is_none() {
            return Err(FieldError::needs_sign_in());
        }
        match sess.access_token {
            Some(t)
                if sess.access_expires_at > Utc::now().timestamp() + ACCESS_MARGIN_S
                    && Some(t.as_str()) != stale =>
            {
                Ok(t)
            }
            _ => self.refresh(),
        }
    }

    /// A request with the access token; on 401 the token is refreshed once and the request sent
    /// again.
    fn authed(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(&'static str, String)>,
        body: Option<Vec<u8>>,
    ) -> FieldResult<Response> {
        let base = self.base_url()?;
        let token = self.access_token()?;
        let mut req = Request {
            method,
            path,
            token: Some(&token),
            headers,
            body,
        };
        let r = self.http.send(&base, &req)?;
        if r.status != 401 {
            return Ok(r);
        }
        let fresh = self.fresh_token(Some(&token))?;
        req.token = Some(&fresh);
        let r = self.http.send(&base, &req)?;
        if r.status == 401 {
            self.mark_needs_sign_in()?;
            return Err(FieldError::needs_sign_in());
        }
        Ok(r)
    }

    /// Signs in. The same user as before resumes the outbox; another user gets a fresh copy of
    /// the server's data, and the previous user's outbox stays on the phone unsent.
    pub fn sign_in(&self, input: SignIn) -> FieldResult<SignInResult> {
        // Never switch accounts in the middle of a push (its requests would go out under the
        // new account's token).
        let _guard = lock(&self.sync_lock);
        let base = self.base_url()?;
        let body =
            serde_json::to_vec(&json!({"username": input.username, "password": input.password}))?;
        let r = self.http.send(
            &base,
            &Request {
                method: Method::POST,
                path: "/api/v1/auth/login",
                token: None,
                headers: vec![("content-type", "application/json".into())],
                body: Some(body),
            },
        )?;
        match r.status {
            200 => {}
            401 => {
                return Err(FieldError::new(
                    code::INVALID_CREDENTIALS,
                    "wrong username or password",
                ))
            }
            _ => {
                return Err(FieldError::new(
                    code::SERVER,
                    format!("sign-in: {}", r.reason()),
                ))
            }
        }
        let tokens = r.json()?;
        let access = opt_s(&tokens, "access_token")
            .ok_or_else(|| FieldError::new(code::SERVER, "no access_token in the answer"))?;
        let me = self.http.send(
            &base,
            &Request {
                method: Method::GET,
                path: "/api/v1/me",
                token: Some(&access),
                headers: vec![],
                body: None,
            },
        )?;
        if me.status != 200 {
            return Err(FieldError::new(
                code::SERVER,
                format!("/me: {}", me.reason()),
            ));
        }
        let user: UserInfo = serde_json::from_slice(&me.body)
            .map_err(|e| FieldError::new(code::SERVER, format!("/me: {e}")))?;
        let user_id = user.id.to_string();
        let other = self.tx(|c| {
            let prev = session::get(c)?;
            if prev.as_ref().is_some_and(|p| p.user_id != user_id) {
                // Another account: what it may see differs, so start the pull over.
                store::forget_pulled(c)?;
            }
            session::replace(c, &user)?;
            visits::unfinished_of_others(c, &user_id)
        })?;
        self.store_tokens(&tokens)?;
        Ok(SignInResult {
            user,
            other_users_outbox: other,
            warning: (other > 0).then(|| {
                format!("{other} visit(s) on this phone were recorded by another account; they are kept but not sent under this account")
            }),
        })
    }

    /// Signs out: asks the server to revoke the session when it can be reached (one try, no
    /// waiting when offline), then forgets the tokens on the phone. The outbox, drafts and photos
    /// stay: they go after the same user signs in again (the UI warns first when some wait).
    pub fn sign_out(&self) -> FieldResult<SignOutResult> {
        // Not in the middle of a push (its requests would lose their token halfway).
        let _guard = lock(&self.sync_lock);
        let sess = self.require_user()?;
        let revoked = sess.needs_sign_in == 0 && self.logout_on_server(&sess);
        self.tx(session::sign_out)?;
        let kept = self.db(|c| visits::pending_of(c, &sess.user_id))?;
        Ok(SignOutResult {
            revoked_on_server: revoked,
            outbox_kept: kept,
            message: (kept > 0)
                .then(|| format!("{kept} visit(s) wait on this phone; sign in again to send them")),
        })
    }

    /// `POST /auth/logout` with a usable access token (refreshing it first when it expired),
    /// one try each. True when the server answered that the session is over.
    fn logout_on_server(&self, sess: &Session) -> bool {
        let Ok(base) = self.base_url() else {
            return false;
        };
        if base.is_empty() {
            return false;
        }
        let mut access = sess
            .access_token
            .clone()
            .filter(|_| sess.access_expires_at > Utc::now().timestamp() + ACCESS_MARGIN_S);
        if access.is_none() {
            let Some(rt) = &sess.refresh_token else {
                return false;
            };
            let Ok(body) = serde_json::to_vec(&json!({ "refresh_token": rt })) else {
                return false;
            };
            let r = self.http.send_once(
                &base,
                &Request {
                    method: Method::POST,
                    path: "/api/v1/auth/refresh",
                    token: None,
                    headers: vec![("content-type", "application/json".into())],
                    body: Some(body),
                },
            );
            match r {
                Ok(r) if r.status == 200 => {
                    access = r.json().ok().and_then(|v| opt_s(&v, "access_token"));
                }
                // The server already refuses the session: nothing left to revoke.
                Ok(r) if r.status == 401 || r.status == 403 => return true,
                _ => return false,
            }
        }
        let Some(access) = access else {
            return false;
        };
        let r = self.http.send_once(
            &base,
            &Request {
                method: Method::POST,
                path: "/api/v1/auth/logout",
                token: Some(&access),
                headers: vec![],
                body: None,
            },
        );
        matches!(r, Ok(r) if matches!(r.status, 200 | 204 | 401))
    }

    // ------------------------------------------------------------------------------------------
    // Status and outbox
    // ------------------------------------------------------------------------------------------

    pub fn status(&self) -> FieldResult<Status> {
        let settings = self.settings_get()?;
        let sess = self.session()?;
        let (cursor, last_sync_at, last_sync_error) = self.db(|c| {
            Ok((
                store::kv::cursor(c)?,
                store::kv::last_sync(c)?,
                store::kv::last_error(c)?,
            ))
        })?;
        let me = sess.as_ref().map(|s| s.user_id.clone()).unwrap_or_default();
        let rows = self.db(visits::owners_and_statuses)?;
        let mut by_status = BTreeMap::new();
        let (mut pending, mut other) = (0u32, 0u32);
        for (owner, st) in rows {
            let status = VisitStatus::parse(&st).unwrap_or(VisitStatus::Failed);
            if owner == me {
                *by_status.entry(st).or_insert(0u32) += 1;
                if status.is_pending() {
                    pending += 1;
                }
            } else if status != VisitStatus::Done {
                other += 1;
            }
        }
        let needs = sess
            .as_ref()
            .is_some_and(|s| s.needs_sign_in != 0 || s.refresh_token.is_none());
        let message = if needs {
            Some(format!(
                "sign in again to send {pending} waiting visit(s); nothing recorded is lost"
            ))
        } else if other > 0 {
            Some(format!("{other} visit(s) recorded by another account are kept but not sent under this account"))
        } else {
            None
        };
        Ok(Status {
            server_url: settings.server_url,
            signed_in: sess.is_some() && !needs,
            needs_sign_in: needs,
            user: sess.as_ref().map(Session::user).transpose()?,
            cursor,
            last_sync_at,
            last_sync_error,
            pending,
            by_status,
            other_users_outbox: other,
            message,
        })
    }

    fn outbox_item(&self, c: &mut SqliteConnection, v: &VisitRow) -> FieldResult<OutboxItem> {
        let name = establishments::body(c, &v.establishment_id)?
            .and_then(|b| serde_json::from_str::<Value>(&b).ok())
            .map(|b| s(&b, "name"));
        Ok(OutboxItem {
            visit_id: v.id.clone(),
            establishment_id: v.establishment_id.clone(),
            establishment_name: name,
            status: VisitStatus::parse(&v.status).unwrap_or(VisitStatus::Failed),
            owner_user_id: v.owner_user_id.clone(),
            created_at: v.created_at.clone(),
            submitted_at: v.submitted_at.clone(),
            acknowledged_at: v.acknowledged_at.clone(),
            server_status: v.server_status,
            attempts: v.attempts,
            last_error: v.last_error.clone(),
            distance_m: v.distance_m,
            photos: photos::of_visit(c, &v.id)?
                .iter()
                .map(PhotoRow::item)
                .collect(),
        })
    }

    /// Every submitted visit on the phone (all accounts), oldest first, with its photos.
    pub fn outbox(&self) -> FieldResult<Vec<OutboxItem>> {
        self.db(|c| {
            let rows = visits::submitted(c)?;
            rows.iter().map(|r| self.outbox_item(c, r)).collect()
        })
    }

    // ------------------------------------------------------------------------------------------
    // Sync
    // ------------------------------------------------------------------------------------------

    /// Pushes the outbox, then pulls changes. Never loses anything: on any error what was done
    /// stays done, the rest stays queued, and the report says why it stopped.
    pub fn sync_now(&self) -> FieldResult<SyncReport> {
        let _guard = lock(&self.sync_lock);
        let before = self.http.requests();
        let mut report = SyncReport::default();
        let result = self.push(&mut report).and_then(|()| self.pull(&mut report));
        report.requests = self.http.requests() - before;
        match result {
            Ok(()) => {
                report.ok = true;
                self.db(|c| {
                    store::kv::set_last_sync(c, &Utc::now())?;
                    store::kv::set_last_error(c, None)
                })?;
            }
            Err(e) if e.is(code::STORE) => return Err(e),
            Err(e) => {
                report.needs_sign_in = e.is(code::NEEDS_SIGN_IN);
                self.db(|c| store::kv::set_last_error(c, Some(&e)))?;
                report.error = Some(e);
            }
        }
        Ok(report)
    }

    fn set_visit(
        &self,
        id: &str,
        status: VisitStatus,
        server_status: Option<i32>,
        error: Option<String>,
        attempt: bool,
    ) -> FieldResult<()> {
        self.tx(|c| visits::record(c, id, status, server_status, error, attempt, &now_s()))
    }

    fn set_photo(
        &self,
        id: &str,
        status: PhotoStatus,
        server_status: Option<i32>,
        error: Option<String>,
        attempt: bool,
    ) -> FieldResult<()> {
        self.tx(|c| photos::record(c, id, status, server_status, error, attempt))
    }

    /// Runs `f` on every item with up to `workers` threads. The first error stops new items from
    /// starting (those in flight finish and record their outcome) and is returned.
    fn parallel<T: Sync>(
        items: &[T],
        workers: usize,
        f: impl Fn(&T) -> FieldResult<()> + Sync,
    ) -> FieldResult<()> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let first: Mutex<Option<FieldError>> = Mutex::new(None);
        let work = || {
            while !stop.load(Ordering::SeqCst) {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                if let Err(e) = f(item) {
                    stop.store(true, Ordering::SeqCst);
                    lock(&first).get_or_insert(e);
                    break;
                }
            }
        };
        let n = workers.clamp(1, items.len().max(1));
        if n == 1 {
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..n {
                    scope.spawn(work);
                }
            });
        }
        match first.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Pushes the outbox: the visits first, then the photos of every acknowledged visit, each
    /// step with up to `upload_concurrency` requests at a time. Every answer is committed on its
    /// own before that worker takes the next item, so a failure of one upload never undoes or
    /// repeats another.
    fn push(&self, report: &mut SyncReport) -> FieldResult<()> {
        let me = self.require_user()?.user_id;
        let workers = self.settings_get()?.upload_concurrency.clamp(1, 8) as usize;
        let mine = |statuses: &[VisitStatus]| -> FieldResult<Vec<VisitRow>> {
            self.db(|c| visits::of_user_in(c, &me, statuses))
        };
        let to_put = mine(&[VisitStatus::Queued, VisitStatus::Sending])?;
        let pending = mine(&[VisitStatus::EvidencePending])?;
        if to_put.is_empty() && pending.is_empty() {
            return Ok(());
        }
        // A usable token before any worker starts (signed out: nothing is attempted; expired:
        // refreshed once here rather than by the first workers together).
        self.access_token()?;
        let shared = Mutex::new(std::mem::take(report));
        let visits = Self::parallel(&to_put, workers, |item| {
            self.put_visit(item, &shared).map(|_| ())
        });
        // Photos of every visit the server has, including those acknowledged just now.
        let pending = mine(&[VisitStatus::EvidencePending])?;
        let mut photos = Vec::new();
        for v in &pending {
            for p in self.db(|c| photos::of_visit(c, &v.id))? {
                let st = PhotoStatus::parse(&p.status).unwrap_or(PhotoStatus::Failed);
                if st.needs_put() {
                    photos.push(p);
                }
            }
        }
        // After a failed visit PUT the link (or the session) is down: stop, as one request would.
        let uploads = match &visits {
            Err(_) => Ok(()),
            Ok(()) => Self::parallel(&photos, workers, |p| self.put_photo(p, &shared)),
        };
        for v in &pending {
            self.finish_visit(&v.id)?;
        }
        *report = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        visits.and(uploads)
    }

    fn put_visit(&self, item: &VisitRow, report: &Mutex<SyncReport>) -> FieldResult<VisitStatus> {
        let sending = VisitStatus::Sending;
        self.set_visit(&item.id, sending, None, item.last_error.clone(), true)?;
        let body = item
            .input
            .clone()
            .ok_or_else(|| FieldError::store("a queued visit without its input"))?;
        lock(report).uploads += 1;
        let r = match self.authed(
            Method::PUT,
            &format!("/api/v1/visits/{}", item.id),
            vec![("content-type", "application/json".into())],
            Some(body.into_bytes()),
        ) {
            Ok(r) => r,
            Err(e) => {
                let next = sending
                    .next(VisitEvent::Transient)
                    .unwrap_or(VisitStatus::Queued);
                self.set_visit(&item.id, next, None, Some(e.message.clone()), false)?;
                return Err(e);
            }
        };
        let (event, error) = match r.status {
            200 | 201 => {
                let left = self.db(|c| {
                    Ok(photos::of_visit(c, &item.id)?
                        .iter()
                        .any(|p| p.status != PhotoStatus::Done.as_str()))
                })?;
                let mut rep = lock(report);
                if r.status == 201 {
                    rep.visits_created += 1;
                } else {
                    rep.visits_replayed += 1;
                }
                (VisitEvent::Acknowledged { photos_left: left }, None)
            }
            409 => {
                lock(report).conflicts += 1;
                (VisitEvent::Conflict, Some(r.reason()))
            }
            _ => {
                lock(report).failed += 1;
                (VisitEvent::Rejected, Some(r.reason()))
            }
        };
        let next = sending.next(event).unwrap_or(VisitStatus::Failed);
        let server = matches!(r.status, 200 | 201).then_some(i32::from(r.status));
        self.set_visit(&item.id, next, server, error, false)?;
        Ok(next)
    }

    /// Uploads one photo. `Err` only when the sync must stop (offline, signed out, store); a
    /// refusal is recorded on the photo and the sync goes on.
    fn put_photo(&self, p: &PhotoRow, report: &Mutex<SyncReport>) -> FieldResult<()> {
        self.set_photo(
            &p.id,
            PhotoStatus::Sending,
            None,
            p.last_error.clone(),
            true,
        )?;
        let bytes = match std::fs::read(self.dir.join(PHOTO_DIR).join(&p.file_name)) {
            Ok(b) => b,
            Err(e) => {
                let msg = format!("the photo file is gone: {e}");
                self.set_photo(&p.id, PhotoStatus::Failed, None, Some(msg), false)?;
                return Ok(());
            }
        };
        let digest = Sha256Digest::of(&bytes);
        let mut headers = vec![
            ("content-type", p.mime.clone()),
            ("content-digest", digest.content_digest_header()),
        ];
        if let Some(t) = &p.taken_at {
            headers.push(("x-taken-at", t.clone()));
        }
        lock(report).uploads += 1;
        let r = match self.authed(
            Method::PUT,
            &format!("/api/v1/photos/{}", p.id),
            headers,
            Some(bytes),
        ) {
            Ok(r) => r,
            Err(e) => {
                self.set_photo(
                    &p.id,
                    PhotoStatus::Queued,
                    None,
                    Some(e.message.clone()),
                    false,
                )?;
                return Err(e);
            }
        };
        match r.status {
            200 | 201 => {
                {
                    let mut rep = lock(report);
                    if r.status == 201 {
                        rep.photos_created += 1;
                    } else {
                        rep.photos_replayed += 1;
                    }
                }
                self.set_photo(
                    &p.id,
                    PhotoStatus::Done,
                    Some(i32::from(r.status)),
                    None,
                    false,
                )?;
            }
            409 => {
                lock(report).conflicts += 1;
                self.set_photo(&p.id, PhotoStatus::Conflict, None, Some(r.reason()), false)?;
            }
            _ => {
                lock(report).failed += 1;
                self.set_photo(&p.id, PhotoStatus::Failed, None, Some(r.reason()), false)?;
            }
        }
        Ok(())
    }

    /// An acknowledged visit whose photos are all stored becomes `done`; otherwise the photos'
    /// problems (conflict, refused, file gone) are kept as the visit's last error.
    fn finish_visit(&self, visit: &str) -> FieldResult<()> {
        let photos = self.db(|c| photos::of_visit(c, visit))?;
        if photos
            .iter()
            .all(|p| p.status == PhotoStatus::Done.as_str())
        {
            let next = VisitStatus::EvidencePending
                .next(VisitEvent::PhotosComplete)
                .unwrap_or(VisitStatus::Done);
            return self.tx(|c| visits::set_status(c, visit, next));
        }
        let problems: Vec<String> = photos
            .iter()
            .filter(|p| {
                matches!(
                    PhotoStatus::parse(&p.status),
                    Some(PhotoStatus::Conflict | PhotoStatus::Failed) | None
                )
            })
            .map(|p| {
                format!(
                    "photo {}: {}: {}",
                    p.id,
                    p.status,
                    p.last_error.as_deref().unwrap_or("")
                )
            })
            .collect();
        if !problems.is_empty() {
            let msg = problems.join("; ");
            self.tx(|c| visits::set_last_error(c, visit, &msg))?;
        }
        Ok(())
    }

    fn pull(&self, report: &mut SyncReport) -> FieldResult<()> {
        let mut restarted = false;
        for _ in 0..10_000 {
            let cursor = self.db(store::kv::cursor)?;
            let path = match &cursor {
                Some(c) => format!("/api/v1/sync?cursor={c}"),
                None => "/api/v1/sync".to_string(),
            };
            let r = self.authed(Method::GET, &path, vec![], None)?;
            if r.status == 400 && cursor.is_some() && !restarted {
                // The server does not know our cursor (restored from a backup): start over.
                restarted = true;
                self.db(store::kv::delete_cursor)?;
                continue;
            }
            if r.status != 200 {
                return Err(FieldError::new(
                    code::SERVER,
                    format!("sync: {}", r.reason()),
                ));
            }
            let page = r.json()?;
            let has_more = page
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            self.tx(|c| apply_page(c, &page, report))?;
            report.pulled_pages += 1;
            report.cursor = opt_s(&page, "cursor");
            if !has_more {
                return Ok(());
            }
        }
        Err(FieldError::new(
            code::SERVER,
            "sync did not finish after 10000 pages",
        ))
    }

    // ------------------------------------------------------------------------------------------
    // Queries
    // ------------------------------------------------------------------------------------------

    /// Released assignments whose window contains `date` (today in Vietnam by default).
    pub fn assignments_today(&self, date: Option<NaiveDate>) -> FieldResult<Vec<AssignmentCard>> {
        let day = date.unwrap_or_else(|| vietnam_date(Utc::now())).to_string();
        let drafts = self.local_drafts()?;
        self.db(|c| {
            let rows = store::assignments::released_on(c, &day)?;
            let mut out = Vec::new();
            for body in rows {
                let v: Value = serde_json::from_str(&body)?;
                let ids: Vec<String> = v
                    .get("establishment_ids")
                    .and_then(Value::as_array)
                    .map(|x| {
                        x.iter()
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut ests = Vec::new();
                for id in &ids {
                    if let Some(b) = establishments::body(c, id)? {
                        ests.push(summary(&b, None)?);
                    }
                }
                let id = s(&v, "id");
                let visited = drafts
                    .iter()
                    .filter(|d| d.assignment_id.map(|x| x.to_string()) == Some(id.clone()))
                    .map(|d| d.establishment_id.to_string())
                    .collect::<HashSet<_>>();
                let mut visited: Vec<String> = visited.into_iter().collect();
                visited.sort();
                out.push(AssignmentCard {
                    id,
                    team_id: s(&v, "team_id"),
                    kind: s(&v, "kind"),
                    status: s(&v, "status"),
                    window_start: serde_json::from_value(v["window_start"].clone())?,
                    window_end: serde_json::from_value(v["window_end"].clone())?,
                    note: opt_s(&v, "note"),
                    establishments: ests,
                    visited,
                });
            }
            Ok(out)
        })
    }

    fn local_drafts(&self) -> FieldResult<Vec<VisitDraft>> {
        self.db(|c| {
            let rows = visits::drafts(c)?;
            rows.iter()
                .map(|r| serde_json::from_str(r).map_err(FieldError::from))
                .collect()
        })
    }

    /// Establishments matching `query` (every word, ignoring case and diacritics), nearest
    /// first from (`lat`, `lon`) when given (those without a location last), else by name.
    pub fn establishments_nearby(&self, q: NearbyQuery) -> FieldResult<Vec<EstablishmentSummary>> {
        let from = match (q.lat, q.lon) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some((a, b)),
            (None, None) => None,
            _ => return Err(bad("lat", "give both lat and lon, as finite numbers")),
        };
        let limit = q.limit.unwrap_or(50).clamp(1, 500) as usize;
        let words: Vec<String> = fold(q.query.as_deref().unwrap_or(""))
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| {
                w.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            })
            .collect();
        let bodies = self.db(|c| establishments::matching(c, &words))?;
        let mut out = bodies
            .iter()
            .map(|b| summary(b, from))
            .collect::<FieldResult<Vec<_>>>()?;
        out.sort_by(|a, b| match (a.distance_m, b.distance_m) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => fold(&a.name).cmp(&fold(&b.name)),
        });
        out.truncate(limit);
        Ok(out)
    }

    /// The establishment card: the server's record, the assignments listing it, the team's
    /// visits (review status and comment), this phone's visits, and its checklist.
    pub fn establishment(&self, id: Uuid) -> FieldResult<EstablishmentCard> {
        let key = id.to_string();
        let body = self
            .db(|c| establishments::body(c, &key))?
            .ok_or_else(|| FieldError::not_found("establishment"))?;
        let assignments: Vec<String> = self.db(|c| {
            let rows = store::assignments::all(c)?;
            Ok(rows
                .into_iter()
                .filter(|(_, b)| {
                    serde_json::from_str::<Value>(b).ok().is_some_and(|v| {
                        v.get("establishment_ids")
                            .and_then(Value::as_array)
                            .is_some_and(|x| x.iter().any(|i| i.as_str() == Some(key.as_str())))
                    })
                })
                .map(|(i, _)| i)
                .collect())
        })?;
        let team_visits = self.db(|c| {
            let rows = store::team_visits::of_establishment(c, &key)?;
            let mut out: Vec<TeamVisit> = rows
                .iter()
                .filter_map(|b| serde_json::from_str::<Value>(b).ok())
                .map(|v| team_visit(&v))
                .collect();
            out.sort_by(|a, b| b.started_at.cmp(&a.started_at));
            Ok(out)
        })?;
        let local_visits = self.db(|c| {
            let rows = visits::of_establishment(c, &key)?;
            rows.iter()
                .map(|r| self.outbox_item(c, r))
                .collect::<FieldResult<Vec<_>>>()
        })?;
        Ok(EstablishmentCard {
            establishment: serde_json::from_str(&body)?,
            assignments,
            team_visits,
            local_visits,
            checklist: self.checklist(id).ok(),
        })
    }

    /// The checklist template for the establishment's type: the newest version already valid
    /// (Vietnam date), else the newest.
    pub fn checklist(&self, establishment_id: Uuid) -> FieldResult<Checklist> {
        let key = establishment_id.to_string();
        let today = vietnam_date(Utc::now()).to_string();
        self.db(|c| {
            let ty = establishments::type_of(c, &key)?
                .ok_or_else(|| FieldError::not_found("establishment"))?;
            let rows = store::templates::of_type(c, &ty)?;
            let body = rows
                .iter()
                .find(|(from, _)| from.as_str() <= today.as_str())
                .or(rows.first())
                .map(|(_, b)| b.clone())
                .ok_or_else(|| {
                    FieldError::new(
                        code::NOT_FOUND,
                        format!("no checklist template for type {ty} on this phone; sync first"),
                    )
                })?;
            let v: Value = serde_json::from_str(&body)?;
            Ok(Checklist {
                template_id: serde_json::from_value(v["id"].clone())?,
                version: v.get("version").and_then(Value::as_u64).unwrap_or(0) as u32,
                establishment_type: s(&v, "establishment_type"),
                title: s(&v, "title"),
                valid_from: serde_json::from_value(v["valid_from"].clone())?,
                items: serde_json::from_value(v["items"].clone())?,
            })
        })
    }

    /// The members of `team` (default: every team of the signed-in user), from the roster the
    /// last pull sync carried, by team then name.
    pub fn team_roster(&self, q: RosterQuery) -> FieldResult<Vec<RosterMember>> {
        let user = self.require_user()?.user()?;
        let teams: Vec<String> = match q.team_id {
            Some(t) if user.teams.iter().any(|m| m.team_id == t) => vec![t.to_string()],
            Some(_) => return Err(bad("team_id", "you are not a member of this team")),
            None => user.teams.iter().map(|m| m.team_id.to_string()).collect(),
        };
        self.db(|c| {
            let mut rows = store::roster::of_teams(c, &teams)?;
            rows.sort_by(|a, b| {
                a.team_id
                    .cmp(&b.team_id)
                    .then_with(|| fold(&a.display_name).cmp(&fold(&b.display_name)))
            });
            Ok(rows)
        })
    }

    /// Members present must be on the team's roster (when the phone has one: before the first
    /// sync that carried it, the server checks alone).
    fn check_members(&self, team: Uuid, members: &[Uuid]) -> FieldResult<()> {
        let known: HashSet<String> = self.db(|c| {
            Ok(store::roster::user_ids_of(c, &team.to_string())?
                .into_iter()
                .collect())
        })?;
        if known.is_empty() {
            return Ok(());
        }
        for (i, m) in members.iter().enumerate() {
            if !known.contains(&m.to_string()) {
                return Err(bad(
                    &format!("members_present[{i}]"),
                    "this person is not a member of the team",
                ));
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------------------------------
    // Visit capture
    // ------------------------------------------------------------------------------------------

    fn load_draft(&self, id: Uuid) -> FieldResult<VisitDraft> {
        let raw = self
            .db(|c| visits::draft(c, &id.to_string()))?
            .ok_or_else(|| FieldError::not_found("visit"))?;
        Ok(serde_json::from_str(&raw)?)
    }

    fn editable(&self, id: Uuid) -> FieldResult<VisitDraft> {
        let d = self.load_draft(id)?;
        if d.status != VisitStatus::Draft {
            return Err(FieldError::new(
                code::NOT_EDITABLE,
                "the visit was submitted and can no longer be changed on the phone",
            ));
        }
        Ok(d)
    }

    /// Starts recording a visit (a draft, stored at once).
    pub fn visit_start(&self, start: VisitStart) -> FieldResult<VisitDraft> {
        let sess = self.require_user()?;
        let user = sess.user()?;
        let est = start.establishment_id.to_string();
        let exists = self.db(|c| establishments::exists(c, &est))?;
        if !exists {
            return Err(FieldError::not_found("establishment").with_field("establishment_id"));
        }
        let mut team = start.team_id;
        if let Some(a) = start.assignment_id {
            let body = self
                .db(|c| store::assignments::body(c, &a.to_string()))?
                .ok_or_else(|| FieldError::not_found("assignment").with_field("assignment_id"))?;
            let v: Value = serde_json::from_str(&body)?;
            let listed = v
                .get("establishment_ids")
                .and_then(Value::as_array)
                .is_some_and(|x| x.iter().any(|i| i.as_str() == Some(est.as_str())));
            if !listed {
                return Err(bad(
                    "assignment_id",
                    "the establishment is not part of this assignment",
                ));
            }
            if team.is_none() {
                team = Uuid::parse_str(&s(&v, "team_id")).ok();
            }
        }
        let team = team
            .or_else(|| user.teams.first().map(|t| t.team_id))
            .ok_or_else(|| bad("team_id", "you are not a member of any team"))?;
        if !user.teams.iter().any(|t| t.team_id == team) {
            return Err(bad("team_id", "you are not a member of this team"));
        }
        let checklist = self.checklist(start.establishment_id)?;
        let id = start.id.unwrap_or_else(Uuid::now_v7);
        if let Ok(existing) = self.load_draft(id) {
            if existing.establishment_id == start.establishment_id {
                return Ok(existing);
            }
            return Err(bad("id", "another visit already has this id"));
        }
        let draft = VisitDraft {
            id,
            establishment_id: start.establishment_id,
            team_id: team,
            assignment_id: start.assignment_id,
            members_present: vec![user.id],
            started_at: start.started_at.unwrap_or_else(Utc::now),
            ended_at: None,
            gps: None,
            distance_m: None,
            gps_warning: None,
            template_id: checklist.template_id,
            template_version: checklist.version,
            answers: vec![],
            outcome: None,
            violations: vec![],
            minutes_no: None,
            follow_up_on: None,
            photo_ids: vec![],
            notes: None,
            status: VisitStatus::Draft,
        };
        self.tx(|c| visits::insert_draft(c, &draft, &sess.user_id, &now_s()))?;
        Ok(draft)
    }

    pub fn visit_get(&self, id: Uuid) -> FieldResult<VisitDraft> {
        self.load_draft(id)
    }

    /// Changes a draft (only the fields given; `clear` empties optional ones).
    pub fn visit_update(&self, u: VisitUpdate) -> FieldResult<VisitDraft> {
        let mut d = self.editable(u.id)?;
        if let Some(x) = u.answers {
            d.answers = x;
        }
        if let Some(x) = u.violations {
            d.violations = x;
        }
        if let Some(x) = u.members_present {
            self.check_members(d.team_id, &x)?;
            d.members_present = x;
        }
        if u.minutes_no.is_some() {
            d.minutes_no = u.minutes_no;
        }
        if u.outcome.is_some() {
            d.outcome = u.outcome;
        }
        if u.notes.is_some() {
            d.notes = u.notes;
        }
        if u.follow_up_on.is_some() {
            d.follow_up_on = u.follow_up_on;
        }
        if u.ended_at.is_some() {
            d.ended_at = u.ended_at;
        }
        if u.gps_warning.is_some() {
            d.gps_warning = u.gps_warning;
        }
        for f in &u.clear {
            match f.as_str() {
                "minutes_no" => d.minutes_no = None,
                "follow_up_on" => d.follow_up_on = None,
                "notes" => d.notes = None,
                "outcome" => d.outcome = None,
                "ended_at" => d.ended_at = None,
                "gps_warning" => d.gps_warning = None,
                other => return Err(bad("clear", format!("{other} cannot be cleared"))),
            }
        }
        self.tx(|c| visits::save_draft(c, &d))?;
        Ok(d)
    }

    /// Records a GPS fix: distance to the establishment, and a warning kept with the visit when
    /// it is beyond the configured radius.
    pub fn visit_gps(&self, g: VisitGps) -> FieldResult<GpsResult> {
        let mut d = self.editable(g.id)?;
        let input = GpsInput {
            lat: g.lat,
            lon: g.lon,
            accuracy_m: g.accuracy_m,
        };
        GpsFix::try_from(input).map_err(|e: DomainError| e.with_prefix("gps"))?;
        let radius = self.settings_get()?.gps_warning_radius_m;
        let body = self.db(|c| establishments::body_of(c, &d.establishment_id.to_string()))?;
        let est = summary(&body, Some((g.lat, g.lon)))?;
        let warning = match est.distance_m {
            Some(m) if m > radius => Some(format!(
                "recorded {m:.0} m from the establishment (more than {radius:.0} m)"
            )),
            Some(_) => None,
            None => Some("the establishment has no known location to compare with".to_string()),
        };
        d.gps = Some(input);
        d.distance_m = est.distance_m;
        d.gps_warning = warning.clone();
        self.tx(|c| visits::save_draft(c, &d))?;
        Ok(GpsResult {
            distance_m: est.distance_m,
            radius_m: radius,
            warning,
        })
    }

    /// Attaches a processed photo: the bytes are written (fsync'd) under the data directory and
    /// the photo is recorded with the visit before this returns.
    /// `photo_capture`: runs the photo pipeline on a captured file with the settings' long edge and
    /// quality (the original's hash is taken first), then keeps the result like
    /// [`FieldCore::add_processed_photo`].
    pub fn photo_capture(&self, args: PhotoCapture) -> FieldResult<PhotoItem> {
        use base64::Engine as _;
        let raw = args.data_base64.trim();
        let raw = raw.split_once(";base64,").map_or(raw, |(_, b)| b);
        let original = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| {
                FieldError::new(code::INVALID, "the photo is not valid base64")
                    .with_field("data_base64")
            })?;
        let settings = self.settings_get()?;
        let opts = crate::photo::PhotoOptions {
            long_edge: settings.photo_long_edge,
            quality: settings.photo_quality,
            ..crate::photo::PhotoOptions::default()
        };
        let processed = crate::photo::process(&original, &opts).map_err(|e| {
            let mut err = FieldError::new(code::INVALID, format!("{} ({e})", e.message_vi()))
                .with_field("data_base64");
            err.detail = Some(e.code().to_string());
            err
        })?;
        self.add_processed_photo(
            args.visit_id,
            ProcessedPhoto {
                id: args.id,
                original_sha256: processed.sha256_original.to_hex(),
                sha256: processed.sha256.to_hex(),
                bytes: processed.jpeg,
                taken_at: args.taken_at,
                mime: Some("image/jpeg".into()),
            },
        )
    }

    pub fn add_processed_photo(&self, visit_id: Uuid, p: ProcessedPhoto) -> FieldResult<PhotoItem> {
        let mut d = self.editable(visit_id)?;
        let digest = Sha256Digest::of(&p.bytes).to_hex();
        let claimed = Sha256Digest::from_hex(&p.sha256)?.to_hex();
        if digest != claimed {
            return Err(bad("sha256", "the photo bytes do not match sha256"));
        }
        let original = Sha256Digest::from_hex(&p.original_sha256)
            .map_err(|e| e.with_prefix("original"))?
            .to_hex();
        if p.bytes.is_empty() || p.bytes.len() > MAX_PHOTO_BYTES {
            return Err(bad(
                "data",
                format!("a photo is 1 to {MAX_PHOTO_BYTES} bytes"),
            ));
        }
        let mime = p.mime.unwrap_or_else(|| "image/jpeg".into());
        let ext = match mime.as_str() {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            _ => return Err(bad("mime", "image/jpeg or image/png")),
        };
        if d.photo_ids.len() >= MAX_PHOTOS_PER_VISIT {
            return Err(bad(
                "photo_ids",
                format!("at most {MAX_PHOTOS_PER_VISIT} photos per visit"),
            ));
        }
        let id = p.id.unwrap_or_else(Uuid::now_v7);
        if d.photo_ids.contains(&id) {
            return Err(bad("id", "this photo is already attached"));
        }
        let file_name = format!("{id}.{ext}");
        store::write_durably(&self.dir.join(PHOTO_DIR).join(&file_name), &p.bytes)?;
        d.photo_ids.push(id);
        let new = NewPhoto {
            id: id.to_string(),
            visit_id: visit_id.to_string(),
            seq: d.photo_ids.len() as i32,
            file_name,
            mime,
            original_sha256: original,
            sha256: digest,
            size_bytes: p.bytes.len() as i64,
            taken_at: p.taken_at.map(|t| t.to_rfc3339()),
        };
        let row = self.tx(|c| {
            photos::insert(c, &new)?;
            visits::save_draft(c, &d)?;
            photos::get(c, &new.id)
        })?;
        Ok(row.item())
    }

    /// `visit_add_photo` command: the processed photo by path or base64.
    pub fn visit_add_photo(&self, a: VisitAddPhoto) -> FieldResult<PhotoItem> {
        let bytes = match (&a.path, &a.data_base64) {
            (Some(p), None) => {
                std::fs::read(p).map_err(|e| bad("path", format!("cannot read the photo: {e}")))?
            }
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|_| bad("data_base64", "not valid base64"))?,
            _ => return Err(bad("path", "give exactly one of path and data_base64")),
        };
        self.add_processed_photo(
            a.visit_id,
            ProcessedPhoto {
                id: a.id,
                bytes,
                original_sha256: a.original_sha256,
                sha256: a.sha256,
                taken_at: a.taken_at,
                mime: a.mime,
            },
        )
    }

    /// Validates the visit with the server's rules and puts it in the outbox (durably).
    pub fn visit_submit(&self, sub: VisitSubmit) -> FieldResult<OutboxItem> {
        let mut d = self.editable(sub.id)?;
        let ended = sub.ended_at.or(d.ended_at).unwrap_or_else(Utc::now);
        let outcome = d.outcome.ok_or_else(|| DomainError::required("outcome"))?;
        let input = VisitInput {
            establishment_id: d.establishment_id,
            team_id: d.team_id,
            assignment_id: d.assignment_id,
            members_present: d.members_present.clone(),
            started_at: d.started_at,
            ended_at: ended,
            gps: d.gps,
            gps_warning: d.gps_warning.clone(),
            template_id: d.template_id,
            template_version: d.template_version,
            answers: d.answers.clone(),
            outcome,
            violations: d.violations.clone(),
            minutes_no: d.minutes_no.clone(),
            follow_up_on: d.follow_up_on,
            photo_ids: d.photo_ids.clone(),
            notes: d.notes.clone(),
        };
        let record = VisitRecord::parse(input, Utc::now())?;
        d.ended_at = Some(ended);
        d.status = d
            .status
            .next(VisitEvent::Submit)
            .ok_or_else(|| FieldError::new(code::NOT_EDITABLE, "already submitted"))?;
        let body = serde_json::to_string(record.input())?;
        self.tx(|c| {
            visits::submit(c, &d, &body, &record.digest(), &now_s())?;
            let row = visits::get(c, &d.id.to_string())?;
            self.outbox_item(c, &row)
        })
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

fn team_visit(v: &Value) -> TeamVisit {
    TeamVisit {
        id: s(v, "id"),
        establishment_id: s(v, "establishment_id"),
        review_status: s(v, "review_status"),
        review_comment: opt_s(v, "review_comment"),
        evidence_pending: v
            .get("evidence_pending")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        started_at: opt_s(v, "started_at"),
        outcome: opt_s(v, "outcome"),
    }
}

/// Applies one page of `GET /sync` (one transaction, cursor included).
fn apply_page(c: &mut SqliteConnection, page: &Value, report: &mut SyncReport) -> FieldResult<()> {
    let list = |k: &str| {
        page.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for a in list("assignments") {
        store::assignments::upsert(
            c,
            &AssignmentRow {
                id: s(&a, "id"),
                team_id: s(&a, "team_id"),
                status: s(&a, "status"),
                window_start: s(&a, "window_start"),
                window_end: s(&a, "window_end"),
                body: a.to_string(),
            },
        )?;
        report.pulled_assignments += 1;
    }
    for id in list("revoked_assignments") {
        if let Some(id) = id.as_str() {
            store::assignments::delete(c, id)?;
            report.revoked_assignments += 1;
        }
    }
    for e in list("establishments") {
        let key = fold(
            &[
                "name",
                "address",
                "owner_name",
                "licence_no",
                "business_reg_no",
                "phone",
            ]
            .iter()
            .map(|k| s(&e, k))
            .collect::<Vec<_>>()
            .join(" "),
        );
        let loc = e.get("location").filter(|l| !l.is_null());
        establishments::upsert(
            c,
            &EstablishmentRow {
                id: s(&e, "id"),
                establishment_type: s(&e, "establishment_type"),
                search_key: key,
                lat: loc.and_then(|l| l.get("lat")).and_then(Value::as_f64),
                lon: loc.and_then(|l| l.get("lon")).and_then(Value::as_f64),
                body: e.to_string(),
            },
        )?;
        report.pulled_establishments += 1;
    }
    for t in list("templates") {
        store::templates::upsert(
            c,
            &TemplateRow {
                id: s(&t, "id"),
                establishment_type: s(&t, "establishment_type"),
                version: t.get("version").and_then(Value::as_i64).unwrap_or(0) as i32,
                valid_from: s(&t, "valid_from"),
                body: t.to_string(),
            },
        )?;
        report.pulled_templates += 1;
    }
    for v in list("visits") {
        let tv = team_visit(&v);
        store::team_visits::upsert(
            c,
            &TeamVisitRow {
                id: tv.id,
                establishment_id: tv.establishment_id,
                review_status: tv.review_status,
                review_comment: tv.review_comment,
                evidence_pending: tv.evidence_pending,
                body: v.to_string(),
            },
        )?;
        report.pulled_visits += 1;
    }
    // The roster comes whole with every page (a server without it leaves the copy alone).
    if let Some(members) = page.get("roster").and_then(Value::as_array) {
        let members: Vec<RosterMember> = members
            .iter()
            .map(|m| RosterMember {
                team_id: s(m, "team_id"),
                user_id: s(m, "user_id"),
                username: s(m, "username"),
                display_name: s(m, "display_name"),
                role: s(m, "role"),
                agency_id: opt_s(m, "agency_id"),
                agency_name: opt_s(m, "agency_name"),
            })
            .collect();
        store::roster::replace_all(c, &members)?;
        report.roster_members = members.len() as u32;
    }
    if let Some(cursor) = opt_s(page, "cursor") {
        store::kv::set_cursor(c, &cursor)?;
    }
    Ok(())
}
