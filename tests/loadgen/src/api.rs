//! What a phone says to the server, over the public API only: sign in, pull sync pages, submit a
//! visit under its own UUID, upload a photo with its `Content-Digest`. Every call is timed and
//! classified; a bounded number of requests are in flight at once (the connection pool's size).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;
use chrono::{TimeDelta, Utc};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::stats::{Op, Stats};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "doi178-demo";

/// The HTTP side: one client (keep-alive pool), at most `permits` requests in flight.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    permits: Arc<Semaphore>,
}

/// A finished call: status and body, or a transport failure.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).context("answer is not JSON")
    }

    /// The problem `code` of an error answer, if any.
    pub fn problem_code(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Why a call did not get an answer.
pub fn transport_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timeout".into();
    }
    if e.is_connect() {
        return "connect".into();
    }
    // The innermost cause says what happened (e.g. the connection closed mid-answer).
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    format!("transport ({cause})")
}

impl Api {
    pub fn new(base: &str, connections: usize, timeout: Duration) -> anyhow::Result<Api> {
        doi178_tests::install_tls_provider();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            // Below the server's keep-alive (5 s): a connection is never reused just as the
            // server closes it ("connection closed before message completed").
            .pool_idle_timeout(Duration::from_secs(3))
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Api {
            client,
            base: base.trim_end_matches('/').to_string(),
            permits: Arc::new(Semaphore::new(connections.max(1))),
        })
    }

    /// Sends one request, timing it from the moment it holds a connection permit until its body
    /// is read; records the latency (2xx) or the error kind in `stats`.
    pub async fn call(
        &self,
        stats: &mut Stats,
        op: Op,
        req: reqwest::RequestBuilder,
    ) -> Result<Reply, String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| "closed".to_string())?;
        let started = Instant::now();
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let kind = format!("{} {}", op.name(), transport_kind(&e));
                stats.error(&kind);
                return Err(kind);
            }
        };
        let status = res.status().as_u16();
        let body = match res.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let kind = format!("{} {}", op.name(), transport_kind(&e));
                stats.error(&kind);
                return Err(kind);
            }
        };
        let reply = Reply { status, body };
        if (200..300).contains(&status) {
            stats.ok(op, started.elapsed());
            Ok(reply)
        } else {
            let kind = format!("{} HTTP {status} {}", op.name(), reply.problem_code());
            stats.error(kind.trim_end());
            Err(kind.trim_end().to_string())
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self, stats: &mut Stats, username: &str) -> anyhow::Result<String> {
        let req = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": DEMO_PASSWORD}));
        let reply = self
            .call(stats, Op::Login, req)
            .await
            .map_err(|e| anyhow::anyhow!("sign in as {username}: {e}"))?;
        reply.json()?["access_token"]
            .as_str()
            .map(str::to_string)
            .context("no access_token")
    }

    pub async fn get_json(
        &self,
        stats: &mut Stats,
        op: Op,
        token: &str,
        path: &str,
    ) -> Result<Value, String> {
        let req = self.client.get(self.url(path)).bearer_auth(token);
        let reply = self.call(stats, op, req).await?;
        reply.json().map_err(|e| {
            stats.error(&format!("{} bad JSON", op.name()));
            e.to_string()
        })
    }

    /// One sync page from `cursor`; returns the answer.
    pub async fn pull(
        &self,
        stats: &mut Stats,
        token: &str,
        cursor: &str,
    ) -> Result<Value, String> {
        self.get_json(
            stats,
            Op::Pull,
            token,
            &format!("/api/v1/sync?cursor={cursor}"),
        )
        .await
    }

    /// One sync page, reading only where to go on (a phone stores the rest; parsing it all here
    /// would make the load generator, not the server, the bottleneck).
    pub async fn pull_head(
        &self,
        stats: &mut Stats,
        token: &str,
        cursor: &str,
    ) -> Result<SyncHead, String> {
        let req = self
            .client
            .get(self.url(&format!("/api/v1/sync?cursor={cursor}")))
            .bearer_auth(token);
        let reply = self.call(stats, Op::Pull, req).await?;
        serde_json::from_slice(&reply.body).map_err(|e| {
            stats.error("pull bad JSON");
            e.to_string()
        })
    }

    pub async fn put_visit(
        &self,
        stats: &mut Stats,
        token: &str,
        id: Uuid,
        body: &[u8],
    ) -> Result<Reply, String> {
        let req = self
            .client
            .put(self.url(&format!("/api/v1/visits/{id}")))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .body(body.to_vec());
        self.call(stats, Op::Visit, req).await
    }

    pub async fn put_photo(
        &self,
        stats: &mut Stats,
        token: &str,
        photo: &Photo,
    ) -> Result<Reply, String> {
        let req = self
            .client
            .put(self.url(&format!("/api/v1/photos/{}", photo.id)))
            .bearer_auth(token)
            .header("Content-Type", "image/jpeg")
            .header("Content-Digest", photo.content_digest())
            .body(photo.bytes.clone());
        self.call(stats, Op::Photo, req).await
    }

    pub async fn get_bytes(
        &self,
        stats: &mut Stats,
        token: &str,
        path: &str,
    ) -> Result<Vec<u8>, String> {
        let req = self.client.get(self.url(path)).bearer_auth(token);
        Ok(self.call(stats, Op::Read, req).await?.body)
    }
}

