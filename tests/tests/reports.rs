//! Reports toward the programme (`/api/v1/coverage/series`, `/never-inspected`, `/follow-ups`,
//! `/summary`), each checked against an independent brute-force count over the raw rows read
//! straight from the test server's database (never `inspection_days`); then scoping, parameter
//! errors, and per-province target overrides.
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
            name -> Text,
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
            follow_up_on -> Nullable<Date>,
            violation_count -> Integer,
        }
    }
    diesel::table! {
        visit_violations (visit_id, idx) {
            visit_id -> Text,
            idx -> Integer,
            code -> Text,
            proposed_fine_vnd -> BigInt,
        }
    }
    diesel::table! {
        tips (id) {
            id -> Text,
            unit_id -> Text,
            received_at -> Timestamp,
            deadline -> Date,
            status -> Text,
            handled_at -> Nullable<Timestamp>,
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
            province_overrides -> Text,
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

struct Visit {
    id: String,
    est: String,
    started_at: NaiveDateTime,
    day: NaiveDate,
    outcome: String,
    review: String,
    follow_up_on: Option<NaiveDate>,
}

struct Tip {
    unit: String,
    received_day: NaiveDate,
    deadline: NaiveDate,
    status: String,
    handled_day: Option<NaiveDate>,
}

struct Prog {
    id: String,
    start: NaiveDate,
    end: NaiveDate,
    annual_bp: u64,
    types: BTreeSet<String>,
    counted: BTreeSet<String>,
    overrides: Value,
}

struct Snapshot {
    ests: Vec<Est>,
    visits: Vec<Visit>,
    /// visit id → (code, proposed fine) of each violation.
    violations: BTreeMap<String, Vec<(String, i64)>>,
    tips: Vec<Tip>,
    parent: BTreeMap<String, Option<String>>,
    programmes: Vec<Prog>,
}

/// The Vietnamese calendar day: UTC+7, no daylight saving.
fn vn_day(at: NaiveDateTime) -> NaiveDate {
    (at + Duration::hours(7)).date()
}

fn vn_today() -> NaiveDate {
    vn_day(Utc::now().naive_utc())
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
    let visits = raw::visits::table
        .select((
            raw::visits::id,
            raw::visits::establishment_id,
            raw::visits::started_at,
            raw::visits::outcome,
            raw::visits::review_status,
            raw::visits::follow_up_on,
        ))
        .load::<(
            String,
            String,
            NaiveDateTime,
            String,
            String,
            Option<NaiveDate>,
        )>(&mut c)
        .unwrap()
        .into_iter()
        .map(
            |(id, est, started_at, outcome, review, follow_up_on)| Visit {
                id,
                est,
                started_at,
                day: vn_day(started_at),
                outcome,
                review,
                follow_up_on,
            },
        )
        .collect();
    let mut violations: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for (visit, code, fine) in raw::visit_violations::table
        .select((
            raw::visit_violations::visit_id,
            raw::visit_violations::code,
            raw::visit_violations::proposed_fine_vnd,
        ))
        .load::<(String, String, i64)>(&mut c)
        .unwrap()
    {
        violations.entry(visit).or_default().push((code, fine));
    }
    let tips = raw::tips::table
        .select((
            raw::tips::unit_id,
            raw::tips::received_at,
            raw::tips::deadline,
            raw::tips::status,
            raw::tips::handled_at,
        ))
        .load::<(
            String,
            NaiveDateTime,
            NaiveDate,
            String,
            Option<NaiveDateTime>,
        )>(&mut c)
        .unwrap()
        .into_iter()
        .map(|(unit, received, deadline, status, handled)| Tip {
            unit,
            received_day: vn_day(received),
            deadline,
            status,
            handled_day: handled.map(vn_day),
        })
        .collect();
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
            raw::programmes::types_in_scope,
            raw::programmes::counted_outcomes,
            raw::programmes::province_overrides,
        ))
        .load::<(String, NaiveDate, NaiveDate, i32, String, String, String)>(&mut c)
        .unwrap()
        .into_iter()
        .map(|(id, start, end, a, types, counted, overrides)| {
            let counted: BTreeSet<String> = serde_json::from_str(&counted).unwrap();
            Prog {
                id,
                start,
                end,
                annual_bp: a as u64,
                types: serde_json::from_str(&types).unwrap(),
                counted: if counted.is_empty() {
                    ["no_violation", "violations_found"]
                        .map(String::from)
                        .into()
                } else {
                    counted
                },
                overrides: serde_json::from_str(&overrides).unwrap(),
            }
        })
        .collect();
    Snapshot {
        ests,
        visits,
        violations,
        tips,
        parent,
        programmes,
    }
}

