//! `loadgen`: simulated phones against the real `doi178-server` binary.
//!
//! - `loadgen run`: N phones pull sync, submit visits and upload photos for a duration; prints
//!   throughput, p50 / p99 per operation and errors by kind (and JSON with `--json`), then
//!   measures the raw insert rate of the same visit rows on the same database and the ratio.
//! - `loadgen crash`: the crash-safety check (SIGKILL mid-burst, restart, retries, verification).
//!
//! Both prepare their own database (demo data plus commune teams of phones) on SQLite in a
//! temporary directory, or on PostgreSQL with `--postgres postgres://user@host:port/postgres`.

mod api;
mod crash;
mod fixture;
mod load;
mod raw;
mod server;
mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use doi178_tests::ServeOptions;
use serde_json::json;

use crate::api::Api;
use crate::server::{Server, Target};
use crate::stats::{round, Op, Stats};

#[derive(Parser)]
#[command(
    name = "loadgen",
    about = "Load generator and crash-safety check for doi178-server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Phones syncing for a duration; throughput, latency, errors, and the raw insert baseline.
    Run(RunArgs),
    /// SIGKILL the server in a burst of submissions, restart it, retry, verify.
    Crash(CrashArgs),
}

#[derive(Args, Clone)]
struct Common {
    /// The doi178-server binary to test (build it with --release for figures).
    #[arg(long, env = "DOI178_SERVER_BIN")]
    server_bin: PathBuf,
    /// Run on PostgreSQL: an admin URL of a cluster; a fresh database is created and dropped.
    #[arg(long)]
    postgres: Option<String>,
    /// Establishments in the demo data.
    #[arg(long, default_value_t = 2000)]
    demo_establishments: u32,
    /// Visits of history in the demo data.
    #[arg(long, default_value_t = 4000)]
    demo_visits: u32,
    /// Inspectors per commune team of phones.
    #[arg(long, default_value_t = 5)]
    team_size: usize,
    /// Concurrent requests (the client's connection pool).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Server HTTP workers [default: the server's own, the number of cores].
    #[arg(long)]
    workers: Option<usize>,
    /// A TOML config file for the server (e.g. `db_max_connections = 32`).
    #[arg(long)]
    server_config: Option<PathBuf>,
    #[arg(long, default_value_t = 178)]
    seed: u64,
    /// Keep the data directory and database afterwards (their paths are printed).
    #[arg(long)]
    keep: bool,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Simulated phones.
    #[arg(long, default_value_t = 500)]
    phones: usize,
    /// Accounts the phones sign in with [default: one per phone].
    #[arg(long)]
    users: Option<usize>,
    /// How long the phones run: `120s`, `2m`, `500ms`.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    duration: Duration,
    /// Each phone pulls sync this often.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pull_every: Duration,
    /// One visit in N carries photos (0: none).
    #[arg(long, default_value_t = 4)]
    photo_every: usize,
    #[arg(long, default_value_t = 1)]
    photos_per_visit: usize,
    /// Pause between a phone's visits.
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    think: Duration,
    /// Visits copied for the raw insert baseline (half one per transaction, half batched).
    #[arg(long, default_value_t = 20000)]
    raw_rows: usize,
    #[arg(long, default_value_t = 100)]
    raw_batch: usize,
    /// Exit non-zero unless there were no errors at all (and the server logged none).
    #[arg(long)]
    assert_zero_errors: bool,
}

