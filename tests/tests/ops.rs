//! Operations endpoints: liveness, metrics, the OpenAPI document and its viewer, unknown routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use doi178_tests::TestServer;

#[test]
fn healthz_metrics_openapi_and_docs() {
    let s = TestServer::start();

    // Liveness with a database check.
    let h = s.get("/healthz", None).ok_json();
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["database"], "ok", "{h}");

    // Prometheus text format, counting the requests made so far.
    let admin = s.login("admin");
    s.get("/api/v1/me", admin.token()).expect(200);
    let m = s.get("/metrics", None);
    m.expect(200);
    assert!(
        m.content_type().starts_with("text/plain"),
        "metrics content type: {}",
        m.content_type()
    );
    let text = m.text();
    assert!(text.contains("# TYPE "), "not Prometheus text:\n{text}");
    assert!(text.contains("# HELP "), "not Prometheus text:\n{text}");
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let value = line.rsplit(' ').next().unwrap();
        assert!(
            value.parse::<f64>().is_ok(),
            "metric line without a number: {line}"
        );
    }
    assert!(
        text.lines()
            .any(|l| !l.starts_with('#') && l.contains("/healthz")),
        "the request to /healthz is not counted:\n{text}"
    );

    // OpenAPI 3 document with every public path.
    let doc = s.get("/api/openapi.json", None).ok_json();
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "OpenAPI version {version}");
    assert!(doc["info"]["title"].is_string());
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/healthz",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/units",
        "/api/v1/units/{id}",
        "/api/v1/establishments",
        "/api/v1/establishments/{id}",
        "/api/v1/teams",
        "/api/v1/teams/{id}",
        "/api/v1/users",
        "/api/v1/checklist-templates",
        "/api/v1/tips",
        "/api/v1/assignments",
        "/api/v1/assignments/{id}",
        "/api/v1/assignments/{id}/release",
        "/api/v1/visits",
        "/api/v1/visits/{id}",
        "/api/v1/visits/{id}/revisions",
        "/api/v1/photos/{id}",
        "/api/v1/sync",
    ] {
        assert!(paths.contains_key(p), "OpenAPI document lacks {p}");
    }
    assert!(
        paths["/api/v1/visits/{id}"]["put"].is_object(),
        "PUT /api/v1/visits/{{id}} missing from the document"
    );
    assert!(
        doc["components"]["securitySchemes"]["bearer"].is_object(),
        "bearer security scheme missing"
    );

    // The interactive viewer.
    let docs = s.get("/api/docs/", None);
    docs.expect(200);
    assert!(
        docs.content_type().starts_with("text/html"),
        "docs content type {}",
        docs.content_type()
    );
    assert!(
        docs.text().to_lowercase().contains("<html"),
        "{}",
        docs.text()
    );

    // Unknown API routes are problems too.
    s.get("/api/v1/no-such-thing", admin.token())
        .problem(404, None);
}

#[test]
fn protected_endpoints_need_a_token() {
    let s = TestServer::start();
    for path in [
        "/api/v1/me",
        "/api/v1/units",
        "/api/v1/establishments",
        "/api/v1/teams",
        "/api/v1/users",
        "/api/v1/tips",
        "/api/v1/assignments",
        "/api/v1/visits",
        "/api/v1/sync",
        "/api/v1/checklist-templates",
    ] {
        let r = s.get(path, None);
        r.problem(401, None);
        assert!(
            r.headers.get("www-authenticate").is_some(),
            "{path}: 401 without WWW-Authenticate"
        );
    }
}
