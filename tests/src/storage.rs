//! Support for the backup and S3 tests: servers on a data directory the test controls (with its
//! own environment), the command line, and a visit with photos submitted the way a phone does.
//! The database per data directory ([`TestDb`]) and the rows of every table as text
//! ([`all_rows`]) live in [`crate::database`] and [`crate::raw`], and are re-exported here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use crate::database::{admin_url, TestDb};
pub use crate::fixtures::jpeg;
pub use crate::raw::{all_rows, photo_rows};
use crate::server::{server_bin, spawn_server, ServerProcess, DEMO_PASSWORD, JWT_SECRET};
use crate::test_server::{content_digest, HUE};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_encode(&Sha256::digest(bytes))
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `doi178-server --data-dir … --database-url … ARGS` with `env`; returns its output.
pub fn cli(data_dir: &Path, db_url: &str, env: &[(String, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(server_bin());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(["--database-url", db_url])
        .args(args)
        .env("DOI178_LOG", "warn")
        .env("DOI178_JWT_SECRET", JWT_SECRET)
        .env_remove("DOI178_CONFIG")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run doi178-server")
}

pub fn output_text(o: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `cli` that must succeed.
pub fn cli_ok(data_dir: &Path, db_url: &str, env: &[(String, String)], args: &[&str]) -> Output {
    let o = cli(data_dir, db_url, env, args);
    assert!(
        o.status.success(),
        "doi178-server {args:?} failed: {}",
        output_text(&o)
    );
    o
}

/// `cli` that must fail with a message containing `needle`.
pub fn cli_fails(
    data_dir: &Path,
    db_url: &str,
    env: &[(String, String)],
    args: &[&str],
    needle: &str,
) -> String {
    let o = cli(data_dir, db_url, env, args);
    let text = output_text(&o);
    assert!(
        !o.status.success(),
        "doi178-server {args:?} should fail: {text}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(needle),
        "doi178-server {args:?}: the message should say `{needle}`: {text}"
    );
    text
}

/// The real server on a data directory and database the test controls.
pub struct Server {
    process: ServerProcess,
    pub base: String,
    pub client: Client,
}

impl Server {
    pub fn start(data_dir: &Path, db_url: &str, env: &[(String, String)]) -> Server {
        let mut cmd = Command::new(server_bin());
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(["--database-url", db_url])
            .envs(env.iter().map(|(k, v)| (k, v)));
        let process = spawn_server(cmd);
        Server {
            base: process.base.clone(),
            process,
            client: crate::http_client()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    pub fn output(&self) -> String {
        self.process.output()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn login(&self, user: &str) -> String {
        let r = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": user, "password": DEMO_PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "login {user}");
        r.json::<Value>().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn get_json(&self, path: &str, token: &str) -> Value {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        assert_eq!(status, 200, "GET {path}: {text}\n{}", self.output());
        serde_json::from_str(&text).unwrap()
    }

    /// `GET path` → (status, body bytes).
    pub fn get_bytes(&self, path: &str, token: &str) -> (u16, Vec<u8>) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    }

    pub fn put_photo(&self, token: &str, id: &str, jpeg: &[u8]) -> (u16, Value) {
        let r = self
            .client
            .put(self.url(&format!("/api/v1/photos/{id}")))
            .bearer_auth(token)
            .header("Content-Type", "image/jpeg")
            .header("Content-Digest", content_digest(jpeg))
            .body(jpeg.to_vec())
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let v = r.json::<Value>().unwrap_or(Value::Null);
        assert_ne!(
            status,
            500,
            "PUT photo answered 500: {v}\n{}",
            self.output()
        );
        (status, v)
    }

    pub fn put_visit(&self, token: &str, id: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .put(self.url(&format!("/api/v1/visits/{id}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let v = r.json::<Value>().unwrap_or(Value::Null);
        assert_ne!(
            status,
            500,
            "PUT visit answered 500: {v}\n{}",
            self.output()
        );
        (status, v)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill9();
        if std::thread::panicking() {
            eprintln!(
                "--- output of the server at {}\n{}",
                self.base,
                self.output()
            );
        }
    }
}

/// What a visit by `kiemtra.hue` needs: its team, the inspector's id, an establishment in Huế
/// with a location, and the checklist template for its type.
pub struct VisitKit {
    pub team_id: String,
    pub inspector_id: String,
    pub establishment: Value,
    pub template: Value,
}

impl VisitKit {
    pub fn find(s: &Server, inspector: &str) -> VisitKit {
        let me = s.get_json("/api/v1/me", inspector);
        let inspector_id = me["id"].as_str().unwrap().to_string();
        let team_id = me["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["unit_id"] == HUE)
            .unwrap_or_else(|| panic!("kiemtra.hue is on no Huế team: {me}"))["team_id"]
            .as_str()
            .unwrap()
            .to_string();
        let list = s.get_json(
            "/api/v1/establishments?limit=100&status=operating",
            inspector,
        );
        let (establishment, template) = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["location"].is_object())
            .find_map(|e| {
                let t = s.get_json(
                    &format!(
                        "/api/v1/checklist-templates?type={}",
                        e["establishment_type"].as_str().unwrap()
                    ),
                    inspector,
                );
                t["items"]
                    .as_array()
                    .unwrap()
                    .first()
                    .cloned()
                    .map(|t| (e.clone(), t))
            })
            .expect("no operating establishment with a location and a checklist");
        VisitKit {
            team_id,
            inspector_id,
            establishment,
            template,
        }
    }

    /// A visit body listing `photo_ids`.
    pub fn visit(&self, photo_ids: &[String], minutes_no: &str) -> Value {
        let answers: Vec<Value> = self.template["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| json!({"item": i["code"], "result": "pass", "note": null}))
            .collect();
        let now = chrono::Utc::now();
        json!({
            "establishment_id": self.establishment["id"],
            "team_id": self.team_id,
            "assignment_id": null,
            "members_present": [self.inspector_id],
            "started_at": (now - chrono::Duration::hours(2)).to_rfc3339(),
            "ended_at": (now - chrono::Duration::hours(1)).to_rfc3339(),
            "gps": {"lat": self.establishment["location"]["lat"],
                    "lon": self.establishment["location"]["lon"], "accuracy_m": 10.0},
            "template_id": self.template["id"],
            "template_version": self.template["version"],
            "answers": answers,
            "outcome": "no_violation",
            "violations": [],
            "minutes_no": minutes_no,
            "follow_up_on": null,
            "photo_ids": photo_ids,
            "notes": null
        })
    }
}

/// Uploads `n` photos, then the visit listing them (the phone's order); returns the visit id.
pub fn submit_visit_with_photos(
    s: &Server,
    token: &str,
    kit: &VisitKit,
    seed: u32,
    n: u32,
) -> String {
    let mut photos = Vec::new();
    for k in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let (status, v) = s.put_photo(token, &id, &jpeg(seed * 16 + k));
        assert_eq!(status, 201, "photo upload: {v}");
        photos.push(id);
    }
    let visit_id = uuid::Uuid::new_v4().to_string();
    let (status, v) = s.put_visit(token, &visit_id, &kit.visit(&photos, &format!("{seed}/BB")));
    assert_eq!(status, 201, "visit: {v}");
    visit_id
}

/// `<data_dir>/photos/<xx>/<id>.jpg` (and `.thumb.jpg`).
pub fn photo_path(data_dir: &Path, id: &str, thumb: bool) -> PathBuf {
    let simple = id.replace('-', "");
    let name = if thumb {
        format!("{simple}.thumb.jpg")
    } else {
        format!("{simple}.jpg")
    };
    data_dir.join("photos").join(&simple[..2]).join(name)
}

/// SHA-256 of every regular file below `dir`, by path relative to it.
pub fn file_hashes(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, sha256_hex(&std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Loads the demo data into an empty database.
pub fn demo(data_dir: &Path, db_url: &str, env: &[(String, String)]) {
    cli_ok(
        data_dir,
        db_url,
        env,
        &["demo", "--establishments", "60", "--visits", "40"],
    );
}
