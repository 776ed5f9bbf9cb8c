//! `doi178-server bench`: times the coverage reads on an existing database (e.g. the demo data at
//! `--establishments 200000 --visits 2000000`) and prints mean / p50 / p99 per query:
//!
//! - `coverage`: `GET /api/v1/coverage` for a province with all its communes (the function the
//!   handler runs: units, programme, annual and cumulative counts), as an administrator;
//! - `coverage annual (rollup)` / `coverage annual (exact)`: the annual counts alone, through the
//!   rollup and through the exact pass over the establishments;
//! - `series`: the monthly series of `GET /api/v1/coverage/series` (`db::reports::year_histories`
//!   and the per-month tally over it);
//! - `planner`: the candidate query of the planner for the province's team;
//! - `baseline`: the straightforward GROUP BY over the visits joined to the establishments that
//!   computes the same per-commune annual counts, measured in the same run.
//!
//! It checks that the baseline, the exact pass and the rollup give the same numbers, and fails
//! when they do not. It only reads.

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use clap::Args;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use doi178_shared::coverage::{annual_window, Lifetime, Tally};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::Role;
use uuid::Uuid;

use crate::auth::{Actor, Jurisdiction};
use crate::db::coverage::{Area, CommuneTallies, Window};
use crate::db::schema::teams;
use crate::db::{AnyConnection, Db};
use crate::service::coverage::{compute, parse_params, CoverageQuery};

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Runs of each fast query.
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
    /// Runs of the slow ones (the baseline and the exact pass).
    #[arg(long, default_value_t = 10)]
    pub slow_iterations: usize,
    /// The province (with all its communes).
    #[arg(long, default_value = "2025:46")]
    pub unit: String,
    /// Coverage year [default: the year of --as-of].
    #[arg(long)]
    pub year: Option<i32>,
    /// Count up to this date [default: today in Vietnam].
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

/// Durations of the runs of one query.
struct Timings {
    name: &'static str,
    runs: Vec<Duration>,
}

impl Timings {
    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }

    /// The `q` quantile (nearest rank).
    fn quantile(&self, q: f64) -> f64 {
        let mut v: Vec<Duration> = self.runs.clone();
        v.sort();
        if v.is_empty() {
            return 0.0;
        }
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Self::ms(v[rank - 1])
    }

    fn mean(&self) -> f64 {
        if self.runs.is_empty() {
            return 0.0;
        }
        self.runs.iter().map(|d| Self::ms(*d)).sum::<f64>() / self.runs.len() as f64
    }

    fn print(&self) {
        println!(
            "{:<28} {:>6} {:>11.3} {:>11.3} {:>11.3}",
            self.name,
            self.runs.len(),
            self.mean(),
            self.quantile(0.5),
            self.quantile(0.99)
        );
    }
}

/// Runs `f` once to warm up, then `n` times, timing each run.
fn time<T>(
    name: &'static str,
    n: usize,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(Timings, T)> {
    let mut last = f()?;
    let mut runs = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let t = Instant::now();
        last = f()?;
        runs.push(t.elapsed());
    }
    Ok((Timings { name, runs }, last))
}

fn bench_actor() -> Actor {
    Actor {
        user_id: Uuid::nil(),
        username: "bench".to_string(),
        display_name: "bench".to_string(),
        role: Role::Admin,
        unit_id: None,
        teams: Vec::new(),
        jurisdiction: Jurisdiction::All,
        team_units: Vec::new(),
        session: Uuid::nil(),
        must_change_password: false,
    }
}

#[derive(QueryableByName)]
struct BaselineRow {
    #[diesel(sql_type = Text)]
    commune_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    province_id: Option<String>,
    #[diesel(sql_type = BigInt)]
    in_scope: i64,
    #[diesel(sql_type = BigInt)]
    inspected: i64,
}

