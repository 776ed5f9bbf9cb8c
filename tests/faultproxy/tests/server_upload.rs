//! The server side of "the connection was cut mid-upload": the real `doi178-server` binary,
//! a photo PUT through the proxy that drops, resets and stalls the body part-way, then a retry
//! that gets through. The server must keep nothing from the broken attempts and hold the photo
//! exactly once, with the right hash.
//!
//! Needs the server binary: `cargo build -p doi178-server --bin doi178-server` with the same
//! CARGO_TARGET_DIR and profile, or DOI178_SERVER_BIN.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use doi178_tests::{noise_png, TestServer};
use faultproxy::{Direction, Fault, FaultProxy, Policy};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The real server on small demo data in a temporary directory; killed when dropped.
fn start_server() -> TestServer {
    TestServer::builder()
        .demo(20, 10)
        .sqlite_only()
        .jwt_secret("faultproxy-test-secret-0123456789abcdef")
        .inherit_stderr()
        .ready_timeout(Duration::from_secs(60))
        .start()
}

fn photos_stored(client: &Client, base: &str, result: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let prefix = format!("doi178_photos_stored_total{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0)
}

#[test]
fn a_photo_upload_cut_mid_body_leaves_nothing_and_the_retry_stores_it_once() {
    let server = start_server();
    let direct = doi178_tests::http_client()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let login: Value = direct
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": "kiemtra.hue", "password": "doi178-demo"}))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();

    let body = noise_png(700);
    assert!(body.len() > 1_000_000, "{} bytes", body.len());
    let digest = Sha256::digest(&body);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let content_digest = format!(
        "sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    let id = uuid::Uuid::new_v4();
    let half = body.len() as u64 / 2;

    // Connection by connection, each once as many bytes as half the body have gone up (request
    // head included, so mid-body): close, reset, stall for good; then everything passes.
    let proxy = FaultProxy::start(
        ("127.0.0.1", server.port()),
        Policy::Schedule(vec![
            Fault::Drop {
                dir: Direction::Upstream,
                after: half,
            },
            Fault::Reset {
                dir: Direction::Upstream,
                after: half,
            },
            Fault::Stall {
                dir: Direction::Upstream,
                after: half,
                duration: None,
            },
        ]),
    )
    .unwrap();
    let put = |timeout: Duration| {
        // A fresh client each time: no connection reuse across attempts.
        doi178_tests::http_client()
            .timeout(timeout)
            .build()
            .unwrap()
            .put(format!("{}/api/v1/photos/{id}", proxy.url()))
            .bearer_auth(&token)
            .header("Content-Type", "image/png")
            .header("Content-Digest", &content_digest)
            .header("X-Taken-At", "2026-11-25T09:30:00+07:00")
            .body(body.clone())
            .send()
    };

    for (attempt, what) in ["drop", "reset", "stall"].iter().enumerate() {
        let started = Instant::now();
        let result = put(Duration::from_secs(3));
        assert!(
            result.is_err(),
            "{what}: the cut upload must fail for the client, got {:?}",
            result.map(|r| r.status())
        );
        if *what == "stall" {
            assert!(result.unwrap_err().is_timeout(), "stall: a timeout");
            assert!(started.elapsed() >= Duration::from_millis(2900));
        }
        // Nothing of it on the server.
        let get = direct
            .get(format!("{}/api/v1/photos/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(get.status(), StatusCode::NOT_FOUND, "{what}");
        assert!(proxy.wait_idle(Duration::from_secs(10)), "{what}");
        let c = &proxy.stats().per_connection[attempt];
        assert!(c.fault_injected, "{what}");
        assert_eq!(c.bytes_upstream, half, "{what}: exactly half went up");
    }
    assert_eq!(photos_stored(&direct, &server.base, "created"), 0);

    // The retry gets through: stored once, with the hash of the bytes sent.
    let first = put(Duration::from_secs(30)).unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let stored: Value = first.json().unwrap();
    assert_eq!(stored["id"], id.to_string());
    assert_eq!(stored["upload_sha256"], hex);
    // Sending it again (the phone did not see the answer) changes nothing.
    let again = put(Duration::from_secs(30)).unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let replayed: Value = again.json().unwrap();
    assert_eq!(replayed, stored);

    let jpeg = direct
        .get(format!("{}/api/v1/photos/{id}", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .unwrap();
    let stored_hex: String = Sha256::digest(&jpeg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored["sha256"], stored_hex);
    assert_eq!(stored["size_bytes"], jpeg.len());
    assert_eq!(photos_stored(&direct, &server.base, "created"), 1);
    assert_eq!(photos_stored(&direct, &server.base, "replayed"), 1);

    assert!(proxy.wait_idle(Duration::from_secs(10)));
    let stats = proxy.stats();
    assert_eq!(stats.connections, 5);
    assert_eq!(stats.faults_injected, 3);
    for c in &stats.per_connection[3..] {
        assert!(c.bytes_upstream > body.len() as u64);
        assert!(c.bytes_downstream > 0);
    }
}
