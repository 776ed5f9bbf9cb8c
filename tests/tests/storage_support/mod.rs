//! Support for the backup and S3 tests: servers on a data directory the test controls (with its
//! own environment), the command line, a fresh database per data directory, the rows of every
//! table as text, and a visit with photos submitted the way a phone does.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::blocking::Client;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{
    content_digest, server_bin, spawn_server, with_database, DEMO_PASSWORD, JWT_SECRET,
};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_encode(&Sha256::digest(bytes))
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// A database for one data directory: `<dir>/doi178.sqlite`, or a new PostgreSQL database when
/// `DOI178_TEST_DATABASE_URL` is set (dropped at the end).
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new(data_dir: &Path) -> TestDb {
        match admin_url() {
            None => TestDb {
                url: data_dir.join("doi178.sqlite").display().to_string(),
                pg: None,
            },
            Some(admin) => {
                let name = format!("doi178_st_{}", suffix());
                let mut c = diesel::PgConnection::establish(&admin).unwrap();
                c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                TestDb {
                    url: with_database(&admin, &name),
                    pg: Some((admin, name)),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub fn admin_url() -> Option<String> {
    std::env::var("DOI178_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
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
    child: Child,
    pub base: String,
    log: Arc<Mutex<String>>,
    pub client: Client,
}

impl Server {
    pub fn start(data_dir: &Path, db_url: &str, env: &[(String, String)]) -> Server {
        let mut cmd = Command::new(server_bin());
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(["--database-url", db_url])
            .envs(env.iter().map(|(k, v)| (k, v)));
        let (child, base, log) = spawn_server(cmd);
        Server {
            child,
            base,
            log,
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    pub fn output(&self) -> String {
        self.log.lock().unwrap().clone()
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
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- output of the server at {}\n{}",
                self.base,
                self.output()
            );
        }
    }
}

pub use crate::common::jpeg;

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
            .find(|t| t["unit_id"] == crate::common::HUE)
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

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    r: String,
}

/// Every row of every table as text, per table (sorted), read from a SQLite file or PostgreSQL.
pub fn all_rows(db_url: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    if db_url.starts_with("postgres") {
        let mut c = diesel::PgConnection::establish(db_url).unwrap();
        c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .unwrap();
        let tables: Vec<Line> = diesel::sql_query(
            "SELECT table_name::text AS r FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .load(&mut c)
        .unwrap();
        for t in tables {
            let mut rows: Vec<String> = diesel::sql_query(format!(
                "SELECT row_to_json(x)::text AS r FROM \"{}\" x",
                t.r
            ))
            .load::<Line>(&mut c)
            .unwrap()
            .into_iter()
            .map(|l| l.r)
            .collect();
            rows.sort();
            out.insert(t.r, rows);
        }
        c.batch_execute("COMMIT").unwrap();
    } else {
        let mut c = diesel::SqliteConnection::establish(db_url).unwrap();
        c.batch_execute("PRAGMA busy_timeout = 10000; BEGIN")
            .unwrap();
        let tables: Vec<Line> = diesel::sql_query(
            "SELECT name AS r FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .load(&mut c)
        .unwrap();
        for t in tables {
            let cols: Vec<Line> = diesel::sql_query(format!(
                "SELECT name AS r FROM pragma_table_info('{}')",
                t.r
            ))
            .load(&mut c)
            .unwrap();
            let expr = cols
                .iter()
                .map(|col| format!("quote(\"{}\")", col.r))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let mut rows: Vec<String> =
                diesel::sql_query(format!("SELECT {expr} AS r FROM \"{}\"", t.r))
                    .load::<Line>(&mut c)
                    .unwrap()
                    .into_iter()
                    .map(|l| l.r)
                    .collect();
            rows.sort();
            out.insert(t.r, rows);
        }
        c.batch_execute("COMMIT").unwrap();
    }
    out
}

/// Photo ids and their stored SHA-256 (the `photos` table).
pub fn photo_rows(db_url: &str) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct P {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Text)]
        sha256: String,
    }
    let q = "SELECT id, sha256 FROM photos ORDER BY id";
    let rows: Vec<P> = if db_url.starts_with("postgres") {
        let mut c = diesel::PgConnection::establish(db_url).unwrap();
        diesel::sql_query(q).load(&mut c).unwrap()
    } else {
        let mut c = diesel::SqliteConnection::establish(db_url).unwrap();
        diesel::sql_query(q).load(&mut c).unwrap()
    };
    rows.into_iter().map(|p| (p.id, p.sha256)).collect()
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
