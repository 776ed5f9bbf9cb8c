//! A province's first start, without demo data, on SQLite or PostgreSQL (as the environment
//! says): `serve` on an empty database loads the shipped reference data and explains how to create
//! the first administrator; the administrator made on the command line then finds the whole
//! country's units of both code lists, the lineage, the agencies and the Vietnamese checklists;
//! a second start loads nothing again; `serve --demo` on that database says why it will not load
//! the demo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use doi178_tests::{http_client, server_bin, Raw, ServeOptions, ServerProcess, TestDb};
use serde_json::{json, Value};

const PASSWORD: &str = "mật khẩu của quản trị viên";

struct Api {
    base: String,
    token: String,
    client: reqwest::blocking::Client,
}

impl Api {
    fn sign_in(server: &ServerProcess) -> Api {
        let client = http_client().build().unwrap();
        let r = client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().unwrap();
        Api {
            base: server.base.clone(),
            token: v["access_token"].as_str().unwrap().to_string(),
            client,
        }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

/// `serve` on `db` (with `--demo` through its environment variable when `demo`).
fn serve(db: &TestDb, dir: &std::path::Path, demo: bool) -> ServerProcess {
    let mut cmd = Command::new(server_bin());
    cmd.args(["--database-url", &db.url, "--data-dir"]).arg(dir);
    if demo {
        cmd.env("DOI178_DEMO", "true");
    }
    ServerProcess::spawn(cmd, &ServeOptions::default()).unwrap()
}

/// The server's output once it holds `text` (what `serve` prints after its address arrives a
/// moment later), or as it is after 20 s.
fn output_with(server: &ServerProcess, text: &str) -> String {
    for _ in 0..200 {
        let out = server.output();
        if out.contains(text) {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.output()
}

#[test]
fn a_new_database_starts_with_the_reference_data_and_no_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());

    // First start: no account, so the server says how to make the first administrator.
    let mut first = serve(&db, dir.path(), false);
    let out = output_with(&first, "serve --demo");
    assert!(out.contains("No account exists yet"), "{out}");
    assert!(
        out.contains("add-user --username admin --role admin"),
        "{out}"
    );
    assert!(!out.contains("demo accounts"), "{out}");
    first.stop();

    let mut raw = Raw::open(&db.url);
    let sets = raw.texts("SELECT name || ' ' || version AS v FROM reference_sets ORDER BY name");
    assert_eq!(
        sets,
        [
            "agencies 2026-12-08",
            "checklists 2025-12-15.1",
            "lineage-2025 2025-07-02.2",
            "units-2025 2026-07-25",
            "units-pre2025 2025-03-01",
        ]
    );
    let loaded_at = raw.texts(
        "SELECT name || ' ' || CAST(loaded_at AS TEXT) AS v FROM reference_sets ORDER BY name",
    );
    assert_eq!(raw.int("SELECT CAST(COUNT(*) AS TEXT) AS v FROM users"), 0);
    assert_eq!(
        raw.int("SELECT CAST(COUNT(*) AS TEXT) AS v FROM establishments"),
        0
    );
    assert_eq!(raw.int("SELECT CAST(COUNT(*) AS TEXT) AS v FROM visits"), 0);

    // The first administrator, from the command line (password on standard input).
    let mut child = Command::new(server_bin())
        .args(["--database-url", &db.url, "--data-dir"])
        .arg(dir.path())
        .args([
            "add-user",
            "--username",
            "admin",
            "--role",
            "admin",
            "--display-name",
            "Quản trị hệ thống",
        ])
        .env_remove("DOI178_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    // Second start: nothing to load again, and no first-run help.
    let server = serve(&db, dir.path(), false);
    let api = Api::sign_in(&server);
    assert!(!server.output().contains("No account exists yet"));
    assert_eq!(
        raw.texts(
            "SELECT name || ' ' || CAST(loaded_at AS TEXT) AS v FROM reference_sets ORDER BY name"
        ),
        loaded_at,
        "a start with nothing new reloads nothing"
    );

    // The whole country: 34 provinces of the list in force, 3,321 communes under them.
    let provinces = api.ok("/api/v1/units")["items"].as_array().unwrap().clone();
    assert_eq!(provinces.len(), 34);
    assert!(provinces
        .iter()
        .all(|p| p["id"].as_str().unwrap().starts_with("2025:") && p["level"] == "province"));
    let mut communes = 0;
    for p in &provinces {
        let detail = api.ok(&format!("/api/v1/units/{}", p["id"].as_str().unwrap()));
        communes += detail["children"].as_array().unwrap().len();
    }
    assert_eq!(communes, 3321);

    // A bare official code is that code in the list in force.
    let hue = api.ok("/api/v1/units/46");
    assert_eq!(hue["id"], "2025:46");
    assert_eq!(hue["children"].as_array().unwrap().len(), 40);
    assert_eq!(
        api.ok("/api/v1/units?parent=46")["items"]
            .as_array()
            .unwrap()
            .len(),
        40
    );
    assert_eq!(api.get("/api/v1/units/99").0, 404);

    // The former list stays readable by its ids, with its districts, valid until 30/06/2025.
    let old_hue = api.ok("/api/v1/units/pre2025:46");
    assert_eq!(old_hue["valid_to"], "2025-06-30");
    assert_eq!(old_hue["code_version"], "pre2025");
    let districts = old_hue["children"].as_array().unwrap();
    assert!(districts.iter().all(|d| d["level"] == "district"));
    assert!(districts.iter().any(|d| d["full_name"] == "Huyện A Lưới"));
    // Search and the tree show the list in force only.
    let found = api.ok("/api/v1/units?q=phu%20xuan")["items"].clone();
    let ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"2025:19753"), "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("2025:")), "{ids:?}");
    // Lineage: every former commune leads to a commune in force (and Tây Lộc to Phú Xuân).
    assert_eq!(
        raw.text("SELECT to_unit AS v FROM unit_lineage WHERE from_unit = 'pre2025:19750'"),
        "2025:19753"
    );
    assert_eq!(
        raw.int(
            "SELECT CAST(COUNT(*) AS TEXT) AS v FROM admin_units u WHERE u.code_version = 'pre2025' \
             AND u.level = 'commune' AND NOT EXISTS (SELECT 1 FROM unit_lineage l \
             WHERE l.from_unit = u.id)"
        ),
        0
    );

    // The agencies and the Vietnamese checklists (with English) are there as data.
    let agencies = api.ok("/api/v1/agencies");
    let kinds: Vec<&str> = agencies
        .as_array()
        .or(agencies["items"].as_array())
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "police",
        "health",
        "culture",
        "labour_social",
        "trade",
        "tourism",
        "peoples_committee",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    let templates = api.ok("/api/v1/checklist-templates");
    let templates = templates
        .as_array()
        .or(templates["items"].as_array())
        .unwrap()
        .clone();
    assert_eq!(templates.len(), 8);
    let karaoke = templates
        .iter()
        .find(|t| t["establishment_type"] == "karaoke")
        .unwrap();
    assert_eq!(karaoke["title"], "Phiếu kiểm tra cơ sở karaoke");
    let c06 = karaoke["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "C06")
        .unwrap();
    assert_eq!(
        c06["text"],
        "Không sử dụng người dưới 18 tuổi làm công việc trực tiếp phục vụ khách"
    );
    assert_eq!(c06["text_en"], "No worker under 18 in customer-facing work");

    // A new establishment and a tip take the bare official code of their commune too.
    let est = api
        .client
        .post(format!("{}/api/v1/establishments", api.base))
        .bearer_auth(&api.token)
        .json(
            &json!({"name": "Nhà nghỉ Sông Hương", "establishment_type": "guesthouse",
            "unit": "19753", "address": "3 Lê Lợi", "status": "operating", "risk": "medium",
            "commitment_signed": false}),
        )
        .send()
        .unwrap();
    assert_eq!(est.status(), 201);
    assert_eq!(est.json::<Value>().unwrap()["unit_id"], "2025:19753");
    let tip = api
        .client
        .post(format!("{}/api/v1/tips", api.base))
        .bearer_auth(&api.token)
        .json(
            &json!({"channel": "hotline", "received_at": "2026-12-01T08:00:00Z",
            "content": "Người dân báo nhà nghỉ có dấu hiệu môi giới", "unit": "19753"}),
        )
        .send()
        .unwrap();
    let status = tip.status();
    let tip: Value = tip.json().unwrap();
    assert_eq!(status, 201, "{tip}");
    assert_eq!(tip["unit_id"], "2025:19753");

    // Every province's communes are drawn on the map (Hà Nội's 126, not one outline).
    let geo: Value = api
        .client
        .get(format!("{}/static/geo/communes-01.geojson", api.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(geo["features"].as_array().unwrap().len(), 126);
    drop(server);

    // `serve --demo` on a database with accounts of its own says why it does not load the demo.
    let mut demo = serve(&db, dir.path(), true);
    let out = output_with(&demo, "demo data not loaded");
    assert!(out.contains("demo data not loaded"), "{out}");
    assert!(out.contains("1 account of its own"), "{out}");
    assert!(!out.contains("demo accounts"), "{out}");
    demo.stop();
    // Nothing invented was added: only the establishment registered above.
    assert_eq!(
        raw.int("SELECT CAST(COUNT(*) AS TEXT) AS v FROM establishments"),
        1
    );
    assert_eq!(raw.int("SELECT CAST(COUNT(*) AS TEXT) AS v FROM users"), 1);
}
