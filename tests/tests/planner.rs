//! The planner: a leader asks what the team should inspect next. Proposals must be in the team's
//! jurisdiction, operating, not already planned, ranked by a score that adds up from its parts,
//! grouped into outings within the radius, and one call makes a group a draft assignment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use doi178_tests::{TestServer, HUE};
use serde_json::Value;

/// The Huế provincial team led by `doitruong.hue`.
fn leaders_team(s: &TestServer, leader: &doi178_tests::Session) -> String {
    let me = s.get_ok("/api/v1/me", leader);
    me["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "leader" && t["unit_id"] == HUE)
        .unwrap_or_else(|| panic!("doitruong.hue leads no Huế team: {me}"))["team_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let (dp, dl) = (p2 - p1, (b.1 - a.1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().min(1.0).asin()
}

fn proposals(plan: &Value) -> Vec<Value> {
    plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["establishments"].as_array().unwrap().clone())
        .collect()
}

#[test]
fn leaders_get_ranked_grouped_proposals_and_turn_them_into_a_draft() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let team = leaders_team(&s, &leader);
    let path = format!("/api/v1/planner?team={team}&from=2026-11-20&to=2026-12-04&limit=40&radius_m=1500&group_size=4");
    let plan = s.get_ok(&path, &leader);
    assert_eq!(plan["team_id"], team.as_str());
    let all = proposals(&plan);
    assert!(!all.is_empty(), "no proposals: {plan}");
    assert!(all.len() <= 40);
    assert!(plan["candidates_considered"].as_u64().unwrap() >= all.len() as u64);
    // The gap to close is the coverage of the team's unit, as the coverage API reports it.
    let cov = s.get_ok(
        &format!("/api/v1/coverage?unit={HUE}&year=2026&as_of=2026-11-20"),
        &leader,
    );
    assert_eq!(plan["gap"]["annual"], cov["total"]["annual"], "{plan}");
    assert_eq!(
        plan["gap"]["cumulative"]["needed"],
        cov["total"]["cumulative"]["needed"]
    );

    // Every proposal: in the team's province, operating, scored as the sum of its five parts.
    let open_ids: HashSet<String> = s.get_ok(&format!("/api/v1/assignments?team={team}"), &leader)
        ["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "draft" || a["status"] == "released")
        .flat_map(|a| {
            a["establishment_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
        })
        .collect();
    let mut seen = HashSet::new();
    for p in &all {
        let id = p["id"].as_str().unwrap();
        assert!(seen.insert(id.to_string()), "proposed twice: {id}");
        assert!(
            !open_ids.contains(id),
            "{id} is already in an open assignment of the team"
        );
        let e = s.get_ok(&format!("/api/v1/establishments/{id}"), &leader);
        assert_eq!(e["status"], "operating", "{e}");
        let unit = s.get_ok(
            &format!("/api/v1/units/{}", e["unit_id"].as_str().unwrap()),
            &leader,
        );
        assert_eq!(unit["parent_id"], HUE, "{unit}");
        let parts = p["score"]["parts"].as_array().unwrap();
        let factors: Vec<&str> = parts
            .iter()
            .map(|x| x["factor"].as_str().unwrap())
            .collect();
        assert_eq!(
            factors,
            [
                "never_inspected",
                "days_since_last",
                "prior_violations",
                "open_tips",
                "risk"
            ]
        );
        let sum: f64 = parts.iter().map(|x| x["points"].as_f64().unwrap()).sum();
        assert!(
            (sum - p["score"]["total"].as_f64().unwrap()).abs() < 1e-6,
            "{p}"
        );
        assert_eq!(
            p["never_inspected_in_period"].as_bool().unwrap(),
            parts[0]["points"].as_f64().unwrap() > 0.0
        );
    }

    // Ranked: the first proposal of the first outing has the best score of all, and every
    // never-inspected establishment outranks every inspected one among the first members.
    let best = all
        .iter()
        .map(|p| p["score"]["total"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    let groups = plan["groups"].as_array().unwrap();
    assert_eq!(
        groups[0]["establishments"][0]["score"]["total"]
            .as_f64()
            .unwrap(),
        best
    );
    let firsts: Vec<f64> = groups
        .iter()
        .map(|g| g["establishments"][0]["score"]["total"].as_f64().unwrap())
        .collect();
    assert!(
        firsts.windows(2).all(|w| w[0] >= w[1]),
        "outings are not in score order: {firsts:?}"
    );

    // Outings: at most 4 establishments, all within 1500 m of the outing's first one.
    for g in groups {
        let members = g["establishments"].as_array().unwrap();
        assert!(!members.is_empty() && members.len() <= 4, "{g}");
        let first = &members[0];
        if let (Some(lat), Some(lon)) = (first["lat"].as_f64(), first["lon"].as_f64()) {
            for m in &members[1..] {
                let d = haversine_m(
                    (lat, lon),
                    (m["lat"].as_f64().unwrap(), m["lon"].as_f64().unwrap()),
                );
                assert!(
                    d <= 1500.0 + 1e-6,
                    "{} is {d:.0} m from the outing's first establishment",
                    m["id"]
                );
            }
        } else {
            assert_eq!(
                members.len(),
                1,
                "an establishment without coordinates goes alone"
            );
        }
        let ids: Vec<&str> = members.iter().map(|m| m["id"].as_str().unwrap()).collect();
        let body_ids: Vec<&str> = g["assignment"]["establishment_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(ids, body_ids);
    }

    // One call turns the first outing into a draft; planning again leaves those out.
    let created = s
        .post_json(
            "/api/v1/assignments",
            leader.token(),
            &groups[0]["assignment"],
        )
        .expect(201)
        .json();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["window_start"], "2026-11-20");
    let planned: HashSet<String> = created["establishment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    let again = proposals(&s.get_ok(&path, &leader));
    assert!(
        again
            .iter()
            .all(|p| !planned.contains(p["id"].as_str().unwrap())),
        "planned establishments proposed again"
    );

    // A type filter keeps only that type.
    let karaoke = proposals(&s.get_ok(
        &format!("/api/v1/planner?team={team}&from=2026-11-20&type=karaoke"),
        &leader,
    ));
    assert!(!karaoke.is_empty());
    assert!(karaoke.iter().all(|p| p["establishment_type"] == "karaoke"));
}

#[test]
fn only_the_leaders_chain_plans_and_bad_parameters_are_named() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let team = leaders_team(&s, &leader);
    let inspector = s.login("kiemtra.hue");
    let qt = s.login("tinh.quangtri");
    let qt_leader = s.login("doitruong.quangtri");

    s.get(&format!("/api/v1/planner?team={team}"), inspector.token())
        .problem(403, Some("forbidden"));
    // The planner is for team leaders (the route's rule): staff are refused whatever the team.
    s.get(&format!("/api/v1/planner?team={team}"), qt.token())
        .problem(403, Some("forbidden"));
    // A leader of another province does not learn that the team exists.
    s.get(&format!("/api/v1/planner?team={team}"), qt_leader.token())
        .problem(404, Some("not_found"));
    s.get(&format!("/api/v1/planner?team={team}"), None)
        .expect(401);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("radius_m=1", "radius_m"),
        ("group_size=0", "group_size"),
        ("from=2026-12-10&to=2026-12-01", "to"),
        ("type=spaceport", "type"),
        ("from=2019-06-01", "from"),
    ] {
        s.get(
            &format!("/api/v1/planner?team={team}&{query}"),
            leader.token(),
        )
        .client_error_on(field);
    }
    s.get("/api/v1/planner?team=not-a-uuid", leader.token())
        .client_error_on("team");
}
