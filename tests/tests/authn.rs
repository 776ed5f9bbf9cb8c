//! Authentication hardening over real HTTP, on SQLite and PostgreSQL: throttling of failed
//! sign-ins (per account and per client address, API and dashboard form, trusted proxies, state in
//! the database shared by replicas), forged and foreign access tokens, refresh rotation with reuse
//! detection and its grace window, and the password policy for new accounts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use doi178_tests::{Resp, Session, TestServer, DEMO_PASSWORD, JWT_SECRET};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn login(s: &TestServer, username: &str, password: &str) -> Resp {
    s.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": password}),
    )
}

fn login_from(s: &TestServer, forwarded_for: &str, username: &str, password: &str) -> Resp {
    s.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", forwarded_for),
        ],
        Some(serde_json::to_vec(&json!({"username": username, "password": password})).unwrap()),
    )
}

fn form_login(s: &TestServer, username: &str, password: &str, lang: Option<&str>) -> Resp {
    let body = format!(
        "username={}&password={}",
        doi178_tests::urlencode(username),
        doi178_tests::urlencode(password)
    );
    let cookie = lang.map(|l| format!("lang={l}"));
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(c) = &cookie {
        headers.push(("Cookie", c.as_str()));
    }
    s.request(
        Method::POST,
        "/login",
        None,
        &headers,
        Some(body.into_bytes()),
    )
}

fn refresh(s: &TestServer, token: &str) -> Resp {
    s.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({ "refresh_token": token }),
    )
}

fn pair(v: &Value) -> (String, String) {
    (
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string(),
        v["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_string(),
    )
}

fn retry_after(r: &Resp) -> u64 {
    r.headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After: {}", r.text()))
        .to_str()
        .unwrap()
        .parse::<u64>()
        .unwrap_or_else(|e| panic!("Retry-After is not a number of seconds: {e}"))
}

/// Asserts a throttled API answer: 429, `Retry-After` within the window, a problem body.
fn assert_throttled(r: &Resp, window: u64) -> Value {
    let p = r.problem(429, Some("too_many_sign_in_failures"));
    let secs = retry_after(r);
    assert!(
        (1..=window).contains(&secs),
        "Retry-After {secs} outside 1..={window}"
    );
    assert!(
        r.headers.get("set-cookie").is_none(),
        "a throttled sign-in set a cookie"
    );
    assert!(r.json().get("access_token").is_none());
    p
}

fn digits_removed(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_digit()).collect()
}

#[derive(diesel::MultiConnection)]
enum Raw {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

fn raw_sql(s: &TestServer, sql: &str) {
    let url = s.database_url();
    let mut raw = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Raw::Postgresql(diesel::PgConnection::establish(url).expect("open PostgreSQL"))
    } else {
        Raw::Sqlite(diesel::SqliteConnection::establish(url).expect("open SQLite"))
    };
    raw.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A second server process on the same database as `s` (another replica behind a load balancer).
struct Replica {
    child: Child,
    base: String,
    client: reqwest::blocking::Client,
    _dir: tempfile::TempDir,
}

impl Replica {
    fn of(s: &TestServer, env: &[(&str, &str)]) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(doi178_tests::server_bin())
            .args(["--database-url", s.database_url(), "--data-dir"])
            .arg(dir.path())
            .args(["serve", "--port", "0", "--workers", "1"])
            .env("DOI178_JWT_SECRET", JWT_SECRET)
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .env_remove("DOI178_DEMO")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a replica");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            assert!(Instant::now() < deadline, "the replica did not start");
            let line = lines
                .next()
                .expect("the replica exited before listening")
                .unwrap();
            if let Some(addr) = line.trim().strip_prefix("doi178-server listening on ") {
                break addr.trim().trim_end_matches('/').to_string();
            }
        };
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Replica {
            child,
            base,
            client: doi178_tests::http_client()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            _dir: dir,
        }
    }

    fn login(&self, username: &str, password: &str) -> (u16, Option<String>, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        (status, retry, r.json().unwrap_or(Value::Null))
    }

    fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Throttling of failed sign-ins
// ---------------------------------------------------------------------------------------------

