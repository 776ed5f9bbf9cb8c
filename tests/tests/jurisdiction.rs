//! Jurisdiction: provincial staff of Quảng Trị get nothing of Huế, and Huế nothing of Quảng Trị,
//! from any list, search or id (establishments, visits, teams, users, tips, assignments, units).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use doi178_tests::{ids, urlencode, Session, TestServer, HUE, QUANG_TRI};
use serde_json::Value;

/// What one province's staff can see.
struct Seen {
    province: &'static str,
    communes: BTreeSet<String>,
    establishments: Vec<Value>,
    visits: Vec<Value>,
    teams: Vec<Value>,
    users: Vec<Value>,
    tips: Vec<Value>,
    assignments: Vec<Value>,
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().expect("items").clone()
}

fn set(v: &[Value], key: &str) -> BTreeSet<String> {
    ids(v, key).into_iter().collect()
}

fn collect(s: &TestServer, who: &Session, province: &'static str) -> Seen {
    let unit = s.get_ok(&format!("/api/v1/units/{province}"), who);
    let communes: BTreeSet<String> = set(unit["children"].as_array().unwrap(), "id");
    assert!(!communes.is_empty(), "{province} has no communes");
    Seen {
        province,
        communes,
        establishments: s.get_all_pages("/api/v1/establishments?limit=500", who),
        visits: s.get_all_pages("/api/v1/visits?limit=500", who),
        teams: items(&s.get_ok("/api/v1/teams", who)),
        users: items(&s.get_ok("/api/v1/users", who)),
        tips: items(&s.get_ok("/api/v1/tips?limit=1000", who)),
        assignments: items(&s.get_ok("/api/v1/assignments?limit=1000", who)),
    }
}

/// `who` (staff of `mine`) must see nothing of `theirs`.
fn assert_isolated(s: &TestServer, who: &Session, mine: &Seen, theirs: &Seen) {
    let me = &who.username;
    let in_mine = |unit: &str| unit == mine.province || mine.communes.contains(unit);

    // Lists hold only their own province, and nothing the other province's staff sees.
    for e in &mine.establishments {
        assert!(
            in_mine(e["unit_id"].as_str().unwrap()),
            "{me} lists an establishment outside {}: {e}",
            mine.province
        );
    }
    for t in &mine.teams {
        assert!(
            in_mine(t["unit_id"].as_str().unwrap()),
            "{me} lists a team outside {}: {t}",
            mine.province
        );
    }
    for u in &mine.users {
        let unit = u["unit_id"].as_str();
        assert!(
            unit.is_some_and(in_mine),
            "{me} lists a user outside {}: {u}",
            mine.province
        );
    }
    for t in &mine.tips {
        assert!(
            in_mine(t["unit_id"].as_str().unwrap()),
            "{me} lists a tip outside {}: {t}",
            mine.province
        );
    }
    let my_est = set(&mine.establishments, "id");
    for v in &mine.visits {
        assert!(
            my_est.contains(v["establishment_id"].as_str().unwrap()),
            "{me} lists a visit of an establishment it cannot see: {}",
            v["id"]
        );
    }
    let my_teams = set(&mine.teams, "id");
    for a in &mine.assignments {
        assert!(
            my_teams.contains(a["team_id"].as_str().unwrap()),
            "{me} lists an assignment of a team it cannot see: {}",
            a["id"]
        );
    }
    for (what, a, b) in [
        (
            "establishments",
            &mine.establishments,
            &theirs.establishments,
        ),
        ("visits", &mine.visits, &theirs.visits),
        ("teams", &mine.teams, &theirs.teams),
        ("users", &mine.users, &theirs.users),
        ("tips", &mine.tips, &theirs.tips),
        ("assignments", &mine.assignments, &theirs.assignments),
    ] {
        let shared: Vec<String> = set(a, "id").intersection(&set(b, "id")).cloned().collect();
        assert!(
            shared.is_empty(),
            "{me} sees {} {what} of the other province: {shared:?}",
            shared.len()
        );
    }

    // By id: every record of the other province is "not found".
    let sample = |v: &Vec<Value>| -> Vec<String> { ids(v, "id").into_iter().take(25).collect() };
    for (what, path, records) in [
        ("establishment", "establishments", &theirs.establishments),
        ("visit", "visits", &theirs.visits),
        ("team", "teams", &theirs.teams),
        ("user", "users", &theirs.users),
        ("tip", "tips", &theirs.tips),
        ("assignment", "assignments", &theirs.assignments),
    ] {
        for id in sample(records) {
            s.get(&format!("/api/v1/{path}/{id}"), who.token())
                .problem(404, None);
            let _ = what;
        }
    }
    s.get(&format!("/api/v1/units/{}", theirs.province), who.token())
        .problem(404, None);
    for commune in theirs.communes.iter().take(10) {
        s.get(
            &format!("/api/v1/units/{}", urlencode(commune)),
            who.token(),
        )
        .problem(404, None);
    }
    // Their photos: every photo listed by their visits.
    let mut photos = 0;
    for v in &theirs.visits {
        for p in v["photo_ids"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if photos >= 10 {
                break;
            }
            photos += 1;
            s.get(
                &format!("/api/v1/photos/{}", p.as_str().unwrap()),
                who.token(),
            )
            .problem(404, None);
        }
    }

    // Search and filters: the other province's names and units give nothing.
    for e in theirs.establishments.iter().take(10) {
        let name = e["name"].as_str().unwrap();
        let found = s.get_all_pages(
            &format!("/api/v1/establishments?q={}", urlencode(name)),
            who,
        );
        for f in &found {
            assert!(
                in_mine(f["unit_id"].as_str().unwrap()),
                "{me} found {f} searching {name:?}"
            );
        }
    }
    let r = s.get(
        &format!("/api/v1/establishments?unit={}", urlencode(theirs.province)),
        who.token(),
    );
    assert!(
        r.status == 404 || (r.status == 200 && r.json()["items"].as_array().unwrap().is_empty()),
        "{me}: establishments?unit={} gave {} {}",
        theirs.province,
        r.status,
        r.text()
    );
    let children = s.get(
        &format!("/api/v1/units?parent={}", urlencode(theirs.province)),
        who.token(),
    );
    assert!(
        children.status == 404
            || (children.status == 200 && children.json()["items"].as_array().unwrap().is_empty()),
        "{me}: units?parent={} gave {} {}",
        theirs.province,
        children.status,
        children.text()
    );
    for commune in theirs.communes.iter().take(5) {
        let name = s.get_ok(
            &format!("/api/v1/units/{}", urlencode(commune)),
            &s.login("admin"),
        )["name"]
            .as_str()
            .unwrap()
            .to_string();
        let found = s.get_ok(&format!("/api/v1/units?q={}", urlencode(&name)), who);
        for u in items(&found) {
            assert!(
                in_mine(u["id"].as_str().unwrap()),
                "{me} found unit {u} searching {name:?}"
            );
        }
    }
    let found = s.get_ok(
        &format!(
            "/api/v1/units?q={}",
            if theirs.province == HUE {
                "hue"
            } else {
                "quang%20tri"
            }
        ),
        who,
    );
    for u in items(&found) {
        assert!(in_mine(u["id"].as_str().unwrap()), "{me} found unit {u}");
    }
    // Team filter on lists with the other province's team.
    if let Some(team) = theirs.teams.first() {
        let team = team["id"].as_str().unwrap();
        let v = s.get(&format!("/api/v1/visits?team={team}"), who.token());
        assert!(
            v.status == 404
                || (v.status == 200 && v.json()["items"].as_array().unwrap().is_empty()),
            "{me}: visits?team= of the other province: {}",
            v.text()
        );
        let a = s.get(&format!("/api/v1/assignments?team={team}"), who.token());
        assert!(
            a.status == 404
                || (a.status == 200 && a.json()["items"].as_array().unwrap().is_empty()),
            "{me}: assignments?team= of the other province: {}",
            a.text()
        );
    }
    // Phone sync carries nothing of the other province either.
    let pulled = s.get_ok("/api/v1/sync", who);
    for e in pulled["establishments"].as_array().unwrap() {
        assert!(
            in_mine(e["unit_id"].as_str().unwrap()),
            "{me}: sync gave {e}"
        );
    }
}

