//! Crash safety: clients submit a fixed set of visits (with photos) concurrently; once a share of
//! them is acknowledged the server gets SIGKILL, is restarted on the same data and port, and the
//! clients retry everything they have no 2xx for. Then the database and the API must agree that
//! every acknowledged visit and photo is there exactly once, with the bytes and digests sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use doi178_server::db::schema::{audit_log, photos, visit_photos, visit_revisions, visits};
use doi178_server::db::{AnyConnection, Db, DbError};
use doi178_tests::ServeOptions;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::api::{visit_body, Account, Api, Photo, Reply};
use crate::server::{Server, Target};
use crate::stats::Stats;

#[derive(Debug, Clone)]
pub struct CrashOptions {
    pub clients: usize,
    pub visits: usize,
    /// One visit in `photo_every` carries a photo.
    pub photo_every: usize,
    /// Kill when this share of the visits is acknowledged.
    pub kill_at: f64,
    /// How long the server stays down.
    pub down: Duration,
    /// Clients give up retrying after this long.
    pub give_up: Duration,
    pub seed: u64,
}

struct Job {
    id: Uuid,
    account: usize,
    body: Vec<u8>,
    photos: Vec<Photo>,
}

#[derive(Debug, Clone)]
struct VisitAck {
    status: u16,
    digest: String,
}

#[derive(Debug, Clone)]
struct PhotoAck {
    sha256: String,
    upload_sha256: String,
}

#[derive(Default)]
struct Acks {
    visits: HashMap<Uuid, VisitAck>,
    photos: HashMap<Uuid, PhotoAck>,
    failures: Vec<String>,
}

/// Row counts of the tables a visit submission writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    visits: i64,
    revisions: i64,
    photos: i64,
    links: i64,
}

fn counts(db: &Db) -> anyhow::Result<Counts> {
    Ok(db.read(|c: &mut AnyConnection| -> Result<Counts, DbError> {
        Ok(Counts {
            visits: visits::table.count().get_result(c)?,
            revisions: visit_revisions::table.count().get_result(c)?,
            photos: photos::table.count().get_result(c)?,
            links: visit_photos::table.count().get_result(c)?,
        })
    })?)
}

fn retryable(kind: &str) -> bool {
    !kind.contains("HTTP ") || kind.contains("HTTP 5")
}

#[derive(Clone, Copy)]
enum Send<'a> {
    Visit(&'a Job),
    Photo(&'a Photo),
}

/// Sends until a 2xx (retrying transport failures and 5xx until `give_up`).
async fn until_acked(
    api: &Api,
    stats: &mut Stats,
    token: &str,
    what: Send<'_>,
    give_up: Instant,
) -> Result<Reply, String> {
    let mut wait = Duration::from_millis(20);
    loop {
        let r = match what {
            Send::Visit(j) => api.put_visit(stats, token, j.id, &j.body).await,
            Send::Photo(p) => api.put_photo(stats, token, p).await,
        };
        match r {
            Ok(reply) => return Ok(reply),
            Err(kind) if retryable(&kind) && Instant::now() < give_up => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(500));
            }
            Err(kind) => return Err(kind),
        }
    }
}

