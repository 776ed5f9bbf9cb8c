//! Coverage toward the programme target (`GET /api/v1/coverage`), checked against an independent
//! brute-force count over the raw rows (establishments, visits, programmes) read straight from
//! the test server's database; then kept up to date by visit writes and reviews, scoped by
//! jurisdiction, and driven by programmes that administrators edit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use doi178_tests::{Session, TestServer, HUE, QUANG_TRI};
use serde_json::{json, Value};

mod raw {
    diesel::table! {
        establishments (id) {
            id -> Text,
            establishment_type -> Text,
            unit_id -> Text,
            opened_on -> Nullable<Date>,
            closed_on -> Nullable<Date>,
        }
    }
    diesel::table! {
        visits (id) {
            id -> Text,
            establishment_id -> Text,
            started_at -> Timestamp,
            outcome -> Text,
            review_status -> Text,
        }
    }
    diesel::table! {
        admin_units (id) {
            id -> Text,
            parent_id -> Nullable<Text>,
        }
    }
    diesel::table! {
        programmes (id) {
            id -> Text,
            period_start -> Date,
            period_end -> Date,
            annual_min_share_bp -> Integer,
            end_share_bp -> Integer,
            types_in_scope -> Text,
            counted_outcomes -> Text,
        }
    }
}

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

struct Est {
    id: String,
    kind: String,
    commune: String,
    opened_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
}

struct Prog {
    id: String,
    start: NaiveDate,
    end: NaiveDate,
    annual_bp: u64,
    end_bp: u64,
    types: BTreeSet<String>,
    counted: BTreeSet<String>,
}

/// Everything the brute-force count needs, read from the database (never `inspection_days`).
struct Snapshot {
    ests: Vec<Est>,
    /// establishment id → (Vietnamese day, outcome, review status) of each visit.
    visits: BTreeMap<String, Vec<(NaiveDate, String, String)>>,
    parent: BTreeMap<String, Option<String>>,
    programmes: Vec<Prog>,
}

