//! Black-box harness: starts the real `doi178-server` binary on a fresh database filled with demo
//! data and talks to it over HTTP only.
//!
//! Backends: SQLite (default: a temporary data directory), or PostgreSQL when
//! `DOI178_TEST_DATABASE_URL` holds an admin URL (`postgres://postgres@127.0.0.1:5432/postgres`);
//! then every server gets its own database `doi178_test_<random>`, dropped again at the end.
//!
//! The demo generator runs once per backend and server build: its output is kept as a template
//! (a SQLite file plus the photo folder under the target directory; a PostgreSQL template
//! database) and copied for each test.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Secret the test servers sign access tokens with (tests forge tokens with it).
pub const JWT_SECRET: &str = "doi178-black-box-tests-secret-0123456789abcdef";
/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "doi178-demo";
/// Size of the demo data the tests run on.
const DEMO_ESTABLISHMENTS: &str = "300";
const DEMO_VISITS: &str = "400";

pub const HUE: &str = "2025:46";
pub const QUANG_TRI: &str = "2025:44";

/// The server binary: `DOI178_SERVER_BIN`, or `doi178-server` in the target directory the tests
/// were built into (`target/<profile>/deps/<test>` → `target/<profile>/doi178-server`).
pub fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("DOI178_SERVER_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "DOI178_SERVER_BIN={} does not exist",
            p.display()
        );
        return p;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("doi178-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the server binary {} is missing: run `cargo build -p doi178-server` first (with the same \
         CARGO_TARGET_DIR and profile as the tests), or set DOI178_SERVER_BIN",
        bin.display()
    );
    bin
}

fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