async fn client(
    api: Api,
    accounts: Arc<Vec<Account>>,
    jobs: Vec<Arc<Job>>,
    acks: Arc<Mutex<Acks>>,
    acked: Arc<AtomicUsize>,
    give_up: Instant,
) -> Stats {
    let mut stats = Stats::new();
    for job in jobs {
        let token = accounts[job.account].token.clone();
        let r = until_acked(&api, &mut stats, &token, Send::Visit(&job), give_up).await;
        match r {
            Ok(reply) => {
                let digest = reply
                    .json()
                    .ok()
                    .and_then(|v| v["original_digest"].as_str().map(str::to_string))
                    .unwrap_or_default();
                if let Ok(mut a) = acks.lock() {
                    a.visits.insert(
                        job.id,
                        VisitAck {
                            status: reply.status,
                            digest,
                        },
                    );
                }
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Err(kind) => {
                if let Ok(mut a) = acks.lock() {
                    a.failures.push(format!("visit {}: {kind}", job.id));
                }
                continue;
            }
        }
        for photo in &job.photos {
            let r = until_acked(&api, &mut stats, &token, Send::Photo(photo), give_up).await;
            let mut a = match acks.lock() {
                Ok(a) => a,
                Err(_) => continue,
            };
            match r.and_then(|reply| reply.json().map_err(|e| e.to_string())) {
                Ok(v) => {
                    a.photos.insert(
                        photo.id,
                        PhotoAck {
                            sha256: v["sha256"].as_str().unwrap_or("").to_string(),
                            upload_sha256: v["upload_sha256"].as_str().unwrap_or("").to_string(),
                        },
                    );
                }
                Err(kind) => a.failures.push(format!("photo {}: {kind}", photo.id)),
            }
        }
    }
    stats
}

/// Reads back `jobs` through the API: (stats, visits with a wrong digest or revision, visits
/// still waiting for photos, photos whose bytes or hashes differ).
async fn verify(
    api: &Api,
    accounts: &[Account],
    acks: &Acks,
    jobs: &[Arc<Job>],
) -> (Stats, Vec<String>, usize, Vec<String>) {
    let mut stats = Stats::new();
    let (mut digest_bad, mut pending, mut photo_bad) = (Vec::new(), 0, Vec::new());
    for job in jobs {
        let tok = &accounts[job.account].token;
        let path = format!("/api/v1/visits/{}", job.id);
        match api
            .get_json(&mut stats, crate::stats::Op::Read, tok, &path)
            .await
        {
            Ok(v) => {
                let want = acks
                    .visits
                    .get(&job.id)
                    .map(|a| a.digest.as_str())
                    .unwrap_or("");
                if v["original_digest"].as_str() != Some(want) || v["revision"].as_i64() != Some(1)
                {
                    digest_bad.push(job.id.to_string());
                }
                if v["evidence_pending"] != serde_json::json!(false) {
                    pending += 1;
                }
            }
            Err(e) => digest_bad.push(format!("{}: {e}", job.id)),
        }
        for p in &job.photos {
            let ack = acks.photos.get(&p.id);
            if ack.map(|a| a.upload_sha256.as_str()) != Some(p.sha256_hex().as_str()) {
                photo_bad.push(format!(
                    "{}: upload digest {:?}",
                    p.id,
                    ack.map(|a| &a.upload_sha256)
                ));
                continue;
            }
            match api
                .get_bytes(&mut stats, tok, &format!("/api/v1/photos/{}", p.id))
                .await
            {
                Ok(bytes) => {
                    let got: String = Sha256::digest(&bytes)
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    if ack.map(|a| a.sha256.as_str()) != Some(got.as_str()) {
                        photo_bad.push(format!("{}: stored bytes hash {got}", p.id));
                    }
                }
                Err(e) => photo_bad.push(format!("{}: {e}", p.id)),
            }
        }
    }
    (stats, digest_bad, pending, photo_bad)
}

/// The outcome: named checks, each passed or failed with a reason.
pub struct Report {
    pub checks: Vec<(String, Result<(), String>)>,
    pub stats: Stats,
    pub summary: serde_json::Value,
}

fn check(
    checks: &mut Vec<(String, Result<(), String>)>,
    name: &str,
    ok: bool,
    why: impl FnOnce() -> String,
) {
    let r = if ok { Ok(()) } else { Err(why()) };
    checks.push((name.to_string(), r));
}

pub async fn run(
    target: Arc<Target>,
    serve: ServeOptions,
    server: Server,
    api: &Api,
    accounts: Arc<Vec<Account>>,
    opts: &CrashOptions,
) -> anyhow::Result<(Report, Server)> {
    let db = Db::open(&target.database_url, 2)?;
    let before = counts(&db)?;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let jobs: Vec<Arc<Job>> = (0..opts.visits)
        .map(|j| {
            let account = j % accounts.len();
            let photos: Vec<Photo> = if opts.photo_every > 0 && j % opts.photo_every == 0 {
                vec![Photo::new(&mut rng)]
            } else {
                Vec::new()
            };
            let ids: Vec<Uuid> = photos.iter().map(|p| p.id).collect();
            Arc::new(Job {
                id: Uuid::now_v7(),
                account,
                body: visit_body(&accounts[account], &mut rng, &ids),
                photos,
            })
        })
        .collect();
    let n_photos: usize = jobs.iter().map(|j| j.photos.len()).sum();
    let acks = Arc::new(Mutex::new(Acks::default()));
    let acked = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let give_up = started + opts.give_up;
    let mut set = JoinSet::new();
    let clients = opts.clients.max(1);
    for c in 0..clients {
        let mine: Vec<Arc<Job>> = jobs.iter().skip(c).step_by(clients).cloned().collect();
        set.spawn(client(
            api.clone(),
            accounts.clone(),
            mine,
            acks.clone(),
            acked.clone(),
            give_up,
        ));
    }

    // The killer: SIGKILL once enough is acknowledged, then the same binary on the same data.
    let kill_after = ((opts.visits as f64) * opts.kill_at).ceil() as usize;
    let mut server = server;
    let mut killed_at = None;
    let mut acked_at_kill = 0;
    loop {
        let n = acked.load(Ordering::SeqCst);
        if n >= kill_after {
            anyhow::Context::context(server.kill9(), "kill -9 the server")?;
            killed_at = Some(started.elapsed().as_secs_f64());
            acked_at_kill = n;
            eprintln!(
                "[crash] kill -9 after {n} visits acknowledged ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            break;
        }
        if set.is_empty() || Instant::now() > give_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    anyhow::ensure!(killed_at.is_some(), "the burst ended before the kill point");
    tokio::time::sleep(opts.down).await;
    let t = target.clone();
    let restarted_in = Instant::now();
    let server = tokio::task::spawn_blocking(move || crate::server::start(&t, &serve)).await??;
    eprintln!(
        "[crash] restarted in {:.1} s",
        restarted_in.elapsed().as_secs_f64()
    );

    let mut stats = Stats::new();
    while let Some(r) = set.join_next().await {
        stats.merge(&r?);
    }
    let burst_secs = started.elapsed().as_secs_f64();
    let acks = Arc::try_unwrap(acks)
        .map_err(|_| anyhow::anyhow!("clients still hold the acknowledgements"))?
        .into_inner()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;

    let mut checks = Vec::new();
    check(
        &mut checks,
        "every retry completed (no client gave up)",
        acks.failures.is_empty(),
        || {
            format!(
                "{} failed: {:?}",
                acks.failures.len(),
                &acks.failures[..acks.failures.len().min(5)]
            )
        },
    );
    check(
        &mut checks,
        "every visit acknowledged",
        acks.visits.len() == jobs.len(),
        || format!("{} of {}", acks.visits.len(), jobs.len()),
    );
    check(
        &mut checks,
        "every photo acknowledged",
        acks.photos.len() == n_photos,
        || format!("{} of {n_photos}", acks.photos.len()),
    );
    let replayed = acks.visits.values().filter(|a| a.status == 200).count();
    let bad_status: Vec<u16> = acks
        .visits
        .values()
        .map(|a| a.status)
        .filter(|s| *s != 200 && *s != 201)
        .collect();
    check(
        &mut checks,
        "visit answers are 201 or 200 (replay)",
        bad_status.is_empty(),
        || format!("{bad_status:?}"),
    );
    let server_errors: Vec<(&String, &u64)> = stats
        .errors
        .iter()
        .filter(|(k, _)| k.contains("HTTP 500"))
        .collect();
    check(
        &mut checks,
        "no HTTP 500 during the burst",
        server_errors.is_empty(),
        || format!("{server_errors:?}"),
    );

    // The database: exactly once, and nothing else added.
    let after = counts(&db)?;
    let ids: Vec<String> = jobs.iter().map(|j| j.id.to_string()).collect();
    let (present, revisions, distinct_seq) = db.read(
        |c: &mut AnyConnection| -> Result<(i64, i64, usize), DbError> {
            let (mut p, mut r) = (0, 0);
            let mut seqs = std::collections::HashSet::new();
            for chunk in ids.chunks(500) {
                p += visits::table
                    .filter(visits::id.eq_any(chunk))
                    .count()
                    .get_result::<i64>(c)?;
                r += visit_revisions::table
                    .filter(visit_revisions::visit_id.eq_any(chunk))
                    .count()
                    .get_result::<i64>(c)?;
                let s: Vec<i64> = visits::table
                    .filter(visits::id.eq_any(chunk))
                    .select(visits::seq)
                    .load(c)?;
                seqs.extend(s);
            }
            Ok((p, r, seqs.len()))
        },
    )?;
    let n = jobs.len() as i64;
    // The audit log: one entry per stored visit and photo, none for a replay, chain intact.
    let photo_ids: Vec<String> = jobs
        .iter()
        .flat_map(|j| j.photos.iter().map(|p| p.id.to_string()))
        .collect();
    let (audit_visits, audit_photos) =
        db.read(|c: &mut AnyConnection| -> Result<(i64, i64), DbError> {
            let (mut v, mut p) = (0, 0);
            for chunk in ids.chunks(500) {
                v += audit_log::table
                    .filter(audit_log::entity_kind.eq("visit"))
                    .filter(audit_log::entity_id.eq_any(chunk))
                    .count()
                    .get_result::<i64>(c)?;
            }
            for chunk in photo_ids.chunks(500) {
                p += audit_log::table
                    .filter(audit_log::entity_kind.eq("photo"))
                    .filter(audit_log::entity_id.eq_any(chunk))
                    .count()
                    .get_result::<i64>(c)?;
            }
            Ok((v, p))
        })?;
    check(
        &mut checks,
        "one audit entry per stored visit and photo",
        audit_visits == n && audit_photos == n_photos as i64,
        || format!("{audit_visits} entries for {n} visits, {audit_photos} for {n_photos} photos"),
    );
    let verify_out = std::process::Command::new(&target.bin)
        .args(["--database-url", &target.database_url, "--data-dir"])
        .arg(target.data_dir())
        .args(["audit", "verify"])
        .env("DOI178_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()?;
    check(
        &mut checks,
        "doi178-server audit verify passes",
        verify_out.status.success(),
        || {
            format!(
                "{}{}",
                String::from_utf8_lossy(&verify_out.stdout),
                String::from_utf8_lossy(&verify_out.stderr)
            )
        },
    );
    check(
        &mut checks,
        "every submitted visit is in the database exactly once",
        present == n && revisions == n,
        || format!("{present} visits and {revisions} revisions for {n} ids"),
    );
    check(
        &mut checks,
        "each visit has its own change number",
        distinct_seq as i64 == n,
        || format!("{distinct_seq} distinct for {n}"),
    );
    check(
        &mut checks,
        "row counts grew by exactly what was sent",
        after.visits - before.visits == n
            && after.revisions - before.revisions == n
            && after.photos - before.photos == n_photos as i64
            && after.links - before.links == n_photos as i64,
        || format!("before {before:?}, after {after:?}, sent {n} visits, {n_photos} photos"),
    );

    // The API: each visit readable with the digest it was acknowledged with; each photo's bytes
    // hash to what the upload answer said (checked by `clients` tasks in parallel).
    let acks = Arc::new(acks);
    let mut set = JoinSet::new();
    for c in 0..clients {
        let mine: Vec<Arc<Job>> = jobs.iter().skip(c).step_by(clients).cloned().collect();
        let (api, accounts, acks) = (api.clone(), accounts.clone(), acks.clone());
        set.spawn(async move { verify(&api, &accounts, &acks, &mine).await });
    }
    let (mut digest_bad, mut pending, mut photo_bad) = (Vec::new(), 0, Vec::new());
    while let Some(r) = set.join_next().await {
        let (s, d, p, ph) = r?;
        stats.merge(&s);
        digest_bad.extend(d);
        pending += p;
        photo_bad.extend(ph);
    }
    check(
        &mut checks,
        "the API returns every visit with its acknowledged digest",
        digest_bad.is_empty(),
        || {
            format!(
                "{} wrong: {:?}",
                digest_bad.len(),
                &digest_bad[..digest_bad.len().min(5)]
            )
        },
    );
    check(
        &mut checks,
        "no visit is still waiting for a photo",
        pending == 0,
        || format!("{pending} visits"),
    );
    check(
        &mut checks,
        "every photo's bytes match its hashes",
        photo_bad.is_empty(),
        || {
            format!(
                "{} wrong: {:?}",
                photo_bad.len(),
                &photo_bad[..photo_bad.len().min(5)]
            )
        },
    );

    let summary = serde_json::json!({
        "backend": if target.is_postgres() { "postgres" } else { "sqlite" },
        "clients": clients,
        "visits": jobs.len(),
        "photos": n_photos,
        "killed_after_s": killed_at,
        "acknowledged_before_kill": acked_at_kill,
        "replayed_after_restart": replayed,
        "burst_secs": crate::stats::round(burst_secs, 1),
        "errors_during_burst": stats.errors,
    });
    Ok((
        Report {
            checks,
            stats,
            summary,
        },
        server,
    ))
}