/// The straightforward query: establishments of the province LEFT JOIN their counted visits in
/// the window, grouped per commune.
fn baseline(
    conn: &mut AnyConnection,
    province: &str,
    types: &[EstablishmentType],
    counted: &[doi178_shared::visit::Outcome],
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<CommuneTallies> {
    let list = |items: Vec<&str>| {
        items
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let types = list(types.iter().map(|t| t.as_str()).collect());
    let mut outcomes = list(counted.iter().map(|o| o.as_str()).collect());
    if outcomes.is_empty() {
        outcomes = "''".to_string();
    }
    let sql = |day: &str, p: [&str; 5]| {
        format!(
            "SELECT u.id AS commune_id, u.parent_id AS province_id, \
             COUNT(DISTINCT e.id) AS in_scope, COUNT(DISTINCT v.establishment_id) AS inspected \
             FROM establishments e JOIN admin_units u ON u.id = e.unit_id \
             LEFT JOIN visits v ON v.establishment_id = e.id AND v.review_status <> 'rejected' \
             AND v.outcome IN ({outcomes}) AND {day} >= {} AND {day} <= {} \
             WHERE e.establishment_type IN ({types}) \
             AND (e.opened_on IS NULL OR e.opened_on <= {}) \
             AND (e.closed_on IS NULL OR e.closed_on > {}) \
             AND NOT (e.opened_on IS NOT NULL AND e.closed_on IS NOT NULL \
             AND e.closed_on <= e.opened_on) \
             AND u.parent_id = {} GROUP BY u.id, u.parent_id",
            p[0], p[1], p[2], p[3], p[4]
        )
    };
    let rows: Vec<BaselineRow> = match conn {
        AnyConnection::Sqlite(c) => {
            diesel::sql_query(sql("date(datetime(v.started_at, '+7 hours'))", ["?"; 5]))
                .bind::<Date, _>(from)
                .bind::<Date, _>(to)
                .bind::<Date, _>(to)
                .bind::<Date, _>(from)
                .bind::<Text, _>(province)
                .load(c)?
        }
        AnyConnection::Postgresql(c) => diesel::sql_query(sql(
            "CAST(v.started_at + INTERVAL '7 hours' AS DATE)",
            ["$1", "$2", "$2", "$1", "$3"],
        ))
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(province)
        .load(c)?,
    };
    Ok(CommuneTallies(
        rows.into_iter()
            .map(|r| {
                (
                    r.commune_id,
                    (
                        r.province_id,
                        Tally {
                            in_scope: u64::try_from(r.in_scope).unwrap_or(0),
                            inspected: u64::try_from(r.inspected).unwrap_or(0),
                        },
                    ),
                )
            })
            .collect(),
    ))
}

fn check(what: &str, a: &CommuneTallies, b: &CommuneTallies) -> bool {
    let t = a.total();
    if a == b {
        println!(
            "check: {what}: identical ({} communes, {} in scope, {} inspected)",
            a.0.len(),
            t.in_scope,
            t.inspected
        );
        true
    } else {
        let u = b.total();
        println!(
            "check: {what}: MISMATCH ({} communes {}/{} vs {} communes {}/{})",
            a.0.len(),
            t.in_scope,
            t.inspected,
            b.0.len(),
            u.in_scope,
            u.inspected
        );
        false
    }
}

pub fn run(db: &Db, args: &BenchArgs) -> anyhow::Result<()> {
    let today = crate::clock::today();
    let as_of = args.as_of.unwrap_or(today);
    let year = args.year.unwrap_or(as_of.year());
    let params = parse_params(
        CoverageQuery {
            unit: Some(args.unit.clone()),
            year: Some(year.to_string()),
            establishment_type: None,
            as_of: Some(as_of.to_string()),
        },
        today,
    )
    .map_err(api_err)?;
    let actor = bench_actor();
    let mut conn = db.conn()?;
    let c: &mut AnyConnection = &mut conn;

    // What the coverage answer counts over.
    let answer = compute(c, &actor, &params).map_err(api_err)?;
    let programme_row = crate::db::coverage::programme(c, &answer.programme.id)?
        .ok_or_else(|| anyhow::anyhow!("programme vanished"))?;
    let programme =
        crate::service::reports::programme_in(&programme_row, Some(&args.unit)).map_err(api_err)?;
    let types: Vec<EstablishmentType> = programme.types_in_scope().to_vec();
    let (from, to) = annual_window(&programme, year, as_of)
        .ok_or_else(|| anyhow::anyhow!("as_of is before the programme began"))?;
    let counted = crate::db::coverage::current_counted(c, today)?;
    let area = Area::Province(args.unit.clone());
    let annual = Window {
        operating_from: from,
        operating_to: to,
        inspected_from: from,
        inspected_to: to,
    };
    let cumulative = Window {
        operating_from: answer.as_of.min(programme.period_end()),
        operating_to: answer.as_of.min(programme.period_end()),
        inspected_from: programme.period_start(),
        inspected_to: answer.as_of.min(programme.period_end()),
    };

    let backend = match c {
        AnyConnection::Sqlite(_) => "SQLite",
        AnyConnection::Postgresql(_) => "PostgreSQL",
    };
    let establishments: i64 = crate::db::schema::establishments::table
        .count()
        .get_result(c)?;
    let visits: i64 = crate::db::schema::visits::table.count().get_result(c)?;
    println!(
        "backend {backend}: {establishments} establishments, {visits} visits; unit {} with {} \
         communes, year {year}, as_of {as_of}, annual window {from}..{to}",
        args.unit,
        answer.children.len()
    );
    println!(
        "{:<28} {:>6} {:>11} {:>11} {:>11}",
        "query", "runs", "mean ms", "p50 ms", "p99 ms"
    );

    let n = args.iterations;
    let slow = args.slow_iterations;
    let mut all = Vec::new();
    let (t, _) = time("coverage (API function)", n, || {
        compute(c, &actor, &params).map_err(api_err)
    })?;
    t.print();
    all.push(t);
    let (t, rollup_annual) = time("coverage annual (rollup)", n, || {
        Ok(crate::db::coverage::tallies(c, &area, &types, &annual)?)
    })?;
    t.print();
    all.push(t);
    let rollup_cumulative = crate::db::coverage::tallies(c, &area, &types, &cumulative)?;
    let (t, months) = time("series (12 months)", n.min(50), || {
        let histories = crate::db::reports::year_histories(c, &area, &types, from, to)?;
        let months: Vec<Tally> = (1..=to.month())
            .map(|m| {
                let through = NaiveDate::from_ymd_opt(year, m, 1)
                    .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                    .and_then(|d| d.pred_opt())
                    .unwrap_or(to)
                    .min(to);
                let Some((f, t)) = annual_window(&programme, year, through) else {
                    return Tally::default();
                };
                histories
                    .iter()
                    .filter(|h| {
                        Lifetime {
                            opened_on: h.opened_on,
                            closed_on: h.closed_on,
                        }
                        .operating_between(f, t)
                    })
                    .map(|h| Tally {
                        in_scope: 1,
                        inspected: u64::from(h.first_inspected.is_some_and(|d| f <= d && d <= t)),
                    })
                    .sum()
            })
            .collect();
        Ok(months)
    })?;
    t.print();
    all.push(t);

    let team: Option<String> = teams::table
        .filter(teams::unit_id.eq(&args.unit))
        .order((teams::name.asc(), teams::id.asc()))
        .select(teams::id)
        .first(c)
        .optional()?;
    let mut planner_count = None;
    if let Some(team) = &team {
        let units: Vec<String> =
            crate::db::units::subtree_ids(c, std::slice::from_ref(&args.unit))?
                .into_iter()
                .collect();
        let type_codes: Vec<String> = types.iter().map(|t| t.as_str().to_string()).collect();
        let (t, cands) = time("planner candidates", n.min(20), || {
            Ok(crate::db::planner::candidates(
                c,
                &units,
                &type_codes,
                team,
            )?)
        })?;
        t.print();
        all.push(t);
        planner_count = Some(cands.len());
    }

    let (t, exact_annual) = time("coverage annual (exact)", slow, || {
        Ok(crate::db::coverage::exact_tallies(
            c, &area, &types, &annual, None,
        )?)
    })?;
    t.print();
    all.push(t);
    let (t, base) = time("baseline GROUP BY visits", slow, || {
        baseline(c, &args.unit, &types, &counted, from, to)
    })?;
    t.print();
    all.push(t);
    let exact_cumulative = crate::db::coverage::exact_tallies(c, &area, &types, &cumulative, None)?;

    let p50 = |name: &str| {
        all.iter()
            .find(|t| t.name == name)
            .map(|t| t.quantile(0.5))
            .unwrap_or(f64::NAN)
    };
    let base_p50 = p50("baseline GROUP BY visits");
    println!(
        "ratio: baseline p50 / coverage (API function) p50 = {:.1}x; baseline p50 / annual \
         (rollup) p50 = {:.1}x; annual (exact) p50 / annual (rollup) p50 = {:.1}x",
        base_p50 / p50("coverage (API function)"),
        base_p50 / p50("coverage annual (rollup)"),
        p50("coverage annual (exact)") / p50("coverage annual (rollup)"),
    );
    if let (Some(team), Some(n)) = (&team, planner_count) {
        println!("planner: team {team}, {n} candidates");
    }
    let last = months.last().copied().unwrap_or_default();
    println!(
        "series: {} months, last {}/{} (annual total {}/{})",
        months.len(),
        last.inspected,
        last.in_scope,
        rollup_annual.total().inspected,
        rollup_annual.total().in_scope
    );
    let mut ok = true;
    ok &= check(
        "annual: baseline GROUP BY visits = rollup",
        &base,
        &rollup_annual,
    );
    ok &= check("annual: exact = rollup", &exact_annual, &rollup_annual);
    ok &= check(
        "cumulative: exact = rollup",
        &exact_cumulative,
        &rollup_cumulative,
    );
    let api = (answer.total.annual.in_scope, answer.total.annual.inspected);
    let ours = (
        rollup_annual.total().in_scope,
        rollup_annual.total().inspected,
    );
    println!(
        "check: API total annual {}/{} = rollup {}/{}: {}",
        api.1,
        api.0,
        ours.1,
        ours.0,
        if api == ours { "identical" } else { "MISMATCH" }
    );
    ok &= api == ours;
    if to == as_of && last != rollup_annual.total() {
        println!("check: series last month = annual coverage: MISMATCH");
        ok = false;
    }
    if !ok {
        anyhow::bail!("the fast path and the straightforward query disagree");
    }
    Ok(())
}

fn api_err(e: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{} ({}): {}", e.code, e.field.unwrap_or_default(), e.detail)
}
