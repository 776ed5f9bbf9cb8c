//! Lineage from old units to the ones that hold their territory now: the shipped 2025 table
//! (each pre-2025 commune → its 2025 commune, the main successor when it was split; each pre-2025
//! province → the 2025 province that took most of its communes) and lineage files loaded with
//! `doi178-server units import-lineage FILE.csv`. The importer and the coverage follow it; a split
//! commune relabels records with its main successor, it never reallocates areas.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use doi178_shared::unit::LineageKind;
use serde::{Deserialize, Serialize};

use super::data;
use super::units::{reform_day, unit_id, CURRENT, PRE_2025};
use crate::db::schema::{admin_units, unit_lineage};
use crate::db::units::LineageRow;
use crate::db::AnyConnection;

#[derive(Debug, Deserialize)]
struct ShippedRecord {
    old_code: String,
    old_district_code: String,
    old_province_code: String,
    new_code: String,
    new_province_code: String,
}

/// The shipped 2025 lineage: 10,035 communes (the 5 island special zones made from districts
/// without communes come from their district) and 63 provinces.
pub fn lineage_2025() -> anyhow::Result<Vec<LineageRow>> {
    let effective = reform_day();
    let mut rows = Vec::with_capacity(10_200);
    // Old province → new province → communes that went there.
    let mut provinces: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(data::LINEAGE_2025_CSV.as_bytes());
    for (i, record) in reader.deserialize::<ShippedRecord>().enumerate() {
        let r = record.map_err(|e| anyhow::anyhow!("2025 lineage, row {}: {e}", i + 2))?;
        let from = if r.old_code.is_empty() {
            unit_id(PRE_2025, &r.old_district_code)
        } else {
            unit_id(PRE_2025, &r.old_code)
        };
        rows.push(LineageRow {
            from_unit: from,
            to_unit: unit_id(CURRENT, &r.new_code),
            kind: LineageKind::MergedInto,
            effective,
        });
        *provinces
            .entry(r.old_province_code)
            .or_default()
            .entry(r.new_province_code)
            .or_default() += 1;
    }
    for (old, targets) in provinces {
        // The province that took most communes (ties: the lower code).
        if let Some((new, _)) = targets
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        {
            rows.push(LineageRow {
                from_unit: unit_id(PRE_2025, &old),
                to_unit: unit_id(CURRENT, new),
                kind: LineageKind::MergedInto,
                effective,
            });
        }
    }
    Ok(rows)
}

/// Adds the pairs that are missing and updates the kind and date of those that differ.
pub fn apply(conn: &mut AnyConnection, rows: &[LineageRow]) -> QueryResult<super::units::Applied> {
    let froms: BTreeSet<&str> = rows.iter().map(|r| r.from_unit.as_str()).collect();
    let mut stored: BTreeMap<(String, String), LineageRow> = BTreeMap::new();
    // In chunks: PostgreSQL takes at most 65,535 parameters in one statement.
    let froms: Vec<&str> = froms.into_iter().collect();
    for chunk in froms.chunks(5_000) {
        let found: Vec<LineageRow> = unit_lineage::table
            .filter(unit_lineage::from_unit.eq_any(chunk))
            .select(LineageRow::as_select())
            .load(conn)?;
        for r in found {
            stored.insert((r.from_unit.clone(), r.to_unit.clone()), r);
        }
    }
    let mut applied = super::units::Applied::default();
    let mut missing = Vec::new();
    for row in rows {
        match stored.get(&(row.from_unit.clone(), row.to_unit.clone())) {
            None => missing.push(row.clone()),
            Some(old) if old.kind != row.kind || old.effective != row.effective => {
                diesel::update(
                    unit_lineage::table
                        .filter(unit_lineage::from_unit.eq(&row.from_unit))
                        .filter(unit_lineage::to_unit.eq(&row.to_unit)),
                )
                .set((
                    unit_lineage::kind.eq(row.kind),
                    unit_lineage::effective.eq(row.effective),
                ))
                .execute(conn)?;
                applied.updated += 1;
            }
            Some(_) => {}
        }
    }
    for chunk in missing.chunks(500) {
        applied.added += crate::insert_rows!(conn, unit_lineage::table, chunk)?;
    }
    Ok(applied)
}

/// A row of a lineage file that cannot be loaded, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.column, self.message)
    }
}

/// A CSV file of the command line (UTF-8, a byte-order mark allowed, cells trimmed) whose
/// header has every `required` column; else one error per missing column, with `hint`.
pub(super) fn open_csv<'a>(
    text: &'a str,
    required: &[&str],
    hint: &str,
) -> Result<csv::Reader<&'a [u8]>, Vec<RowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().cloned().unwrap_or_default();
    let errors: Vec<RowError> = required
        .iter()
        .filter(|column| !headers.iter().any(|h| h == **column))
        .map(|column| RowError {
            line: 1,
            column: column.to_string(),
            message: format!("the header has no {column} column; {hint}"),
        })
        .collect();
    if errors.is_empty() {
        Ok(reader)
    } else {
        Err(errors)
    }
}

/// What a lineage file loaded (or would load, on a dry run).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct LineageImport {
    pub rows: usize,
    pub added: usize,
    pub updated: usize,
    pub errors: Vec<RowError>,
}

#[derive(Debug, Deserialize)]
struct FileRecord {
    old_code: Option<String>,
    new_code: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    effective: Option<String>,
}

