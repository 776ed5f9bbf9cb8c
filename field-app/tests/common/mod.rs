//! Starts the real `doi178-server` binary on a fresh copy of demo data (port 0) and gives the
//! tests a plain HTTP client to check what the server holds. Minimal copy of the start logic of
//! `tests/tests/common/mod.rs` (SQLite backend only).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use doi178_field::{FieldCore, Options, RetryPolicy, Settings, SignIn};
use reqwest::blocking::Client;
use serde_json::Value;

pub const JWT_SECRET: &str = "doi178-field-tests-secret-0123456789abcdef";
pub const PASSWORD: &str = "doi178-demo";
pub const INSPECTOR: &str = "kiemtra.hue";

/// `DOI178_SERVER_BIN`, or `doi178-server` beside the test's `deps` directory.
pub fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("DOI178_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join(format!("doi178-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: `cargo build -p doi178-server --bin doi178-server` first (same target dir)",
        bin.display()
    );
    bin
}

/// Demo data generated once per test process, copied for each server.
fn template() -> &'static PathBuf {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        // Kept beside the server binary, per build of it, and reused by later runs.
        let bin = server_bin();
        let meta = std::fs::metadata(&bin).unwrap();
        let stamp = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let root = bin.parent().unwrap().join("doi178-field-templates");
        let ready = root.join(format!("demo-{}-{stamp}", meta.len()));
        if ready.join("ready").is_file() {
            return ready;
        }
        let dir = root.join(format!("build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("doi178.sqlite");
        let out = Command::new(server_bin())
            .args(["--database-url", db.to_str().unwrap(), "--data-dir"])
            .arg(&dir)
            .args(["demo", "--establishments", "300", "--visits", "100"])
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(dir.join("ready"), b"ok").unwrap();
        // Older templates (earlier server builds) are of no use any more.
        for e in std::fs::read_dir(&root).unwrap().flatten() {
            if e.path() != dir && e.file_name().to_string_lossy().starts_with("demo-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        if std::fs::rename(&dir, &ready).is_err() {
            // Another test process finished first: use its copy.
            let _ = std::fs::remove_dir_all(&dir);
        }
        ready
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_name() == "ready" {
            continue;
        }
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

pub struct Server {
    child: Child,
    pub base: String,
    _data: tempfile::TempDir,
    log: Arc<Mutex<String>>,
    pub http: Client,
}

impl Server {
    pub fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        copy_dir(template(), data.path());
        let db = data.path().join("doi178.sqlite");
        let mut child = Command::new(server_bin())
            .args(["--database-url", db.to_str().unwrap(), "--data-dir"])
            .arg(data.path())
            .args(["serve", "--port", "0", "--workers", "2"])
            .env("DOI178_JWT_SECRET", JWT_SECRET)
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .env_remove("DOI178_DEMO")
            .env_remove("DOI178_BIND")
            .env_remove("DOI178_PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().unwrap();
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                l.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let l = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                l.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        let base = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|e| panic!("server did not start ({e}): {}", log.lock().unwrap()));
            if let Some(a) = line.trim().strip_prefix("doi178-server listening on ") {
                break a.trim().trim_end_matches('/').to_string();
            }
        };
        Server {
            child,
            base,
            _data: data,
            log,
            http: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    pub fn output(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Signs in over plain HTTP (another client than the phone): (access, refresh).
    pub fn login(&self, user: &str) -> (String, String) {
        let v: Value = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": user, "password": PASSWORD}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        (
            v["access_token"].as_str().unwrap().to_string(),
            v["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// GET as `token`: (status, JSON or Null).
    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// POST JSON as `token`: (status, JSON or Null).
    pub fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub fn get_bytes(&self, path: &str, token: &str) -> (u16, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    }

    /// Every visit of a team the server lists (all pages).
    pub fn team_visits(&self, team: &str, token: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/visits?team={team}&limit=200");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(c)));
            }
            let (s, v) = self.get(&path, token);
            assert_eq!(s, 200, "{path}: {v}");
            out.extend(v["items"].as_array().unwrap().iter().cloned());
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Short retries so that tests of failures do not wait long.
pub fn fast_options() -> Options {
    Options {
        retry: RetryPolicy {
            max_attempts: 3,
            base_ms: 20,
            cap_ms: 200,
        },
        timeout: Duration::from_secs(30),
    }
}

pub fn open(dir: &Path, base: &str) -> FieldCore {
    FieldCore::open_with(
        dir,
        Some(Settings {
            server_url: base.to_string(),
            ..Settings::default()
        }),
        fast_options(),
    )
    .unwrap()
}

pub fn sign_in(core: &FieldCore, user: &str) -> doi178_field::SignInResult {
    core.sign_in(SignIn {
        username: user.into(),
        password: PASSWORD.into(),
    })
    .unwrap()
}

/// A small JPEG, different for each `n`.
pub fn jpeg(n: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([
            (x * 4 + n * 37) as u8,
            (y * 5 + n * 11) as u8,
            ((x + y + n) * 3) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

pub fn sha_hex(b: &[u8]) -> String {
    doi178_field::shared::photo::Sha256Digest::of(b).to_hex()
}
