//! The "day" benchmark of issue 4: 20 visits with 100 photos (12-megapixel camera JPEGs run
//! through the photo pipeline) recorded offline on the phone's core, then synced in one go to
//! the real server. Run through `scripts/bench-field-day.sh`, which puts the sync inside
//! `scripts/netem.sh`'s shaped link (1 Mbit/s, 300 ms RTT, 2 % loss).
//!
//! ```text
//! field-day-bench prepare --photos-dir DIR [--photos 100]
//!     makes the photos once (cached in DIR): original → pipeline → the JPEG the phone uploads
//! field-day-bench run --photos-dir DIR [--visits 20] [--photos 100] [--concurrency 4]
//!     [--rate-bps 1000000] [--iface NAME] [--server URL] [--user kiemtra.hue]
//!     signs in (DOI178_URL by default), pulls, records the visits, then times `sync_now`
//! ```
//!
//! "Bytes sent" is what the phone's network interface transmitted during the sync
//! (`/sys/class/net/IFACE/statistics/tx_bytes`: IP packets with their TCP/IP headers,
//! retransmissions included), so `time ÷ (bytes × 8 ÷ rate)` is how close the sync came to
//! keeping the link busy (1.0 = saturated). The payload (the photo bytes) and the stricter ratio
//! against it are reported too.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use doi178_field::photo::{self, sample, PhotoOptions};
use doi178_field::shared::visit::{AnswerInput, AnswerResult, Outcome};
use doi178_field::{
    FieldCore, NearbyQuery, Options, ProcessedPhoto, RetryPolicy, Settings, SignIn, VisitGps,
    VisitStart, VisitStatus, VisitSubmit, VisitUpdate,
};

fn main() {
    if let Err(e) = run() {
        eprintln!("field-day-bench: {e}");
        std::process::exit(1);
    }
}

struct Args {
    command: String,
    photos_dir: PathBuf,
    visits: usize,
    photos: usize,
    concurrency: u32,
    rate_bps: f64,
    iface: Option<String>,
    server: Option<String>,
    user: String,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it
        .next()
        .ok_or("usage: field-day-bench prepare|run [options]")?;
    let mut a = Args {
        command,
        photos_dir: std::env::temp_dir().join("doi178-field-day-photos"),
        visits: 20,
        photos: 100,
        concurrency: 4,
        rate_bps: 1_000_000.0,
        iface: None,
        server: None,
        user: "kiemtra.hue".into(),
    };
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        let num = |s: String| s.parse::<f64>().map_err(|_| format!("{k}: a number"));
        match k.as_str() {
            "--photos-dir" => a.photos_dir = PathBuf::from(v()?),
            "--visits" => a.visits = num(v()?)? as usize,
            "--photos" => a.photos = num(v()?)? as usize,
            "--concurrency" => a.concurrency = num(v()?)? as u32,
            "--rate-bps" => a.rate_bps = num(v()?)?,
            "--iface" => a.iface = Some(v()?),
            "--server" => a.server = Some(v()?),
            "--user" => a.user = v()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.visits == 0 || a.photos == 0 {
        return Err("--visits and --photos must be at least 1".into());
    }
    Ok(a)
}

fn run() -> Result<(), String> {
    let a = parse()?;
    match a.command.as_str() {
        "prepare" => prepare(&a.photos_dir, a.photos).map(|_| ()),
        "run" => day(&a),
        other => Err(format!("unknown command {other} (prepare or run)")),
    }
}

/// One processed photo: the bytes to upload and the original's SHA-256.
struct Prepared {
    jpeg: Vec<u8>,
    original_sha256: String,
}

/// Makes (or reuses) `n` photos: a 12 MP camera JPEG each, through the pipeline with the app's
/// default settings (long edge 1600 px, quality 80).
fn prepare(dir: &Path, n: usize) -> Result<Vec<Prepared>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::with_capacity(n);
    let mut made = 0;
    let started = Instant::now();
    for i in 0..n {
        let jpg = dir.join(format!("photo-{i:03}.jpg"));
        let sha = dir.join(format!("photo-{i:03}.original-sha256"));
        if !(jpg.is_file() && sha.is_file()) {
            let original = sample::twelve_mp(178_000 + i as u64);
            let p = photo::process(&original, &PhotoOptions::default())
                .map_err(|e| format!("photo {i}: {e}"))?;
            std::fs::write(&jpg, &p.jpeg).map_err(|e| e.to_string())?;
            std::fs::write(&sha, p.sha256_original.to_hex()).map_err(|e| e.to_string())?;
            made += 1;
        }
        out.push(Prepared {
            jpeg: std::fs::read(&jpg).map_err(|e| e.to_string())?,
            original_sha256: std::fs::read_to_string(&sha).map_err(|e| e.to_string())?,
        });
    }
    let total: usize = out.iter().map(|p| p.jpeg.len()).sum();
    eprintln!(
        "photos: {n} ({made} made in {:.1} s), {:.2} MB to upload, {:.0} kB each on average",
        started.elapsed().as_secs_f64(),
        total as f64 / 1e6,
        total as f64 / n as f64 / 1e3
    );
    Ok(out)
}

