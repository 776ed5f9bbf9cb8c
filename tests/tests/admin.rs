//! Administration: reference data (agencies, programmes, versioned checklist templates), account
//! creation by provincial staff inside their jurisdiction, and team membership.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use doi178_tests::{ids, Session, TestServer, HUE, QUANG_TRI};
use reqwest::Method;
use serde_json::{json, Value};

/// The `items` array of a list answer.
fn items(v: &Value) -> Vec<Value> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("answer without items: {v}"))
        .clone()
}

/// Ids of the direct children of `parent`, as `who` sees them.
fn child_units(s: &TestServer, who: &Session, parent: &str) -> Vec<String> {
    let units = items(&s.get_ok(&format!("/api/v1/units?parent={parent}"), who));
    assert!(
        !units.is_empty(),
        "{parent} has no children for {}",
        who.username
    );
    for u in &units {
        assert_eq!(u["parent_id"], parent, "not a child of {parent}: {u}");
    }
    ids(&units, "id")
}

/// Signs in with an explicit password (the harness knows only the demo password).
fn login_with(s: &TestServer, username: &str, password: &str) -> Session {
    let v = s
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .ok_json();
    Session {
        username: username.to_string(),
        access_token: v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string(),
        refresh_token: v["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_string(),
    }
}

#[test]
fn agencies_and_programmes_are_readable_reference_data() {
    let s = TestServer::start();
    let inspector = s.login("kiemtra.hue");

    let agencies = items(&s.get_ok("/api/v1/agencies", &inspector));
    assert!(!agencies.is_empty(), "no agencies seeded");
    for a in &agencies {
        for key in ["id", "kind", "name"] {
            assert!(
                a[key].as_str().is_some_and(|v| !v.is_empty()),
                "agency without `{key}`: {a}"
            );
        }
    }
    let kinds: Vec<&str> = agencies.iter().filter_map(|a| a["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"police"),
        "no police agency among {kinds:?}"
    );
    // Unauthenticated callers see nothing.
    s.get("/api/v1/agencies", None).problem(401, None);

    let programmes = items(&s.get_ok("/api/v1/programmes", &inspector));
    assert!(!programmes.is_empty(), "no programmes seeded");
    for p in &programmes {
        assert_eq!(p["annual_min_share"].as_f64(), Some(0.2), "{p}");
        assert_eq!(p["end_share"].as_f64(), Some(1.0), "{p}");
        let start = p["period_start"].as_str().expect("period_start");
        let end = p["period_end"].as_str().expect("period_end");
        assert!(start < end, "period ends before it starts: {p}");
        assert!(
            p["types_in_scope"]
                .as_array()
                .is_some_and(|t| !t.is_empty()),
            "programme without types in scope: {p}"
        );
        assert!(p["counted_outcomes"].is_array(), "{p}");
    }
    s.get("/api/v1/programmes", None).problem(401, None);
}

#[test]
fn checklist_templates_are_versioned_by_administrators() {
    let s = TestServer::start();
    let admin = s.login("admin");
    let staff = s.login("tinh.hue");
    let inspector = s.login("kiemtra.hue");

    let all = items(&s.get_ok("/api/v1/checklist-templates", &inspector));
    assert!(!all.is_empty(), "no checklist templates seeded");
    let ty = all[0]["establishment_type"]
        .as_str()
        .expect("establishment_type")
        .to_string();

    // Filtered by type: only that type, and everything of that type.
    let of_type = items(&s.get_ok(
        &format!("/api/v1/checklist-templates?type={ty}"),
        &inspector,
    ));
    assert!(!of_type.is_empty());
    for t in &of_type {
        assert_eq!(t["establishment_type"], ty.as_str(), "{t}");
    }
    let expected = all
        .iter()
        .filter(|t| t["establishment_type"] == ty.as_str())
        .count();
    assert_eq!(of_type.len(), expected, "filter lost templates of {ty}");
    // An unknown type is a client error naming the parameter.
    s.get(
        "/api/v1/checklist-templates?type=spaceport",
        inspector.token(),
    )
    .client_error_on("type");

    // One version by id.
    let latest = of_type
        .iter()
        .max_by_key(|t| t["version"].as_i64().unwrap())
        .unwrap()
        .clone();
    let latest_id = latest["id"].as_str().unwrap().to_string();
    let latest_version = latest["version"].as_i64().unwrap();
    let got = s.get_ok(
        &format!("/api/v1/checklist-templates/{latest_id}"),
        &inspector,
    );
    assert_eq!(got["id"], latest_id.as_str());
    assert_eq!(got["version"], latest_version);
    assert_eq!(got["items"], latest["items"]);
    s.get(
        &format!("/api/v1/checklist-templates/{}", uuid::Uuid::new_v4()),
        inspector.token(),
    )
    .problem(404, None);

    // A new version, published by an administrator.
    let body = json!({
        "establishment_type": ty,
        "title": "Bảng kiểm tra (phiên bản thử nghiệm)",
        "valid_from": "2026-01-01",
        "items": [
            {"code": "GP_KD", "text": "Có giấy phép kinh doanh còn hiệu lực",
             "legal_basis": "Điều 4 Nghị định 96/2016/NĐ-CP"},
            {"code": "PCCC", "text": "Có phương án phòng cháy, chữa cháy",
             "sanction_ref": "ND282 Điều 23", "violation_code": "PCCC-1"}
        ]
    });
    // Not for anyone else.
    s.post_json("/api/v1/checklist-templates", staff.token(), &body)
        .problem(403, None);
    s.post_json("/api/v1/checklist-templates", inspector.token(), &body)
        .problem(403, None);
    let created = s.post_json("/api/v1/checklist-templates", admin.token(), &body);
    created.expect(201);
    let created = created.json();
    assert_eq!(created["version"], latest_version + 1, "{created}");
    assert_eq!(created["establishment_type"], ty.as_str());
    assert_eq!(created["title"], body["title"]);
    assert_eq!(created["valid_from"], "2026-01-01");
    assert_eq!(
        ids(created["items"].as_array().unwrap(), "code"),
        vec!["GP_KD", "PCCC"]
    );
    let new_id = created["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, latest_id);

    // Both versions readable; the old one unchanged.
    let new = s.get_ok(&format!("/api/v1/checklist-templates/{new_id}"), &inspector);
    assert_eq!(new["version"], latest_version + 1);
    let old = s.get_ok(
        &format!("/api/v1/checklist-templates/{latest_id}"),
        &inspector,
    );
    assert_eq!(old["version"], latest_version);
    assert_eq!(old["items"], latest["items"], "the old version changed");
    let of_type_now = items(&s.get_ok(
        &format!("/api/v1/checklist-templates?type={ty}"),
        &inspector,
    ));
    let listed = ids(&of_type_now, "id");
    assert!(listed.contains(&new_id) && listed.contains(&latest_id));
    assert_eq!(of_type_now.len(), of_type.len() + 1);

    // Yet another version counts on from the new one.
    let again = s.post_json("/api/v1/checklist-templates", admin.token(), &body);
    again.expect(201);
    assert_eq!(again.json()["version"], latest_version + 2);

    // Invalid bodies name the field and store nothing.
    let mut dup = body.clone();
    dup["items"][1]["code"] = json!("GP_KD");
    let p = s
        .post_json("/api/v1/checklist-templates", admin.token(), &dup)
        .client_error_on("items[1].code");
    assert_eq!(p["status"], 422, "{p}");
    let mut bad_code = body.clone();
    bad_code["items"][0]["code"] = json!("có dấu");
    s.post_json("/api/v1/checklist-templates", admin.token(), &bad_code)
        .client_error_on("items[0].code");
    let mut empty = body.clone();
    empty["items"] = json!([]);
    s.post_json("/api/v1/checklist-templates", admin.token(), &empty)
        .client_error_on("items");
    let after = items(&s.get_ok(
        &format!("/api/v1/checklist-templates?type={ty}"),
        &inspector,
    ));
    assert_eq!(
        after.len(),
        of_type.len() + 2,
        "a refused template was stored"
    );
}

#[test]
fn provincial_staff_create_accounts_in_their_jurisdiction() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let qt = s.login("tinh.quangtri");
    let inspector = s.login("kiemtra.hue");

    let hue_commune = child_units(&s, &hue, HUE)[0].clone();
    let qt_commune = child_units(&s, &qt, QUANG_TRI)[0].clone();
    let password = "Kiem-tra-2026!";
    let body = json!({
        "username": "kiemtra.moi.hue",
        "display_name": "Nguyễn Văn Mới",
        "password": password,
        "role": "inspector",
        "unit_id": hue_commune,
        "agency_id": null
    });
    let with = |key: &str, value: Value| {
        let mut b = body.clone();
        b[key] = value;
        b
    };

    // Refusals first, so that none of them can depend on the account existing.
    s.post_json(
        "/api/v1/users",
        hue.token(),
        &with("password", json!("short")),
    )
    .client_error_on("password");
    let p = s
        .post_json(
            "/api/v1/users",
            hue.token(),
            &with("password", json!("12345678901234")),
        )
        .client_error_on("password");
    assert_eq!(p["status"], 422, "{p}");
    s.post_json("/api/v1/users", hue.token(), &with("role", json!("admin")))
        .problem(403, None);
    s.post_json(
        "/api/v1/users",
        hue.token(),
        &with("role", json!("provincial_staff")),
    )
    .problem(403, None);
    let p = s
        .post_json(
            "/api/v1/users",
            hue.token(),
            &with("unit_id", json!(qt_commune)),
        )
        .client_error_on("unit_id");
    assert_eq!(p["status"], 422, "{p}");
    s.post_json(
        "/api/v1/users",
        hue.token(),
        &with("username", json!("kiemtra.hue")),
    )
    .problem(409, None);
    s.post_json("/api/v1/users", inspector.token(), &body)
        .problem(403, None);
    // None of the refused accounts exists.
    login_refused(&s, "kiemtra.moi.hue", password);

    // Created.
    let created = s.post_json("/api/v1/users", hue.token(), &body);
    created.expect(201);
    let created = created.json();
    let new_id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["username"], "kiemtra.moi.hue");
    assert_eq!(created["display_name"], "Nguyễn Văn Mới");
    assert_eq!(created["role"], "inspector");
    assert_eq!(created["unit_id"], hue_commune.as_str());
    assert_eq!(created["active"], true);
    assert!(
        created.get("password_hash").is_none() && created.get("password").is_none(),
        "the answer leaks the password: {created}"
    );
    let got = s.get_ok(&format!("/api/v1/users/{new_id}"), &hue);
    assert_eq!(got["username"], "kiemtra.moi.hue");
    assert!(ids(&items(&s.get_ok("/api/v1/users", &hue)), "id").contains(&new_id));
    // The same username again is a conflict (also with different case).
    s.post_json("/api/v1/users", hue.token(), &body)
        .problem(409, None);
    s.post_json(
        "/api/v1/users",
        hue.token(),
        &with("username", json!("KiemTra.Moi.Hue")),
    )
    .problem(409, None);

    // The new account signs in with its own password.
    let new = login_with(&s, "kiemtra.moi.hue", password);
    let me = s.get_ok("/api/v1/me", &new);
    assert_eq!(me["id"], new_id.as_str());
    assert_eq!(me["role"], "inspector");
    assert_eq!(me["unit_id"], hue_commune.as_str());
    login_refused(&s, "kiemtra.moi.hue", doi178_tests::DEMO_PASSWORD);

    // Users of another province do not exist for Huế staff.
    let qt_me = s.get_ok("/api/v1/me", &qt);
    let qt_id = qt_me["id"].as_str().unwrap();
    s.get(&format!("/api/v1/users/{qt_id}"), hue.token())
        .problem(404, None);
    assert_eq!(
        s.get_ok(&format!("/api/v1/users/{qt_id}"), &qt)["username"],
        "tinh.quangtri"
    );
    s.get(&format!("/api/v1/users/{new_id}"), qt.token())
        .problem(404, None);
}

fn login_refused(s: &TestServer, username: &str, password: &str) {
    s.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": password}),
    )
    .problem(401, None);
}

