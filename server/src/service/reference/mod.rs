//! The reference data shipped with the product, loaded into every database on its first start
//! (demo or not) and applied in place when a newer version ships: the administrative units of the
//! 2025 list and of the pre-2025 list, the lineage between them, the agencies and the default
//! checklist templates. Each set has a version and a digest of its shipped files; `reference_sets`
//! records what a database holds, so a start with nothing new costs one query.
//!
//! "In place" means rows are added or updated, never removed, and a checklist version once stored
//! never changes (a newer shipped template becomes the next version of its type).

mod catalogue;
pub mod change;
mod data;
pub mod lineage;
pub mod units;

use std::time::Instant;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::audit_chain::{self, Who};
use crate::db::schema::reference_sets;
use crate::db::{AnyConnection, Db};

pub use catalogue::{agencies, templates};
pub use units::{units_2025, units_pre_2025, Applied, CURRENT, PRE_2025};

/// One shipped set.
struct Set {
    name: &'static str,
    /// Increases (as text) with every shipped change; a database holding a later version than the
    /// binary's keeps it.
    version: &'static str,
    /// The shipped files the set is read from.
    files: &'static [&'static str],
}

/// In the order they load: units before the lineage that joins them.
const SETS: &[Set] = &[
    Set {
        name: "units-2025",
        version: "2026-07-25",
        files: &[
            data::PROVINCES_2025_CSV,
            data::COMMUNES_2025_CSV,
            data::AREAS_2025_CSV,
        ],
    },
    Set {
        name: "units-pre2025",
        version: "2025-03-01",
        // The lineage file names the island districts that had no communes.
        files: &[data::COMMUNES_PRE_2025_CSV, data::LINEAGE_2025_CSV],
    },
    Set {
        name: "lineage-2025",
        version: "2025-07-02.2",
        files: &[data::LINEAGE_2025_CSV],
    },
    Set {
        name: "agencies",
        version: "2026-12-08",
        files: &[data::AGENCIES_CSV],
    },
    Set {
        name: "checklists",
        version: "2025-12-15.1",
        files: &[data::CHECKLISTS_JSON],
    },
];

/// What a database holds of one set.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = reference_sets)]
pub struct SetRow {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub items: i32,
    pub loaded_at: NaiveDateTime,
}

/// What [`ensure`] did with one set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: &'static str,
    pub version: &'static str,
    pub applied: Applied,
    /// Whether the database already held this version (nothing was read or written).
    pub current: bool,
}

fn digest(files: &[&str]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Loads every set the database does not hold in its shipped version. Each set lands in one
/// transaction with its `reference_sets` row, so a crash mid-way leaves it to load again.
pub fn ensure(db: &Db) -> anyhow::Result<Vec<Outcome>> {
    let stored: Vec<SetRow> = {
        let mut conn = db.conn()?;
        reference_sets::table
            .select(SetRow::as_select())
            .load(&mut *conn)?
    };
    let mut out = Vec::new();
    for set in SETS {
        let digest = digest(set.files);
        let held = stored.iter().find(|s| s.name == set.name);
        if let Some(h) = held {
            if h.digest == digest || h.version.as_str() > set.version {
                if h.version.as_str() > set.version {
                    tracing::warn!(
                        set = set.name,
                        held = %h.version,
                        shipped = set.version,
                        "the database holds a newer reference set than this server ships; kept"
                    );
                }
                out.push(Outcome {
                    name: set.name,
                    version: set.version,
                    applied: Applied::default(),
                    current: true,
                });
                continue;
            }
        }
        let started = Instant::now();
        let applied = db.write(|c| -> anyhow::Result<Applied> {
            let (applied, items) = apply(c, set.name)?;
            record(c, set, &digest, items)?;
            Ok(applied)
        })?;
        tracing::info!(
            set = set.name,
            version = set.version,
            added = applied.added,
            updated = applied.updated,
            ms = started.elapsed().as_millis() as u64,
            "reference data loaded"
        );
        out.push(Outcome {
            name: set.name,
            version: set.version,
            applied,
            current: false,
        });
    }
    Ok(out)
}

fn apply(c: &mut AnyConnection, name: &str) -> anyhow::Result<(Applied, usize)> {
    let who = Who::system("reference");
    Ok(match name {
        "units-2025" | "units-pre2025" => {
            let rows = if name == "units-2025" {
                units::units_2025()?
            } else {
                units::units_pre_2025()?
            };
            let applied = units::apply(c, &rows)?;
            bulk(c, &who, "admin_units", applied)?;
            (applied, rows.len())
        }
        "lineage-2025" => {
            let rows = lineage::lineage_2025()?;
            let applied = lineage::apply(c, &rows)?;
            bulk(c, &who, "unit_lineage", applied)?;
            (applied, rows.len())
        }
        "agencies" => {
            let rows = catalogue::agencies()?;
            let applied = catalogue::apply_agencies(c, &rows)?;
            bulk(c, &who, "agencies", applied)?;
            (applied, rows.len())
        }
        "checklists" => {
            let shipped = catalogue::templates()?;
            let applied = catalogue::apply_templates(c, &who, &shipped)?;
            (applied, shipped.len())
        }
        other => anyhow::bail!("unknown reference set {other}"),
    })
}

/// One audit entry for the rows a set added or changed (the templates have one each).
fn bulk(c: &mut AnyConnection, who: &Who, table: &str, applied: Applied) -> QueryResult<()> {
    let rows = applied.added + applied.updated;
    if rows > 0 {
        audit_chain::bulk(c, who, table, rows)?;
    }
    Ok(())
}

fn record(c: &mut AnyConnection, set: &Set, digest: &str, items: usize) -> QueryResult<()> {
    let row = SetRow {
        name: set.name.to_string(),
        version: set.version.to_string(),
        digest: digest.to_string(),
        items: i32::try_from(items).unwrap_or(i32::MAX),
        loaded_at: crate::clock::now(),
    };
    diesel::delete(reference_sets::table.filter(reference_sets::name.eq(set.name))).execute(c)?;
    diesel::insert_into(reference_sets::table)
        .values(&row)
        .execute(c)?;
    Ok(())
}

/// The sets a database holds (for the units page and the setup checklist).
pub fn held(conn: &mut AnyConnection) -> QueryResult<Vec<SetRow>> {
    reference_sets::table
        .select(SetRow::as_select())
        .order(reference_sets::name.asc())
        .load(conn)
}