fn hash_str(parts: &[&str]) -> String {
    let mut h = DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// Identifies the server build, so templates are regenerated whenever the binary changes.
fn server_build_key(bin: &Path) -> String {
    let meta = std::fs::metadata(bin).expect("server binary metadata");
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hash_str(&[
        &bin.display().to_string(),
        &meta.len().to_string(),
        &mtime.to_string(),
        DEMO_ESTABLISHMENTS,
        DEMO_VISITS,
    ])
}

fn template_root(bin: &Path) -> PathBuf {
    bin.parent()
        .expect("binary directory")
        .join("doi178-test-templates")
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    if !from.exists() {
        return;
    }
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs `doi178-server … demo` and fails loudly with its output when it does not succeed.
fn run_demo(bin: &Path, database_url: &str, data_dir: &Path) {
    let started = Instant::now();
    let out = Command::new(bin)
        .args(["--database-url", database_url, "--data-dir"])
        .arg(data_dir)
        .args([
            "demo",
            "--establishments",
            DEMO_ESTABLISHMENTS,
            "--visits",
            DEMO_VISITS,
        ])
        .env("DOI178_LOG", "warn")
        .env_remove("DOI178_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run doi178-server demo");
    assert!(
        out.status.success(),
        "`doi178-server demo` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "[harness] demo data generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

/// A prepared copy of the demo data for one server.
struct Database {
    url: String,
    data_dir: tempfile::TempDir,
    /// PostgreSQL: (admin URL, database name) to drop at the end.
    pg: Option<(String, String)>,
}

struct SqliteTemplate {
    dir: PathBuf,
}

struct PgTemplate {
    admin_url: String,
    db: String,
    photos: PathBuf,
}

static SQLITE_TEMPLATE: OnceLock<SqliteTemplate> = OnceLock::new();
static PG_TEMPLATE: OnceLock<PgTemplate> = OnceLock::new();
/// CREATE DATABASE … TEMPLATE refuses to run while another copy of the same template is made.
static PG_CREATE: Mutex<()> = Mutex::new(());

fn sqlite_template() -> &'static SqliteTemplate {
    SQLITE_TEMPLATE.get_or_init(|| {
        let bin = server_bin();
        let root = template_root(&bin);
        let key = server_build_key(&bin);
        let dir = root.join(format!("sqlite-{key}"));
        if dir.join("ready").is_file() {
            return SqliteTemplate { dir };
        }
        std::fs::create_dir_all(&root).unwrap();
        // Build next to the final place, then rename: a crash never leaves a half template.
        let build = root.join(format!("build-{}-{}", std::process::id(), random_suffix()));
        std::fs::create_dir_all(&build).unwrap();
        let db_file = build.join("doi178.sqlite");
        run_demo(&bin, &db_file.display().to_string(), &build);
        std::fs::write(build.join("ready"), b"ok").unwrap();
        if std::fs::rename(&build, &dir).is_err() {
            // Another test binary finished first; use its copy.
            let _ = std::fs::remove_dir_all(&build);
            assert!(
                dir.join("ready").is_file(),
                "template {} unusable",
                dir.display()
            );
        }
        // Old templates (from earlier builds of the server) are no use any more.
        if let Ok(entries) = std::fs::read_dir(&root) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with("sqlite-") && e.path() != dir {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        SqliteTemplate { dir }
    })
}

fn pg_connect(url: &str) -> diesel::PgConnection {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match diesel::PgConnection::establish(url) {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => {
                panic!("cannot connect to PostgreSQL at {url}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct DbName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

fn pg_databases(conn: &mut diesel::PgConnection, prefix: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "SELECT datname FROM pg_database WHERE starts_with(datname, '{prefix}')"
    ))
    .load::<DbName>(conn)
    .unwrap_or_else(|e| panic!("listing databases: {e}"))
    .into_iter()
    .map(|d| d.datname)
    .collect()
}

/// The PostgreSQL template: `doi178_tpl_<server build>` with its photo folder, reused while the
/// server binary and the cluster stay the same; built under a temporary name and renamed, so a
/// crash never leaves a half template.
fn pg_template(admin_url: &str) -> &'static PgTemplate {
    PG_TEMPLATE.get_or_init(|| {
        let bin = server_bin();
        let key = server_build_key(&bin);
        let root = template_root(&bin);
        std::fs::create_dir_all(&root).unwrap();
        let db = format!("doi178_tpl_{key}");
        let photos = root.join(format!("pg-{key}-{}", hash_str(&[admin_url])));
        // Photo folders of earlier server builds, and of builds that crashed long ago.
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let stale_build = name.starts_with("pgbuild-")
                && e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(3600));
            if stale_build || (name.starts_with("pg-") && !name.starts_with(&format!("pg-{key}-")))
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let mut admin = pg_connect(admin_url);
        let templates = pg_databases(&mut admin, "doi178_tpl_");
        // Templates of earlier server builds are no use any more (best effort: one being copied
        // right now by another run stays).
        for old in templates.iter().filter(|t| **t != db) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {old}"));
        }
        if templates.contains(&db) && photos.join("ready").is_file() {
            return PgTemplate {
                admin_url: admin_url.to_string(),
                db,
                photos,
            };
        }
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        let build = format!("doi178_build_{}_{}", std::process::id(), random_suffix());
        admin
            .batch_execute(&format!("CREATE DATABASE {build}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {build}: {e}"));
        let build_dir = root.join(format!(
            "pgbuild-{}-{}",
            std::process::id(),
            random_suffix()
        ));
        std::fs::create_dir_all(&build_dir).unwrap();
        run_demo(&bin, &with_database(admin_url, &build), &build_dir);
        std::fs::write(build_dir.join("ready"), b"ok").unwrap();
        let _ = std::fs::remove_dir_all(&photos);
        std::fs::rename(&build_dir, &photos).unwrap();
        admin
            .batch_execute(&format!("ALTER DATABASE {build} RENAME TO {db}"))
            .unwrap_or_else(|e| panic!("ALTER DATABASE {build} RENAME TO {db}: {e}"));
        PgTemplate {
            admin_url: admin_url.to_string(),
            db,
            photos,
        }
    })
}

fn fresh_database() -> Database {
    let data_dir = tempfile::Builder::new()
        .prefix("doi178-test-")
        .tempdir()
        .unwrap();
    match std::env::var("DOI178_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        None => {
            let t = sqlite_template();
            for entry in std::fs::read_dir(&t.dir).unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name == "ready" {
                    continue;
                }
                if entry.file_type().unwrap().is_dir() {
                    copy_dir(&entry.path(), &data_dir.path().join(&name));
                } else {
                    std::fs::copy(entry.path(), data_dir.path().join(&name)).unwrap();
                }
            }
            let url = data_dir.path().join("doi178.sqlite").display().to_string();
            Database {
                url,
                data_dir,
                pg: None,
            }
        }
        Some(admin_url) => {
            let t = pg_template(&admin_url);
            let name = format!("doi178_test_{}", random_suffix());
            {
                let _guard = PG_CREATE.lock().unwrap_or_else(|e| e.into_inner());
                let mut admin = pg_connect(&t.admin_url);
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {}", t.db))
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name} TEMPLATE {}: {e}", t.db));
            }
            copy_dir(&t.photos, data_dir.path());
            Database {
                url: with_database(&t.admin_url, &name),
                data_dir,
                pg: Some((t.admin_url.clone(), name)),
            }
        }
    }
}