/// Where a sync answer says to go on from.
#[derive(Debug, serde::Deserialize)]
pub struct SyncHead {
    pub cursor: String,
    pub has_more: bool,
}

/// An establishment a phone may inspect, with the checklist for its type.
#[derive(Debug, Clone)]
pub struct Place {
    pub id: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub template_id: String,
    pub template_version: i64,
    pub items: Vec<String>,
}

/// A signed-in demo account (inspector or team leader) with its team's establishments.
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    pub user_id: String,
    pub team_id: String,
    pub token: String,
    pub places: Vec<Place>,
    /// Sync cursor after the first full pull.
    pub cursor: String,
}

/// Signs `username` in (demo password), reads its team and pulls its first sync (establishments
/// and checklists). `None` when the account has no team or no establishment to inspect.
pub async fn sign_in(
    api: &Api,
    stats: &mut Stats,
    username: &str,
) -> anyhow::Result<Option<Account>> {
    let token = api.login(stats, username).await?;
    let me = api
        .get_json(stats, Op::Read, &token, "/api/v1/me")
        .await
        .map_err(|e| anyhow::anyhow!("/me: {e}"))?;
    let Some(team_id) = me["teams"][0]["team_id"].as_str().map(str::to_string) else {
        return Ok(None);
    };
    let user_id = me["id"].as_str().context("me.id")?.to_string();
    let mut cursor = "0".to_string();
    let mut establishments = Vec::new();
    let mut templates: HashMap<String, (String, i64, Vec<String>)> = HashMap::new();
    loop {
        let page = api
            .pull(stats, &token, &cursor)
            .await
            .map_err(|e| anyhow::anyhow!("first sync of {username}: {e}"))?;
        establishments.extend(
            page["establishments"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        for t in page["templates"].as_array().cloned().unwrap_or_default() {
            let kind = t["establishment_type"].as_str().unwrap_or("").to_string();
            let version = t["version"].as_i64().unwrap_or(0);
            if templates.get(&kind).is_some_and(|(_, v, _)| *v >= version) {
                continue;
            }
            let items = t["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|i| i["code"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            templates.insert(
                kind,
                (t["id"].as_str().unwrap_or("").to_string(), version, items),
            );
        }
        cursor = page["cursor"].as_str().context("cursor")?.to_string();
        if page["has_more"] != json!(true) {
            break;
        }
    }
    let places: Vec<Place> = establishments
        .iter()
        .filter_map(|e| {
            let (tid, tv, items) = templates.get(e["establishment_type"].as_str()?)?;
            Some(Place {
                id: e["id"].as_str()?.to_string(),
                lat: e["location"]["lat"].as_f64(),
                lon: e["location"]["lon"].as_f64(),
                template_id: tid.clone(),
                template_version: *tv,
                items: items.clone(),
            })
        })
        .collect();
    if places.is_empty() {
        return Ok(None);
    }
    Ok(Some(Account {
        username: username.to_string(),
        user_id,
        team_id,
        token,
        places,
        cursor,
    }))
}

/// Signs in all `usernames` (`parallel` at a time); fails when any cannot be used.
pub async fn sign_in_all(
    api: &Api,
    stats: &mut Stats,
    usernames: &[String],
    parallel: usize,
) -> anyhow::Result<Vec<Account>> {
    let mut set = tokio::task::JoinSet::new();
    let mut out = Vec::with_capacity(usernames.len());
    let mut next = 0;
    while next < usernames.len() || !set.is_empty() {
        while next < usernames.len() && set.len() < parallel.max(1) {
            let (api, name) = (api.clone(), usernames[next].clone());
            set.spawn(async move {
                let mut st = Stats::new();
                let r = sign_in(&api, &mut st, &name).await;
                (name, r, st)
            });
            next += 1;
        }
        if let Some(done) = set.join_next().await {
            let (name, r, st) = done?;
            stats.merge(&st);
            match r? {
                Some(a) => out.push(a),
                None => bail!("{name} has no team or no establishment to inspect"),
            }
        }
    }
    out.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(out)
}

/// A photo as the phone sends it: a small JPEG (the phone downscales and re-encodes first).
#[derive(Debug, Clone)]
pub struct Photo {
    pub id: Uuid,
    pub bytes: Vec<u8>,
    pub sha256: [u8; 32],
}

impl Photo {
    pub fn new(rng: &mut impl Rng) -> Photo {
        let (w, h) = (96u32, 72u32);
        let (r0, g0, b0) = (rng.gen::<u8>(), rng.gen::<u8>(), rng.gen::<u8>());
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                r0.wrapping_add((x * 2) as u8),
                g0.wrapping_add((y * 3) as u8),
                b0.wrapping_add(((x + y) / 2) as u8),
            ])
        });
        let mut bytes = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80);
        image::DynamicImage::ImageRgb8(img)
            .write_with_encoder(enc)
            .unwrap_or_else(|e| panic!("encoding a JPEG in memory cannot fail: {e}"));
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        Photo {
            id: Uuid::now_v7(),
            bytes,
            sha256,
        }
    }

    /// A photo with a new id and the bytes of one of `pool` (made before the timed part, so the
    /// load generator spends its CPU on requests, not on encoding JPEGs).
    pub fn from_pool(pool: &[Photo], rng: &mut impl Rng) -> Photo {
        let p = &pool[rng.gen_range(0..pool.len())];
        Photo {
            // Time-ordered, as the field app makes them (`Uuid::now_v7`).
            id: Uuid::now_v7(),
            bytes: p.bytes.clone(),
            sha256: p.sha256,
        }
    }

    pub fn content_digest(&self) -> String {
        format!(
            "sha-256=:{}:",
            base64::engine::general_purpose::STANDARD.encode(self.sha256)
        )
    }

    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A valid visit body for `account` at one of its establishments, listing `photos`.