fn snapshot(s: &TestServer) -> Snapshot {
    let mut c = open_raw(s.database_url());
    let ests = raw::establishments::table
        .select((
            raw::establishments::id,
            raw::establishments::establishment_type,
            raw::establishments::unit_id,
            raw::establishments::opened_on,
            raw::establishments::closed_on,
        ))
        .load::<(String, String, String, Option<NaiveDate>, Option<NaiveDate>)>(&mut c)
        .unwrap()
        .into_iter()
        .map(|(id, kind, commune, opened_on, closed_on)| Est {
            id,
            kind,
            commune,
            opened_on,
            closed_on,
        })
        .collect();
    let mut visits: BTreeMap<String, Vec<(NaiveDate, String, String)>> = BTreeMap::new();
    for (est, started, outcome, review) in raw::visits::table
        .select((
            raw::visits::establishment_id,
            raw::visits::started_at,
            raw::visits::outcome,
            raw::visits::review_status,
        ))
        .load::<(String, NaiveDateTime, String, String)>(&mut c)
        .unwrap()
    {
        // The Vietnamese calendar day: UTC+7, no daylight saving.
        let day = (started + Duration::hours(7)).date();
        visits.entry(est).or_default().push((day, outcome, review));
    }
    let parent = raw::admin_units::table
        .select((raw::admin_units::id, raw::admin_units::parent_id))
        .load::<(String, Option<String>)>(&mut c)
        .unwrap()
        .into_iter()
        .collect();
    let programmes = raw::programmes::table
        .select((
            raw::programmes::id,
            raw::programmes::period_start,
            raw::programmes::period_end,
            raw::programmes::annual_min_share_bp,
            raw::programmes::end_share_bp,
            raw::programmes::types_in_scope,
            raw::programmes::counted_outcomes,
        ))
        .load::<(String, NaiveDate, NaiveDate, i32, i32, String, String)>(&mut c)
        .unwrap()
        .into_iter()
        .map(|(id, start, end, a, e, types, counted)| {
            let counted: BTreeSet<String> = serde_json::from_str(&counted).unwrap();
            Prog {
                id,
                start,
                end,
                annual_bp: a as u64,
                end_bp: e as u64,
                types: serde_json::from_str(&types).unwrap(),
                counted: if counted.is_empty() {
                    ["no_violation", "violations_found"]
                        .map(String::from)
                        .into()
                } else {
                    counted
                },
            }
        })
        .collect();
    Snapshot {
        ests,
        visits,
        parent,
        programmes,
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Count {
    in_scope: u64,
    inspected: u64,
}

/// Operating on at least one day of `from..=to`: from `opened_on` (included) to `closed_on`
/// (excluded, the first day without trading); unknown ends are open.
fn operating_between(e: &Est, from: NaiveDate, to: NaiveDate) -> bool {
    if let (Some(o), Some(c)) = (e.opened_on, e.closed_on) {
        if c <= o {
            return false;
        }
    }
    e.opened_on.is_none_or(|o| o <= to) && e.closed_on.is_none_or(|c| c > from)
}

/// Brute force, per commune of `unit`'s children: (annual, cumulative) counts.
fn brute_force<'a>(
    snap: &'a Snapshot,
    unit: &str,
    year: i32,
    as_of: NaiveDate,
    kind: Option<&str>,
) -> (&'a Prog, BTreeMap<String, (Count, Count)>) {
    let mut covering: Vec<&Prog> = snap
        .programmes
        .iter()
        .filter(|p| p.start.year() <= year && year <= p.end.year())
        .collect();
    covering.sort_by_key(|p| (p.start <= as_of && as_of <= p.end, p.start));
    let prog = *covering.last().expect("a programme covers the year");
    let annual_from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap().max(prog.start);
    let annual_to = NaiveDate::from_ymd_opt(year, 12, 31)
        .unwrap()
        .min(as_of)
        .min(prog.end);
    let cum_from = prog.start;
    let cum_to = as_of.min(prog.end);
    let inspected_in = |e: &Est, from: NaiveDate, to: NaiveDate| {
        snap.visits.get(&e.id).is_some_and(|vs| {
            vs.iter().any(|(day, outcome, review)| {
                review != "rejected" && prog.counted.contains(outcome) && (from..=to).contains(day)
            })
        })
    };
    let mut out: BTreeMap<String, (Count, Count)> = BTreeMap::new();
    for e in &snap.ests {
        if snap.parent.get(&e.commune).cloned().flatten().as_deref() != Some(unit) {
            continue;
        }
        if !prog.types.contains(&e.kind) || kind.is_some_and(|k| k != e.kind) {
            continue;
        }
        let row = out.entry(e.commune.clone()).or_default();
        if operating_between(e, annual_from, annual_to) {
            row.0.in_scope += 1;
            row.0.inspected += u64::from(inspected_in(e, annual_from, annual_to));
        }
        if operating_between(e, cum_to, cum_to) {
            row.1.in_scope += 1;
            row.1.inspected += u64::from(inspected_in(e, cum_from, cum_to));
        }
    }
    (prog, out)
}

fn needed(c: Count, bp: u64) -> u64 {
    (c.in_scope * bp)
        .div_ceil(10_000)
        .saturating_sub(c.inspected)
}

fn check_measure(what: &str, got: &Value, want: Count, bp: u64) {
    assert_eq!(got["in_scope"], want.in_scope, "{what}: in_scope: {got}");
    assert_eq!(got["inspected"], want.inspected, "{what}: inspected: {got}");
    assert_eq!(got["needed"], needed(want, bp), "{what}: needed: {got}");
    if want.in_scope == 0 {
        assert!(got["share"].is_null(), "{what}: share: {got}");
    } else {
        let share = want.inspected as f64 / want.in_scope as f64;
        assert!(
            (got["share"].as_f64().unwrap() - share).abs() < 1e-9,
            "{what}: share: {got}"
        );
    }
    let status = got["projection"]["status"].as_str().unwrap();
    assert!(
        ["met", "on_pace", "not_in_time", "no_activity"].contains(&status),
        "{what}: projection: {got}"
    );
    assert_eq!(
        status == "met",
        needed(want, bp) == 0,
        "{what}: projection: {got}"
    );
}

/// Compares every child row and the total of an answer with the brute-force count.
fn check_against_brute_force(s: &TestServer, answer: &Value, kind: Option<&str>) -> (u64, u64) {
    let snap = snapshot(s);
    let unit = answer["unit"].as_str().unwrap();
    let year = answer["year"].as_i64().unwrap() as i32;
    let as_of: NaiveDate = answer["as_of"].as_str().unwrap().parse().unwrap();
    let (prog, want) = brute_force(&snap, unit, year, as_of, kind);
    assert_eq!(answer["programme"]["id"], prog.id.as_str());
    let children = answer["children"].as_array().unwrap();
    let child_ids: BTreeSet<String> = children
        .iter()
        .map(|c| c["unit_id"].as_str().unwrap().to_string())
        .collect();
    let expected_ids: BTreeSet<String> = snap
        .parent
        .iter()
        .filter(|(_, p)| p.as_deref() == Some(unit))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(child_ids, expected_ids, "children of {unit}");
    let mut total = (Count::default(), Count::default());
    for child in children {
        let id = child["unit_id"].as_str().unwrap();
        let (a, cu) = want.get(id).copied().unwrap_or_default();
        check_measure(
            &format!("{year} {id} annual"),
            &child["annual"],
            a,
            prog.annual_bp,
        );
        check_measure(
            &format!("{year} {id} cumulative"),
            &child["cumulative"],
            cu,
            prog.end_bp,
        );
        total.0.in_scope += a.in_scope;
        total.0.inspected += a.inspected;
        total.1.in_scope += cu.in_scope;
        total.1.inspected += cu.inspected;
    }
    check_measure(
        &format!("{year} total annual"),
        &answer["total"]["annual"],
        total.0,
        prog.annual_bp,
    );
    check_measure(
        &format!("{year} total cumulative"),
        &answer["total"]["cumulative"],
        total.1,
        prog.end_bp,
    );
    (total.0.in_scope, total.0.inspected)
}

fn coverage(s: &TestServer, who: &Session, query: &str) -> Value {
    s.get_ok(&format!("/api/v1/coverage?{query}"), who)
}

fn child<'a>(answer: &'a Value, id: &str) -> &'a Value {
    answer["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unit_id"] == id)
        .unwrap_or_else(|| panic!("no child {id} in {answer}"))
}