/// A unit as a lineage file names it: `version:code`, or a bare code, which for the old side is a
/// unit no longer in force and for the new side one in force (exactly one must match).
fn find_unit(
    conn: &mut AnyConnection,
    raw: &str,
    old: bool,
) -> QueryResult<Result<(String, NaiveDate), String>> {
    let raw = raw.trim();
    let mut query = admin_units::table
        .select((admin_units::id, admin_units::valid_from))
        .into_boxed();
    if raw.contains(':') {
        query = query.filter(admin_units::id.eq(raw));
    } else {
        query = query.filter(admin_units::code.eq(raw));
        query = if old {
            query.filter(admin_units::valid_to.is_not_null())
        } else {
            query.filter(admin_units::valid_to.is_null())
        };
    }
    let found: Vec<(String, NaiveDate)> = query.limit(3).load(conn)?;
    Ok(match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "no {} unit has the code {raw:?}; load its list first (`doi178-server units load`)",
            if old { "former" } else { "current" }
        )),
        _ => Err(format!(
            "the code {raw:?} is in several code lists; write it with its list, e.g. {}:{raw}",
            if old { PRE_2025 } else { CURRENT }
        )),
    })
}

/// Reads a lineage file (CSV with the columns `old_code` and `new_code`, optionally `kind` —
/// `merged_into` (default), `split_from`, `renamed` — and `effective`, dd/mm/yyyy or
/// yyyy-mm-dd, by default the day the new unit came into force) and applies it unless `dry_run`
/// or any row is wrong: a file loads whole or not at all.
pub fn import(conn: &mut AnyConnection, text: &str, dry_run: bool) -> QueryResult<LineageImport> {
    let mut out = LineageImport::default();
    let mut rows = Vec::new();
    let mut reader = match open_csv(
        text,
        &["old_code", "new_code"],
        "the file needs old_code and new_code",
    ) {
        Ok(r) => r,
        Err(errors) => {
            out.errors = errors;
            return Ok(out);
        }
    };
    let mut seen = BTreeSet::new();
    for (i, record) in reader.deserialize::<FileRecord>().enumerate() {
        let line = i + 2;
        out.rows += 1;
        let mut error = |column: &str, message: String| {
            out.errors.push(RowError {
                line,
                column: column.to_string(),
                message,
            })
        };
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                error("*", format!("the row does not read: {e}"));
                continue;
            }
        };
        let (Some(old), Some(new)) = (
            r.old_code.filter(|s| !s.is_empty()),
            r.new_code.filter(|s| !s.is_empty()),
        ) else {
            error("old_code", "both old_code and new_code are required".into());
            continue;
        };
        let kind = match r.kind.as_deref().filter(|s| !s.is_empty()) {
            None => LineageKind::MergedInto,
            Some(k) => match k.parse::<LineageKind>() {
                Ok(k) => k,
                Err(_) => {
                    error(
                        "kind",
                        format!("{k:?} is not merged_into, split_from or renamed"),
                    );
                    continue;
                }
            },
        };
        let from = match find_unit(conn, &old, true)? {
            Ok((id, _)) => id,
            Err(m) => {
                error("old_code", m);
                continue;
            }
        };
        let (to, to_from) = match find_unit(conn, &new, false)? {
            Ok(found) => found,
            Err(m) => {
                error("new_code", m);
                continue;
            }
        };
        let effective = match r.effective.as_deref().filter(|s| !s.is_empty()) {
            None => to_from,
            Some(s) => match crate::service::import::values::parse_date_text(s) {
                Ok(d) => d,
                Err(m) => {
                    error("effective", m);
                    continue;
                }
            },
        };
        if from == to {
            error("new_code", "a unit cannot succeed itself".into());
            continue;
        }
        if !seen.insert((from.clone(), to.clone())) {
            error("new_code", format!("{from} → {to} is listed twice"));
            continue;
        }
        rows.push(LineageRow {
            from_unit: from,
            to_unit: to,
            kind,
            effective,
        });
    }
    if out.errors.is_empty() && !dry_run {
        let applied = apply(conn, &rows)?;
        out.added = applied.added;
        out.updated = applied.updated;
    } else if out.errors.is_empty() {
        out.added = rows.len();
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_old_commune_has_one_successor_in_the_2025_list() {
        let rows = lineage_2025().unwrap();
        let old: BTreeSet<String> = super::super::units::units_pre_2025()
            .unwrap()
            .into_iter()
            .filter(|u| u.level != doi178_shared::unit::UnitLevel::District)
            .map(|u| u.id)
            .collect();
        let new: BTreeSet<String> = super::super::units::units_2025()
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        let froms: BTreeSet<&str> = rows.iter().map(|r| r.from_unit.as_str()).collect();
        assert_eq!(froms.len(), rows.len(), "one successor each");
        for r in &rows {
            assert!(new.contains(&r.to_unit), "{} → {}", r.from_unit, r.to_unit);
        }
        // Every old commune and province is mapped (and the 5 districts that became special zones).
        let mapped_units = old.iter().filter(|u| froms.contains(u.as_str())).count();
        assert_eq!(mapped_units, old.len());
        assert_eq!(rows.len(), old.len() + 5);
        // Thừa Thiên Huế (pre-2025 46) is Huế (2025 46); Quảng Bình (44) went into Quảng Trị (44).
        let to = |from: &str| {
            rows.iter()
                .find(|r| r.from_unit == from)
                .map(|r| &r.to_unit)
        };
        assert_eq!(to("pre2025:46").map(String::as_str), Some("2025:46"));
        assert_eq!(to("pre2025:45").map(String::as_str), Some("2025:44"));
        assert_eq!(to("pre2025:00004").map(String::as_str), Some("2025:00004"));
    }
}