#[test]
fn failed_sign_ins_are_throttled_per_account_even_for_the_right_password() {
    // The defaults: 5 failures per account, 20 per address, 15 minutes.
    let s = TestServer::start();
    for i in 0..5 {
        login(&s, "kiemtra.hue", &format!("wrong-password-{i}"))
            .problem(401, Some("invalid_credentials"));
    }
    let r = login(&s, "kiemtra.hue", "wrong-password-6");
    let p = assert_throttled(&r, 900);
    assert!(
        retry_after(&r) > 600,
        "the first failure is seconds old: {}",
        retry_after(&r)
    );
    // The right password is refused while the limit holds, and nothing is issued.
    let right = login(&s, "kiemtra.hue", DEMO_PASSWORD);
    assert_throttled(&right, 900);
    // Case and spaces do not make another account.
    assert_throttled(&login(&s, "  KiemTra.Hue ", DEMO_PASSWORD), 900);
    assert!(!p.to_string().to_lowercase().contains("kiemtra"), "{p}");

    // Other accounts from the same address still sign in (5 failures < 20 per address).
    s.login("doitruong.hue");

    // An account that does not exist behaves exactly the same: 401 five times, then 429 with the
    // same body, so throttling does not tell who exists.
    let mut unknown_401 = Vec::new();
    for i in 0..5 {
        let r = login(&s, "khong.ton.tai", &format!("wrong-password-{i}"));
        unknown_401.push(r.problem(401, Some("invalid_credentials")));
    }
    let known_401 = login(&s, "tinh.hue", "wrong-password").problem(401, None);
    assert_eq!(unknown_401[0], known_401);
    let unknown = login(&s, "khong.ton.tai", "wrong-password-6");
    let q = assert_throttled(&unknown, 900);
    assert_eq!(
        digits_removed(&q.to_string()),
        digits_removed(&p.to_string())
    );
    assert_eq!(
        unknown.content_type(),
        r.content_type(),
        "different answers for existing and unknown accounts"
    );
}

#[test]
fn a_success_resets_the_account_counter() {
    let s = TestServer::start_with_env(&[("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")]);
    for _ in 0..2 {
        login(&s, "tinh.hue", "wrong-password").problem(401, None);
    }
    // A success before the limit: the two failures are forgotten.
    login(&s, "tinh.hue", DEMO_PASSWORD).expect(200);
    for _ in 0..3 {
        login(&s, "tinh.hue", "wrong-password").problem(401, None);
    }
    assert_throttled(&login(&s, "tinh.hue", DEMO_PASSWORD), 900);
}

#[test]
fn throttling_ends_when_retry_after_has_passed() {
    let s = TestServer::start_with_env(&[
        ("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT", "1"),
        ("DOI178_LOGIN_FAILURE_WINDOW_SECONDS", "6"),
    ]);
    login(&s, "tinh.hue", "wrong-password").problem(401, None);
    let r = login(&s, "tinh.hue", DEMO_PASSWORD);
    assert_throttled(&r, 6);
    std::thread::sleep(Duration::from_millis(retry_after(&r) * 1000 + 300));
    login(&s, "tinh.hue", DEMO_PASSWORD).expect(200);
}

#[test]
fn failed_sign_ins_are_throttled_per_client_address() {
    let s = TestServer::start_with_env(&[
        ("DOI178_LOGIN_MAX_FAILURES_PER_ADDRESS", "4"),
        ("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT", "100"),
    ]);
    // Four failures on four different names (none reaches the per-account limit)...
    for name in ["a.one", "b.two", "kiemtra.hue", "d.four"] {
        login(&s, name, "wrong-password").problem(401, None);
    }
    // ...and this address may not try any account, not even with the right password.
    let r = login(&s, "tinh.hue", DEMO_PASSWORD);
    assert_throttled(&r, 900);
    // Without a trusted proxy configured, X-Forwarded-For changes nothing.
    assert_throttled(
        &login_from(&s, "203.0.113.7", "tinh.hue", DEMO_PASSWORD),
        900,
    );
}