#[test]
fn coverage_of_hue_matches_a_brute_force_count_of_the_raw_rows() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let today = coverage(&s, &hue, &format!("unit={HUE}"))["as_of"].clone();
    for (year, as_of) in [
        (2025, None),
        (2025, Some("2025-06-30")),
        (2026, None),
        (2026, Some("2026-03-31")),
    ] {
        let mut q = format!("unit={HUE}&year={year}");
        if let Some(d) = as_of {
            q.push_str(&format!("&as_of={d}"));
        }
        let answer = coverage(&s, &hue, &q);
        assert_eq!(answer["unit"], HUE);
        assert_eq!(answer["year"], year);
        assert_eq!(
            answer["as_of"],
            as_of.map(Value::from).unwrap_or(today.clone())
        );
        let (in_scope, inspected) = check_against_brute_force(&s, &answer, None);
        if as_of.is_none() {
            assert!(
                in_scope > 0 && inspected > 0,
                "the demo data should give {year} something to count: {answer}"
            );
        }
    }
    // One type only.
    let karaoke = coverage(&s, &hue, &format!("unit={HUE}&year=2026&type=karaoke"));
    check_against_brute_force(&s, &karaoke, Some("karaoke"));
    // A commune has no children; its total is its row in the province.
    let province = coverage(&s, &hue, &format!("unit={HUE}&year=2026"));
    let first = province["children"][0].clone();
    let commune_id = first["unit_id"].as_str().unwrap();
    let commune = coverage(&s, &hue, &format!("unit={commune_id}&year=2026"));
    assert_eq!(commune["children"], json!([]));
    assert_eq!(commune["total"]["annual"], first["annual"]);
    assert_eq!(commune["total"]["cumulative"], first["cumulative"]);
}