pub fn visit_body(account: &Account, rng: &mut impl Rng, photos: &[Uuid]) -> Vec<u8> {
    let place = account
        .places
        .choose(rng)
        .unwrap_or_else(|| panic!("accounts() keeps only accounts with places"));
    // Recorded earlier today: it started 2 to 10 hours ago and lasted 20 to 90 minutes.
    let started = Utc::now() - TimeDelta::minutes(rng.gen_range(120..600));
    let ended = started + TimeDelta::minutes(rng.gen_range(20..90));
    let answers: Vec<Value> = place
        .items
        .iter()
        .take(5)
        .map(|code| json!({"item": code, "result": if rng.gen_bool(0.9) { "pass" } else { "not_applicable" }}))
        .collect();
    let gps = match (place.lat, place.lon) {
        (Some(lat), Some(lon)) => {
            json!({"lat": lat + rng.gen_range(-0.0005..0.0005), "lon": lon + rng.gen_range(-0.0005..0.0005), "accuracy_m": rng.gen_range(5.0..40.0)})
        }
        _ => Value::Null,
    };
    let body = json!({
        "establishment_id": place.id,
        "team_id": account.team_id,
        "members_present": [account.user_id],
        "started_at": started.to_rfc3339(),
        "ended_at": ended.to_rfc3339(),
        "gps": gps,
        "template_id": place.template_id,
        "template_version": place.template_version,
        "answers": answers,
        "outcome": "no_violation",
        "photo_ids": photos,
        "notes": "loadgen",
    });
    serde_json::to_vec(&body).unwrap_or_else(|e| panic!("a JSON value serialises: {e}"))
}
