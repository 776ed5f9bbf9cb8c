//! The server side of "the connection was cut mid-upload": the real `doi178-server` binary,
//! a photo PUT through the proxy that drops, resets and stalls the body part-way, then a retry
//! that gets through. The server must keep nothing from the broken attempts and hold the photo
//! exactly once, with the right hash.
//!
//! Needs the server binary: `cargo build -p doi178-server --bin doi178-server` with the same
//! CARGO_TARGET_DIR and profile, or DOI178_SERVER_BIN.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use faultproxy::{Direction, Fault, FaultProxy, Policy};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("DOI178_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir.join(format!("doi178-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p doi178-server --bin doi178-server` first (same \
         CARGO_TARGET_DIR and profile), or set DOI178_SERVER_BIN",
        bin.display()
    );
    bin
}

/// The real server on small demo data in a temporary directory; killed when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let bin = server_bin();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("doi178.sqlite").display().to_string();
        let demo = Command::new(&bin)
            .args(["--database-url", &db, "--data-dir"])
            .arg(dir.path())
            .args(["demo", "--establishments", "20", "--visits", "10"])
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .output()
            .unwrap();
        assert!(
            demo.status.success(),
            "demo: {}",
            String::from_utf8_lossy(&demo.stderr)
        );
        let mut child = Command::new(&bin)
            .args(["--database-url", &db, "--data-dir"])
            .arg(dir.path())
            .args(["serve", "--port", "0", "--workers", "2"])
            .env(
                "DOI178_JWT_SECRET",
                "faultproxy-test-secret-0123456789abcdef",
            )
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .env_remove("DOI178_DEMO")
            .env_remove("DOI178_BIND")
            .env_remove("DOI178_PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("doi178-server listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server did not say where it listens");
        Server {
            child,
            base,
            _dir: dir,
        }
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PNG of noise (barely compressible): about 3 bytes per pixel.
fn photo(side: u32) -> Vec<u8> {
    let mut state: u32 = 0x1780_2025;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
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
    let server = Server::start();
    let direct = Client::builder()
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

    let body = photo(700);
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
        Client::builder()
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