#[derive(Args)]
struct CrashArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Accounts the clients sign in with (each sign-in is a deliberately slow password hash).
    #[arg(long, default_value_t = 10)]
    users: usize,
    #[arg(long, default_value_t = 5000)]
    visits: usize,
    /// One visit in N carries a photo.
    #[arg(long, default_value_t = 10)]
    photo_every: usize,
    /// Kill when this share of the visits is acknowledged.
    #[arg(long, default_value_t = 0.4)]
    kill_at: f64,
    /// How long the server stays down.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    down: Duration,
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    give_up: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("unknown unit in {s} (ms, s, m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn prepare(
    c: &Common,
    users: usize,
) -> anyhow::Result<(Arc<Target>, Vec<String>, ServeOptions, Server)> {
    let target = Target::prepare(
        &c.server_bin,
        c.postgres.as_deref(),
        c.demo_establishments,
        c.demo_visits,
        c.keep,
    )?;
    let names = fixture::add_phone_users(&target.database_url, users, c.team_size)?;
    let serve = server::serve_options(server::free_port()?, c.workers, c.server_config.clone());
    let srv = server::start(&target, &serve)?;
    eprintln!("[loadgen] server pid {} at {}", srv.pid(), srv.base);
    Ok((Arc::new(target), names, serve, srv))
}

