//! Photos in an S3-compatible store: a real S3 server (`s3s-fs`, from crates.io; it keeps its
//! objects in a directory, so it can be stopped and started again) on loopback, the real server
//! binary with `photo_store = "s3"`.
//!
//! The phone's upload lands in the bucket (checked with an S3 client) and comes back through the
//! API unchanged, behind the same authorisation; the store going away in the middle of an upload
//! gives the phone a 503 problem with `Retry-After` and records nothing, and once the store is
//! back the phone's retry stores exactly one photo; a store that hangs is bounded by the timeout;
//! `backup` lists the photos (which stay in S3)
//! with their hashes and `restore` refuses a changed one.
//!
//! `s3s-fs` comes from `DOI178_S3S_FS` or `~/.cache/doi178/tools/bin/s3s-fs` (scripts/ci/s3.sh
//! installs it). Without it the tests say so and pass, unless `DOI178_S3_REQUIRED=1` (as in CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use doi178_tests::storage::*;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::Value;

const BUCKET: &str = "doi178-photos";

fn s3s_fs() -> Option<PathBuf> {
    let p = std::env::var("DOI178_S3S_FS")
        .ok()
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| PathBuf::from(h).join(".cache/doi178/tools/bin/s3s-fs"))
        })?;
    p.is_file().then_some(p)
}

/// `None` (after saying why) when s3s-fs is missing and not required.
fn s3s_fs_or_skip() -> Option<PathBuf> {
    match s3s_fs() {
        Some(p) => Some(p),
        None if std::env::var("DOI178_S3_REQUIRED").is_ok_and(|v| v == "1") => {
            panic!("s3s-fs is not installed (DOI178_S3_REQUIRED=1): run scripts/ci/s3.sh")
        }
        None => {
            eprintln!("s3s-fs is not installed: S3 test skipped (scripts/ci/s3.sh installs it)");
            None
        }
    }
}

/// The S3 server: a child process on a fixed loopback port over a directory that outlives it.
struct S3Server {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    key: String,
    secret: String,
    child: Option<Child>,
}