impl Snapshot {
    fn in_province(&self, unit: &str, province: &str) -> bool {
        self.parent.get(unit).cloned().flatten().as_deref() == Some(province)
    }

    fn programme(&self, year: i32, as_of: NaiveDate) -> &Prog {
        let mut covering: Vec<&Prog> = self
            .programmes
            .iter()
            .filter(|p| p.start.year() <= year && year <= p.end.year())
            .collect();
        covering.sort_by_key(|p| (p.start <= as_of && as_of <= p.end, p.start));
        covering.last().expect("a programme covers the year")
    }

    fn counted_days(&self, prog: &Prog, est: &str) -> Vec<NaiveDate> {
        self.visits
            .iter()
            .filter(|v| v.est == est && v.review != "rejected" && prog.counted.contains(&v.outcome))
            .map(|v| v.day)
            .collect()
    }

    /// Not rejected, and another visit (not rejected) of the same establishment started later.
    fn followed_up(&self, v: &Visit) -> bool {
        self.visits
            .iter()
            .any(|w| w.est == v.est && w.review != "rejected" && w.started_at > v.started_at)
    }
}

fn operating_between(e: &Est, from: NaiveDate, to: NaiveDate) -> bool {
    if let (Some(o), Some(c)) = (e.opened_on, e.closed_on) {
        if c <= o {
            return false;
        }
    }
    from <= to && e.opened_on.is_none_or(|o| o <= to) && e.closed_on.is_none_or(|c| c > from)
}

fn month_end(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap()
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap()
    };
    next.pred_opt().unwrap()
}

/// Brute force of the series: per month, (in scope, inspected) of the province.
fn brute_series(
    snap: &Snapshot,
    province: &str,
    year: i32,
    as_of: NaiveDate,
    kind: Option<&str>,
) -> Vec<(u32, u64, u64)> {
    let prog = snap.programme(year, as_of);
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap().min(as_of);
    (1..=last.month())
        .map(|m| {
            let through = month_end(year, m).min(last);
            let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap().max(prog.start);
            let to = through.min(prog.end);
            let (mut in_scope, mut inspected) = (0, 0);
            for e in &snap.ests {
                if !snap.in_province(&e.commune, province)
                    || !prog.types.contains(&e.kind)
                    || kind.is_some_and(|k| k != e.kind)
                    || !operating_between(e, from, to)
                {
                    continue;
                }
                in_scope += 1;
                if snap
                    .counted_days(prog, &e.id)
                    .iter()
                    .any(|d| (from..=to).contains(d))
                {
                    inspected += 1;
                }
            }
            (m, in_scope, inspected)
        })
        .collect()
}

