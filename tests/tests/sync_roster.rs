//! The phone's pull sync carries the roster of the caller's own teams (who may be recorded as
//! present at a visit) and nothing of any other team, on every page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Session, TestServer};
use serde_json::Value;

/// (team, user) pairs of a sync answer's roster.
fn roster_pairs(pulled: &Value) -> BTreeSet<(String, String)> {
    pulled["roster"]
        .as_array()
        .expect("roster")
        .iter()
        .map(|m| {
            (
                m["team_id"].as_str().unwrap().to_string(),
                m["user_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every team's members as staff of the whole country see them: team → (user → member).
fn all_members(s: &TestServer, admin: &Session) -> BTreeMap<String, BTreeMap<String, Value>> {
    let teams = s.get_ok("/api/v1/teams", admin);
    teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let members = t["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["user_id"].as_str().unwrap().to_string(), m.clone()))
                .collect();
            (t["id"].as_str().unwrap().to_string(), members)
        })
        .collect()
}

#[test]
fn a_phone_gets_the_roster_of_its_own_teams_only() {
    let s = TestServer::start();
    let admin = s.login("admin");
    let members = all_members(&s, &admin);
    assert!(members.len() >= 3, "the demo has several teams");

    let mut rosters = Vec::new();
    for who in [
        "kiemtra.hue",
        "doitruong.hue",
        "doitruong.quangtri",
        "doitruong.phuxuan",
    ] {
        let session = s.login(who);
        let mine = s.my_team_ids(&session);
        assert!(!mine.is_empty(), "{who} is on a team");
        let pulled = s.get_ok("/api/v1/sync", &session);
        let got = roster_pairs(&pulled);
        let want: BTreeSet<(String, String)> = mine
            .iter()
            .flat_map(|t| {
                members[t]
                    .keys()
                    .map(move |u| (t.clone(), u.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{who}: exactly the members of their own teams");
        // Nobody of a team the caller is not on (unless also on one of the caller's teams).
        let on_my_teams: BTreeSet<&String> = got.iter().map(|(_, u)| u).collect();
        for (team, users) in &members {
            if mine.contains(team) {
                continue;
            }
            for u in users.keys() {
                if !on_my_teams.contains(u) {
                    assert!(
                        !pulled["roster"].to_string().contains(u.as_str()),
                        "{who}: the roster names {u} of team {team}"
                    );
                }
            }
        }
        // Names, roles and agencies are what the team pages say.
        for m in pulled["roster"].as_array().unwrap() {
            let t = m["team_id"].as_str().unwrap();
            let u = m["user_id"].as_str().unwrap();
            let listed = &members[t][u];
            assert_eq!(m["display_name"], listed["display_name"], "{m}");
            assert_eq!(m["username"], listed["username"], "{m}");
            assert_eq!(m["role"], listed["role"], "{m}");
            assert_eq!(m["agency_id"], listed["agency_id"], "{m}");
            assert_eq!(
                m["agency_name"].is_string(),
                listed["agency_id"].is_string(),
                "an agency has a name: {m}"
            );
            assert!(["leader", "deputy", "member"].contains(&m["role"].as_str().unwrap()));
        }
        // The roster comes with every page, also when nothing else changed.
        let cursor = pulled["cursor"].as_str().unwrap();
        let again = s.get_ok(&format!("/api/v1/sync?cursor={cursor}"), &session);
        assert_eq!(roster_pairs(&again), got, "{who}: the roster with a cursor");
        rosters.push((who, got));
    }
    // Huế's and Quảng Trị's team leaders share nobody.
    let hue: BTreeSet<&String> = rosters[1].1.iter().map(|(_, u)| u).collect();
    let qt: BTreeSet<&String> = rosters[2].1.iter().map(|(_, u)| u).collect();
    assert!(hue.is_disjoint(&qt), "{hue:?} / {qt:?}");

    // Provincial staff are on no team: an empty roster, not everybody in the province.
    let staff = s.login("tinh.hue");
    if s.my_team_ids(&staff).is_empty() {
        let pulled = s.get_ok("/api/v1/sync", &staff);
        assert_eq!(pulled["roster"], serde_json::json!([]));
    }
}
