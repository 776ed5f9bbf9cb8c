//! The load run: N phones, each in a loop of pull (every `pull_every`), submit a visit, upload
//! its photos, until the deadline. Every submission must be a 201 (a new visit) and every upload
//! a 201; anything else is counted as an error by kind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::api::{visit_body, Account, Api, Photo};
use crate::stats::Stats;

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub phones: usize,
    pub duration: Duration,
    /// A phone pulls sync this often (its first pull at a random moment of the first period).
    pub pull_every: Duration,
    /// One visit in `photo_every` carries photos.
    pub photo_every: usize,
    pub photos_per_visit: usize,
    /// Pause between a phone's visits.
    pub think: Duration,
    pub seed: u64,
}

pub struct LoadResult {
    pub stats: Stats,
    pub secs: f64,
    /// Visits the server acknowledged with 201.
    pub created: Vec<String>,
    pub photos_created: u64,
}

async fn phone(
    api: Api,
    account: Account,
    opts: LoadOptions,
    idx: usize,
    deadline: Instant,
    pool: Arc<Vec<Photo>>,
) -> (Stats, Vec<String>, u64) {
    let mut stats = Stats::new();
    let mut created = Vec::new();
    let mut photos_created = 0u64;
    let mut rng = StdRng::seed_from_u64(opts.seed.wrapping_add(idx as u64));
    let mut cursor = account.cursor.clone();
    let period = opts.pull_every.as_millis().max(1) as u64;
    let mut next_pull = Instant::now() + Duration::from_millis(rng.gen_range(0..period));
    let mut n = rng.gen_range(0..opts.photo_every.max(1));
    while Instant::now() < deadline {
        if Instant::now() >= next_pull {
            next_pull += opts.pull_every;
            // Every page until caught up (bounded, in case changes keep coming faster).
            for _ in 0..20 {
                match api.pull_head(&mut stats, &account.token, &cursor).await {
                    Ok(head) => {
                        cursor = head.cursor;
                        if !head.has_more {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        n += 1;
        let photos: Vec<Photo> = if opts.photo_every > 0 && n % opts.photo_every == 0 {
            (0..opts.photos_per_visit)
                .map(|_| Photo::from_pool(&pool, &mut rng))
                .collect()
        } else {
            Vec::new()
        };
        let ids: Vec<Uuid> = photos.iter().map(|p| p.id).collect();
        // Time-ordered, as the field app makes them (`Uuid::now_v7`).
        let id = Uuid::now_v7();
        let body = visit_body(&account, &mut rng, &ids);
        match api.put_visit(&mut stats, &account.token, id, &body).await {
            Ok(r) if r.status == 201 => created.push(id.to_string()),
            Ok(r) => stats.error(&format!("visit HTTP {} (expected 201)", r.status)),
            Err(_) => {}
        }
        for p in &photos {
            match api.put_photo(&mut stats, &account.token, p).await {
                Ok(r) if r.status == 201 => photos_created += 1,
                Ok(r) => stats.error(&format!("photo HTTP {} (expected 201)", r.status)),
                Err(_) => {}
            }
        }
        if !opts.think.is_zero() {
            tokio::time::sleep(opts.think).await;
        }
    }
    (stats, created, photos_created)
}

/// Runs the phones to the deadline; phone `i` uses account `i % accounts.len()`.
pub async fn run(
    api: &Api,
    accounts: Arc<Vec<Account>>,
    opts: &LoadOptions,
) -> anyhow::Result<LoadResult> {
    anyhow::ensure!(!accounts.is_empty(), "no accounts");
    // Distinct photo contents, encoded once.
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let pool: Arc<Vec<Photo>> = Arc::new((0..256).map(|_| Photo::new(&mut rng)).collect());
    let started = Instant::now();
    let deadline = started + opts.duration;
    let mut set = JoinSet::new();
    for i in 0..opts.phones {
        let account = accounts[i % accounts.len()].clone();
        set.spawn(phone(
            api.clone(),
            account,
            opts.clone(),
            i,
            deadline,
            Arc::clone(&pool),
        ));
    }
    let mut stats = Stats::new();
    let mut created = Vec::new();
    let mut photos_created = 0;
    while let Some(r) = set.join_next().await {
        let (s, c, p) = r?;
        stats.merge(&s);
        created.extend(c);
        photos_created += p;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(LoadResult {
        stats,
        secs,
        created,
        photos_created,
    })
}
