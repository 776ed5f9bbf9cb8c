//! The baseline: how fast the database itself takes the same visit rows, written straight through
//! the server's own db layer (`db::visits::store`: the visit, its revision, its photo links) in one
//! process, on the same backend, schema and data (with the audit entry `store` appends), with no
//! HTTP, validation, sync counter or coverage work. Measured after the load phase on the database the server just used (stopped).

use std::time::Instant;

use diesel::prelude::*;
use doi178_server::db::schema::{visit_photos, visit_revisions, visits};
use doi178_server::db::visits::{RevisionRow, ViolationRow, VisitRow};
use doi178_server::db::{self, AnyConnection, Db, DbError};
use serde_json::{json, Value};

struct Rows {
    visit: VisitRow,
    revision: RevisionRow,
    violations: Vec<ViolationRow>,
    photos: Vec<String>,
}

/// Rows of `ids` as stored, each under a fresh id.
fn copies(c: &mut AnyConnection, ids: &[String]) -> QueryResult<Vec<Rows>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let vs: Vec<VisitRow> = visits::table
            .filter(visits::id.eq_any(chunk))
            .select(VisitRow::as_select())
            .load(c)?;
        for v in vs {
            let revision: RevisionRow = visit_revisions::table
                .filter(visit_revisions::visit_id.eq(&v.id))
                .filter(visit_revisions::revision.eq(v.revision))
                .select(RevisionRow::as_select())
                .first(c)?;
            let violations = db::visits::violations(c, &v.id)?;
            let photos: Vec<String> = visit_photos::table
                .filter(visit_photos::visit_id.eq(&v.id))
                .select(visit_photos::photo_id)
                .load(c)?;
            let new_id = uuid::Uuid::now_v7().to_string();
            let mut visit = v;
            visit.id = new_id.clone();
            out.push(Rows {
                visit,
                revision: RevisionRow {
                    visit_id: new_id.clone(),
                    ..revision
                },
                violations: violations
                    .into_iter()
                    .map(|x| ViolationRow {
                        visit_id: new_id.clone(),
                        ..x
                    })
                    .collect(),
                photos,
            });
        }
    }
    Ok(out)
}

fn store(c: &mut AnyConnection, r: &Rows) -> QueryResult<()> {
    let who = doi178_server::db::audit_chain::Who::system("loadgen-raw");
    db::visits::store(
        c,
        &who,
        &r.visit,
        &r.revision,
        &r.violations,
        &r.photos,
        true,
    )
}

/// Inserts copies of (up to `max_rows` of) `ids`: first one transaction per visit, as the server
/// commits them, then in transactions of `batch` visits. Returns a JSON report.
pub fn measure(
    database_url: &str,
    ids: &[String],
    max_rows: usize,
    batch: usize,
) -> anyhow::Result<Value> {
    let db = Db::open(database_url, 2)?;
    let take = &ids[..ids.len().min(max_rows)];
    anyhow::ensure!(!take.is_empty(), "no stored visits to copy");
    let rows = db.read(|c| copies(c, take).map_err(DbError::from))?;
    let half = rows.len() / 2;
    let (single, batched) = rows.split_at(half.max(1).min(rows.len()));

    let started = Instant::now();
    for r in single {
        db.write(|c| store(c, r).map_err(DbError::from))?;
    }
    let single_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for chunk in batched.chunks(batch.max(1)) {
        db.write(|c| -> Result<(), DbError> {
            for r in chunk {
                store(c, r)?;
            }
            Ok(())
        })?;
    }
    let batched_secs = started.elapsed().as_secs_f64();
    // Count what landed, so a silent failure cannot pass for speed.
    let new_ids: Vec<String> = rows.iter().map(|r| r.visit.id.clone()).collect();
    let mut landed = 0i64;
    db.read(|c| -> Result<(), DbError> {
        for chunk in new_ids.chunks(500) {
            landed += visits::table
                .filter(visits::id.eq_any(chunk))
                .count()
                .get_result::<i64>(c)?;
        }
        Ok(())
    })?;
    anyhow::ensure!(
        landed as usize == rows.len(),
        "raw insert: {} of {} visits landed",
        landed,
        rows.len()
    );
    Ok(json!({
        "rows_per_visit": "visits + visit_revisions + visit_photos (+ visit_violations) + audit_log",
        "one_txn_per_visit": {
            "visits": single.len(),
            "secs": crate::stats::round(single_secs, 3),
            "per_s": crate::stats::round(single.len() as f64 / single_secs.max(1e-9), 1),
        },
        "batched": {
            "batch": batch,
            "visits": batched.len(),
            "secs": crate::stats::round(batched_secs, 3),
            "per_s": crate::stats::round(batched.len() as f64 / batched_secs.max(1e-9), 1),
        },
    }))
}
