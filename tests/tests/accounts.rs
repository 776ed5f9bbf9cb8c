//! Administering accounts over the API, on SQLite and PostgreSQL: search and filters, editing,
//! deactivation (sessions closed at once) and reactivation, a password reset to a temporary one
//! that must be changed before anything else, unlocking an account locked by failed sign-ins,
//! every user changing their own password; and the scoping of all of it (provincial staff
//! administer their province's team leaders and inspectors only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use doi178_tests::{Session, TestServer, DEMO_PASSWORD};
use serde_json::{json, Value};

fn user_id(s: &TestServer, who: &Session, username: &str) -> String {
    let list = s.get_ok(&format!("/api/v1/users?q={username}"), who);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("{username} not in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn login(s: &TestServer, username: &str, password: &str) -> (u16, Value) {
    let r = s.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": password}),
    );
    (r.status, r.json())
}

fn token_of(v: &Value) -> String {
    v["access_token"].as_str().unwrap().to_string()
}

#[test]
fn staff_find_edit_deactivate_and_reactivate_accounts_of_their_province() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");

    // Search ignores case and diacritics, filters narrow by role, activity and unit.
    let inspectors = s.get_ok("/api/v1/users?role=inspector", &staff)["items"].clone();
    let all = inspectors.as_array().unwrap();
    assert!(!all.is_empty());
    assert!(all.iter().all(|u| u["role"] == "inspector"));
    assert!(all.iter().all(|u| u["locked"] == false), "{inspectors}");
    let someone = all[0]["display_name"].as_str().unwrap().to_string();
    let folded: String = doi178_shared_fold(&someone);
    let found = s.get_ok(
        &format!(
            "/api/v1/users?q={}",
            doi178_tests::urlencode(&folded.to_uppercase())
        ),
        &staff,
    );
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["display_name"] == someone.as_str()),
        "{folded}: {found}"
    );
    let in_qt = s.get("/api/v1/users?unit=44", Some(&staff.access_token));
    assert_eq!(
        in_qt.status, 404,
        "another province's unit is not the staff's to list"
    );

    let inspector = s.login("kiemtra.hue");
    let id = user_id(&s, &staff, "kiemtra.hue");
    let before = s.get_ok(&format!("/api/v1/users/{id}"), &staff);

    // Edit the name; the role cannot be raised by provincial staff.
    let edit = json!({"display_name": "Lê Thị Kiểm Tra", "role": "inspector",
        "unit_id": before["unit_id"], "agency_id": before["agency_id"]});
    let r = s.put_json(
        &format!("/api/v1/users/{id}"),
        Some(&staff.access_token),
        &edit,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["display_name"], "Lê Thị Kiểm Tra");
    let mut raised = edit.clone();
    raised["role"] = json!("provincial_staff");
    let r = s.put_json(
        &format!("/api/v1/users/{id}"),
        Some(&staff.access_token),
        &raised,
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["field"], "role");

    // A body without its fields is refused naming the field, and nothing changes.
    let r = s.put_json(
        &format!("/api/v1/users/{id}/active"),
        Some(&staff.access_token),
        &json!({"active": false}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let r = s.put_json(
        &format!("/api/v1/users/{id}/active"),
        Some(&staff.access_token),
        &json!({"active": false, "reason": "  "}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "reason");
    s.get("/api/v1/me", Some(&inspector.access_token))
        .expect(200);

    // Deactivation closes the account's sessions at once.
    let r = s.put_json(
        &format!("/api/v1/users/{id}/active"),
        Some(&staff.access_token),
        &json!({"active": false, "reason": "chuyển công tác"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["active"], false);
    s.get("/api/v1/me", Some(&inspector.access_token))
        .expect(401);
    let refreshed = s.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": inspector.refresh_token}),
    );
    assert_eq!(refreshed.status, 401);
    assert_eq!(login(&s, "kiemtra.hue", DEMO_PASSWORD).0, 401);
    let listed = s.get_ok("/api/v1/users?active=false", &staff);
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["id"] == id.as_str()));

    // Reactivated, the account signs in again.
    let r = s.put_json(
        &format!("/api/v1/users/{id}/active"),
        Some(&staff.access_token),
        &json!({"active": true, "reason": "trở lại đội"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(login(&s, "kiemtra.hue", DEMO_PASSWORD).0, 200);

    // Staff administer neither other staff nor accounts of another province.
    let other_staff = user_id(&s, &s.login("admin"), "tinh.quangtri");
    let r = s.put_json(
        &format!("/api/v1/users/{other_staff}/active"),
        Some(&staff.access_token),
        &json!({"active": false, "reason": "x"}),
    );
    assert_eq!(
        r.status, 404,
        "outside the jurisdiction answers as not found"
    );
    let me = s.get_ok("/api/v1/me", &staff)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.post_json(
        &format!("/api/v1/users/{me}/password-reset"),
        Some(&staff.access_token),
        &json!({"reason": "x"}),
    );
    assert_eq!(r.status, 403, "{}", r.text());

    // Nobody deactivates their own account.
    let admin = s.login("admin");
    let admin_id = s.get_ok("/api/v1/me", &admin)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.put_json(
        &format!("/api/v1/users/{admin_id}/active"),
        Some(&admin.access_token),
        &json!({"active": false, "reason": "thử"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "active");

    // Every change is in the audit log with its reason.
    let o = doi178_tests::server_command(&s, &["audit", "verify"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut raw = doi178_tests::Raw::open(s.database_url());
    let summaries = raw.texts(&format!(
        "SELECT COALESCE(summary, '') AS v FROM audit_log WHERE entity_kind = 'user' \
         AND entity_id = '{id}' ORDER BY seq"
    ));
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("active: true → false") && s.ends_with("reason: chuyển công tác")),
        "{summaries:?}"
    );
}

/// Without diacritics, lower case (the tests crate does not depend on `doi178-shared`).
fn doi178_shared_fold(s: &str) -> String {
    const FROM: &str = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ";
    const TO: &str = "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd";
    s.to_lowercase()
        .chars()
        .map(|c| match FROM.chars().position(|f| f == c) {
            Some(i) => TO.chars().nth(i).unwrap(),
            None => c,
        })
        .collect()
}

#[test]
fn a_temporary_password_must_be_changed_before_anything_else() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let id = user_id(&s, &staff, "doitruong.hue");
    let leader = s.login("doitruong.hue");

    let r = s.post_json(
        &format!("/api/v1/users/{id}/password-reset"),
        Some(&staff.access_token),
        &json!({}),
    );
    assert_eq!(r.status, 422, "the reason is required: {}", r.text());
    let r = s.post_json(
        &format!("/api/v1/users/{id}/password-reset"),
        Some(&staff.access_token),
        &json!({"reason": "quên mật khẩu"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = r.json();
    let temporary = answer["temporary_password"].as_str().unwrap().to_string();
    assert_eq!(temporary.len(), 19);
    assert_eq!(answer["user"]["must_change_password"], true);
    // The old sessions closed, the old password no longer works.
    s.get("/api/v1/me", Some(&leader.access_token)).expect(401);
    assert_eq!(login(&s, "doitruong.hue", DEMO_PASSWORD).0, 401);

    // Signed in with the temporary password, only the change is open.
    let (status, v) = login(&s, "doitruong.hue", &temporary);
    assert_eq!(status, 200);
    let token = token_of(&v);
    let r = s.get("/api/v1/establishments", Some(&token));
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "password_change_required");
    let me = s.get("/api/v1/me", Some(&token));
    assert_eq!(me.json()["must_change_password"], true);

    // Wrong current password, weak or unchanged new one: refused naming the field.
    for (body, field, code) in [
        (
            json!({"current_password": "sai mật khẩu rồi", "new_password": "một câu mật khẩu mới dài"}),
            "current_password",
            "wrong_password",
        ),
        (
            json!({"current_password": temporary, "new_password": "ngắn"}),
            "new_password",
            "too_short",
        ),
        (
            json!({"current_password": temporary, "new_password": temporary}),
            "new_password",
            "invalid",
        ),
        (json!({"current_password": temporary}), "new_password", ""),
    ] {
        let r = s.post_json("/api/v1/auth/password", Some(&token), &body);
        assert!(matches!(r.status, 400 | 422), "{body}: {}", r.text());
        let p = r.json();
        assert_eq!(p["field"], field, "{body}: {p}");
        if !code.is_empty() {
            assert_eq!(p["code"], code, "{body}: {p}");
        }
    }
    let r = s.post_json(
        "/api/v1/auth/password",
        Some(&token),
        &json!({"current_password": temporary, "new_password": "sông Hương núi Ngự mùa thu"}),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    // This session goes on, now open to everything again.
    s.get("/api/v1/establishments", Some(&token)).expect(200);
    assert_eq!(
        s.get("/api/v1/me", Some(&token)).json()["must_change_password"],
        false
    );
    assert_eq!(login(&s, "doitruong.hue", &temporary).0, 401);
    assert_eq!(
        login(&s, "doitruong.hue", "sông Hương núi Ngự mùa thu").0,
        200
    );
}

#[test]
fn a_locked_account_is_unlocked_by_staff_and_anyone_changes_their_own_password() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let id = user_id(&s, &staff, "kiemtra.hue");
    let inspector = s.login("kiemtra.hue");
    let other = s.login("kiemtra.hue");

    // Five failed sign-ins lock the account: even the right password is refused.
    for _ in 0..5 {
        assert_eq!(login(&s, "kiemtra.hue", "không phải mật khẩu").0, 401);
    }
    assert_eq!(login(&s, "kiemtra.hue", DEMO_PASSWORD).0, 429);
    let listed = s.get_ok("/api/v1/users?role=inspector", &staff);
    let me = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(me["locked"], true, "{me}");
    // Team members see each other without the lock state.
    let mates = s.get_ok("/api/v1/users", &inspector);
    assert!(mates["items"].as_array().unwrap()[0]
        .get("locked")
        .is_none());

    let r = s.post_json(
        &format!("/api/v1/users/{id}/unlock"),
        Some(&staff.access_token),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["forgotten"].as_u64().unwrap() >= 5);
    assert_eq!(login(&s, "kiemtra.hue", DEMO_PASSWORD).0, 200);

    // The inspector changes their own password: the other sessions end, this one stays.
    let r = s.post_json(
        "/api/v1/auth/password",
        Some(&inspector.access_token),
        &json!({"current_password": DEMO_PASSWORD, "new_password": "đèn lồng phố cổ Hội An"}),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    s.get("/api/v1/me", Some(&inspector.access_token))
        .expect(200);
    s.get("/api/v1/me", Some(&other.access_token)).expect(401);
    assert_eq!(login(&s, "kiemtra.hue", "đèn lồng phố cổ Hội An").0, 200);
    // An inspector administers nobody.
    let r = s.post_json(
        &format!("/api/v1/users/{id}/unlock"),
        Some(&inspector.access_token),
        &json!({}),
    );
    assert_eq!(r.status, 403);
}