pub fn backend_name() -> &'static str {
    if std::env::var("DOI178_TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()) {
        "postgres"
    } else {
        "sqlite"
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// Starts `doi178-server … serve` on a free port (the command already names its database and data
/// directory, and may carry extra settings, which win over the defaults here: the tests' secret,
/// quiet logs, nothing from the caller's configuration), captures its output and waits until it
/// listens. Returns the process, its base URL and what it printed so far (kept growing).
pub fn spawn_server(mut cmd: Command) -> (Child, String, Arc<Mutex<String>>) {
    let given: Vec<std::ffi::OsString> = cmd.get_envs().map(|(k, _)| k.to_os_string()).collect();
    let defaults: [(&str, Option<&str>); 6] = [
        ("DOI178_JWT_SECRET", Some(JWT_SECRET)),
        ("DOI178_LOG", Some("warn")),
        ("DOI178_CONFIG", None),
        ("DOI178_DEMO", None),
        ("DOI178_BIND", None),
        ("DOI178_PORT", None),
    ];
    for (key, value) in defaults {
        if given.iter().any(|k| k == key) {
            continue;
        }
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd.args(["serve", "--port", "0", "--workers", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let out_log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            out_log
                .lock()
                .unwrap()
                .push_str(&format!("[stdout] {line}\n"));
            let _ = tx.send(line);
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_log = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => err_log
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let prefix = "doi178-server listening on ";
    let base = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(addr) = line.trim().strip_prefix(prefix) {
                    break addr.trim().trim_end_matches('/').to_string();
                }
            }
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().ok();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "server did not report `{prefix}…` ({e:?}; exit status {status:?}); its output:\n{}",
                    log.lock().unwrap()
                );
            }
        }
    };
    (child, base, log)
}

pub struct TestServer {
    child: Child,
    pub base: String,
    db: Database,
    log: Arc<Mutex<String>>,
    client: Client,
}

impl TestServer {
    /// A server on its own fresh copy of the demo data.
    pub fn start() -> TestServer {
        Self::start_with_env(&[])
    }