#[test]
fn behind_a_trusted_proxy_the_forwarded_client_address_is_throttled() {
    let s = TestServer::start_with_env(&[
        ("DOI178_TRUSTED_PROXIES", "127.0.0.1, ::1"),
        ("DOI178_LOGIN_MAX_FAILURES_PER_ADDRESS", "3"),
        ("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT", "100"),
    ]);
    for name in ["a.one", "b.two", "c.three"] {
        login_from(&s, "203.0.113.7", name, "wrong-password").problem(401, None);
    }
    assert_throttled(
        &login_from(&s, "203.0.113.7", "tinh.hue", DEMO_PASSWORD),
        900,
    );
    // Prepending an address of its choosing does not help the client: the proxy appends the
    // real one, and the right-most address not of a trusted proxy counts.
    assert_throttled(
        &login_from(&s, "198.51.100.1, 203.0.113.7", "tinh.hue", DEMO_PASSWORD),
        900,
    );
    // Another client behind the same proxy is not affected; nor is the proxy itself.
    login_from(&s, "203.0.113.8", "tinh.hue", DEMO_PASSWORD).expect(200);
    login(&s, "tinh.hue", DEMO_PASSWORD).expect(200);
}

#[test]
fn the_dashboard_form_is_throttled_with_the_api_and_says_so_in_both_languages() {
    let s = TestServer::start_with_env(&[("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT", "4")]);
    // Failures through the API and through the form count together.
    for _ in 0..2 {
        login(&s, "tinh.hue", "wrong-password").problem(401, None);
    }
    for _ in 0..2 {
        let page = form_login(&s, "tinh.hue", "wrong-password", None);
        page.expect(401);
    }
    let page = form_login(&s, "tinh.hue", DEMO_PASSWORD, None);
    page.expect(429);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    let secs = retry_after(&page);
    assert!((1..=900).contains(&secs), "{secs}");
    let html = page.text();
    assert!(
        html.contains("Đăng nhập sai quá nhiều lần") && html.contains(&secs.to_string()),
        "{html}"
    );
    assert!(
        !page
            .headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("doi178_session=")),
        "a throttled form sign-in opened a session"
    );
    let en = form_login(&s, "tinh.hue", DEMO_PASSWORD, Some("en"));
    en.expect(429);
    assert!(
        en.text().contains("Too many failed sign-ins"),
        "{}",
        en.text()
    );
    // And the API refuses too.
    assert_throttled(&login(&s, "tinh.hue", DEMO_PASSWORD), 900);
}

