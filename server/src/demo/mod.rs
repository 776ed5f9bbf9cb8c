//! Demo data (deterministic, seeded): the real 2025 administrative units of the whole country, and
//! for Huế (46) and Quảng Trị (44) agencies, teams, users, checklist templates, establishments
//! inside their commune's boundary, two years of visits with violations and photos, tips and
//! assignments. The same seed gives the same data; inserts go in large batches so the default size
//! loads in seconds and `--establishments 200000 --visits 2000000` stays within memory.

mod data;
mod establishments;
mod geo;
mod kinds;
mod names;
mod people;
mod photos;
mod planning;
mod reference;
mod units;
mod visits;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use clap::Args;
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::db::{AnyConnection, Db};
use crate::storage::PhotoStore;

pub const DEMO_PASSWORD: &str = "doi178-demo";

pub const DEMO_ACCOUNTS: &[(&str, &str)] = &[
    ("admin", "administrator (whole country)"),
    ("tinh.hue", "provincial staff, Huế"),
    ("doitruong.hue", "team leader, Huế"),
    ("kiemtra.hue", "inspector on that team"),
    (
        "doitruong.phuxuan",
        "team leader, Phường Phú Xuân (commune team)",
    ),
    ("tinh.quangtri", "provincial staff, Quảng Trị"),
    ("doitruong.quangtri", "team leader, Quảng Trị"),
];

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Number of establishments in Huế.
    #[arg(long, default_value_t = 2400)]
    pub establishments: usize,
    /// Number of visits over the two demo years.
    #[arg(long, default_value_t = 6000)]
    pub visits: usize,
    /// RNG seed; the same seed gives the same data.
    #[arg(long, default_value_t = 178)]
    pub seed: u64,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            establishments: 2400,
            visits: 6000,
            seed: 178,
        }
    }
}

/// Rows per multi-row INSERT statement.
pub(crate) const BATCH: usize = 250;
/// Rows per transaction for the large tables.
pub(crate) const ROWS_PER_TX: usize = 50_000;

/// First and last day of the visit history.
pub(crate) fn history_start() -> NaiveDate {
    date(2025, 1, 2)
}
pub(crate) fn history_end() -> NaiveDate {
    date(2026, 11, 15)
}
/// "Today" in the demo world: assignments are planned from here.
pub(crate) fn demo_today() -> NaiveDate {
    date(2026, 11, 18)
}
/// Decree 282/2025/NĐ-CP replaced Decree 144/2021/NĐ-CP on this day.
pub(crate) fn decree_282_from() -> NaiveDate {
    date(2025, 12, 15)
}

/// A calendar date that is known to exist (all call sites use constant, valid dates).
pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// Midnight UTC of `d` plus `secs` seconds.
pub(crate) fn at(d: NaiveDate, secs: i64) -> NaiveDateTime {
    d.and_time(chrono::NaiveTime::MIN) + chrono::TimeDelta::seconds(secs)
}

/// An independent, deterministic random stream per phase, so that changing one phase does not
/// reshuffle the others.
pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// A random (version 4) UUID drawn from the demo's RNG.
pub(crate) fn new_id(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

/// Reserves `n` consecutive change numbers and returns the first. Every synced row gets its own
/// number: a phone pages through changes by number, so rows sharing one could be skipped.
pub(crate) fn reserve_seq(conn: &mut AnyConnection, n: usize) -> QueryResult<i64> {
    use crate::db::schema::sync_counter::dsl::*;
    let n = n.max(1) as i64;
    let last: i64 = diesel::update(sync_counter.filter(id.eq(1)))
        .set(value.eq(value + n))
        .returning(value)
        .get_result(conn)?;
    Ok(last - n + 1)
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub(crate) fn progress(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg:>16} [{bar:32.cyan/blue}] {human_pos:>9}/{human_len:<9} {elapsed:>4} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what);
    bar
}

fn user_count(db: &Db) -> anyhow::Result<i64> {
    use crate::db::schema::users;
    let mut conn = db.conn()?;
    Ok(users::table.count().get_result(&mut *conn)?)
}