#[test]
fn visits_and_reviews_move_the_count_and_jurisdiction_and_params_are_checked() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let inspector = s.login("kiemtra.hue");
    let leader = s.login("doitruong.hue");
    let me = s.get_ok("/api/v1/me", &inspector);
    let inspector_id = me["id"].as_str().unwrap().to_string();
    let team_id = me["teams"][0]["team_id"].as_str().unwrap().to_string();

    // A never-inspected, operating establishment in scope that the inspector's team may visit.
    let snap = snapshot(&s);
    let before = coverage(&s, &hue, &format!("unit={HUE}&year=2026"));
    let as_of: NaiveDate = before["as_of"].as_str().unwrap().parse().unwrap();
    let (prog, _) = brute_force(&snap, HUE, 2026, as_of, None);
    let (est, template) = snap
        .ests
        .iter()
        .filter(|e| {
            snap.parent.get(&e.commune).cloned().flatten().as_deref() == Some(HUE)
                && prog.types.contains(&e.kind)
                && operating_between(e, as_of, as_of)
                && operating_between(e, as_of - Duration::days(1), as_of - Duration::days(1))
                && !snap.visits.contains_key(&e.id)
        })
        .find_map(|e| {
            if s.get(
                &format!("/api/v1/establishments/{}", e.id),
                inspector.token(),
            )
            .status
                != 200
            {
                return None;
            }
            let t = s.get_ok(
                &format!("/api/v1/checklist-templates?type={}", e.kind),
                &inspector,
            );
            t["items"]
                .as_array()
                .unwrap()
                .first()
                .cloned()
                .map(|t| (e, t))
        })
        .expect("a never-inspected establishment the inspector may visit");
    let commune = est.commune.clone();
    let counts = |v: &Value| {
        let c = child(v, &commune);
        (
            c["annual"]["inspected"].as_u64().unwrap(),
            c["cumulative"]["inspected"].as_u64().unwrap(),
            v["total"]["annual"]["inspected"].as_u64().unwrap(),
        )
    };
    let (annual0, cumulative0, total0) = counts(&before);

    let now = Utc::now();
    let visit_id = uuid::Uuid::new_v4();
    let visit = json!({
        "establishment_id": est.id,
        "team_id": team_id,
        "assignment_id": null,
        "members_present": [inspector_id],
        "started_at": (now - Duration::hours(3)).to_rfc3339(),
        "ended_at": (now - Duration::hours(2)).to_rfc3339(),
        "gps": null,
        "template_id": template["id"],
        "template_version": template["version"],
        "answers": [],
        "outcome": "no_violation",
        "violations": [],
        "minutes_no": null,
        "follow_up_on": null,
        "photo_ids": [],
        "notes": null
    });
    s.put_json(
        &format!("/api/v1/visits/{visit_id}"),
        inspector.token(),
        &visit,
    )
    .expect(201);
    let after = coverage(&s, &hue, &format!("unit={HUE}&year=2026"));
    assert_eq!(
        counts(&after),
        (annual0 + 1, cumulative0 + 1, total0 + 1),
        "a counted visit adds its establishment"
    );
    check_against_brute_force(&s, &after, None);

    // A second visit on the same establishment does not count it twice.
    let mut again = visit.clone();
    again["outcome"] = json!("not_operating");
    s.put_json(
        &format!("/api/v1/visits/{}", uuid::Uuid::new_v4()),
        inspector.token(),
        &again,
    )
    .expect(201);
    assert_eq!(
        counts(&coverage(&s, &hue, &format!("unit={HUE}&year=2026"))),
        (annual0 + 1, cumulative0 + 1, total0 + 1)
    );

    // The leader rejects the counted visit: the establishment drops out again.
    s.post_json(
        &format!("/api/v1/visits/{visit_id}/review"),
        leader.token(),
        &json!({"decision": "rejected", "comment": "Biên bản không hợp lệ"}),
    )
    .expect(200);
    let rejected = coverage(&s, &hue, &format!("unit={HUE}&year=2026"));
    assert_eq!(counts(&rejected), (annual0, cumulative0, total0));
    check_against_brute_force(&s, &rejected, None);

    // Outside the jurisdiction: not found, never forbidden.
    s.get(
        &format!("/api/v1/coverage?unit={QUANG_TRI}&year=2026"),
        hue.token(),
    )
    .problem(404, Some("not_found"));
    s.get("/api/v1/coverage?unit=VN&year=2026", hue.token())
        .problem(404, Some("not_found"));
    s.get(&format!("/api/v1/coverage?unit={HUE}&year=2026"), None)
        .expect(401);

    // Bad parameters name the field.
    for (query, field) in [
        ("year=2026".to_string(), "unit"),
        (format!("unit={HUE}&year=1999"), "year"),
        (format!("unit={HUE}&year=20x6"), "year"),
        (format!("unit={HUE}&year=2090"), "year"),
        (format!("unit={HUE}&year=2026&as_of=2025-12-31"), "as_of"),
        (format!("unit={HUE}&year=2026&as_of=31/12/2026"), "as_of"),
        (format!("unit={HUE}&year=2026&type=casino"), "type"),
        (format!("unit={HUE}&year=2026&type=other"), "type"),
    ] {
        s.get(&format!("/api/v1/coverage?{query}"), hue.token())
            .client_error_on(field);
    }
}