    /// A server on its own fresh copy of the demo data, with extra `DOI178_*` settings.
    pub fn start_with_env(env: &[(&str, &str)]) -> TestServer {
        let db = fresh_database();
        let mut cmd = Command::new(server_bin());
        cmd.args(["--database-url", &db.url, "--data-dir"])
            .arg(db.data_dir.path())
            .envs(env.iter().copied());
        let (child, base, log) = spawn_server(cmd);
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer {
            child,
            base,
            db,
            log,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The database this server runs on, for tests that check answers against the raw rows: a
    /// SQLite file path, or a `postgres://` URL.
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    /// What the server printed so far.
    pub fn output(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends a request; a 500 is always a failure (the API must never answer with one).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut req = self.client.request(method.clone(), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let res = req
            .send()
            .unwrap_or_else(|e| panic!("{method} {path}: request failed: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.bytes().map(|b| b.to_vec()).unwrap_or_default();
        let resp = Resp {
            method: method.to_string(),
            path: path.to_string(),
            status,
            headers,
            body,
        };
        assert!(
            status != 500,
            "{method} {path} answered 500 (the API must never do that): {}\n--- server output\n{}",
            resp.text(),
            self.output()
        );
        resp
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, &[], None)
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send_json(Method::POST, path, token, body)
    }

    pub fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send_json(Method::PUT, path, token, body)
    }

    pub fn send_json(&self, method: Method, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(
            method,
            path,
            token,
            &[("Content-Type", "application/json")],
            Some(serde_json::to_vec(body).unwrap()),
        )
    }

    /// `GET path` as `session`, expecting 200 and JSON.
    pub fn get_ok(&self, path: &str, session: &Session) -> Value {
        self.get(path, Some(&session.access_token)).ok_json()
    }

    /// Signs in through the dashboard's form, as a browser does: the session cookie and the
    /// anti-forgery token that any signed-in page carries in `<body hx-headers>`.
    pub fn sign_in_browser(&self, username: &str, password: &str) -> Browser {
        let body = format!(
            "username={}&password={}",
            urlencode(username),
            urlencode(password)
        );
        let resp = self.request(
            Method::POST,
            "/login",
            None,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.into_bytes()),
        );
        resp.expect(303);
        let cookie = session_cookie(&resp)
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let home = resp.headers[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let page = self.request(Method::GET, &home, None, &[("Cookie", &cookie)], None);
        let html = page.text();
        let csrf = html
            .split("\"X-CSRF-Token\": \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no anti-forgery token on {home} ({}): {html}", page.status))
            .to_string();
        Browser { cookie, csrf }
    }

    /// The first establishment of a list answer (`{"items": […]}`) with a checklist template for
    /// its type, as `session` sees the templates (only those with a location when `located`):
    /// (establishment, template).
    pub fn with_checklist(
        &self,
        list: &Value,
        located: bool,
        session: &Session,
    ) -> Option<(Value, Value)> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| !located || e["location"].is_object())
            .find_map(|e| {
                let path = format!(
                    "/api/v1/checklist-templates?type={}",
                    e["establishment_type"].as_str().unwrap()
                );
                let templates = self.get_ok(&path, session);
                let first = templates["items"].as_array().unwrap().first().cloned();
                first.map(|t| (e.clone(), t))
            })
    }

    /// Uploads `body` as photo `id` (with its `Content-Digest`).
    pub fn put_photo(&self, who: &Session, id: &str, mime: &str, body: &[u8]) -> Resp {
        let digest = content_digest(body);
        self.request(
            Method::PUT,
            &format!("/api/v1/photos/{id}"),
            who.token(),
            &[("Content-Type", mime), ("Content-Digest", &digest)],
            Some(body.to_vec()),
        )
    }

    /// A valid visit body for `who`'s first team, at an establishment of its jurisdiction with a
    /// checklist; no answers, no photos.
    pub fn visit_body(&self, who: &Session) -> Value {
        let me = self.get_ok("/api/v1/me", who);
        let team_id = me["teams"][0]["team_id"]
            .as_str()
            .expect("the caller's team")
            .to_string();
        let ests = self.get_ok("/api/v1/establishments?limit=50", who);
        let (est, template) = self
            .with_checklist(&ests, false, who)
            .expect("an establishment with a checklist");
        let now = chrono::Utc::now();
        serde_json::json!({
            "establishment_id": est["id"],
            "team_id": team_id,
            "members_present": [me["id"]],
            "started_at": (now - chrono::Duration::hours(3)).to_rfc3339(),
            "ended_at": (now - chrono::Duration::hours(2)).to_rfc3339(),
            "template_id": template["id"],
            "template_version": template["version"],
            "answers": [],
            "outcome": "no_violation",
            "violations": [],
            "photo_ids": [],
        })
    }

