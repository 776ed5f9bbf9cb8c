//! Sign-in, token refresh with rotation and reuse detection, sign-out, forged tokens, /me.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use doi178_tests::{TestServer, HUE, JWT_SECRET, QUANG_TRI};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

fn refresh(s: &TestServer, token: &str) -> doi178_tests::Resp {
    s.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({ "refresh_token": token }),
    )
}

/// The claims of a token the server issued (payload decoded without verification).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[test]
fn demo_accounts_sign_in_and_me_describes_them() {
    let s = TestServer::start();
    for (user, role, unit) in [
        ("admin", "admin", None),
        ("tinh.hue", "provincial_staff", Some(HUE)),
        ("doitruong.hue", "team_leader", Some(HUE)),
        ("kiemtra.hue", "inspector", Some(HUE)),
        ("tinh.quangtri", "provincial_staff", Some(QUANG_TRI)),
    ] {
        let r = s.post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": user, "password": doi178_tests::DEMO_PASSWORD}),
        );
        let t = r.ok_json();
        assert_eq!(t["token_type"], "Bearer", "{user}: {t}");
        assert!(t["expires_in"].as_i64().unwrap() > 0, "{user}: {t}");
        let access = t["access_token"].as_str().unwrap();
        assert_eq!(
            access.split('.').count(),
            3,
            "{user}: access token is not a JWT"
        );
        assert!(t["refresh_token"].as_str().unwrap().len() >= 32);

        let me = s.get("/api/v1/me", Some(access)).ok_json();
        assert_eq!(me["username"], user, "{me}");
        assert_eq!(me["role"], role, "{me}");
        assert!(me["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
        assert!(me["display_name"].as_str().is_some_and(|n| !n.is_empty()));
        if let Some(unit) = unit {
            assert_eq!(me["unit_id"], unit, "{user}: {me}");
        }
        if user == "doitruong.hue" || user == "kiemtra.hue" {
            let teams = me["teams"].as_array().unwrap();
            assert!(!teams.is_empty(), "{user} is on no team: {me}");
            let want = if user == "doitruong.hue" {
                "leader"
            } else {
                "member"
            };
            assert!(
                teams
                    .iter()
                    .any(|t| t["role"] == want && t["unit_id"] == HUE),
                "{user} should be {want} of the Huế team: {me}"
            );
        }
    }
}

#[test]
fn wrong_password_unknown_user_and_bad_bodies_are_refused() {
    let s = TestServer::start();
    let r = s.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": "kiemtra.hue", "password": "wrong-password"}),
    );
    let p = r.problem(401, Some("invalid_credentials"));
    assert!(!p.to_string().contains("argon2"), "leaks internals: {p}");
    let unknown = s.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": "nobody.here", "password": doi178_tests::DEMO_PASSWORD}),
    );
    unknown.problem(401, Some("invalid_credentials"));
    // The same answer whether or not the account exists.
    assert_eq!(unknown.json()["detail"], p["detail"]);

    // Malformed and mistyped bodies are client errors with a problem body, never 500.
    s.request(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        None,
        &[("Content-Type", "application/json")],
        Some(b"{\"username\": ".to_vec()),
    )
    .problem(400, Some("malformed_json"));
    s.request(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        None,
        &[("Content-Type", "text/plain")],
        Some(b"username=admin".to_vec()),
    )
    .problem(415, None);
    s.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": "not-a-token"}),
    )
    .problem(401, None);
    // Unknown fields are refused, naming the field.
    s.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": "admin", "password": doi178_tests::DEMO_PASSWORD, "otp": "1"}),
    )
    .client_error_on("otp");
}

#[test]
fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let s = TestServer::start();
    let first = s.login("kiemtra.hue");

    let second = refresh(&s, &first.refresh_token).ok_json();
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    let a2 = second["access_token"].as_str().unwrap().to_string();
    assert_ne!(r2, first.refresh_token, "refresh token was not rotated");
    s.get("/api/v1/me", Some(&a2)).expect(200);

    let third = refresh(&s, &r2).ok_json();
    let r3 = third["refresh_token"].as_str().unwrap().to_string();
    let a3 = third["access_token"].as_str().unwrap().to_string();
    assert_ne!(r3, r2);

    // An unrelated session of the same user must survive what follows.
    let other = s.login("kiemtra.hue");

    // Replaying a rotated token: refused, and the whole family is closed.
    refresh(&s, &first.refresh_token).problem(401, None);
    refresh(&s, &r3).problem(401, None);
    s.get("/api/v1/me", Some(&a3)).problem(401, None);

    s.get("/api/v1/me", other.token()).expect(200);
    refresh(&s, &other.refresh_token).expect(200);
}

