//! The daily work around visits: tips moving through their life cycle by a deadline, assignments
//! cancelled or completed, and a leader's review of a submitted visit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use doi178_tests::{ids, Resp, Session, TestServer, HUE};
use reqwest::Method;
use serde_json::json;

fn post_empty(s: &TestServer, path: &str, who: &Session) -> Resp {
    s.request(Method::POST, path, who.token(), &[], None)
}

/// The asserted 4xx problem of a refused status change, which must say `invalid_transition`.
fn assert_invalid_transition(r: &Resp) {
    assert!(
        r.status == 422 || r.status == 409,
        "{} {}: expected 422 or 409, got {}: {}",
        r.method,
        r.path,
        r.status,
        r.text()
    );
    let p = r.problem(r.status, Some("invalid_transition"));
    assert_eq!(p["field"], "status", "{p}");
}

/// The Huế provincial team led by `doitruong.hue`.
fn leaders_team(s: &TestServer, leader: &Session) -> String {
    let me = s.get_ok("/api/v1/me", leader);
    me["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "leader" && t["unit_id"] == HUE)
        .unwrap_or_else(|| panic!("{} leads no Huế team: {me}", leader.username))["team_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn tips_move_forward_one_step_at_a_time_by_their_deadline() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let qt = s.login("tinh.quangtri");
    let inspector = s.login("kiemtra.hue");

    let communes = s.get_ok(&format!("/api/v1/units?parent={HUE}"), &hue);
    let commune = communes["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("Huế has no communes: {communes}"))
        .to_string();
    let received_at = Utc::now() - Duration::hours(1);
    let body = json!({
        "channel": "hotline",
        "received_at": received_at.to_rfc3339(),
        "content": "Người dân phản ánh quán karaoke hoạt động quá 0 giờ, gây ồn ào",
        "unit": commune,
    });

    // Inspectors record no tips.
    s.post_json("/api/v1/tips", inspector.token(), &body)
        .problem(403, None);
    // A tip received in the future is refused.
    let mut future = body.clone();
    future["received_at"] = json!((Utc::now() + Duration::days(2)).to_rfc3339());
    s.post_json("/api/v1/tips", hue.token(), &future)
        .client_error_on("received_at");

    let created = s.post_json("/api/v1/tips", hue.token(), &body);
    created.expect(201);
    let tip = created.json();
    let id = tip["id"].as_str().expect("id").to_string();
    assert_eq!(tip["status"], "received", "{tip}");
    assert_eq!(tip["channel"], "hotline");
    assert_eq!(tip["unit_id"], commune.as_str());
    assert_eq!(tip["content"], body["content"]);
    assert!(tip["handled_at"].is_null(), "{tip}");
    assert!(tip["handled_on_time"].is_null(), "{tip}");
    assert_eq!(tip["overdue"], false);
    // 20 Vietnamese calendar days after the day it was received.
    let vietnam = FixedOffset::east_opt(7 * 3600).unwrap();
    let received_day = received_at.with_timezone(&vietnam).date_naive();
    let deadline: NaiveDate = tip["deadline"].as_str().expect("deadline").parse().unwrap();
    assert_eq!(deadline, received_day + Duration::days(20), "{tip}");
    // received_at is stored as sent (to the precision of the databases).
    let stored: DateTime<Utc> = format!(
        "{}Z",
        tip["received_at"]
            .as_str()
            .expect("received_at")
            .trim_end_matches('Z')
    )
    .parse()
    .unwrap();
    assert!(
        (stored - received_at).num_milliseconds().abs() < 1,
        "received_at {stored} ≠ {received_at}"
    );

    let got = s.get_ok(&format!("/api/v1/tips/{id}"), &hue);
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["status"], "received");
    assert_eq!(got["deadline"], tip["deadline"]);
    assert!(ids(
        s.get_ok("/api/v1/tips?status=received&limit=1000", &hue)["items"]
            .as_array()
            .unwrap(),
        "id"
    )
    .contains(&id));
    // Another province sees nothing of it.
    s.get(&format!("/api/v1/tips/{id}"), qt.token())
        .problem(404, None);
    assert!(!ids(
        s.get_ok("/api/v1/tips?limit=1000", &qt)["items"]
            .as_array()
            .unwrap(),
        "id"
    )
    .contains(&id));

    let status_path = format!("/api/v1/tips/{id}/status");
    let set = |who: &Session, status: &str| {
        s.post_json(&status_path, who.token(), &json!({ "status": status }))
    };
    // Skipping a step, staying put, an unknown status, the wrong people.
    assert_invalid_transition(&set(&hue, "classified"));
    assert_invalid_transition(&set(&hue, "handled"));
    assert_invalid_transition(&set(&hue, "received"));
    set(&hue, "closed").client_error_on("status");
    set(&inspector, "verifying").problem(403, None);
    set(&qt, "verifying").problem(404, None);
    assert_eq!(
        s.get_ok(&format!("/api/v1/tips/{id}"), &hue)["status"],
        "received",
        "a refused change moved the tip"
    );

    // One step at a time.
    let v = set(&hue, "verifying").ok_json();
    assert_eq!(v["status"], "verifying");
    assert!(v["handled_at"].is_null());
    assert_invalid_transition(&set(&hue, "handled"));
    let v = set(&hue, "classified").ok_json();
    assert_eq!(v["status"], "classified");
    assert!(v["handled_at"].is_null());
    assert!(v["handled_on_time"].is_null());
    let before = Utc::now() - Duration::seconds(5);
    let v = set(&hue, "handled").ok_json();
    assert_eq!(v["status"], "handled");
    let handled_at = v["handled_at"].as_str().unwrap_or_else(|| panic!("{v}"));
    let handled_at: DateTime<Utc> = format!("{}Z", handled_at.trim_end_matches('Z'))
        .parse()
        .unwrap();
    assert!(
        handled_at >= before && handled_at <= Utc::now() + Duration::seconds(5),
        "handled_at {handled_at} is not now"
    );
    assert_eq!(v["handled_on_time"], true, "{v}");
    assert_eq!(v["overdue"], false);
    let got = s.get_ok(&format!("/api/v1/tips/{id}"), &hue);
    assert_eq!(got["status"], "handled");
    assert_eq!(got["handled_at"], v["handled_at"]);
    assert_eq!(got["handled_on_time"], true);
    // Handled is final.
    assert_invalid_transition(&set(&hue, "verifying"));
    assert_invalid_transition(&set(&hue, "handled"));
    // Unknown tips.
    s.get(
        &format!("/api/v1/tips/{}", uuid::Uuid::new_v4()),
        hue.token(),
    )
    .problem(404, None);
}

#[test]
fn assignments_are_cancelled_or_completed_once() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let team_id = leaders_team(&s, &leader);

    let ests = s.get_ok("/api/v1/establishments?limit=5", &leader);
    let est_id = ests["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no establishment for the leader: {ests}"))
        .to_string();
    let today = Utc::now().date_naive();
    let body = json!({
        "team_id": team_id,
        "kind": "unannounced",
        "window_start": today - Duration::days(1),
        "window_end": today + Duration::days(14),
        "establishment_ids": [est_id],
        "note": "Kiểm tra đột xuất"
    });
    let create = || {
        let r = s.post_json("/api/v1/assignments", leader.token(), &body);
        r.expect(201);
        let a = r.json();
        assert_eq!(a["status"], "draft", "{a}");
        a["id"].as_str().unwrap().to_string()
    };

    // A draft, cancelled.
    let draft = create();
    let cancelled = post_empty(&s, &format!("/api/v1/assignments/{draft}/cancel"), &leader);
    let cancelled = cancelled.ok_json();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["id"], draft.as_str());
    assert_eq!(
        s.get_ok(&format!("/api/v1/assignments/{draft}"), &leader)["status"],
        "cancelled"
    );
    let p = post_empty(&s, &format!("/api/v1/assignments/{draft}/cancel"), &leader)
        .problem(409, Some("invalid_transition"));
    assert_eq!(p["field"], "status", "{p}");
    post_empty(&s, &format!("/api/v1/assignments/{draft}/release"), &leader)
        .problem(409, Some("invalid_transition"));
    post_empty(
        &s,
        &format!("/api/v1/assignments/{draft}/complete"),
        &leader,
    )
    .problem(409, Some("invalid_transition"));

    // Another draft cannot be completed before it is released.
    let other = create();
    post_empty(
        &s,
        &format!("/api/v1/assignments/{other}/complete"),
        &leader,
    )
    .problem(409, Some("invalid_transition"));
    assert_eq!(
        s.get_ok(&format!("/api/v1/assignments/{other}"), &leader)["status"],
        "draft",
        "a refused completion changed the draft"
    );
    let released =
        post_empty(&s, &format!("/api/v1/assignments/{other}/release"), &leader).ok_json();
    assert_eq!(released["status"], "released");
    // The inspector sees it but may not close it.
    assert_eq!(
        s.get_ok(&format!("/api/v1/assignments/{other}"), &inspector)["status"],
        "released"
    );
    post_empty(
        &s,
        &format!("/api/v1/assignments/{other}/complete"),
        &inspector,
    )
    .problem(403, None);
    let done = post_empty(
        &s,
        &format!("/api/v1/assignments/{other}/complete"),
        &leader,
    )
    .ok_json();
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["id"], other.as_str());
    let got = s.get_ok(&format!("/api/v1/assignments/{other}"), &inspector);
    assert_eq!(got["status"], "done");
    // Done is final.
    post_empty(
        &s,
        &format!("/api/v1/assignments/{other}/complete"),
        &leader,
    )
    .problem(409, Some("invalid_transition"));
    post_empty(&s, &format!("/api/v1/assignments/{other}/cancel"), &leader)
        .problem(409, Some("invalid_transition"));
    // Unknown assignments.
    post_empty(
        &s,
        &format!("/api/v1/assignments/{}/cancel", uuid::Uuid::new_v4()),
        &leader,
    )
    .problem(404, None);
}

