//! A tip-driven draft assignment is the "resulting assignment" of its tip: creating it links the
//! tip (when the tip has none yet), so the tip shows it through the API and the dashboard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use doi178_tests::{TestServer, HUE};
use serde_json::json;

#[test]
fn a_tip_driven_draft_links_its_tip_once() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let me = s.get_ok("/api/v1/me", &leader);
    let team_id = me["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "leader" && t["unit_id"] == HUE)
        .expect("doitruong.hue leads a Huế team")["team_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ests = s.get_ok("/api/v1/establishments?limit=2", &leader);
    let est = ests["items"][0]["id"].as_str().unwrap().to_string();
    let unit = ests["items"][0]["unit_id"].as_str().unwrap().to_string();
    let tip = s
        .post_json(
            "/api/v1/tips",
            leader.token(),
            &json!({
                "channel": "hotline",
                "received_at": (Utc::now() - Duration::hours(2)).to_rfc3339(),
                "content": "Phản ánh cơ sở hoạt động sau 0 giờ",
                "unit": unit,
                "establishment_id": est,
            }),
        )
        .expect(201)
        .json();
    let tip_id = tip["id"].as_str().unwrap().to_string();
    assert!(tip["assignment_id"].is_null(), "{tip}");

    let today = Utc::now().date_naive();
    let body = |kind: &str| {
        json!({
            "team_id": team_id,
            "kind": kind,
            "window_start": today,
            "window_end": today + Duration::days(7),
            "establishment_ids": [est],
            "tip_id": tip_id,
        })
    };
    let first = s
        .post_json("/api/v1/assignments", leader.token(), &body("tip"))
        .expect(201)
        .json();
    assert_eq!(first["tip_id"], tip_id.as_str(), "{first}");
    let got = s.get_ok(&format!("/api/v1/tips/{tip_id}"), &leader);
    assert_eq!(got["assignment_id"], first["id"], "{got}");
    // The tip's status is untouched: linking is not handling.
    assert_eq!(got["status"], "received", "{got}");

    // A second draft on the same tip does not take over the link.
    let second = s
        .post_json("/api/v1/assignments", leader.token(), &body("unannounced"))
        .expect(201)
        .json();
    assert_ne!(second["id"], first["id"]);
    let got = s.get_ok(&format!("/api/v1/tips/{tip_id}"), &leader);
    assert_eq!(got["assignment_id"], first["id"], "{got}");

    // A refused draft links nothing.
    let other_tip = s
        .post_json(
            "/api/v1/tips",
            leader.token(),
            &json!({
                "channel": "letter",
                "received_at": (Utc::now() - Duration::hours(1)).to_rfc3339(),
                "content": "Đơn phản ánh",
                "unit": unit,
            }),
        )
        .expect(201)
        .json();
    let other_id = other_tip["id"].as_str().unwrap();
    let mut bad = body("tip");
    bad["tip_id"] = json!(other_id);
    bad["window_end"] = json!(today - Duration::days(1));
    s.post_json("/api/v1/assignments", leader.token(), &bad)
        .problem(422, None);
    let got = s.get_ok(&format!("/api/v1/tips/{other_id}"), &leader);
    assert!(got["assignment_id"].is_null(), "{got}");
}