#[test]
fn logout_revokes_the_session_only() {
    let s = TestServer::start();
    let a = s.login("tinh.hue");
    let b = s.login("tinh.hue");
    s.get("/api/v1/me", a.token()).expect(200);
    let r = s.request(
        reqwest::Method::POST,
        "/api/v1/auth/logout",
        a.token(),
        &[],
        None,
    );
    assert!(
        r.status == 204 || r.status == 200,
        "logout answered {}: {}",
        r.status,
        r.text()
    );
    s.get("/api/v1/me", a.token()).problem(401, None);
    refresh(&s, &a.refresh_token).problem(401, None);
    // The other session is untouched.
    s.get("/api/v1/me", b.token()).expect(200);
    refresh(&s, &b.refresh_token).expect(200);
    // Logging out without a token is refused.
    s.request(
        reqwest::Method::POST,
        "/api/v1/auth/logout",
        None,
        &[],
        None,
    )
    .problem(401, None);
}

#[test]
fn expired_tampered_and_foreign_tokens_are_refused() {
    let s = TestServer::start();
    let session = s.login("kiemtra.hue");
    let claims = claims_of(&session.access_token);
    let now = chrono::Utc::now().timestamp();

    // Control: a token we sign with the test secret and fresh times is accepted, so the refusals
    // below are about what we changed and not about how we sign.
    let mut fresh = claims.clone();
    fresh["iat"] = json!(now - 5);
    fresh["exp"] = json!(now + 300);
    fresh["jti"] = json!(uuid::Uuid::new_v4());
    let good = sign(&fresh, JWT_SECRET);
    s.get("/api/v1/me", Some(&good)).expect(200);

    // Expired.
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 3600);
    expired["exp"] = json!(now - 60);
    let r = s.get("/api/v1/me", Some(&sign(&expired, JWT_SECRET)));
    r.problem(401, None);
    assert!(r.headers.get("www-authenticate").is_some());

    // Tampered signature: change one character in the middle of it.
    let mut parts: Vec<String> = session
        .access_token
        .split('.')
        .map(str::to_string)
        .collect();
    let mut sig: Vec<char> = parts[2].chars().collect();
    let mid = sig.len() / 2;
    sig[mid] = if sig[mid] == 'A' { 'B' } else { 'A' };
    parts[2] = sig.into_iter().collect();
    s.get("/api/v1/me", Some(&parts.join(".")))
        .problem(401, None);

    // Tampered payload (role raised to admin), original signature.
    let mut raised = claims.clone();
    raised["role"] = json!("admin");
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&raised).unwrap());
    let orig: Vec<&str> = session.access_token.split('.').collect();
    let swapped = format!("{}.{}.{}", orig[0], forged_payload, orig[2]);
    s.get("/api/v1/me", Some(&swapped)).problem(401, None);

    // Signed with another secret.
    let other = sign(&fresh, "another-secret-another-secret-another-secret");
    s.get("/api/v1/me", Some(&other)).problem(401, None);

    // alg: none.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&fresh).unwrap());
    s.get("/api/v1/me", Some(&format!("{header}.{body}.")))
        .problem(401, None);

    // Wrong audience, and garbage.
    let mut aud = fresh.clone();
    aud["aud"] = json!("someone-else");
    s.get("/api/v1/me", Some(&sign(&aud, JWT_SECRET)))
        .problem(401, None);
    s.get("/api/v1/me", Some("not.a.jwt")).problem(401, None);
    s.request(
        reqwest::Method::GET,
        "/api/v1/me",
        None,
        &[("Authorization", "Basic YWRtaW46ZG9pMTc4LWRlbW8=")],
        None,
    )
    .problem(401, None);
}