/// Submits a visit of `team_id` as `inspector` with the first checklist that fits, returning its id.
fn submit_visit(s: &TestServer, inspector: &Session, team_id: &str) -> String {
    let me = s.get_ok("/api/v1/me", inspector);
    let inspector_id = me["id"].as_str().unwrap().to_string();
    let ests = s.get_ok("/api/v1/establishments?limit=50", inspector);
    let (est, template) = s
        .with_checklist(&ests, false, inspector)
        .expect("an establishment with a checklist");
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().to_string();
    let visit = json!({
        "establishment_id": est["id"],
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
    let r = s.put_json(&format!("/api/v1/visits/{id}"), inspector.token(), &visit);
    r.expect(201);
    id
}

#[test]
fn team_leaders_review_their_teams_visits() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let qt_leader = s.login("doitruong.quangtri");
    let team_id = leaders_team(&s, &leader);

    let visit_id = submit_visit(&s, &inspector, &team_id);
    let team_visits = s.get_all_pages(&format!("/api/v1/visits?team={team_id}"), &leader);
    assert!(
        ids(&team_visits, "id").contains(&visit_id),
        "the new visit is not among the team's"
    );
    for v in &team_visits {
        assert_eq!(
            v["team_id"],
            team_id.as_str(),
            "?team= leaked another team: {v}"
        );
    }
    let before = s.get_ok(&format!("/api/v1/visits/{visit_id}"), &leader);
    assert_eq!(before["review_status"], "submitted", "{before}");
    assert!(before["review_comment"].is_null());

    let review_path = format!("/api/v1/visits/{visit_id}/review");
    // Invalid decisions, then the wrong people.
    s.post_json(
        &review_path,
        leader.token(),
        &json!({"decision": "rejected"}),
    )
    .client_error_on("comment");
    s.post_json(
        &review_path,
        leader.token(),
        &json!({"decision": "rejected", "comment": "   "}),
    )
    .client_error_on("comment");
    s.post_json(
        &review_path,
        leader.token(),
        &json!({"decision": "correction_requested"}),
    )
    .client_error_on("comment");
    let p = s
        .post_json(
            &review_path,
            leader.token(),
            &json!({"decision": "approved", "comment": "ok"}),
        )
        .client_error_on("decision");
    assert_eq!(p["status"], 422, "{p}");
    let good = json!({"decision": "correction_requested", "comment": "Bổ sung số biên bản"});
    s.post_json(&review_path, inspector.token(), &good)
        .problem(403, None);
    let r = s.post_json(&review_path, qt_leader.token(), &good);
    assert!(
        r.status == 404 || r.status == 403,
        "another province reviewed a visit: {} {}",
        r.status,
        r.text()
    );
    assert_eq!(
        s.get_ok(&format!("/api/v1/visits/{visit_id}"), &leader)["review_status"],
        "submitted",
        "a refused review changed the visit"
    );

    // The leader asks for a correction.
    let reviewed = s.post_json(&review_path, leader.token(), &good).ok_json();
    assert_eq!(reviewed["id"], visit_id.as_str());
    assert_eq!(
        reviewed["review_status"], "correction_requested",
        "{reviewed}"
    );
    assert_eq!(reviewed["review_comment"], "Bổ sung số biên bản");
    assert_eq!(
        reviewed["revision"], before["revision"],
        "a review is no revision"
    );
    assert_eq!(
        reviewed["digest"], before["digest"],
        "a review changed the visit"
    );
    // The inspector sees the decision.
    let seen = s.get_ok(&format!("/api/v1/visits/{visit_id}"), &inspector);
    assert_eq!(seen["review_status"], "correction_requested");
    assert_eq!(seen["review_comment"], "Bổ sung số biên bản");

    // Later accepted, which needs no comment.
    let accepted = s
        .post_json(
            &review_path,
            leader.token(),
            &json!({"decision": "accepted"}),
        )
        .ok_json();
    assert_eq!(accepted["review_status"], "accepted", "{accepted}");
    assert_eq!(
        s.get_ok(&format!("/api/v1/visits/{visit_id}"), &inspector)["review_status"],
        "accepted"
    );
    // Unknown visits.
    s.post_json(
        &format!("/api/v1/visits/{}/review", uuid::Uuid::new_v4()),
        leader.token(),
        &good,
    )
    .problem(404, None);
}