#[test]
fn provincial_staff_manage_teams_and_members() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");
    let qt = s.login("tinh.quangtri");
    let inspector = s.login("kiemtra.hue");

    let hue_commune = child_units(&s, &hue, HUE)[0].clone();
    let qt_commune = child_units(&s, &qt, QUANG_TRI)[0].clone();

    let team_body = json!({"name": "Đội kiểm tra liên ngành thử nghiệm", "level": "commune", "unit_id": hue_commune});
    // Inspectors may not create teams; nor may anyone outside their jurisdiction.
    s.post_json("/api/v1/teams", inspector.token(), &team_body)
        .problem(403, None);
    let mut outside = team_body.clone();
    outside["unit_id"] = json!(qt_commune);
    let p = s
        .post_json("/api/v1/teams", hue.token(), &outside)
        .client_error_on("unit_id");
    assert_eq!(p["status"], 422, "{p}");
    let mut bad_level = team_body.clone();
    bad_level["level"] = json!("galaxy");
    s.post_json("/api/v1/teams", hue.token(), &bad_level)
        .client_error_on("level");

    let created = s.post_json("/api/v1/teams", hue.token(), &team_body);
    created.expect(201);
    let team = created.json();
    let team_id = team["id"].as_str().expect("id").to_string();
    assert_eq!(team["name"], team_body["name"]);
    assert_eq!(team["level"], "commune");
    assert_eq!(team["unit_id"], hue_commune.as_str());
    assert_eq!(team["members"], json!([]));
    assert!(ids(&items(&s.get_ok("/api/v1/teams", &hue)), "id").contains(&team_id));
    s.get(&format!("/api/v1/teams/{team_id}"), qt.token())
        .problem(404, None);

    // A new inspector for it.
    let user = s.post_json(
        "/api/v1/users",
        hue.token(),
        &json!({
            "username": "thanhvien.moi.hue",
            "display_name": "Trần Thị Thành Viên",
            "password": "Thanh-vien-2026",
            "role": "inspector",
            "unit_id": hue_commune,
            "agency_id": null
        }),
    );
    user.expect(201);
    let user_id = user.json()["id"].as_str().unwrap().to_string();

    // Added as a member.
    let members_path = format!("/api/v1/teams/{team_id}/members");
    let member = json!({"user_id": user_id, "role": "member"});
    s.post_json(&members_path, inspector.token(), &member)
        .problem(403, None);
    s.post_json(&members_path, qt.token(), &member)
        .problem(404, None);
    s.post_json(
        &members_path,
        hue.token(),
        &json!({"user_id": user_id, "role": "captain"}),
    )
    .client_error_on("role");
    let added = s.post_json(&members_path, hue.token(), &member).ok_json();
    let m = added["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user_id.as_str())
        .unwrap_or_else(|| panic!("new member not in the answer: {added}"))
        .clone();
    assert_eq!(m["role"], "member");
    assert_eq!(m["username"], "thanhvien.moi.hue");
    let got = s.get_ok(&format!("/api/v1/teams/{team_id}"), &hue);
    assert_eq!(
        ids(got["members"].as_array().unwrap(), "user_id"),
        vec![user_id.clone()]
    );
    // The member sees the team as theirs.
    let new = login_with(&s, "thanhvien.moi.hue", "Thanh-vien-2026");
    let me = s.get_ok("/api/v1/me", &new);
    assert!(
        ids(me["teams"].as_array().unwrap(), "team_id").contains(&team_id),
        "{me}"
    );

    // Removed.
    let member_path = format!("/api/v1/teams/{team_id}/members/{user_id}");
    let r = s.request(Method::DELETE, &member_path, inspector.token(), &[], None);
    r.problem(403, None);
    let r = s.request(Method::DELETE, &member_path, hue.token(), &[], None);
    r.expect(204);
    assert!(r.body.is_empty(), "204 with a body: {}", r.text());
    let got = s.get_ok(&format!("/api/v1/teams/{team_id}"), &hue);
    assert!(
        !ids(got["members"].as_array().unwrap(), "user_id").contains(&user_id),
        "removed member still listed: {got}"
    );
    let me = s.get_ok("/api/v1/me", &new);
    assert!(
        !ids(me["teams"].as_array().unwrap(), "team_id").contains(&team_id),
        "{me}"
    );
    // Removing again: nothing to remove.
    s.request(Method::DELETE, &member_path, hue.token(), &[], None)
        .problem(404, None);
}
