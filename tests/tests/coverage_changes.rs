//! Coverage follows establishments, whatever happens to them during the year: moved to another
//! commune, type changed out of the programme's scope and back, closed mid-year, opened after the
//! date asked about, and registered under a pre-2025 commune code that was merged into a current
//! commune (the 2025 reform). Each change is made through the API (or the importer) and the
//! commune rows of `GET /api/v1/coverage` must move by exactly one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::{Session, TestServer, HUE};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};

#[derive(diesel::MultiConnection)]
enum Raw {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

fn open_raw(url: &str) -> Raw {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Raw::Postgresql(diesel::PgConnection::establish(url).expect("open PostgreSQL"))
    } else {
        Raw::Sqlite(diesel::SqliteConnection::establish(url).expect("open SQLite"))
    }
}

/// (annual in_scope, annual inspected, cumulative in_scope, cumulative inspected) of a commune.
type Row = (u64, u64, u64, u64);

fn row(s: &TestServer, who: &Session, commune: &str, as_of: Option<&str>) -> Row {
    let mut q = format!("/api/v1/coverage?unit={HUE}&year=2026");
    if let Some(d) = as_of {
        q.push_str(&format!("&as_of={d}"));
    }
    let answer = s.get_ok(&q, who);
    let c = answer["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unit_id"] == commune)
        .unwrap_or_else(|| panic!("no child {commune} in {answer}"))
        .clone();
    let n = |v: &Value| v.as_u64().unwrap();
    (
        n(&c["annual"]["in_scope"]),
        n(&c["annual"]["inspected"]),
        n(&c["cumulative"]["in_scope"]),
        n(&c["cumulative"]["inspected"]),
    )
}

fn plus(r: Row, d: Row) -> Row {
    (r.0 + d.0, r.1 + d.1, r.2 + d.2, r.3 + d.3)
}

fn establishment(name: &str, unit: &str, kind: &str) -> Value {
    json!({
        "name": name,
        "establishment_type": kind,
        "unit": unit,
        "address": "5 Nguyễn Huệ",
        "status": "operating",
        "opened_on": "2020-01-01",
        "risk": "medium"
    })
}

fn submit_counted_visit(s: &TestServer, inspector: &Session, team: &str, est: &str) {
    let me = s.get_ok("/api/v1/me", inspector);
    let templates = s.get_ok("/api/v1/checklist-templates?type=karaoke", inspector);
    let t = &templates["items"][0];
    let now = Utc::now();
    let visit = json!({
        "establishment_id": est,
        "team_id": team,
        "members_present": [me["id"]],
        "started_at": (now - Duration::hours(2)).to_rfc3339(),
        "ended_at": (now - Duration::hours(1)).to_rfc3339(),
        "template_id": t["id"],
        "template_version": t["version"],
        "outcome": "no_violation"
    });
    let id = uuid::Uuid::new_v4();
    s.put_json(&format!("/api/v1/visits/{id}"), inspector.token(), &visit)
        .expect(201);
}