fn check_series(s: &TestServer, who: &Session, query: &str, kind: Option<&str>, annual_bp: u64) {
    let answer = s.get_ok(&format!("/api/v1/coverage/series?{query}"), who);
    let snap = snapshot(s);
    let unit = answer["unit"].as_str().unwrap();
    let year = answer["year"].as_i64().unwrap() as i32;
    let as_of: NaiveDate = answer["as_of"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        answer["programme"]["id"],
        snap.programme(year, as_of).id.as_str()
    );
    assert_eq!(
        answer["programme"]["annual_min_share"].as_f64().unwrap(),
        annual_bp as f64 / 10_000.0,
        "{answer}"
    );
    let want = brute_series(&snap, unit, year, as_of, kind);
    let months = answer["months"].as_array().unwrap();
    assert_eq!(months.len(), want.len(), "{query}: months: {answer}");
    for (got, (m, in_scope, inspected)) in months.iter().zip(want) {
        assert_eq!(got["month"], m, "{query}: {got}");
        assert_eq!(got["in_scope"], in_scope, "{query}: month {m}: {got}");
        assert_eq!(got["inspected"], inspected, "{query}: month {m}: {got}");
        let line = annual_bp as f64 / 10_000.0 * in_scope as f64 * f64::from(m) / 12.0;
        assert!(
            (got["target"].as_f64().unwrap() - line).abs() < 1e-6,
            "{query}: month {m} target {line}: {got}"
        );
        assert_eq!(got["on_track"], inspected as f64 >= line, "{query}: {got}");
    }
}