/// How many of the demo's accounts the database holds.
fn demo_accounts_present(db: &Db) -> anyhow::Result<usize> {
    use crate::db::schema::users;
    let names: Vec<&str> = DEMO_ACCOUNTS.iter().map(|(u, _)| *u).collect();
    let mut conn = db.conn()?;
    let n: i64 = users::table
        .filter(users::username.eq_any(names))
        .count()
        .get_result(&mut *conn)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Loads the demo data into a database without accounts; photos go to `photos`. Returns whether
/// the database holds the demo (loaded now or before). A database with accounts of its own is
/// never touched: the demo would mix invented establishments and visits with real ones.
pub fn ensure_loaded(db: &Db, photos: &dyn PhotoStore, args: &DemoArgs) -> anyhow::Result<bool> {
    let users = user_count(db)?;
    if users > 0 {
        let present = demo_accounts_present(db)?;
        if present == DEMO_ACCOUNTS.len() {
            println!("demo data already loaded");
            return Ok(true);
        }
        println!(
            "demo data not loaded: this database already has {users} account{} of its own, and \
             the demo loads only into a database without accounts (it would mix invented \
             establishments and visits with real ones). To try the demo, start on an empty data \
             directory: doi178-server --data-dir <new directory> serve --demo",
            if users == 1 { "" } else { "s" }
        );
        return Ok(false);
    }
    let started = Instant::now();
    let summary = generate(db, photos, args)?;
    println!(
        "demo data loaded in {:.1} s: {} administrative units, {} establishments, {} visits \
         ({} with violations), {} photos, {} tips, {} users (password: {DEMO_PASSWORD})",
        started.elapsed().as_secs_f64(),
        summary.units,
        summary.establishments,
        summary.visits,
        summary.visits_with_violations,
        summary.photos,
        summary.tips,
        summary.users,
    );
    Ok(true)
}

#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub units: usize,
    pub establishments: usize,
    pub visits: usize,
    pub visits_with_violations: usize,
    pub photos: usize,
    pub tips: usize,
    pub users: usize,
    /// Visits whose body `VisitRecord::parse` refused (expected 0).
    pub invalid_visits: usize,
    pub phase_times: Vec<(&'static str, Duration)>,
}

/// Random-stream numbers of the phases.
pub(crate) mod stream {
    pub const PEOPLE: u64 = 1;
    pub const SITES: u64 = 2;
    pub const ESTABLISHMENTS: u64 = 3;
    pub const SCHEDULE: u64 = 4;
    pub const VISITS: u64 = 5;
    pub const PLANNING: u64 = 6;
    pub const TIPS: u64 = 7;
    pub const REFERENCE: u64 = 8;
}

pub(crate) fn generate(
    db: &Db,
    store: &dyn PhotoStore,
    args: &DemoArgs,
) -> anyhow::Result<Summary> {
    // The password hash is computed once: argon2 is slow on purpose.
    let password_hash = crate::auth::passwords::hash_password(DEMO_PASSWORD)?;
    generate_with_hash(db, store, args, &password_hash)
}

pub(crate) fn generate_with_hash(
    db: &Db,
    store: &dyn PhotoStore,
    args: &DemoArgs,
    password_hash: &str,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut clock = Instant::now();
    let mut lap = |summary: &mut Summary, what: &'static str| {
        summary.phase_times.push((what, clock.elapsed()));
        clock = Instant::now();
    };

    // The shipped reference data (units of both code lists, lineage, agencies, checklists), which
    // every database gets on its first start anyway.
    crate::service::reference::ensure(db)?;
    let shapes = geo::Shapes::load()?;
    let unit_rows = crate::service::reference::units_2025()?;
    summary.units = {
        let mut conn = db.conn()?;
        usize::try_from(crate::db::units::count(&mut conn)?).unwrap_or(0)
    };
    lap(&mut summary, "units");

    // Reference data, people and teams.
    let templates = {
        let mut conn = db.conn()?;
        crate::db::templates::list(&mut conn, None)?
    };
    let reference = reference::build(args.seed, &templates)?;
    let org = people::build(args.seed, password_hash, &unit_rows)?;
    summary.users = org.users.len();
    db.write(|c| -> anyhow::Result<()> {
        reference::insert(c, &reference)?;
        people::insert(c, &org)?;
        Ok(())
    })?;
    lap(&mut summary, "reference");

    // Establishments, streamed in transactions of ROWS_PER_TX.
    let sites = establishments::Sites::load(args.seed, shapes, &unit_rows)?;
    drop(unit_rows);
    let ests = establishments::generate_and_insert(db, args, &sites)?;
    summary.establishments = ests.len();
    lap(&mut summary, "establishments");

    // The visit schedule (compact, in memory), the assignments it refers to, and the tips.
    let mut schedule = planning::schedule(args, &sites, &ests, &org);
    let (plans, tips) = planning::assignments(args.seed, &mut schedule, &ests, &sites, &org);
    planning::insert_assignments_and_tips(db, &plans, &tips, &schedule, &ests, &sites, &org)?;
    summary.tips = tips.len();
    drop(tips);
    let assignment_ids: Vec<Uuid> = plans.specs.iter().map(|s| s.id).collect();
    drop(plans);
    lap(&mut summary, "assignments");

    // Visits, with revisions, violations and photo links.
    let outcome = visits::insert_all(
        db,
        args.seed,
        &schedule,
        &assignment_ids,
        &ests,
        &sites,
        &org,
        &reference,
    )?;
    summary.visits = outcome.visits;
    summary.visits_with_violations = outcome.with_violations;
    summary.invalid_visits = outcome.invalid;
    drop(schedule);
    lap(&mut summary, "visits");

    // Counted inspection days (coverage), from the visits just stored, in one statement.
    db.write(|c| -> anyhow::Result<()> {
        let counted = crate::db::coverage::current_counted(c, demo_today())?;
        crate::db::coverage::rebuild_all(c, &counted)?;
        Ok(())
    })?;
    lap(&mut summary, "coverage");

    // Photo files and rows.
    summary.photos = photos::store_all(db, store, &outcome.photo_jobs)?;
    lap(&mut summary, "photos");
    tracing::debug!(phases = ?summary.phase_times, "demo data generated");
    Ok(summary)
}