#[test]
fn administrators_edit_programmes_and_the_targets_follow() {
    let s = TestServer::start();
    let admin = s.login("admin");
    let hue = s.login("tinh.hue");
    let list = s.get_ok("/api/v1/programmes", &hue);
    let current = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period_start"] == "2026-01-01")
        .expect("the 2026–2035 programme")
        .clone();
    let id = current["id"].as_str().unwrap().to_string();
    assert_eq!(
        current["counted_outcomes"],
        json!(["no_violation", "violations_found"])
    );
    let before = coverage(&s, &hue, &format!("unit={HUE}&year=2026"));
    assert_eq!(before["programme"]["id"], id.as_str());
    assert_eq!(before["programme"]["annual_min_share"], 0.2);

    // The whole country (administrators): one row per province, Huế's equal to Huế's own total.
    let national = coverage(&s, &admin, "unit=VN&year=2026");
    let provinces = national["children"].as_array().unwrap();
    assert_eq!(provinces.len(), 34);
    assert_eq!(child(&national, HUE)["annual"], before["total"]["annual"]);
    assert_eq!(
        child(&national, HUE)["cumulative"],
        before["total"]["cumulative"]
    );
    for key in ["annual", "cumulative"] {
        for n in ["in_scope", "inspected"] {
            let sum: u64 = provinces.iter().map(|p| p[key][n].as_u64().unwrap()).sum();
            assert_eq!(national["total"][key][n], sum, "national {key} {n}");
        }
    }

    let input = json!({
        "name": current["name"],
        "period_start": "2026-01-01",
        "period_end": "2035-12-31",
        "annual_min_share_bp": 3000,
        "end_share_bp": 10000,
        "types_in_scope": current["types_in_scope"],
    });
    // Only administrators configure programmes.
    s.put_json(&format!("/api/v1/programmes/{id}"), hue.token(), &input)
        .problem(403, Some("forbidden"));
    s.post_json("/api/v1/programmes", hue.token(), &input)
        .problem(403, Some("forbidden"));
    // Validated like any input.
    let mut bad = input.clone();
    bad["annual_min_share_bp"] = json!(12000);
    s.put_json(&format!("/api/v1/programmes/{id}"), admin.token(), &bad)
        .client_error_on("annual_min_share_bp");
    let mut bad = input.clone();
    bad["period_end"] = json!("2025-12-31");
    s.put_json(&format!("/api/v1/programmes/{id}"), admin.token(), &bad)
        .client_error_on("period_end");
    s.put_json(
        &format!("/api/v1/programmes/{}", uuid::Uuid::new_v4()),
        admin.token(),
        &input,
    )
    .problem(404, Some("not_found"));

    let edited = s
        .put_json(&format!("/api/v1/programmes/{id}"), admin.token(), &input)
        .ok_json();
    assert_eq!(edited["annual_min_share"], 0.3);
    let listed = s.get_ok("/api/v1/programmes", &hue);
    let listed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["annual_min_share"], 0.3);
    assert_eq!(listed["counted_outcomes"], current["counted_outcomes"]);

    let after = coverage(&s, &hue, &format!("unit={HUE}&year=2026"));
    assert_eq!(after["programme"]["annual_min_share"], 0.3);
    let t = &after["total"]["annual"];
    let (in_scope, inspected) = (
        t["in_scope"].as_u64().unwrap(),
        t["inspected"].as_u64().unwrap(),
    );
    assert_eq!(
        before["total"]["annual"]["in_scope"].as_u64().unwrap(),
        in_scope
    );
    assert_eq!(
        t["needed"].as_u64().unwrap(),
        (in_scope * 3000).div_ceil(10_000).saturating_sub(inspected)
    );
    check_against_brute_force(&s, &after, None);

    // A new programme (the next period) shows up in the list.
    let mut next = input.clone();
    next["name"] = json!("Chương trình giai đoạn 2036–2040");
    next["period_start"] = json!("2036-01-01");
    next["period_end"] = json!("2040-12-31");
    let created = s.post_json("/api/v1/programmes", admin.token(), &next);
    let created = created.expect(201).json();
    assert_eq!(created["counted_outcomes"], current["counted_outcomes"]);
    let ids = doi178_tests::ids(
        s.get_ok("/api/v1/programmes", &hue)["items"]
            .as_array()
            .unwrap(),
        "id",
    );
    assert!(ids.contains(&created["id"].as_str().unwrap().to_string()));
}