#[test]
fn throttling_state_is_in_the_database_shared_by_replicas() {
    let s = TestServer::start_with_env(&[("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")]);
    let replica = Replica::of(&s, &[("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")]);
    // Failures spread over both replicas count together.
    login(&s, "doitruong.hue", "wrong-password").problem(401, None);
    let (status, _, _) = replica.login("doitruong.hue", "wrong-password");
    assert_eq!(status, 401);
    login(&s, "doitruong.hue", "wrong-password").problem(401, None);
    let (status, retry, body) = replica.login("doitruong.hue", DEMO_PASSWORD);
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|r| r >= 1)));
    assert_eq!(body["code"], "too_many_sign_in_failures");
    assert_throttled(&login(&s, "doitruong.hue", DEMO_PASSWORD), 900);
    // Other accounts are fine on both.
    let (status, _, _) = replica.login("tinh.hue", DEMO_PASSWORD);
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// Access tokens: only HS256 with our secret, audience, issuer, expiry, a live session and account
// ---------------------------------------------------------------------------------------------

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// A token with any header, signed with HMAC-SHA256 under the server's secret whatever `alg`
/// says (the "algorithm confusion" shape).
fn hand_signed(header: &Value, claims: &Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let c = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let sig = hmac_sha256(JWT_SECRET.as_bytes(), format!("{h}.{c}").as_bytes());
    format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn signed(alg: Algorithm, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).unwrap()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn refused(s: &TestServer, token: &str, what: &str) {
    let r = s.get("/api/v1/me", Some(token));
    assert_eq!(
        r.status,
        401,
        "{what}: expected 401, got {}: {}",
        r.status,
        r.text()
    );
    r.problem(401, None);
    assert!(r.headers.get("www-authenticate").is_some(), "{what}");
}

#[test]
fn only_hs256_tokens_for_this_audience_issuer_and_time_are_accepted() {
    let s = TestServer::start();
    let session = s.login("kiemtra.hue");
    let now = chrono::Utc::now().timestamp();
    let mut claims = claims_of(&session.access_token);
    claims["iat"] = json!(now - 5);
    claims["exp"] = json!(now + 300);
    let secret = EncodingKey::from_secret(JWT_SECRET.as_bytes());

    // Controls: our hand-made HS256 signature and jsonwebtoken's are both accepted, so each
    // refusal below is about the one thing changed.
    s.get(
        "/api/v1/me",
        Some(&signed(Algorithm::HS256, &claims, &secret)),
    )
    .expect(200);
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    s.get("/api/v1/me", Some(&hand_signed(&hs256, &claims)))
        .expect(200);

    // alg: none, in any spelling, with and without a signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        let unsigned = hand_signed(&header, &claims);
        let (head, _) = unsigned.rsplit_once('.').unwrap();
        refused(&s, &format!("{head}."), &format!("alg {alg}, no signature"));
        refused(&s, head, &format!("alg {alg}, two parts"));
        refused(&s, &unsigned, &format!("alg {alg}, HMAC signature"));
    }
    // The same secret under other HMAC algorithms.
    refused(&s, &signed(Algorithm::HS384, &claims, &secret), "HS384");
    refused(&s, &signed(Algorithm::HS512, &claims, &secret), "HS512");
    // Algorithm confusion: asymmetric algorithms named in the header, HMAC signature with the
    // shared secret (what a server choosing the algorithm from the header would accept).
    for alg in ["RS256", "RS512", "PS256", "ES256", "EdDSA"] {
        let t = hand_signed(&json!({"alg": alg, "typ": "JWT"}), &claims);
        refused(&s, &t, &format!("{alg} header with an HMAC signature"));
    }
    // A real RS256 token from a key of the forger's own (a throwaway test key).
    let rsa = EncodingKey::from_rsa_pem(include_bytes!("authn-forger-rsa.pem")).unwrap();
    refused(&s, &signed(Algorithm::RS256, &claims, &rsa), "RS256");
    // A header pointing at the forger's keys changes nothing either.
    let jku =
        json!({"alg": "HS256", "typ": "JWT", "jku": "https://evil.example/jwks.json", "kid": "x"});
    s.get("/api/v1/me", Some(&hand_signed(&jku, &claims)))
        .expect(200);
    let forged_with_jku = signed(
        Algorithm::HS256,
        &claims,
        &EncodingKey::from_secret(b"the-forgers-own-secret-the-forgers-own"),
    );
    refused(&s, &forged_with_jku, "HS256 under another secret");

    // Wrong audience, wrong issuer, and each of them missing.
    for (key, value) in [
        ("aud", json!("someone-else")),
        ("aud", json!(["someone-else"])),
        ("iss", json!("evil")),
        ("iss", json!("doi178-evil")),
    ] {
        let mut c = claims.clone();
        c[key] = value.clone();
        refused(
            &s,
            &signed(Algorithm::HS256, &c, &secret),
            &format!("{key} = {value}"),
        );
    }
    for key in ["aud", "iss", "exp", "sub", "sid"] {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove(key);
        refused(
            &s,
            &signed(Algorithm::HS256, &c, &secret),
            &format!("no {key}"),
        );
    }
    // Expired, by a little (no leeway) and by a lot.
    for exp in [now - 2, now - 3600] {
        let mut c = claims.clone();
        c["exp"] = json!(exp);
        let r = s.get("/api/v1/me", Some(&signed(Algorithm::HS256, &c, &secret)));
        r.problem(401, Some("token_expired"));
    }
    // Tampered signature, tampered payload (role raised), truncated, garbage.
    let good = signed(Algorithm::HS256, &claims, &secret);
    let parts: Vec<&str> = good.split('.').collect();
    let mut sig: Vec<char> = parts[2].chars().collect();
    let mid = sig.len() / 2;
    sig[mid] = if sig[mid] == 'A' { 'B' } else { 'A' };
    let sig: String = sig.into_iter().collect();
    refused(
        &s,
        &format!("{}.{}.{sig}", parts[0], parts[1]),
        "tampered signature",
    );
    let mut raised = claims.clone();
    raised["role"] = json!("admin");
    raised["sub"] = json!(uuid::Uuid::new_v4());
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&raised).unwrap());
    refused(
        &s,
        &format!("{}.{forged}.{}", parts[0], parts[2]),
        "tampered payload",
    );
    refused(
        &s,
        &format!("{}.{}", parts[0], parts[1]),
        "no signature part",
    );
    refused(&s, &good[..good.len() - 3], "truncated");
    refused(&s, "e30.e30.e30", "empty objects");
}