#[test]
fn provinces_see_nothing_of_each_other() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let qt = s.login("tinh.quangtri");
    let seen_hue = collect(&s, &hue, HUE);
    let seen_qt = collect(&s, &qt, QUANG_TRI);

    // The demo data has records on both sides, or the checks below would prove nothing.
    for (seen, who) in [(&seen_hue, "tinh.hue"), (&seen_qt, "tinh.quangtri")] {
        assert!(
            !seen.establishments.is_empty(),
            "{who} sees no establishments"
        );
        assert!(!seen.teams.is_empty(), "{who} sees no teams");
        assert!(!seen.users.is_empty(), "{who} sees no users");
    }
    assert!(!seen_hue.visits.is_empty(), "tinh.hue sees no visits");
    assert!(!seen_hue.tips.is_empty(), "tinh.hue sees no tips");
    assert!(
        !seen_hue.assignments.is_empty(),
        "tinh.hue sees no assignments"
    );

    assert_isolated(&s, &qt, &seen_qt, &seen_hue);
    assert_isolated(&s, &hue, &seen_hue, &seen_qt);

    // The administrator sees both.
    let admin = s.login("admin");
    let all = set(
        &s.get_all_pages("/api/v1/establishments?limit=500", &admin),
        "id",
    );
    assert!(set(&seen_hue.establishments, "id").is_subset(&all));
    assert!(set(&seen_qt.establishments, "id").is_subset(&all));
}

#[test]
fn inspectors_see_only_their_team() {
    let s = TestServer::start();
    let inspector = s.login("kiemtra.hue");
    let me = s.get_ok("/api/v1/me", &inspector);
    let my_teams: BTreeSet<String> = set(me["teams"].as_array().unwrap(), "team_id");
    let visits = s.get_all_pages("/api/v1/visits?limit=500", &inspector);
    for v in &visits {
        assert!(
            my_teams.contains(v["team_id"].as_str().unwrap()),
            "inspector sees another team's visit {}",
            v["id"]
        );
    }
    let assignments = items(&s.get_ok("/api/v1/assignments?limit=1000", &inspector));
    for a in &assignments {
        assert!(
            my_teams.contains(a["team_id"].as_str().unwrap()),
            "inspector sees another team's assignment {}",
            a["id"]
        );
        assert_ne!(a["status"], "draft", "inspector sees a draft: {a}");
    }
    // Drafts of the team exist (the leader sees them) but never reach the inspector.
    let leader = s.login("doitruong.hue");
    let drafts: Vec<String> =
        items(&s.get_ok("/api/v1/assignments?status=draft&limit=1000", &leader))
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect();
    for id in drafts.iter().take(10) {
        s.get(&format!("/api/v1/assignments/{id}"), inspector.token())
            .problem(404, None);
    }
    let pulled = s.get_ok("/api/v1/sync", &inspector);
    for a in pulled["assignments"].as_array().unwrap() {
        assert_ne!(a["status"], "draft", "sync gave a draft: {a}");
        assert!(!drafts.contains(&a["id"].as_str().unwrap().to_string()));
    }
}
