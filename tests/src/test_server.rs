//! [`TestServer`]: the real server on its own fresh copy of the demo data, with an HTTP client
//! whose every request fails the test on a 500; [`Resp`], [`Session`], [`Browser`] and helpers.

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::database::{Backend, Database, Demo};
use crate::server::{server_bin, ServeOptions, ServerProcess, DEMO_PASSWORD};

pub const HUE: &str = "2025:46";
pub const QUANG_TRI: &str = "2025:44";

/// How a [`TestServer`] starts: demo size, backend, extra `DOI178_*` settings, serve options.
#[derive(Debug, Clone, Default)]
pub struct TestServerBuilder {
    demo: Demo,
    backend: Backend,
    env: Vec<(String, String)>,
    serve: ServeOptions,
}

impl TestServerBuilder {
    /// The size of the demo data (default: 300 establishments, 400 visits).
    pub fn demo(mut self, establishments: u32, visits: u32) -> Self {
        self.demo = Demo {
            establishments,
            visits,
        };
        self
    }

    /// SQLite whatever `DOI178_TEST_DATABASE_URL` says.
    pub fn sqlite_only(mut self) -> Self {
        self.backend = Backend::Sqlite;
        self
    }

    /// An extra environment variable for the server.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The secret the server signs tokens with (default [`crate::JWT_SECRET`]).
    pub fn jwt_secret(mut self, secret: &str) -> Self {
        self.serve.jwt_secret = Some(secret.to_string());
        self
    }

    /// How long the server may take to listen (default 90 s).
    pub fn ready_timeout(mut self, t: Duration) -> Self {
        self.serve.ready_timeout = t;
        self
    }

    /// The server's stderr goes to the test's stderr (not kept in [`TestServer::output`]).
    pub fn inherit_stderr(mut self) -> Self {
        self.serve.inherit_stderr = true;
        self
    }

    /// Any other serve option.
    pub fn serve_options(mut self, opts: ServeOptions) -> Self {
        self.serve = opts;
        self
    }

    pub fn start(self) -> TestServer {
        let db = Database::fresh(self.demo, self.backend);
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let process = ServerProcess::start(
            &server_bin(),
            &db.url,
            db.data_dir.path(),
            &env,
            &self.serve,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let client = crate::http_client()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer {
            base: process.base.clone(),
            process,
            db,
            client,
        }
    }
}

pub struct TestServer {
    process: ServerProcess,
    pub base: String,
    db: Database,
    pub client: Client,
}

impl TestServer {
    /// A server on its own fresh copy of the demo data.
    pub fn start() -> TestServer {
        Self::builder().start()
    }

    /// A server on its own fresh copy of the demo data, with extra `DOI178_*` settings.
    pub fn start_with_env(env: &[(&str, &str)]) -> TestServer {
        env.iter()
            .fold(Self::builder(), |b, (k, v)| b.env(k, v))
            .start()
    }

    /// Settings other than the defaults (demo size, backend, …).
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self.db.data_dir.path()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.process.port()
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
    /// What the server printed so far.
    pub fn output(&self) -> String {
        self.process.output()
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
        let _ = self.process.kill9();
        if std::thread::panicking() {
            eprintln!(
                "--- output of the server at {} ({} backend)\n{}",
                self.base,
                if self.db.is_postgres() {
                    "postgres"
                } else {
                    "sqlite"
                },
                self.output()
            );
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