#[test]
fn tokens_of_a_deactivated_or_deleted_account_or_a_closed_session_are_refused() {
    let s = TestServer::start();
    let admin = s.login("admin");
    let hue = s.login("tinh.hue");
    let unit = hue_unit(&s, &hue);
    let create = |username: &str| {
        let r = s.post_json(
            "/api/v1/users",
            admin.token(),
            &json!({"username": username, "display_name": "Người Thử", "password": "Ba-con-ngua-tren-doi",
                "role": "inspector", "unit_id": unit, "agency_id": null}),
        );
        r.expect(201);
        r.json()["id"].as_str().unwrap().to_string()
    };
    let disabled_id = create("tam.nghi.hue");
    let deleted_id = create("da.xoa.hue");
    let (a1, r1) = pair(&login(&s, "tam.nghi.hue", "Ba-con-ngua-tren-doi").ok_json());
    let (a2, r2) = pair(&login(&s, "da.xoa.hue", "Ba-con-ngua-tren-doi").ok_json());
    s.get("/api/v1/me", Some(&a1)).expect(200);
    s.get("/api/v1/me", Some(&a2)).expect(200);

    raw_sql(
        &s,
        &format!("UPDATE users SET active = false WHERE id = '{disabled_id}'"),
    );
    refused(&s, &a1, "deactivated account");
    refresh(&s, &r1).problem(401, None);
    login(&s, "tam.nghi.hue", "Ba-con-ngua-tren-doi").problem(401, Some("invalid_credentials"));

    raw_sql(
        &s,
        &format!(
            "DELETE FROM refresh_tokens WHERE user_id = '{deleted_id}'; \
             DELETE FROM users WHERE id = '{deleted_id}'"
        ),
    );
    refused(&s, &a2, "deleted account");
    refresh(&s, &r2).problem(401, None);

    // A validly signed token naming a user who does not exist, inside a live session of someone
    // else: refused (a session belongs to one account).
    let now = chrono::Utc::now().timestamp();
    let mut c = claims_of(&hue.access_token);
    c["sub"] = json!(uuid::Uuid::new_v4());
    c["exp"] = json!(now + 300);
    let secret = EncodingKey::from_secret(JWT_SECRET.as_bytes());
    refused(&s, &signed(Algorithm::HS256, &c, &secret), "unknown sub");
    // Another real user's id in this session: refused too.
    let me_admin = s.get_ok("/api/v1/me", &admin);
    c["sub"] = me_admin["id"].clone();
    c["role"] = json!("admin");
    refused(
        &s,
        &signed(Algorithm::HS256, &c, &secret),
        "sub of another session",
    );
    // A session id that was never issued.
    let mut c = claims_of(&hue.access_token);
    c["sid"] = json!(uuid::Uuid::new_v4());
    c["exp"] = json!(now + 300);
    refused(&s, &signed(Algorithm::HS256, &c, &secret), "unknown sid");
    s.get("/api/v1/me", hue.token()).expect(200);
}

