//! The dashboard's sessions over real HTTP, on SQLite and PostgreSQL: the sign-in form, the session
//! cookie, anti-forgery tokens, sign-out, safe redirects, static assets and HTML errors. (What the
//! pages show is tested in a real browser: tests/browser.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use doi178_tests::{session_cookie, Browser, TestServer, DEMO_PASSWORD};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::Method;

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    form_body(fields).into_bytes()
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", doi178_tests::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn post_login(server: &TestServer, fields: &[(&str, &str)]) -> doi178_tests::Resp {
    server.request(
        Method::POST,
        "/login",
        None,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form(fields)),
    )
}

fn sign_in(server: &TestServer, username: &str) -> Browser {
    server.sign_in_browser(username, DEMO_PASSWORD)
}

#[test]
fn the_sign_in_form_refuses_a_wrong_password_without_a_session() {
    let server = TestServer::start();
    let page = server.get("/", None);
    page.expect(200);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text().contains("Đăng nhập"), "{}", page.text());

    let resp = post_login(
        &server,
        &[("username", "tinh.hue"), ("password", "not-the-password")],
    );
    resp.expect(401);
    assert!(resp.text().contains("Sai tên đăng nhập hoặc mật khẩu"));
    assert!(session_cookie(&resp).is_none());

    let empty = post_login(&server, &[("username", ""), ("password", "")]);
    empty.expect(422);
    assert!(session_cookie(&empty).is_none());
}

#[test]
fn signing_in_sets_a_protected_cookie_and_lands_on_the_roles_home() {
    let server = TestServer::start();
    for (user, home) in [
        ("tinh.hue", "/map"),
        ("admin", "/map"),
        ("doitruong.hue", "/leader"),
        ("kiemtra.hue", "/inspector"),
    ] {
        let resp = post_login(&server, &[("username", user), ("password", DEMO_PASSWORD)]);
        resp.expect(303);
        assert_eq!(resp.headers[LOCATION], home, "{user}");
        let cookie = session_cookie(&resp).unwrap();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        // Signed in, `/` goes home instead of showing the form.
        let value = cookie.split(';').next().unwrap();
        let again = server.request(Method::GET, "/", None, &[("Cookie", value)], None);
        again.expect(303);
        assert_eq!(again.headers[LOCATION], home);
    }
}

#[test]
fn after_sign_in_only_same_site_paths_are_followed() {
    let server = TestServer::start();
    for (next, expected) in [
        ("/establishments?q=karaoke", "/establishments?q=karaoke"),
        ("//evil.example/", "/map"),
        ("https://evil.example/", "/map"),
    ] {
        let resp = post_login(
            &server,
            &[
                ("username", "tinh.hue"),
                ("password", DEMO_PASSWORD),
                ("next", next),
            ],
        );
        resp.expect(303);
        assert_eq!(resp.headers[LOCATION], expected, "next={next}");
    }
}

#[test]
fn pages_need_a_session_and_send_the_user_back_after_sign_in() {
    let server = TestServer::start();
    let resp = server.get("/map?year=2026", None);
    resp.expect(303);
    assert_eq!(resp.headers[LOCATION], "/?next=%2Fmap%3Fyear%3D2026");
    // A forged or expired cookie is the same as none.
    let forged = server.request(
        Method::GET,
        "/map",
        None,
        &[("Cookie", "doi178_session=forged-value")],
        None,
    );
    forged.expect(303);
    // htmx requests are told to reload the page at the sign-in form.
    let htmx = server.request(Method::GET, "/map", None, &[("HX-Request", "true")], None);
    htmx.expect(401);
    assert!(htmx.headers.contains_key("HX-Redirect"));
}

#[test]
fn changes_need_the_anti_forgery_token_and_sign_out_ends_the_session() {
    let server = TestServer::start();
    let b = sign_in(&server, "tinh.hue");
    let without = server.request(
        Method::POST,
        "/logout",
        None,
        &[("Cookie", &b.cookie)],
        None,
    );
    without.expect(403);
    let wrong = server.request(
        Method::POST,
        "/logout",
        None,
        &[("Cookie", &b.cookie), ("X-CSRF-Token", "0000")],
        None,
    );
    wrong.expect(403);
    // Still signed in after the refused attempts.
    let home = server.request(Method::GET, "/", None, &[("Cookie", &b.cookie)], None);
    home.expect(303);

    let out = server.request(
        Method::POST,
        "/logout",
        None,
        &[
            ("Cookie", &b.cookie),
            ("X-CSRF-Token", &b.csrf),
            ("HX-Request", "true"),
        ],
        None,
    );
    out.expect(200);
    assert_eq!(out.headers["HX-Redirect"], "/");
    let cleared = out
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("doi178_session=;"));
    assert!(cleared, "the cookie is cleared");
    // The old cookie is dead on the server, not only in the browser.
    let replay = server.request(Method::GET, "/", None, &[("Cookie", &b.cookie)], None);
    replay.expect(200);
    assert!(replay.text().contains("Đăng nhập"));
}

#[test]
fn a_session_cookie_cannot_be_swapped_for_api_tokens() {
    let server = TestServer::start();
    let b = sign_in(&server, "tinh.hue");
    let value = b.cookie.trim_start_matches("doi178_session=");
    let resp = server.post_json(
        "/api/v1/auth/refresh",
        None,
        &serde_json::json!({ "refresh_token": value }),
    );
    resp.problem(401, Some("invalid_refresh_token"));
    // Nor is a cookie accepted where the API wants a bearer token.
    let api = server.request(
        Method::GET,
        "/api/v1/me",
        None,
        &[(COOKIE.as_str(), &b.cookie)],
        None,
    );
    api.problem(401, None);
}

#[test]
fn the_language_switch_is_remembered_and_redirects_only_inside_the_site() {
    let server = TestServer::start();
    let resp = server.get("/lang/en?next=%2F", None);
    resp.expect(303);
    assert_eq!(resp.headers[LOCATION], "/");
    let cookie = resp.headers[SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("lang=en"), "{cookie}");
    let page = server.request(Method::GET, "/", None, &[("Cookie", "lang=en")], None);
    assert!(page.text().contains("Sign in"));
    assert!(page.text().contains("<html lang=\"en\">"));
    let evil = server.get("/lang/vi?next=https%3A%2F%2Fevil.example", None);
    assert_eq!(evil.headers[LOCATION], "/");
    let bad = server.get("/lang/fr", None);
    bad.expect(400);
}

#[test]
fn static_assets_are_served_with_validators_and_unknown_pages_are_html_404s() {
    let server = TestServer::start();
    let js = server.get("/static/vendor/leaflet.js", None);
    js.expect(200);
    assert!(
        js.content_type().contains("javascript"),
        "{}",
        js.content_type()
    );
    let etag = js.headers["etag"].to_str().unwrap().to_string();
    let again = server.request(
        Method::GET,
        "/static/vendor/leaflet.js",
        None,
        &[("If-None-Match", &etag)],
        None,
    );
    again.expect(304);
    let geo = server.get("/static/geo/communes-46.geojson", None);
    geo.expect(200);
    let features = geo.json()["features"].as_array().unwrap().len();
    assert!(features >= 40, "Huế has 40 communes, got {features}");
    server.get("/static/../Cargo.toml", None).expect(404);
    server.get("/static/geo/build.sh", None).expect(404);

    let page = server.get("/no-such-page", None);
    page.expect(404);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text().contains("Không tìm thấy"));
    // The API keeps its JSON problems.
    server
        .get("/api/v1/no-such-route", None)
        .problem(404, Some("no_such_route"));
}