    /// The ids of `who`'s teams, from `/me`.
    pub fn my_team_ids(&self, who: &Session) -> std::collections::BTreeSet<String> {
        let me = self.get_ok("/api/v1/me", who);
        me["teams"]
            .as_array()
            .expect("teams")
            .iter()
            .map(|t| t["team_id"].as_str().expect("team_id").to_string())
            .collect()
    }

    /// The Huế province team `leader` leads.
    pub fn hue_team_led_by(&self, leader: &Session) -> String {
        self.get_ok("/api/v1/me", leader)["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["role"] == "leader" && t["unit_id"] == HUE)
            .unwrap()["team_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Signs in a demo account.
    pub fn login(&self, username: &str) -> Session {
        let r = self.post_json(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"username": username, "password": DEMO_PASSWORD}),
        );
        let v = r.ok_json();
        Session {
            username: username.to_string(),
            access_token: v["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            refresh_token: v["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_string(),
        }
    }

    /// Follows `next_cursor` through every page of a list, returning all items.
    pub fn get_all_pages(&self, path: &str, session: &Session) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={}", urlencode(c)),
                None => path.to_string(),
            };
            let page = self.get_ok(&url, session);
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => {
                    assert!(
                        page["next_cursor"].is_null(),
                        "next_cursor must be a string or null"
                    );
                    return items;
                }
            }
        }
        panic!("{path}: more than 10000 pages");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- output of the server at {} ({} backend)\n{}",
                self.base,
                backend_name(),
                self.output()
            );
        }
        if let Some((admin, name)) = &self.db.pg {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Session {
    pub fn token(&self) -> Option<&str> {
        Some(&self.access_token)
    }
}

/// A response, fully read.
pub struct Resp {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A browser session on the dashboard: the cookie (`doi178_session=…`) and the page's
/// anti-forgery token.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// The `Set-Cookie` header that opens a dashboard session, if the answer has one.
pub fn session_cookie(resp: &Resp) -> Option<String> {
    resp.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("doi178_session=") && !v.starts_with("doi178_session=;"))
        .map(str::to_string)
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {}",
                self.method,
                self.path,
                self.text()
            )
        })
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(&self, status: u16) -> &Resp {
        assert_eq!(
            self.status,
            status,
            "{} {}: expected {status}, got {}: {}",
            self.method,
            self.path,
            self.status,
            self.text()
        );
        self
    }

    pub fn ok_json(&self) -> Value {
        self.expect(200).json()
    }

    /// Asserts an RFC 9457 problem body with this status (and code, when given); returns it.
    pub fn problem(&self, status: u16, code: Option<&str>) -> Value {
        self.expect(status);
        assert_problem_shape(self);
        let v = self.json();
        if let Some(code) = code {
            assert_eq!(
                v["code"], code,
                "{} {}: problem code: {v}",
                self.method, self.path
            );
        }
        v
    }

    /// Asserts a 4xx problem body naming `field`; returns it.
    pub fn client_error_on(&self, field: &str) -> Value {
        assert!(
            (400..500).contains(&self.status),
            "{} {}: expected a 4xx, got {}: {}",
            self.method,
            self.path,
            self.status,
            self.text()
        );
        assert_problem_shape(self);
        let v = self.json();
        assert_eq!(
            v["field"], field,
            "{} {}: problem should name field `{field}`: {v}",
            self.method, self.path
        );
        v
    }
}