impl S3Server {
    fn new(bin: PathBuf, root: &Path) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = S3Server {
            bin,
            root: root.to_path_buf(),
            port,
            key: format!("AK{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
            secret: uuid::Uuid::new_v4().simple().to_string(),
            child: None,
        };
        s.start();
        s
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new(&self.bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", &self.key, "--secret-key", &self.secret])
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `kill SIGNAL` (`-STOP`, `-CONT`) to the S3 server.
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("s3s-fs is running").id();
        let ok = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal} {pid}");
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "s3s-fs still listening after kill"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's settings: environment only, as a deployment would pass secrets.
    fn env(&self) -> Vec<(String, String)> {
        [
            ("DOI178_PHOTO_STORE", "s3".to_string()),
            ("DOI178_S3_BUCKET", BUCKET.to_string()),
            ("DOI178_S3_ENDPOINT", self.endpoint()),
            ("DOI178_S3_REGION", "us-east-1".to_string()),
            ("DOI178_S3_TIMEOUT_SECS", "3".to_string()),
            ("AWS_ACCESS_KEY_ID", self.key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// A plain S3 client on the bucket, to look at what the server stored.
    fn client(&self) -> S3Client {
        doi178_tests::install_tls_provider();
        let store = AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_access_key_id(&self.key)
            .with_secret_access_key(&self.secret)
            .build()
            .unwrap();
        S3Client {
            store,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct S3Client {
    store: AmazonS3,
    rt: tokio::runtime::Runtime,
}

fn key(id: &str, thumb: bool) -> ObjectPath {
    let simple = id.replace('-', "");
    let suffix = if thumb { "thumb.jpg" } else { "jpg" };
    ObjectPath::from(format!("photos/{}/{simple}.{suffix}", &simple[..2]))
}

impl S3Client {
    fn get(&self, id: &str, thumb: bool) -> Option<Vec<u8>> {
        self.rt.block_on(async {
            match self.store.get(&key(id, thumb)).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("S3 get {id}: {e}"),
            }
        })
    }

    fn put(&self, id: &str, thumb: bool, bytes: &[u8]) {
        self.rt
            .block_on(
                self.store
                    .put(&key(id, thumb), PutPayload::from(bytes.to_vec())),
            )
            .unwrap();
    }

    /// Every key below `photos/<xx>/` that belongs to photo `id`.
    fn keys_of(&self, id: &str) -> Vec<String> {
        let simple = id.replace('-', "");
        let prefix = ObjectPath::from(format!("photos/{}", &simple[..2]));
        let listed = self
            .rt
            .block_on(self.store.list_with_delimiter(Some(&prefix)))
            .unwrap();
        listed
            .objects
            .into_iter()
            .map(|o| o.location.to_string())
            .filter(|k| k.contains(&simple))
            .collect()
    }
}

/// A request body that sends its first half, says so, and waits for the go-ahead before the rest.
struct GatedBody {
    data: Vec<u8>,
    pos: usize,
    half: usize,
    reached: Option<mpsc::Sender<()>>,
    gate: mpsc::Receiver<()>,
}

impl Read for GatedBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.half {
            if let Some(tx) = self.reached.take() {
                let _ = tx.send(());
                let _ = self.gate.recv_timeout(Duration::from_secs(60));
            }
        }
        let end = if self.pos < self.half {
            self.half
        } else {
            self.data.len()
        };
        let n = buf.len().min(end - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn photos_in_s3_survive_the_store_going_away_mid_upload() {
    let Some(bin) = s3s_fs_or_skip() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut s3 = S3Server::new(bin, &work.path().join("s3"));
    let env = s3.env();
    let s3c = s3.client();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = TestDb::new(&data);
    demo(&data, &db.url, &env);
    let server = Server::start(&data, &db.url, &env);
    let token = server.login("kiemtra.hue");
    let outsider = server.login("tinh.quangtri");
    let kit = VisitKit::find(&server, &token);

    // 1. The phone's upload is in the bucket and comes back through the API unchanged.
    let p1 = uuid::Uuid::new_v4().to_string();
    let (status, stored) = server.put_photo(&token, &p1, &jpeg(1));
    assert_eq!(status, 201, "{stored}");
    let in_s3 = s3c.get(&p1, false).expect("the photo is not in the bucket");
    assert_eq!(sha256_hex(&in_s3), stored["sha256"].as_str().unwrap());
    assert!(
        s3c.get(&p1, true).is_some(),
        "the thumbnail is not in the bucket"
    );
    assert!(
        !data.join("photos").join(&p1.replace('-', "")[..2]).exists(),
        "an S3 deployment wrote the photo to the local directory"
    );
    let (status, bytes) = server.get_bytes(&format!("/api/v1/photos/{p1}"), &token);
    assert_eq!(status, 200);
    assert_eq!(
        bytes, in_s3,
        "GET returns other bytes than the bucket holds"
    );
    // Still behind the authorisation check: another province's staff get "not found".
    let (status, _) = server.get_bytes(&format!("/api/v1/photos/{p1}"), &outsider);
    assert_eq!(status, 404);
    // The demo's photos went to S3 as well, and are served from there.
    let demo_visits = server.get_json("/api/v1/visits?limit=100", &token);
    let demo_photo = demo_visits["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v["photo_ids"].as_array().cloned().unwrap_or_default())
        .next()
        .and_then(|p| p.as_str().map(str::to_string));
    if let Some(p) = demo_photo {
        let (status, bytes) = server.get_bytes(&format!("/api/v1/photos/{p}"), &token);
        assert_eq!(status, 200, "demo photo {p}");
        assert_eq!(Some(bytes), s3c.get(&p, false));
    }

    // 2. A visit whose photo is still to come: evidence pending.
    let p2 = uuid::Uuid::new_v4().to_string();
    let visit_id = uuid::Uuid::new_v4().to_string();
    let (status, v) = server.put_visit(
        &token,
        &visit_id,
        &kit.visit(std::slice::from_ref(&p2), "7/BB"),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["evidence_pending"], true, "{v}");

    // 3. The store goes away while the phone is sending the photo.
    let photo = jpeg(2);
    let (reached_tx, reached_rx) = mpsc::channel();
    let (gate_tx, gate_rx) = mpsc::channel();
    let body = GatedBody {
        half: photo.len() / 2,
        data: photo.clone(),
        pos: 0,
        reached: Some(reached_tx),
        gate: gate_rx,
    };
    let upload = {
        let client = server.client.clone();
        let url = server.url(&format!("/api/v1/photos/{p2}"));
        let token = token.clone();
        let digest = doi178_tests::content_digest(&photo);
        let len = photo.len() as u64;
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = client
                .put(url)
                .bearer_auth(token)
                .header("Content-Type", "image/jpeg")
                .header("Content-Digest", digest)
                .body(reqwest::blocking::Body::sized(body, len))
                .send()
                .unwrap();
            let status = r.status().as_u16();
            let retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let ctype = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body: Value = r.json().unwrap_or(Value::Null);
            (status, retry_after, ctype, body, started.elapsed())
        })
    };
    reached_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the upload never got half way");
    s3.stop();
    gate_tx.send(()).unwrap();
    let (status, retry_after, ctype, problem, took) = upload.join().unwrap();
    assert_eq!(
        status,
        503,
        "upload with the store gone: {problem}\n{}",
        server.output()
    );
    assert!(
        retry_after
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some(),
        "503 without a Retry-After in seconds: {retry_after:?}"
    );
    assert!(ctype.starts_with("application/problem+json"), "{ctype}");
    assert_eq!(problem["code"], "unavailable", "{problem}");
    assert_eq!(problem["status"], 503, "{problem}");
    assert!(
        took < Duration::from_secs(30),
        "the phone waited {took:?} for the answer"
    );
    // Nothing was recorded as complete.
    let v = server.get_json(&format!("/api/v1/visits/{visit_id}"), &token);
    assert_eq!(v["evidence_pending"], true, "{v}");
    assert_eq!(v["pending_photo_ids"], serde_json::json!([p2]), "{v}");
    // Reading a photo while the store is away: 503 as well, never a 500 or a hang.
    let r = server
        .client
        .get(server.url(&format!("/api/v1/photos/{p1}")))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().get("retry-after").is_some());
    // The database is not the store: the rest of the API still works.
    server.get_json("/api/v1/me", &token);

    // 4. The store comes back (same directory, same port): the phone's retry succeeds, once.
    s3.start();
    let (status, (status2, again)) = {
        let (status, stored) = server.put_photo(&token, &p2, &photo);
        assert_eq!(status, 201, "retry after the store came back: {stored}");
        let in_s3 = s3c
            .get(&p2, false)
            .expect("retried photo not in the bucket");
        assert_eq!(sha256_hex(&in_s3), stored["sha256"].as_str().unwrap());
        assert_eq!(
            stored["upload_sha256"].as_str().unwrap(),
            sha256_hex(&photo),
            "the server's hash of the upload"
        );
        (status, server.put_photo(&token, &p2, &photo))
    };
    assert_eq!(status, 201);
    assert_eq!(status2, 200, "a second retry is a replay: {again}");
    let mut keys = s3c.keys_of(&p2);
    keys.sort();
    assert_eq!(
        keys.len(),
        2,
        "exactly the photo and its thumbnail: {keys:?}"
    );
    let (status, bytes) = server.get_bytes(&format!("/api/v1/photos/{p2}"), &token);
    assert_eq!(status, 200);
    assert_eq!(sha256_hex(&bytes), again["sha256"].as_str().unwrap());
    let v = server.get_json(&format!("/api/v1/visits/{visit_id}"), &token);
    assert_eq!(v["evidence_pending"], false, "{v}");

    // 5. A store that hangs instead of refusing (the process stopped, its socket still
    // accepting): the upload is bounded by the configured timeout, 503 again, then fine.
    s3.signal("-STOP");
    let p3 = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let (status, problem) = server.put_photo(&token, &p3, &jpeg(3));
    let took = started.elapsed();
    s3.signal("-CONT");
    assert_eq!(status, 503, "upload to a hung store: {problem}");
    assert_eq!(problem["code"], "unavailable", "{problem}");
    assert!(
        took < Duration::from_secs(20),
        "a hung store held the upload for {took:?}"
    );
    let (status, bytes) = server.get_bytes(&format!("/api/v1/photos/{p3}"), &token);
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&bytes));
    let (status, stored) = server.put_photo(&token, &p3, &jpeg(3));
    assert_eq!(status, 201, "retry once the store answers again: {stored}");
    assert_eq!(
        sha256_hex(&s3c.get(&p3, false).unwrap()),
        stored["sha256"].as_str().unwrap()
    );

    // 6. backup: the photos stay in S3, the manifest lists their hashes; restore checks them.
    let out = work.path().join("backup");
    cli_ok(
        &data,
        &db.url,
        &env,
        &["backup", "--out", out.to_str().unwrap()],
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["photo_store"]
            .as_str()
            .unwrap()
            .starts_with(&format!("s3://{BUCKET}/")),
        "{}",
        manifest["photo_store"]
    );
    let photos = manifest["photos"].as_array().unwrap();
    assert_eq!(photos.len(), photo_rows(&db.url).len() * 2);
    for p in photos {
        assert!(
            p["path"].is_null(),
            "an S3 photo copied into the backup: {p}"
        );
        let thumb = p["variant"] == "thumbnail";
        let bytes = s3c.get(p["id"].as_str().unwrap(), thumb).unwrap();
        assert_eq!(sha256_hex(&bytes), p["sha256"].as_str().unwrap());
    }
    assert!(!out.join("photos").exists());
    let r1 = work.path().join("restored");
    let r1_db = TestDb::new(&r1);
    cli_ok(
        &r1,
        &r1_db.url,
        &env,
        &["restore", "--from", out.to_str().unwrap()],
    );
    // Without the S3 settings the restore says where the photos are.
    let r2 = work.path().join("restored-local");
    let r2_db = TestDb::new(&r2);
    cli_fails(
        &r2,
        &r2_db.url,
        &[],
        &["restore", "--from", out.to_str().unwrap()],
        "stayed in",
    );
    // A photo changed in the bucket since the backup: refused.
    s3c.put(&p1, false, &jpeg(99));
    let r3 = work.path().join("restored-tampered");
    let r3_db = TestDb::new(&r3);
    cli_fails(
        &r3,
        &r3_db.url,
        &env,
        &["restore", "--from", out.to_str().unwrap()],
        "does not match the manifest",
    );
}