#[test]
fn reports_match_a_brute_force_count_of_the_raw_rows() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let today = vn_today();

    // --- Monthly series: each month equals the brute force, and the /coverage answer at its end.
    check_series(&s, &hue, &format!("unit={HUE}&year=2026"), None, 2000);
    check_series(
        &s,
        &hue,
        &format!("unit={HUE}&year=2026&type=karaoke"),
        Some("karaoke"),
        2000,
    );
    let march = s.get_ok(
        &format!("/api/v1/coverage/series?unit={HUE}&year=2026&as_of=2026-03-15"),
        &hue,
    );
    assert_eq!(march["months"].as_array().unwrap().len(), 3);
    assert_eq!(march["months"][2]["through"], "2026-03-15");
    let cov = s.get_ok(
        &format!("/api/v1/coverage?unit={HUE}&year=2026&as_of=2026-03-15"),
        &hue,
    );
    assert_eq!(
        march["months"][2]["in_scope"],
        cov["total"]["annual"]["in_scope"]
    );
    assert_eq!(
        march["months"][2]["inspected"],
        cov["total"]["annual"]["inspected"]
    );
    let snap = snapshot(&s);
    let prog_2025 = snap.programme(2025, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
    check_series(
        &s,
        &hue,
        &format!("unit={HUE}&year=2025&as_of=2025-12-31"),
        None,
        prog_2025.annual_bp,
    );
    let series = s.get_ok(
        &format!("/api/v1/coverage/series?unit={HUE}&year=2026"),
        &hue,
    );
    assert!(
        series["months"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["inspected"].as_u64().unwrap() > 0),
        "the demo data should give the series something to count: {series}"
    );

    // --- Never inspected: every page walked, no duplicates, equal to the brute force.
    let prog = snap.programme(today.year(), today);
    let mut want: BTreeMap<String, Option<NaiveDate>> = BTreeMap::new();
    for e in &snap.ests {
        if !snap.in_province(&e.commune, HUE)
            || !prog.types.contains(&e.kind)
            || !operating_between(e, today, today)
        {
            continue;
        }
        let days = snap.counted_days(prog, &e.id);
        if days.iter().any(|d| prog.start <= *d && *d <= today) {
            continue;
        }
        want.insert(e.id.clone(), days.iter().max().copied());
    }
    assert!(
        !want.is_empty(),
        "the demo data has never-inspected establishments"
    );
    let items = s.get_all_pages(
        &format!("/api/v1/coverage/never-inspected?unit={HUE}&limit=37"),
        &hue,
    );
    let ids = doi178_tests::ids(&items, "id");
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "no establishment twice across pages"
    );
    let got: BTreeMap<String, Option<NaiveDate>> = items
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["last_inspected_on"].as_str().map(|d| d.parse().unwrap()),
            )
        })
        .collect();
    assert_eq!(got, want, "never-inspected list");
    for i in &items {
        for key in ["name", "establishment_type", "unit_id", "address"] {
            assert!(i[key].is_string(), "{key} in {i}");
        }
    }
    // It is the complement of the cumulative count of /coverage.
    let cov = s.get_ok(&format!("/api/v1/coverage?unit={HUE}"), &hue);
    let c = &cov["total"]["cumulative"];
    assert_eq!(
        items.len() as u64,
        c["in_scope"].as_u64().unwrap() - c["inspected"].as_u64().unwrap()
    );
    // One type only.
    let karaoke = s.get_all_pages(
        &format!("/api/v1/coverage/never-inspected?unit={HUE}&type=karaoke&limit=500"),
        &hue,
    );
    let want_karaoke: BTreeSet<String> = snap
        .ests
        .iter()
        .filter(|e| e.kind == "karaoke" && want.contains_key(&e.id))
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(
        doi178_tests::ids(&karaoke, "id")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        want_karaoke
    );

    // --- Follow-ups not done, as of today and as of an earlier day.
    let hue_ests: BTreeMap<&str, &Est> = snap
        .ests
        .iter()
        .filter(|e| snap.in_province(&e.commune, HUE))
        .map(|e| (e.id.as_str(), e))
        .collect();
    for as_of in [today, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()] {
        let answer = s.get_ok(
            &format!("/api/v1/coverage/follow-ups?unit={HUE}&as_of={as_of}"),
            &hue,
        );
        let want: BTreeMap<String, i64> = snap
            .visits
            .iter()
            .filter(|v| {
                hue_ests.contains_key(v.est.as_str())
                    && v.review != "rejected"
                    && v.follow_up_on.is_some_and(|f| f <= as_of)
                    && !snap.followed_up(v)
            })
            .map(|v| (v.id.clone(), (as_of - v.follow_up_on.unwrap()).num_days()))
            .collect();
        let items = answer["items"].as_array().unwrap();
        assert_eq!(answer["total"], items.len());
        let got: BTreeMap<String, i64> = items
            .iter()
            .map(|i| {
                (
                    i["visit_id"].as_str().unwrap().to_string(),
                    i["days_overdue"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got.len(), items.len(), "no visit twice");
        assert_eq!(got, want, "follow-ups as of {as_of}");
        let overdue: Vec<i64> = items
            .iter()
            .map(|i| i["days_overdue"].as_i64().unwrap())
            .collect();
        assert!(
            overdue.windows(2).all(|w| w[0] >= w[1]),
            "most overdue first: {overdue:?}"
        );
        if as_of == today {
            assert!(!want.is_empty(), "the demo data has overdue follow-ups");
        }
    }

    // --- Window totals.
    for (from, to) in [
        ("2026-01-01", "2026-06-30"),
        ("2025-07-01", "2025-12-31"),
        ("2025-01-01", "2026-12-31"),
    ] {
        let answer = s.get_ok(
            &format!("/api/v1/coverage/summary?unit={HUE}&from={from}&to={to}"),
            &hue,
        );
        let (from, to): (NaiveDate, NaiveDate) = (from.parse().unwrap(), to.parse().unwrap());
        let in_window = |d: NaiveDate| from <= d && d <= to;
        let current = snap.programme(today.year(), today);
        let visits: Vec<&Visit> = snap
            .visits
            .iter()
            .filter(|v| hue_ests.contains_key(v.est.as_str()) && v.review != "rejected")
            .collect();
        let in_win: Vec<&&Visit> = visits.iter().filter(|v| in_window(v.day)).collect();
        let counted: Vec<&&&Visit> = in_win
            .iter()
            .filter(|v| current.counted.contains(&v.outcome))
            .collect();
        let counted_ests: BTreeSet<&str> = counted.iter().map(|v| v.est.as_str()).collect();
        let mut by_code: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for v in &in_win {
            for (code, fine) in snap.violations.get(&v.id).into_iter().flatten() {
                let e = by_code.entry(code.clone()).or_default();
                e.0 += 1;
                e.1 += fine;
            }
        }
        let with_violations = in_win
            .iter()
            .filter(|v| snap.violations.contains_key(&v.id))
            .count();
        let what = format!("summary {from}..{to}: {answer}");
        assert_eq!(answer["visits"]["visits"], in_win.len(), "{what}");
        assert_eq!(
            answer["visits"]["counted_inspections"],
            counted.len(),
            "{what}"
        );
        assert_eq!(
            answer["visits"]["establishments_inspected"],
            counted_ests.len(),
            "{what}"
        );
        assert_eq!(
            answer["visits"]["with_violations"], with_violations,
            "{what}"
        );
        let got: BTreeMap<String, (i64, i64)> = answer["violations"]["by_code"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["code"].as_str().unwrap().to_string(),
                    (
                        c["count"].as_i64().unwrap(),
                        c["proposed_fines_vnd"].as_i64().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(got, by_code, "{what}");
        assert_eq!(
            answer["violations"]["count"],
            by_code.values().map(|v| v.0).sum::<i64>()
        );
        assert_eq!(
            answer["violations"]["proposed_fines_vnd"],
            by_code.values().map(|v| v.1).sum::<i64>()
        );
        let due: Vec<&&Visit> = visits
            .iter()
            .filter(|v| v.follow_up_on.is_some_and(in_window))
            .collect();
        let done = due.iter().filter(|v| snap.followed_up(v)).count();
        assert_eq!(answer["follow_ups"]["due"], due.len(), "{what}");
        assert_eq!(answer["follow_ups"]["done"], done, "{what}");
        assert_eq!(answer["follow_ups"]["not_done"], due.len() - done, "{what}");

        let tips: Vec<&Tip> = snap
            .tips
            .iter()
            .filter(|t| {
                (t.unit == HUE || snap.in_province(&t.unit, HUE)) && in_window(t.received_day)
            })
            .collect();
        let handled: Vec<&&Tip> = tips.iter().filter(|t| t.status == "handled").collect();
        let on_time = handled
            .iter()
            .filter(|t| t.handled_day.is_some_and(|d| d <= t.deadline))
            .count();
        let overdue = tips
            .iter()
            .filter(|t| t.status != "handled" && t.deadline < today)
            .count();
        let pending = tips.len() - handled.len() - overdue;
        let t = &answer["tips"];
        assert_eq!(t["received"], tips.len(), "{what}");
        assert_eq!(t["handled"], handled.len(), "{what}");
        assert_eq!(t["handled_on_time"], on_time, "{what}");
        assert_eq!(t["handled_late"], handled.len() - on_time, "{what}");
        assert_eq!(t["overdue"], overdue, "{what}");
        assert_eq!(t["pending"], pending, "{what}");
        assert_eq!(t["target_share"], 1.0);
        let decided = tips.len() - pending;
        if decided == 0 {
            assert!(t["on_time_share"].is_null(), "{what}");
        } else {
            let share = on_time as f64 / decided as f64;
            assert!((t["on_time_share"].as_f64().unwrap() - share).abs() < 1e-9);
        }
        assert_eq!(t["meets_target"], on_time == decided, "{what}");
        if from.year() == 2025 && to.year() == 2026 {
            assert!(
                !by_code.is_empty() && !tips.is_empty() && !in_win.is_empty(),
                "the demo data gives the report something to count: {what}"
            );
        }
    }
}

#[test]
fn reports_are_scoped_and_parameters_are_checked() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let quang_tri = s.login("tinh.quangtri");
    let admin = s.login("admin");
    let endpoints = [
        "series?year=2026&",
        "never-inspected?",
        "follow-ups?",
        "summary?from=2026-01-01&to=2026-06-30&",
    ];
    for e in endpoints {
        // Outside the jurisdiction: not found, never forbidden.
        s.get(
            &format!("/api/v1/coverage/{e}unit={HUE}"),
            quang_tri.token(),
        )
        .problem(404, Some("not_found"));
        s.get(&format!("/api/v1/coverage/{e}unit=VN"), hue.token())
            .problem(404, Some("not_found"));
        s.get(&format!("/api/v1/coverage/{e}unit={HUE}"), None)
            .expect(401);
        // Inside it, and the whole country for administrators.
        s.get_ok(&format!("/api/v1/coverage/{e}unit={QUANG_TRI}"), &quang_tri);
        s.get_ok(&format!("/api/v1/coverage/{e}unit=VN"), &admin);
        // No unit.
        s.get(&format!("/api/v1/coverage/{e}"), hue.token())
            .client_error_on("unit");
        // Unknown parameters are named.
        s.get(
            &format!("/api/v1/coverage/{e}unit={HUE}&colour=red"),
            hue.token(),
        )
        .client_error_on("colour");
    }
    // A commune's numbers are part of its province's.
    let province = s.get_ok(&format!("/api/v1/coverage?unit={HUE}&year=2026"), &hue);
    let commune = province["children"][0]["unit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let series = s.get_ok(
        &format!("/api/v1/coverage/series?unit={commune}&year=2026"),
        &hue,
    );
    let months = series["months"].as_array().unwrap();
    assert_eq!(
        months.last().unwrap()["inspected"],
        province["children"][0]["annual"]["inspected"]
    );
    for i in s.get_all_pages(
        &format!("/api/v1/coverage/never-inspected?unit={commune}&limit=500"),
        &hue,
    ) {
        assert_eq!(i["unit_id"], commune.as_str());
    }

    for (query, field) in [
        ("series?year=20x6", "year"),
        ("series?year=1999", "year"),
        ("series?year=2090", "year"),
        ("series?year=2026&as_of=2025-12-31", "as_of"),
        ("series?year=2026&as_of=31/12/2026", "as_of"),
        ("series?year=2026&type=casino", "type"),
        ("series?year=2026&type=other", "type"),
        ("never-inspected?type=casino", "type"),
        ("never-inspected?limit=0", "limit"),
        ("never-inspected?limit=many", "limit"),
        ("never-inspected?cursor=garbage", "cursor"),
        ("follow-ups?as_of=2026-02-30", "as_of"),
        ("summary?to=2026-06-30", "from"),
        ("summary?from=2026-01-01", "to"),
        ("summary?from=2026-13-01&to=2026-06-30", "from"),
        ("summary?from=2026-07-01&to=2026-06-30", "to"),
    ] {
        let (path, params) = query.split_once('?').unwrap();
        s.get(
            &format!("/api/v1/coverage/{path}?unit={HUE}&{params}"),
            hue.token(),
        )
        .client_error_on(field);
    }
}

#[test]
fn province_overrides_change_the_targets_of_that_province_only() {
    let s = TestServer::start();
    let admin = s.login("admin");
    let hue = s.login("tinh.hue");
    let quang_tri = s.login("tinh.quangtri");
    let leader = s.login("doitruong.hue");
    let current = s.get_ok("/api/v1/programmes", &hue)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period_start"] == "2026-01-01")
        .expect("the 2026–2035 programme")
        .clone();
    assert_eq!(current["province_overrides"], json!({}));
    let id = current["id"].as_str().unwrap().to_string();
    let input = json!({
        "name": current["name"],
        "period_start": "2026-01-01",
        "period_end": "2035-12-31",
        "annual_min_share_bp": 2000,
        "end_share_bp": 10000,
        "types_in_scope": current["types_in_scope"],
        "province_overrides": {HUE: {"annual_min_share_bp": 3000, "end_share_bp": 9000}},
    });
    let put = |body: &Value| s.put_json(&format!("/api/v1/programmes/{id}"), admin.token(), body);

    // Validated, naming the field.
    for (overrides, field) in [
        (
            json!({HUE: {"annual_min_share_bp": 12000}}),
            format!("province_overrides.{HUE}.annual_min_share_bp"),
        ),
        (
            json!({HUE: {"end_share_bp": 10001}}),
            format!("province_overrides.{HUE}.end_share_bp"),
        ),
        (
            json!({"2025:19753": {"end_share_bp": 5000}}),
            "province_overrides.2025:19753".to_string(),
        ),
        (
            json!({"2025:99": {"end_share_bp": 5000}}),
            "province_overrides.2025:99".to_string(),
        ),
        (
            json!({"Huế": {"end_share_bp": 5000}}),
            "province_overrides.Huế".to_string(),
        ),
        (
            json!({HUE: {}}),
            format!("province_overrides.{HUE}.annual_min_share_bp"),
        ),
    ] {
        let mut bad = input.clone();
        bad["province_overrides"] = overrides;
        put(&bad).client_error_on(&field);
    }
    let mut bad = input.clone();
    bad["province_overrides"] = json!({HUE: {"share": 1}});
    assert!((400..500).contains(&put(&bad).status));
    // Only administrators.
    s.put_json(&format!("/api/v1/programmes/{id}"), hue.token(), &input)
        .problem(403, Some("forbidden"));

    let edited = put(&input).ok_json();
    assert_eq!(
        edited["province_overrides"],
        json!({HUE: {"annual_min_share_bp": 3000, "end_share_bp": 9000}})
    );
    // Leaving the overrides out keeps them.
    let mut without = input.clone();
    without
        .as_object_mut()
        .unwrap()
        .remove("province_overrides");
    assert_eq!(
        put(&without).ok_json()["province_overrides"],
        edited["province_overrides"]
    );
    let snap = snapshot(&s);
    let stored = snap.programmes.iter().find(|p| p.id == id).unwrap();
    assert_eq!(stored.overrides[HUE]["annual_min_share_bp"], 3000);

    // Huế's target line follows its override; Quảng Trị keeps the programme's.
    check_series(&s, &hue, &format!("unit={HUE}&year=2026"), None, 3000);
    check_series(
        &s,
        &quang_tri,
        &format!("unit={QUANG_TRI}&year=2026"),
        None,
        2000,
    );
    let series = s.get_ok(
        &format!("/api/v1/coverage/series?unit={HUE}&year=2026"),
        &hue,
    );
    assert_eq!(series["programme"]["province_override"], true);
    assert_eq!(series["programme"]["end_share"], 0.9);
    // A commune of Huế too.
    let province = s.get_ok(&format!("/api/v1/coverage?unit={HUE}&year=2026"), &hue);
    let commune = province["children"][0]["unit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let series = s.get_ok(
        &format!("/api/v1/coverage/series?unit={commune}&year=2026"),
        &hue,
    );
    assert_eq!(series["programme"]["annual_min_share"], 0.3);
    // The planner shows the team's province targets.
    let team = s.hue_team_led_by(&leader);
    let plan = s.get_ok(
        &format!("/api/v1/planner?team={team}&from=2026-11-20&limit=5"),
        &leader,
    );
    assert_eq!(plan["programme"]["annual_min_share"], 0.3);
    assert_eq!(plan["programme"]["end_share"], 0.9);

    // Cleared with an empty object: back to the programme's targets.
    let mut cleared = input.clone();
    cleared["province_overrides"] = json!({});
    assert_eq!(put(&cleared).ok_json()["province_overrides"], json!({}));
    check_series(&s, &hue, &format!("unit={HUE}&year=2026"), None, 2000);

    // A new programme may carry overrides from the start.
    let mut next = input.clone();
    next["name"] = json!("Chương trình giai đoạn 2036–2040");
    next["period_start"] = json!("2036-01-01");
    next["period_end"] = json!("2040-12-31");
    let created = s.post_json("/api/v1/programmes", admin.token(), &next);
    assert_eq!(
        created.expect(201).json()["province_overrides"][HUE]["annual_min_share_bp"],
        3000
    );
}