/// The phone's interface: the one given, else the only one that is up besides `lo`.
fn iface(given: Option<&str>) -> Result<String, String> {
    if let Some(i) = given {
        return Ok(i.to_string());
    }
    let mut found = Vec::new();
    for e in std::fs::read_dir("/sys/class/net").map_err(|e| e.to_string())? {
        let name = e.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy().to_string();
        if name != "lo" {
            found.push(name);
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "cannot tell the phone's interface among {found:?}: give --iface"
        )),
    }
}

fn counter(iface: &str, which: &str) -> Result<u64, String> {
    let p = format!("/sys/class/net/{iface}/statistics/{which}");
    std::fs::read_to_string(&p)
        .map_err(|e| format!("{p}: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("{p}: {e}"))
}

fn day(a: &Args) -> Result<(), String> {
    let photos = prepare(&a.photos_dir, a.photos)?;
    let server = a
        .server
        .clone()
        .or_else(|| std::env::var("DOI178_URL").ok())
        .ok_or("no server: give --server or run inside scripts/netem.sh (DOI178_URL)")?;
    let dev = iface(a.iface.as_deref())?;
    let dir = std::env::temp_dir().join(format!("doi178-field-day-{}", uuid::Uuid::new_v4()));
    let result = day_in(a, &photos, &server, &dev, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn day_in(
    a: &Args,
    photos: &[Prepared],
    server: &str,
    dev: &str,
    dir: &Path,
) -> Result<(), String> {
    let core = FieldCore::open_with(
        dir,
        Some(Settings {
            server_url: server.to_string(),
            upload_concurrency: a.concurrency,
            ..Settings::default()
        }),
        Options {
            // A phone's defaults, with more patience per step on a lossy link.
            retry: RetryPolicy {
                max_attempts: 8,
                base_ms: 500,
                cap_ms: 10_000,
            },
            timeout: Duration::from_secs(120),
        },
    )
    .map_err(|e| e.to_string())?;
    let t = Instant::now();
    core.sign_in(SignIn {
        username: a.user.clone(),
        password: "doi178-demo".into(),
    })
    .map_err(|e| format!("sign-in: {e}"))?;
    let pulled = core.sync_now().map_err(|e| e.to_string())?;
    if !pulled.ok {
        return Err(format!("first sync: {:?}", pulled.error));
    }
    eprintln!(
        "signed in and pulled {} establishments in {:.1} s",
        pulled.pulled_establishments,
        t.elapsed().as_secs_f64()
    );

    // The day, offline: visits with their photos, recorded as the UI does.
    let ests: Vec<_> = core
        .establishments_nearby(NearbyQuery {
            lat: None,
            lon: None,
            query: None,
            limit: Some(500),
        })
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|e| e.lat.is_some() && core.checklist(e.id.parse().unwrap_or_default()).is_ok())
        .collect();
    if ests.is_empty() {
        return Err("no establishment with a location and a checklist on the phone".into());
    }
    let per_visit = a.photos.div_ceil(a.visits);
    let start = Utc::now() - chrono::Duration::hours(9);
    let mut payload = 0usize;
    let mut next_photo = photos.iter();
    for i in 0..a.visits {
        let est = &ests[i % ests.len()];
        let est_id = est.id.parse().map_err(|e| format!("{e}"))?;
        let began = start + chrono::Duration::minutes(25 * i as i64);
        let d = core
            .visit_start(VisitStart {
                establishment_id: est_id,
                assignment_id: None,
                team_id: None,
                id: None,
                started_at: Some(began),
            })
            .map_err(|e| e.to_string())?;
        core.visit_gps(VisitGps {
            id: d.id,
            lat: est.lat.unwrap_or_default() + 0.0002,
            lon: est.lon.unwrap_or_default(),
            accuracy_m: 9.0,
        })
        .map_err(|e| e.to_string())?;
        let checklist = core.checklist(est_id).map_err(|e| e.to_string())?;
        core.visit_update(VisitUpdate {
            id: d.id,
            answers: Some(
                checklist
                    .items
                    .iter()
                    .map(|it| AnswerInput {
                        item: it.code.clone(),
                        result: AnswerResult::Pass,
                        note: None,
                    })
                    .collect(),
            ),
            outcome: Some(Outcome::NoViolation),
            notes: Some(format!("Kiểm tra lần {i}: cơ sở chấp hành đầy đủ.")),
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
        for _ in 0..per_visit {
            let Some(p) = next_photo.next() else { break };
            core.add_processed_photo(
                d.id,
                ProcessedPhoto {
                    id: None,
                    bytes: p.jpeg.clone(),
                    original_sha256: p.original_sha256.clone(),
                    sha256: doi178_field::shared::photo::Sha256Digest::of(&p.jpeg).to_hex(),
                    taken_at: Some(began + chrono::Duration::minutes(3)),
                    mime: None,
                },
            )
            .map_err(|e| e.to_string())?;
            payload += p.jpeg.len();
        }
        let item = core
            .visit_submit(VisitSubmit {
                id: d.id,
                ended_at: Some(began + chrono::Duration::minutes(20)),
            })
            .map_err(|e| e.to_string())?;
        if item.status != VisitStatus::Queued {
            return Err(format!("visit {i} is {:?}, not queued", item.status));
        }
    }

    // The measured part: one sync_now (push, then the pull that follows it).
    let tx0 = counter(dev, "tx_bytes")?;
    let rx0 = counter(dev, "rx_bytes")?;
    let t = Instant::now();
    let mut report = core.sync_now().map_err(|e| e.to_string())?;
    let mut syncs = 1;
    // A sync ends early only when a step failed after all its retries: go again, as the app's
    // background sync would, and count the time.
    while !report.ok && syncs < 5 {
        eprintln!("sync {syncs} stopped: {:?}; again", report.error);
        report = core.sync_now().map_err(|e| e.to_string())?;
        syncs += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    let tx = counter(dev, "tx_bytes")? - tx0;
    let rx = counter(dev, "rx_bytes")? - rx0;
    let outbox = core.outbox().map_err(|e| e.to_string())?;
    let done = outbox
        .iter()
        .filter(|i| i.status == VisitStatus::Done)
        .count();
    let photos_done: usize = outbox
        .iter()
        .flat_map(|i| &i.photos)
        .filter(|p| p.status == doi178_field::PhotoStatus::Done)
        .count();
    let ideal = tx as f64 * 8.0 / a.rate_bps;
    println!("visits            {} ({done} done)", a.visits);
    println!("photos            {} ({photos_done} done)", a.photos);
    println!("concurrency       {}", a.concurrency);
    println!("syncs             {syncs}");
    println!("requests          {}", report.requests);
    println!("payload_bytes     {payload}");
    println!("bytes_sent        {tx}");
    println!("bytes_received    {rx}");
    println!("seconds           {secs:.1}");
    println!("bytes_over_rate_s {ideal:.1}");
    println!("ratio             {:.3}", secs / ideal);
    // Stricter: against the photos' bytes alone (no headers, no retransmissions, no visit JSON).
    println!(
        "ratio_payload     {:.3}",
        secs / (payload as f64 * 8.0 / a.rate_bps)
    );
    println!(
        "goals             bytes_sent <= 30 MB: {}; ratio <= 1.2: {}",
        if tx <= 30_000_000 { "met" } else { "MISSED" },
        if secs / ideal <= 1.2 { "met" } else { "MISSED" }
    );
    if done != a.visits || photos_done != a.photos {
        return Err(format!(
            "not everything arrived: {done}/{} visits, {photos_done}/{} photos",
            a.visits, a.photos
        ));
    }
    Ok(())
}