fn write_json(path: &Option<PathBuf>, v: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(p) = path {
        std::fs::write(p, serde_json::to_string_pretty(v)?)
            .with_context(|| format!("write {}", p.display()))?;
    }
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<bool> {
    // Checked before the run, not found wanting after it.
    anyhow::ensure!(
        args.raw_rows > 0 && args.raw_batch > 0,
        "--raw-rows and --raw-batch must be at least 1: the report compares the server with the \
         raw insert rate of the same rows"
    );
    let c = &args.common;
    let users = args
        .users
        .unwrap_or(args.phones)
        .clamp(1, args.phones.max(1));
    let (target, names, _serve, mut srv) = prepare(c, users)?;
    let api = Api::new(&srv.base, c.connections, Duration::from_secs(30))?;
    let mut setup = Stats::new();
    let signed = std::time::Instant::now();
    let accounts = api::sign_in_all(&api, &mut setup, &names, c.connections.min(16)).await?;
    eprintln!(
        "[loadgen] {} accounts signed in and synced in {:.1} s; {} phones for {:?}",
        accounts.len(),
        signed.elapsed().as_secs_f64(),
        args.phones,
        args.duration
    );
    let opts = load::LoadOptions {
        phones: args.phones,
        duration: args.duration,
        pull_every: args.pull_every,
        photo_every: args.photo_every,
        photos_per_visit: args.photos_per_visit,
        think: args.think,
        seed: c.seed,
    };
    let cpu_before = srv.cpu_secs();
    let res = load::run(&api, Arc::new(accounts), &opts).await?;
    let server_cpu = srv.cpu_secs().zip(cpu_before).map(|(a, b)| a - b);
    let server_errors = srv.error_lines();
    let crashed = srv.exited();
    srv.stop();

    let secs = res.secs;
    let visits_per_s = res.stats.count(Op::Visit) as f64 / secs;
    eprintln!("[loadgen] raw insert baseline on the same database…");
    let raw = tokio::task::spawn_blocking({
        let url = target.database_url.clone();
        let ids = res.created.clone();
        let (rows, batch) = (args.raw_rows, args.raw_batch);
        move || raw::measure(&url, &ids, rows, batch)
    })
    .await??;
    let raw_single = raw["one_txn_per_visit"]["per_s"].as_f64().unwrap_or(0.0);
    let raw_batched = raw["batched"]["per_s"].as_f64().unwrap_or(0.0);
    let backend = if target.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let report = json!({
        "backend": backend,
        "phones": args.phones,
        "accounts": users,
        "team_size": c.team_size,
        "connections": c.connections,
        "duration_s": args.duration.as_secs_f64(),
        "elapsed_s": round(secs, 2),
        "pull_every_s": args.pull_every.as_secs_f64(),
        "photo_every": args.photo_every,
        "visits_created": res.created.len(),
        "photos_created": res.photos_created,
        "visits_per_s": round(visits_per_s, 1),
        "photos_per_s": round(res.stats.count(Op::Photo) as f64 / secs, 1),
        "pulls_per_s": round(res.stats.count(Op::Pull) as f64 / secs, 1),
        "ops": res.stats.ops_json(secs),
        "errors": res.stats.errors,
        "error_count": res.stats.error_count(),
        "server_error_lines": server_errors.len(),
        "server_cpu_s": server_cpu.map(|c| round(c, 2)),
        "server_cpu_ms_per_request": server_cpu.map(|c| round(c * 1000.0 / (res.stats.count(Op::Visit) + res.stats.count(Op::Photo) + res.stats.count(Op::Pull)).max(1) as f64, 3)),
        "server_crashed": crashed,
        "raw": raw,
        "ratio_http_to_raw_one_txn": round(visits_per_s / raw_single.max(1e-9), 3),
        "ratio_http_to_raw_batched": round(visits_per_s / raw_batched.max(1e-9), 3),
    });
    println!(
        "\n== load: {} phones on {backend}, {:.1} s ({} accounts in teams of {}, {} connections)",
        args.phones, secs, users, c.team_size, c.connections
    );
    print!("{}", res.stats.table(secs));
    println!(
        "visits/s {:.1}  photos/s {:.1}  pulls/s {:.1}",
        visits_per_s,
        res.stats.count(Op::Photo) as f64 / secs,
        res.stats.count(Op::Pull) as f64 / secs
    );
    if let Some(cpu) = server_cpu {
        println!(
            "server CPU: {cpu:.1} s over {secs:.1} s ({:.2} cores), {:.2} ms per request",
            cpu / secs,
            cpu * 1000.0
                / (res.stats.count(Op::Visit)
                    + res.stats.count(Op::Photo)
                    + res.stats.count(Op::Pull))
                .max(1) as f64
        );
    }
    println!(
        "raw insert of the same rows: {raw_single:.1} visits/s (one transaction each), {raw_batched:.1} visits/s (batches of {}); HTTP/raw = {:.3} / {:.3}",
        args.raw_batch,
        visits_per_s / raw_single.max(1e-9),
        visits_per_s / raw_batched.max(1e-9)
    );
    for l in server_errors.iter().take(10) {
        println!("server: {l}");
    }
    write_json(&c.json, &report)?;
    let clean = res.stats.error_count() == 0
        && server_errors.is_empty()
        && !crashed
        && !res.created.is_empty();
    if args.assert_zero_errors {
        println!("zero errors: {}", if clean { "yes" } else { "NO" });
        return Ok(clean);
    }
    Ok(true)
}

async fn crash(args: CrashArgs) -> anyhow::Result<bool> {
    let c = &args.common;
    let users = args.users.clamp(1, args.clients.max(1));
    let (target, names, serve, srv) = prepare(c, users)?;
    let api = Api::new(
        &srv.base,
        c.connections.max(args.clients),
        Duration::from_secs(30),
    )?;
    let mut setup = Stats::new();
    let accounts = Arc::new(api::sign_in_all(&api, &mut setup, &names, 16).await?);
    let opts = crash::CrashOptions {
        clients: args.clients,
        visits: args.visits,
        photo_every: args.photo_every,
        kill_at: args.kill_at,
        down: args.down,
        give_up: args.give_up,
        seed: c.seed,
    };
    let (report, mut srv) = crash::run(target.clone(), serve, srv, &api, accounts, &opts).await?;
    let server_errors = srv.error_lines();
    srv.stop();
    let mut passed = 0;
    let mut failed = 0;
    println!("\n== crash safety on {}", report.summary["backend"]);
    println!("{}", serde_json::to_string_pretty(&report.summary)?);
    for (name, r) in &report.checks {
        match r {
            Ok(()) => {
                passed += 1;
                println!("ok     {name}");
            }
            Err(why) => {
                failed += 1;
                println!("FAILED {name}: {why}");
            }
        }
    }
    for l in server_errors.iter().take(10) {
        println!("server after restart: {l}");
    }
    println!("checks: {passed} passed; {failed} failed");
    let mut summary = report.summary.clone();
    summary["checks_passed"] = json!(passed);
    summary["checks_failed"] = json!(failed);
    summary["ops"] = report.stats.ops_json(1.0);
    write_json(&c.json, &summary)?;
    Ok(failed == 0)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ok = rt.block_on(async {
        match cli.command {
            Command::Run(a) => run(a).await,
            Command::Crash(a) => crash(a).await,
        }
    })?;
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