fn assert_problem_shape(r: &Resp) {
    assert!(
        r.content_type().starts_with("application/problem+json"),
        "{} {}: a problem must be application/problem+json, got `{}`: {}",
        r.method,
        r.path,
        r.content_type(),
        r.text()
    );
    let v = r.json();
    for key in ["type", "code", "detail"] {
        assert!(
            v[key].as_str().is_some_and(|s| !s.is_empty()),
            "{} {}: problem without `{key}`: {v}",
            r.method,
            r.path
        );
    }
    assert_eq!(
        v["status"].as_u64(),
        Some(u64::from(r.status)),
        "{} {}: problem status: {v}",
        r.method,
        r.path
    );
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// RFC 9530 `Content-Digest` value for `body`.
pub fn content_digest(body: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    format!("sha-256=:{b64}:")
}

/// String values of `key` in every item.
pub fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            i[key]
                .as_str()
                .unwrap_or_else(|| panic!("item without string `{key}`: {i}"))
                .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Direct database access (the tests' stand-in for someone with database credentials)
// ---------------------------------------------------------------------------------------------

pub enum Raw {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

#[derive(diesel::QueryableByName)]
pub struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub v: String,
}

impl Raw {
    pub fn open(url: &str) -> Raw {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Raw::Pg(diesel::PgConnection::establish(url).expect("connect to PostgreSQL"))
        } else {
            let mut c = diesel::SqliteConnection::establish(url).expect("open SQLite");
            c.batch_execute("PRAGMA busy_timeout = 10000;").unwrap();
            Raw::Sqlite(c)
        }
    }

    pub fn exec(&mut self, sql: &str) {
        let r = match self {
            Raw::Sqlite(c) => c.batch_execute(sql),
            Raw::Pg(c) => c.batch_execute(sql),
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column (named `v`, text) of every row.
    pub fn texts(&mut self, sql: &str) -> Vec<String> {
        use diesel::RunQueryDsl;
        let r: diesel::QueryResult<Vec<Text>> = match self {
            Raw::Sqlite(c) => diesel::sql_query(sql).load(c),
            Raw::Pg(c) => diesel::sql_query(sql).load(c),
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|t: Text| t.v)
            .collect()
    }

    pub fn text(&mut self, sql: &str) -> String {
        let mut rows = self.texts(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows.remove(0)
    }

    pub fn int(&mut self, sql: &str) -> i64 {
        self.text(sql).parse().expect("a number")
    }

    pub fn tables(&mut self) -> std::collections::BTreeSet<String> {
        let sql = match self {
            Raw::Sqlite(_) => {
                "SELECT name AS v FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%'"
            }
            Raw::Pg(_) => "SELECT tablename AS v FROM pg_tables WHERE schemaname = 'public'",
        };
        self.texts(sql)
            .into_iter()
            .filter(|t| t != "__diesel_schema_migrations")
            .collect()
    }

    pub fn last_seq(&mut self) -> i64 {
        self.int("SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) AS v FROM audit_log")
    }
}

/// A small JPEG whose pixels depend on `seed` (every photo differs).
pub fn jpeg(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(96, 64, |x, y| {
        image::Rgb([
            (x.wrapping_mul(3).wrapping_add(seed)) as u8,
            (y.wrapping_mul(5).wrapping_add(seed / 7)) as u8,
            (seed % 251) as u8,
        ])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    out
}

/// One line of `doi178-server routes`: a route with its access rule.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RouteRule {
    pub method: String,
    pub path: String,
    pub surface: String,
    pub who: String,
    pub roles: Vec<String>,
    pub scoped: bool,
}

/// The route table, from the server binary (`doi178-server routes`).
pub fn route_table() -> Vec<RouteRule> {
    let out = Command::new(server_bin())
        .arg("routes")
        .env_remove("DOI178_CONFIG")
        .output()
        .expect("run doi178-server routes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the route table is JSON")
}

/// The text at `key` of a JSON object (the test fails naming the key when it is not text).
pub fn str_of(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_string()
}

/// Runs a `doi178-server` command on `s`'s database (a throwaway data directory, logs at warn).
pub fn server_command(s: &TestServer, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(server_bin())
        .args(["--database-url", s.database_url(), "--data-dir"])
        .arg(dir.path())
        .args(args)
        .env("DOI178_LOG", "warn")
        .env_remove("DOI178_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run doi178-server {args:?}: {e}"))
}