fn hue_unit(s: &TestServer, hue: &Session) -> String {
    let units = s.get_ok(&format!("/api/v1/units?parent={}", doi178_tests::HUE), hue);
    units["items"][0]["id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Refresh rotation, reuse detection, the grace window, sign-out
// ---------------------------------------------------------------------------------------------

#[test]
fn a_lost_refresh_answer_is_recovered_within_the_grace_window() {
    let s = TestServer::start();
    let first = s.login("kiemtra.hue");
    let sid = claims_of(&first.access_token)["sid"].clone();

    // The phone asks, the answer (a2, r2) is lost on the way.
    let (a2, r2) = pair(&refresh(&s, &first.refresh_token).ok_json());
    // It asks again with the same token: a fresh pair in the same session.
    let (a3, r3) = pair(&refresh(&s, &first.refresh_token).ok_json());
    assert_ne!(r3, r2);
    assert_eq!(
        claims_of(&a3)["sid"],
        sid,
        "the grace pair opened another session"
    );
    s.get("/api/v1/me", Some(&a3)).expect(200);
    // Even a third time, while nothing after it was used.
    let (a4, r4) = pair(&refresh(&s, &first.refresh_token).ok_json());
    s.get("/api/v1/me", Some(&a4)).expect(200);
    // The phone goes on with the last pair; rotation continues normally.
    let (a5, r5) = pair(&refresh(&s, &r4).ok_json());
    s.get("/api/v1/me", Some(&a5)).expect(200);
    // The replaced successors are dead; the lost r2 turning up later means someone else has it:
    // the whole session is closed, including the current access token.
    refresh(&s, &r3).problem(401, Some("refresh_token_reused"));
    refresh(&s, &r5).problem(401, None);
    refused(&s, &a5, "access token of a session closed by reuse");
    refused(&s, &a2, "older access token of the same session");
    refresh(&s, &r2).problem(401, None);
}

#[test]
fn reuse_after_the_successor_was_used_revokes_the_whole_family() {
    let s = TestServer::start();
    let first = s.login("kiemtra.hue");
    let other = s.login("kiemtra.hue");
    let (_a2, r2) = pair(&refresh(&s, &first.refresh_token).ok_json());
    let (a3, r3) = pair(&refresh(&s, &r2).ok_json());
    s.get("/api/v1/me", Some(&a3)).expect(200);
    // Within the grace window, but the successor r2 has been used: this is a replay.
    refresh(&s, &first.refresh_token).problem(401, Some("refresh_token_reused"));
    refused(&s, &a3, "current access token after reuse");
    refused(&s, &first.access_token, "first access token after reuse");
    refresh(&s, &r3).problem(401, None);
    // The same for the middle token.
    refresh(&s, &r2).problem(401, None);
    // The user's other session is untouched.
    s.get("/api/v1/me", other.token()).expect(200);
    refresh(&s, &other.refresh_token).expect(200);
}

#[test]
fn reuse_outside_the_grace_window_revokes_the_whole_family() {
    let s = TestServer::start_with_env(&[("DOI178_REFRESH_GRACE_SECONDS", "1")]);
    let first = s.login("kiemtra.hue");
    let (a2, r2) = pair(&refresh(&s, &first.refresh_token).ok_json());
    std::thread::sleep(Duration::from_millis(1600));
    // r2 was never used, but the window has passed.
    refresh(&s, &first.refresh_token).problem(401, Some("refresh_token_reused"));
    refused(&s, &a2, "access token of the revoked family");
    refresh(&s, &r2).problem(401, None);
    // With no grace at all, an immediate repeat is reuse.
    let s0 = TestServer::start_with_env(&[("DOI178_REFRESH_GRACE_SECONDS", "0")]);
    let first = s0.login("kiemtra.hue");
    let (a2, _r2) = pair(&refresh(&s0, &first.refresh_token).ok_json());
    refresh(&s0, &first.refresh_token).problem(401, Some("refresh_token_reused"));
    refused(&s0, &a2, "access token of the revoked family (no grace)");
}

#[test]
fn sign_out_revokes_access_and_refresh_at_once_and_grace_does_not_reopen_it() {
    let s = TestServer::start();
    let first = s.login("doitruong.hue");
    let (a2, r2) = pair(&refresh(&s, &first.refresh_token).ok_json());
    let r = s.request(Method::POST, "/api/v1/auth/logout", Some(&a2), &[], None);
    r.expect(204);
    refused(&s, &a2, "access token after sign-out");
    refused(&s, &first.access_token, "older access token after sign-out");
    refresh(&s, &r2).problem(401, Some("invalid_refresh_token"));
    // The just-rotated token is within the grace window, but the session is closed.
    refresh(&s, &first.refresh_token).problem(401, Some("invalid_refresh_token"));
    // Signing out twice is refused (the token is dead), never a 500.
    s.request(Method::POST, "/api/v1/auth/logout", Some(&a2), &[], None)
        .problem(401, None);
}

/// The server keeps the users it has loaded while the database's authorisation epoch is
/// unchanged; a session closed through another server must still be refused by this one at once.
#[test]
fn a_session_signed_out_through_one_server_is_refused_by_another_at_once() {
    let s = TestServer::start();
    let replica = Replica::of(&s, &[]);
    let leader = s.login("doitruong.hue");
    let other = s.login("doitruong.hue");
    for _ in 0..2 {
        s.get("/api/v1/me", leader.token()).expect(200);
        assert_eq!(replica.get("/api/v1/me", &leader.access_token).0, 200);
        assert_eq!(replica.get("/api/v1/me", &other.access_token).0, 200);
    }
    s.request(
        Method::POST,
        "/api/v1/auth/logout",
        leader.token(),
        &[],
        None,
    )
    .expect(204);
    let (status, body) = replica.get("/api/v1/me", &leader.access_token);
    assert_eq!(
        status, 401,
        "the other server still admits the closed session: {body}"
    );
    assert_eq!(body["code"], "session_revoked");
    refused(&s, &leader.access_token, "access token after sign-out");
    // The same person's other session goes on, on both servers.
    assert_eq!(replica.get("/api/v1/me", &other.access_token).0, 200);
    s.get("/api/v1/me", other.token()).expect(200);
}

/// Changes to what a user's authorisation is built from, made directly in the database (as an
/// operator would, or another server), apply to that user's very next request.
#[test]
fn changes_to_an_account_its_teams_and_units_apply_to_the_next_request() {
    let s = TestServer::start();
    let inspector = s.login("kiemtra.hue");
    let me = s.get_ok("/api/v1/me", &inspector);
    let user_id = me["id"].as_str().unwrap().to_string();
    let team = me["teams"][0].clone();
    let team_id = team["team_id"].as_str().unwrap().to_string();
    let team_unit = team["unit_id"].as_str().unwrap().to_string();
    let member_role = team["role"].as_str().unwrap().to_string();

    raw_sql(
        &s,
        &format!("UPDATE users SET display_name = 'Tên Đã Đổi' WHERE id = '{user_id}'"),
    );
    assert_eq!(
        s.get_ok("/api/v1/me", &inspector)["display_name"],
        "Tên Đã Đổi"
    );

    raw_sql(
        &s,
        &format!("DELETE FROM team_members WHERE team_id = '{team_id}' AND user_id = '{user_id}'"),
    );
    assert!(
        !s.my_team_ids(&inspector).contains(&team_id),
        "still a member after leaving"
    );
    raw_sql(
        &s,
        &format!(
            "INSERT INTO team_members (team_id, user_id, role) \
             VALUES ('{team_id}', '{user_id}', '{member_role}')"
        ),
    );
    assert!(s.my_team_ids(&inspector).contains(&team_id));

    // A unit added under the team's area is in the jurisdiction at once.
    let children = format!(
        "/api/v1/units?parent={}",
        doi178_tests::urlencode(&team_unit)
    );
    let before = s.get_ok(&children, &inspector);
    assert!(!before.to_string().contains("epoch:1"));
    raw_sql(
        &s,
        &format!(
            "INSERT INTO admin_units (id, code, code_version, name, full_name, name_en, level, \
             kind, parent_id, path, search_key, valid_from, valid_to, area_km2) \
             SELECT 'epoch:1', 'epoch1', code_version, 'Thôn Thử', 'Thôn Thử', 'Test hamlet', \
             level, kind, id, path || 'epoch:1/', 'thon thu', valid_from, NULL, NULL \
             FROM admin_units WHERE id = '{team_unit}'"
        ),
    );
    let after = s.get_ok(&children, &inspector);
    assert!(
        after.to_string().contains("epoch:1"),
        "the new unit is not in the jurisdiction: {after}"
    );
    s.get("/api/v1/units/epoch:1", inspector.token())
        .expect(200);

    // The team's area changed: the next request sees the team under its new unit.
    raw_sql(
        &s,
        &format!("UPDATE teams SET unit_id = 'epoch:1' WHERE id = '{team_id}'"),
    );
    let me = s.get_ok("/api/v1/me", &inspector);
    let moved = me["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["team_id"] == team_id.as_str())
        .unwrap();
    assert_eq!(moved["unit_id"], "epoch:1");
}

// ---------------------------------------------------------------------------------------------
// Password policy
// ---------------------------------------------------------------------------------------------

#[test]
fn new_accounts_need_a_password_that_meets_the_policy() {
    let s = TestServer::start();
    let admin = s.login("admin");
    let hue = s.login("tinh.hue");
    let unit = hue_unit(&s, &hue);
    let body = |password: &str| {
        json!({"username": "kiemtra.chinhsach", "display_name": "Lê Văn Chính Sách",
            "password": password, "role": "inspector", "unit_id": unit, "agency_id": null})
    };
    for (password, code) in [
        ("", "required"),
        ("Ngan-qua-1", "too_short"),
        ("Hue-2026-ab", "too_short"),
        ("kiemtra.chinhsach", "contains_username"),
        ("KiemTra.ChinhSach-2026", "contains_username"),
        ("123456789012345", "invalid"),
        ("qwertyuiop123", "common_password"),
        ("Password2026!!", "common_password"),
        ("!!iloveyou2026", "common_password"),
        ("1q2w3e4r5t6y", "common_password"),
    ] {
        for who in [&admin, &hue] {
            let r = s.post_json("/api/v1/users", who.token(), &body(password));
            let p = r.client_error_on("password");
            assert_eq!(p["status"], 422, "{password}: {p}");
            assert_eq!(p["code"], code, "{password}: {p}");
            assert!(
                !p.to_string().contains(password) || password.is_empty(),
                "the problem repeats the password: {p}"
            );
        }
    }
    // None of the refused attempts created the account.
    login(&s, "kiemtra.chinhsach", "Password2026!!").problem(401, None);

    // Twelve characters of a passphrase pass.
    let good = "sông Hương chiều nay";
    s.post_json("/api/v1/users", hue.token(), &body(good))
        .expect(201);
    let (access, _) = pair(&login(&s, "kiemtra.chinhsach", good).ok_json());
    s.get("/api/v1/me", Some(&access)).expect(200);

    // Demo accounts keep their documented demo password.
    assert!(DEMO_PASSWORD.len() < 12);
    login(&s, "kiemtra.hue", DEMO_PASSWORD).expect(200);
}

#[test]
fn the_command_line_creates_accounts_under_the_same_password_policy() {
    use std::io::Write;
    let s = TestServer::start();
    let add_user = |username: &str, password: &str| -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(doi178_tests::server_bin())
            .args(["--database-url", s.database_url(), "--data-dir"])
            .arg(dir.path())
            .args([
                "add-user",
                "--username",
                username,
                "--display-name",
                "Quản trị viên mới",
                "--role",
                "admin",
            ])
            .env_remove("DOI178_DATABASE_URL")
            .env_remove("DOI178_CONFIG")
            .env("DOI178_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run doi178-server add-user");
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    for bad in [
        "doi178-demo",
        "Quan.Tri.Moi-2026",
        "qwertyuiop2026",
        "123456789012345",
    ] {
        let (ok, text) = add_user("quan.tri.moi", bad);
        assert!(!ok, "{bad} was accepted: {text}");
        assert!(text.contains("password:"), "{bad}: {text}");
        assert!(
            !text.contains(bad),
            "the output repeats the password: {text}"
        );
    }
    login(&s, "quan.tri.moi", "doi178-demo").problem(401, None);

    let good = "Ba con ngựa trên đồi Vọng Cảnh";
    let (ok, text) = add_user("quan.tri.moi", good);
    assert!(ok, "{text}");
    let (access, _) = pair(&login(&s, "quan.tri.moi", good).ok_json());
    let me = s.get("/api/v1/me", Some(&access)).ok_json();
    assert_eq!(me["role"], "admin", "{me}");
    assert_eq!(me["username"], "quan.tri.moi", "{me}");
    // The same username again is refused.
    let (ok, text) = add_user("QUAN.TRI.MOI", good);
    assert!(!ok && text.contains("username:"), "{text}");
}
