//! The real `doi178-server` binary on a fresh copy of demo data (port 0, SQLite), started by the
//! workspace's test-support library (`doi178-tests`), and a plain HTTP client to check what the
//! server holds.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::Path;
use std::time::Duration;

use doi178_field::{FieldCore, Options, RetryPolicy, Settings, SignIn};
use doi178_tests::TestServer;
use reqwest::blocking::Client;
use serde_json::Value;

pub use doi178_tests::{noise_jpeg, small_jpeg as jpeg, urlencode, JWT_SECRET};
pub const PASSWORD: &str = doi178_tests::DEMO_PASSWORD;
pub const INSPECTOR: &str = "kiemtra.hue";

pub struct Server {
    server: TestServer,
    pub base: String,
    pub http: Client,
}

impl Server {
    pub fn start() -> Server {
        let server = TestServer::builder().demo(300, 100).sqlite_only().start();
        Server {
            base: server.base.clone(),
            server,
            http: doi178_tests::http_client()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    pub fn output(&self) -> String {
        self.server.output()
    }

    /// Signs in over plain HTTP (another client than the phone): (access, refresh).
    pub fn login(&self, user: &str) -> (String, String) {
        let v: Value = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": user, "password": PASSWORD}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        (
            v["access_token"].as_str().unwrap().to_string(),
            v["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// GET as `token`: (status, JSON or Null).
    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// POST JSON as `token`: (status, JSON or Null).
    pub fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub fn get_bytes(&self, path: &str, token: &str) -> (u16, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    }

    /// Every visit of a team the server lists (all pages).
    pub fn team_visits(&self, team: &str, token: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/visits?team={team}&limit=200");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(c)));
            }
            let (s, v) = self.get(&path, token);
            assert_eq!(s, 200, "{path}: {v}");
            out.extend(v["items"].as_array().unwrap().iter().cloned());
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }
}

/// Short retries so that tests of failures do not wait long.
pub fn fast_options() -> Options {
    Options {
        retry: RetryPolicy {
            max_attempts: 3,
            base_ms: 20,
            cap_ms: 200,
        },
        timeout: Duration::from_secs(30),
    }
}

pub fn open(dir: &Path, base: &str) -> FieldCore {
    FieldCore::open_with(
        dir,
        Some(Settings {
            server_url: base.to_string(),
            ..Settings::default()
        }),
        fast_options(),
    )
    .unwrap()
}

pub fn sign_in(core: &FieldCore, user: &str) -> doi178_field::SignInResult {
    core.sign_in(SignIn {
        username: user.into(),
        password: PASSWORD.into(),
    })
    .unwrap()
}

pub fn sha_hex(b: &[u8]) -> String {
    doi178_field::shared::photo::Sha256Digest::of(b).to_hex()
}
