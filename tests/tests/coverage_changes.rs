//! Coverage follows establishments, whatever happens to them during the year: moved to another
//! commune, type changed out of the programme's scope and back, closed mid-year, opened after the
//! date asked about, and registered under a pre-2025 commune code that was merged into a current
//! commune (the 2025 reform). Each change is made through the API (or the importer) and the
//! commune rows of `GET /api/v1/coverage` must move by exactly one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use doi178_tests::{Session, TestServer, HUE};
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
    let team = s.hue_team_led_by(&leader);
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

    // A pre-2025 commune 99901 of Huế (the shipped pre-2025 list holds the province) was merged
    // into `target` on 1 July 2025.
    let mut raw = open_raw(s.database_url());
    raw.batch_execute(&format!(
        "INSERT INTO admin_units (id, code, code_version, name, full_name, name_en, level, kind,
             parent_id, path, search_key, valid_from, valid_to, area_km2) VALUES
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
    let out = std::process::Command::new(doi178_tests::server_bin())
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

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// The rows of a coverage table, one text line each (the same on both backends), sorted.
fn snapshot(s: &TestServer, table: &str) -> Vec<String> {
    let cols = match table {
        "inspection_days" => "establishment_id || '|' || CAST(day AS TEXT) || '|' || CAST(visits AS TEXT)",
        "establishment_visit_summary" => "establishment_id || '|' || COALESCE(CAST(last_inspected_on AS TEXT), '-') || '|' || CAST(prior_violations AS TEXT)",
        "coverage_rollup" => "CAST(since AS TEXT) || '|' || unit_id || '|' || establishment_type || '|' || CAST(open_since AS TEXT) || '|' || CAST(inspected_since AS TEXT) || '|' || CAST(open_now AS TEXT) || '|' || CAST(inspected_now AS TEXT) || '|' || COALESCE(CAST(last_opened_on AS TEXT), '-') || '|' || COALESCE(CAST(last_closed_on AS TEXT), '-') || '|' || COALESCE(CAST(last_inspected_on AS TEXT), '-')",
        other => panic!("no snapshot of {other}"),
    };
    let sql = format!("SELECT {cols} AS line FROM {table} ORDER BY line");
    use diesel::RunQueryDsl;
    let rows: Vec<Line> = match open_raw(s.database_url()) {
        Raw::Sqlite(mut c) => diesel::sql_query(sql).load(&mut c).unwrap(),
        Raw::Postgresql(mut c) => diesel::sql_query(sql).load(&mut c).unwrap(),
    };
    let mut lines: Vec<String> = rows.into_iter().map(|r| r.line).collect();
    lines.sort();
    lines
}

/// A new visit updates the coverage tables incrementally (its day, the summary, and the rollup
/// rows when the day is its establishment's latest); the result must be what a recomputation
/// gives. Visits in and out of order, every outcome, with violations, on establishments never
/// inspected, inspected before, closed earlier, and one that never operated; then a review of
/// one visit per establishment recomputes its rows and a programme saved unchanged rebuilds the
/// whole rollup: nothing may move.
#[test]
fn a_new_visit_updates_coverage_exactly_as_a_recomputation_would() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let admin = s.login("admin");
    let me = s.get_ok("/api/v1/me", &inspector);
    let team = s.hue_team_led_by(&leader);
    let communes = s.get_ok(&format!("/api/v1/units?parent={HUE}"), &staff);
    let commune = communes["items"][2]["id"].as_str().unwrap().to_string();

    // Establishments: two the demo has (likely inspected before), three new ones: open, closed
    // in March 2026, and one that closed before it opened (never operated: not in the rollup).
    let listed = s.get_ok("/api/v1/establishments?type=karaoke&limit=50", &inspector);
    let mut ests: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ests.len(), 2, "{listed}");
    let mut create = |name: &str, opened: &str, closed: Option<&str>| {
        let mut body = establishment(name, &commune, "karaoke");
        body["opened_on"] = json!(opened);
        if let Some(c) = closed {
            body["status"] = json!("closed");
            body["closed_on"] = json!(c);
        }
        let e = s
            .post_json("/api/v1/establishments", staff.token(), &body)
            .expect(201)
            .json();
        ests.push(e["id"].as_str().unwrap().to_string());
    };
    create("Karaoke Phú Xuân", "2020-01-01", None);
    create("Karaoke Kim Long", "2020-01-01", Some("2026-03-01"));
    create("Karaoke Vỹ Dạ", "2024-05-01", Some("2024-05-01"));

    let templates = s.get_ok("/api/v1/checklist-templates?type=karaoke", &inspector);
    let t = &templates["items"][0];
    // (establishment index, days before today, outcome): out of order per establishment, across
    // the starts of the programme period and the calendar years the rollup keeps.
    let plan: [(usize, i64, &str); 16] = [
        (0, 30, "no_violation"),
        (0, 400, "violations_found"),
        (0, 3, "refused"),
        (1, 200, "not_operating"),
        (1, 200, "no_violation"),
        (1, 500, "no_violation"),
        (2, 300, "violations_found"),
        (2, 10, "not_operating"),
        (2, 10, "no_violation"),
        (2, 350, "no_violation"),
        (2, 1, "violations_found"),
        (3, 290, "no_violation"),
        (3, 600, "violations_found"),
        (3, 5, "no_violation"),
        (4, 100, "no_violation"),
        (4, 700, "violations_found"),
    ];
    let now = Utc::now();
    let mut first_visit: Vec<Option<String>> = vec![None; ests.len()];
    for (i, (e, days, outcome)) in plan.iter().enumerate() {
        let started = now - Duration::days(*days) - Duration::minutes(90 + i as i64);
        let mut visit = json!({
            "establishment_id": ests[*e],
            "team_id": team,
            "members_present": [me["id"]],
            "started_at": started.to_rfc3339(),
            "ended_at": (started + Duration::minutes(45)).to_rfc3339(),
            "template_id": t["id"],
            "template_version": t["version"],
            "outcome": outcome
        });
        if *outcome == "violations_found" {
            visit["minutes_no"] = json!(format!("{i}/BB-KTLN"));
            visit["violations"] = json!([{
                "code": "ND282_D23_K2_A",
                "description": "Không có nội quy",
                "legal_basis": "Điểm a khoản 2 Điều 23 Nghị định 282/2025/NĐ-CP",
                "proposed_fine_vnd": 1_000_000 + i as i64
            }]);
        }
        let id = uuid::Uuid::new_v4().to_string();
        s.put_json(&format!("/api/v1/visits/{id}"), inspector.token(), &visit)
            .expect(201);
        first_visit[*e].get_or_insert(id);
    }

    let tables = [
        "inspection_days",
        "establishment_visit_summary",
        "coverage_rollup",
    ];
    let incremental: Vec<Vec<String>> = tables.iter().map(|t| snapshot(&s, t)).collect();
    for id in &ests {
        assert!(
            incremental[0].iter().any(|l| l.starts_with(id.as_str())),
            "no counted day for {id}"
        );
    }
    // Recompute each establishment's rows: accepting a visit does not change what counts.
    for id in first_visit.iter().flatten() {
        s.post_json(
            &format!("/api/v1/visits/{id}/review"),
            leader.token(),
            &json!({"decision": "accepted"}),
        )
        .expect(200);
    }
    for (table, before) in tables.iter().zip(&incremental) {
        assert_eq!(&snapshot(&s, table), before, "{table} after recomputation");
    }
    // Rebuild the whole rollup: save the current programme unchanged.
    let programmes = s.get_ok("/api/v1/programmes", &admin);
    let p = programmes
        .get("items")
        .unwrap_or(&programmes)
        .as_array()
        .unwrap()[0]
        .clone();
    let bp = |share: &Value| (share.as_f64().unwrap() * 10_000.0).round() as u32;
    let body = json!({
        "name": p["name"],
        "period_start": p["period_start"],
        "period_end": p["period_end"],
        "annual_min_share_bp": bp(&p["annual_min_share"]),
        "end_share_bp": bp(&p["end_share"]),
        "types_in_scope": p["types_in_scope"],
    });
    s.put_json(
        &format!("/api/v1/programmes/{}", p["id"].as_str().unwrap()),
        admin.token(),
        &body,
    )
    .expect(200);
    assert_eq!(
        snapshot(&s, "coverage_rollup"),
        incremental[2],
        "coverage_rollup after a full rebuild"
    );
}