#[test]
fn coverage_follows_establishments_through_moves_type_changes_closures_and_openings() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let team = s.get_ok("/api/v1/me", &leader)["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "leader" && t["unit_id"] == HUE)
        .unwrap()["team_id"]
        .as_str()
        .unwrap()
        .to_string();
    let communes = s.get_ok(&format!("/api/v1/units?parent={HUE}"), &staff);
    let (a, b) = (
        communes["items"][0]["id"].as_str().unwrap().to_string(),
        communes["items"][1]["id"].as_str().unwrap().to_string(),
    );
    let (base_a, base_b) = (row(&s, &staff, &a, None), row(&s, &staff, &b, None));

    // A new karaoke in A is in scope, not yet inspected.
    let body = establishment("Karaoke Sông Hương", &a, "karaoke");
    let e = s
        .post_json("/api/v1/establishments", staff.token(), &body)
        .expect(201)
        .json();
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(row(&s, &staff, &a, None), plus(base_a, (1, 0, 1, 0)));

    // A counted visit: inspected this year and in the period.
    submit_counted_visit(&s, &inspector, &team, &id);
    assert_eq!(row(&s, &staff, &a, None), plus(base_a, (1, 1, 1, 1)));

    // Moved to B: its inspection goes with it.
    let put = |body: &Value| {
        s.put_json(&format!("/api/v1/establishments/{id}"), staff.token(), body)
            .expect(200);
    };
    let moved = establishment("Karaoke Sông Hương", &b, "karaoke");
    put(&moved);
    assert_eq!(row(&s, &staff, &a, None), base_a);
    assert_eq!(row(&s, &staff, &b, None), plus(base_b, (1, 1, 1, 1)));

    // Type changed to one outside the programme's scope, then back.
    put(&establishment("Karaoke Sông Hương", &b, "other"));
    assert_eq!(row(&s, &staff, &b, None), base_b);
    put(&moved);
    assert_eq!(row(&s, &staff, &b, None), plus(base_b, (1, 1, 1, 1)));

    // Closed on 1 March: it operated in January and February, so it stays in this year's
    // annual scope with its inspection, but it is not in cumulative scope today.
    let mut closed = moved.clone();
    closed["status"] = json!("closed");
    closed["closed_on"] = json!("2026-03-01");
    put(&closed);
    assert_eq!(row(&s, &staff, &b, None), plus(base_b, (1, 1, 0, 0)));
    // Closed on 1 January: it never operated in 2026.
    closed["closed_on"] = json!("2026-01-01");
    put(&closed);
    assert_eq!(row(&s, &staff, &b, None), base_b);

    // Opened on 1 November: not in scope on 15 October, in scope on 20 November.
    let (before_oct, before_nov) = (
        row(&s, &staff, &a, Some("2026-10-15")),
        row(&s, &staff, &a, Some("2026-11-20")),
    );
    let mut opening = establishment("Quán bar Bến Ngự", &a, "bar");
    opening["opened_on"] = json!("2026-11-01");
    s.post_json("/api/v1/establishments", staff.token(), &opening)
        .expect(201);
    assert_eq!(row(&s, &staff, &a, Some("2026-10-15")), before_oct);
    assert_eq!(
        row(&s, &staff, &a, Some("2026-11-20")),
        plus(before_nov, (1, 0, 1, 0))
    );
}

#[test]
fn an_establishment_listed_under_a_merged_pre_2025_commune_counts_in_the_current_one() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let communes = s.get_ok(&format!("/api/v1/units?parent={HUE}"), &staff);
    let target = communes["items"][0]["id"].as_str().unwrap().to_string();
    let before = row(&s, &staff, &target, None);

    // The pre-2025 commune 99901 of old Thừa Thiên Huế was merged into `target` on 1 July 2025.
    let mut raw = open_raw(s.database_url());
    raw.batch_execute(&format!(
        "INSERT INTO admin_units (id, code, code_version, name, full_name, name_en, level, kind,
             parent_id, path, search_key, valid_from, valid_to, area_km2) VALUES
         ('pre2025:46', '46', 'pre2025', 'Thừa Thiên Huế', 'Tỉnh Thừa Thiên Huế', 'Thua Thien Hue',
             'province', 'province', NULL, '/pre2025:46/', 'thua thien hue', '2008-01-01', '2025-06-30', NULL),
         ('pre2025:99901', '99901', 'pre2025', 'Cũ', 'Xã Cũ', 'Cu', 'commune', 'commune', 'pre2025:46',
             '/pre2025:46/pre2025:99901/', 'xa cu', '2008-01-01', '2025-06-30', NULL);
         INSERT INTO unit_lineage (from_unit, to_unit, kind, effective) VALUES
         ('pre2025:99901', '{target}', 'merged_into', '2025-07-01');"
    ))
    .unwrap();
    drop(raw);

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ds.csv");
    std::fs::write(
        &csv,
        "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Số ĐKKD,Ngày hoạt động\n\
         Nhà nghỉ Hương Giang,Nhà nghỉ,99901,3 Lê Lợi,3300999001,01/02/2021\n",
    )
    .unwrap();
    let out = std::process::Command::new(common::server_bin())
        .args([
            "--database-url",
            s.database_url(),
            "--data-dir",
            dir.path().to_str().unwrap(),
            "import",
        ])
        .arg(&csv)
        .env_remove("DOI178_DATABASE_URL")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "import failed: {text}");

    assert_eq!(row(&s, &staff, &target, None), plus(before, (1, 0, 1, 0)));
    let found = s.get_ok(
        "/api/v1/establishments?q=nha%20nghi%20huong%20giang",
        &staff,
    );
    let items: Vec<&Value> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "Nhà nghỉ Hương Giang")
        .collect();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(
        items[0]["unit_id"],
        target.as_str(),
        "stored under the current commune"
    );
}
