//! Import of establishment lists (CSV, XLSX) from the business-registration office, with a
//! progress bar and row-level errors.
//!
//! The header row names the columns in Vietnamese or English, compared without case, diacritics
//! or punctuation ("Tên cơ sở" = "TEN CO SO" = "name"); see [`columns::Field`] for the accepted
//! names. Every row is validated as an `EstablishmentDraft`; its commune must exist (an old
//! pre-2025 code is followed through `unit_lineage`). A row whose business registration number (or
//! licence number) is already registered in the same commune updates that establishment; a blank
//! cell never erases a stored value. Nothing is written unless every row is valid, and then
//! everything is written in one transaction.

mod columns;
pub mod duplicates;
pub mod pending;
mod plan;
mod records;
mod table;
pub(crate) mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

pub use columns::Field;
pub use duplicates::Duplicate;
pub use plan::RowAction;
pub use records::{Record, RowError};

use crate::auth::Actor;
use crate::db::{Db, DbError};

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// "CSV" or the worksheet read.
    pub source: String,
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows that gave a pre-2025 commune code.
    pub remapped: usize,
    /// Headers that name no known column.
    pub ignored_columns: Vec<String>,
    pub dry_run: bool,
}

#[derive(Debug)]
pub enum ImportError {
    /// The file cannot be used at all (format, encoding, header).
    File(anyhow::Error),
    /// Some rows are invalid; nothing was written.
    Rows {
        errors: Vec<RowError>,
        rows: usize,
    },
    Db(DbError),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::File(e) => write!(f, "{e:#}"),
            ImportError::Rows { errors, rows } => {
                let bad: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
                write!(f, "{} of {rows} rows have errors", bad.len())
            }
            ImportError::Db(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Error type of the database closures: a query failure, or the row errors that abort the
/// transaction.
enum TxError {
    Db(DbError),
    Rows(Vec<RowError>),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(DbError::Query(e))
    }
}

impl From<DbError> for TxError {
    fn from(e: DbError) -> Self {
        TxError::Db(e)
    }
}

/// A file read and split into typed rows, before any database check.
struct Parsed {
    source: String,
    cols: columns::Columns,
    records: Vec<Record>,
    /// Errors in the cells themselves (format, required values).
    cell_errors: Vec<RowError>,
    /// Each record's cells as written, by field (for showing a value that could not be read).
    raw: Vec<BTreeMap<Field, String>>,
}

fn parse(raw: table::RawTable, progress: bool) -> Result<Parsed, ImportError> {
    let Some(header_at) = columns::find_header(&raw.rows) else {
        return Err(ImportError::File(anyhow::anyhow!("the file is empty")));
    };
    let cols =
        columns::Columns::from_header_row(&raw.rows[header_at]).map_err(ImportError::File)?;
    let data: Vec<&table::SheetRow> = raw.rows[header_at + 1..]
        .iter()
        .filter(|r| !r.is_blank())
        .collect();
    if data.is_empty() {
        return Err(ImportError::File(anyhow::anyhow!(
            "the file has a header (row {}) but no establishments below it",
            raw.rows[header_at].number
        )));
    }
    let bar = progress_bar(progress, data.len() as u64, "checking rows");
    let mut cell_errors = Vec::new();
    let records: Vec<Record> = data
        .iter()
        .map(|row| {
            bar.inc(1);
            records::read_record(row, &cols, &mut cell_errors)
        })
        .collect();
    bar.finish_and_clear();
    let texts = data
        .iter()
        .map(|row| {
            cols.found
                .iter()
                .map(|(f, (i, _))| (*f, row.cell(*i).to_text()))
                .collect()
        })
        .collect();
    Ok(Parsed {
        source: raw.source,
        cols,
        records,
        cell_errors,
        raw: texts,
    })
}

/// Reads, validates and (unless `dry_run`) writes a file. `progress` shows bars on stderr when it
/// is a terminal.
pub fn import_file(
    db: &Db,
    path: &Path,
    dry_run: bool,
    progress: bool,
) -> Result<Report, ImportError> {
    let spinner = if progress {
        let s = ProgressBar::new_spinner();
        s.set_message(format!("reading {}", path.display()));
        s.enable_steady_tick(Duration::from_millis(120));
        s
    } else {
        ProgressBar::hidden()
    };
    let raw = table::read(path);
    spinner.finish_and_clear();
    let raw = raw.map_err(ImportError::File)?;
    let parsed = parse(raw, progress)?;
    let Parsed {
        source,
        cols,
        records,
        cell_errors,
        ..
    } = parsed;
    let rows = records.len();

    let now = crate::clock::now();
    let check = progress_bar(progress, records.len() as u64, "checking database");
    let mut cell_errors = cell_errors;
    let work = |conn: &mut crate::db::AnyConnection| -> Result<plan::Plan, TxError> {
        let mut errors = std::mem::take(&mut cell_errors);
        let mut plan = plan::plan(conn, &cols, &records, now, &check, &mut errors, None)?;
        check.finish_and_clear();
        if !errors.is_empty() {
            return Err(TxError::Rows(errors));
        }
        if !dry_run {
            let writing = progress_bar(
                progress,
                (plan.inserts.len() + plan.updates.len()) as u64,
                "saving",
            );
            plan::apply(
                conn,
                &crate::db::audit_chain::Who::system("import"),
                &mut plan,
                &writing,
            )?;
            writing.finish_and_clear();
        }
        Ok(plan)
    };
    let result = if dry_run {
        db.read(work)
    } else {
        db.write(work)
    };
    let plan = match result {
        Ok(plan) => plan,
        Err(TxError::Rows(mut errors)) => {
            errors.sort_by_key(|e| e.row);
            return Err(ImportError::Rows { errors, rows });
        }
        Err(TxError::Db(e)) => return Err(ImportError::Db(e)),
    };
    Ok(Report {
        source,
        rows,
        inserted: plan.inserts.len(),
        updated: plan.updates.len(),
        unchanged: plan.unchanged,
        remapped: plan.remapped,
        ignored_columns: cols.ignored.clone(),
        dry_run,
    })
}

/// One row of a preview: the values read, the commune they resolve to, what the import would do,
/// and every problem.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub record: Record,
    /// The cells as written in the file, by field.
    pub raw: BTreeMap<Field, String>,
    /// The current commune (id, name) the row's code resolves to.
    pub unit: Option<(String, String)>,
    /// Empty when the row can be imported.
    pub errors: Vec<RowError>,
    /// `None` for an invalid row.
    pub action: Option<RowAction>,
    pub duplicates: Vec<Duplicate>,
}

/// What importing a file would do, row by row, without saving anything.
#[derive(Debug, Clone)]
pub struct Preview {
    pub source: String,
    /// The recognised columns in the file's order, with the header as written.
    pub columns: Vec<(Field, String)>,
    pub ignored_columns: Vec<String>,
    pub rows: Vec<PreviewRow>,
    pub inserts: usize,
    pub updates: usize,
    pub unchanged: usize,
    pub invalid: usize,
    pub remapped: usize,
}

impl Preview {
    pub fn has_column(&self, field: Field) -> bool {
        self.columns.iter().any(|(f, _)| *f == field)
    }
}

fn unit_names(
    conn: &mut crate::db::AnyConnection,
    ids: &BTreeSet<String>,
) -> QueryResult<BTreeMap<String, String>> {
    use crate::db::schema::admin_units;
    let ids: Vec<String> = ids.iter().cloned().collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = admin_units::table
            .filter(admin_units::id.eq_any(chunk.to_vec()))
            .select((admin_units::id, admin_units::name))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Checks an uploaded file (`name` gives its format) for `actor` as an import would, without
/// saving: every row with its values, errors (a commune outside the actor's jurisdiction is one)
/// and likely duplicates.
pub fn preview(db: &Db, actor: &Actor, name: &str, bytes: &[u8]) -> Result<Preview, ImportError> {
    let raw = table::read_bytes(name, bytes).map_err(ImportError::File)?;
    let parsed = parse(raw, false)?;
    let now = crate::clock::now();
    let (plan, errors, dups, names) = db
        .read(|conn| -> Result<_, TxError> {
            let mut errors = parsed.cell_errors.clone();
            let plan = plan::plan(
                conn,
                &parsed.cols,
                &parsed.records,
                now,
                &ProgressBar::hidden(),
                &mut errors,
                Some(actor),
            )?;
            let dups = duplicates::find(conn, actor, &parsed.records, &plan)?;
            let ids: BTreeSet<String> = plan.units.values().cloned().collect();
            let names = unit_names(conn, &ids)?;
            Ok((plan, errors, dups, names))
        })
        .map_err(|e| match e {
            TxError::Db(e) => ImportError::Db(e),
            TxError::Rows(errors) => ImportError::Rows {
                rows: parsed.records.len(),
                errors,
            },
        })?;
    let mut by_row: BTreeMap<usize, Vec<RowError>> = BTreeMap::new();
    for e in errors {
        by_row.entry(e.row).or_default().push(e);
    }
    let mut dups = dups;
    let rows: Vec<PreviewRow> = parsed
        .records
        .iter()
        .zip(&parsed.raw)
        .map(|(r, raw)| {
            let errors = by_row.remove(&r.row).unwrap_or_default();
            PreviewRow {
                unit: plan.units.get(&r.row).map(|u| {
                    (
                        u.clone(),
                        names.get(u).cloned().unwrap_or_else(|| u.clone()),
                    )
                }),
                action: if errors.is_empty() {
                    plan.actions.get(&r.row).cloned()
                } else {
                    None
                },
                duplicates: dups.remove(&r.row).unwrap_or_default(),
                errors,
                record: r.clone(),
                raw: raw.clone(),
            }
        })
        .collect();
    let mut columns: Vec<(usize, Field, String)> = parsed
        .cols
        .found
        .iter()
        .map(|(f, (i, h))| (*i, *f, h.clone()))
        .collect();
    columns.sort();
    Ok(Preview {
        source: parsed.source,
        columns: columns.into_iter().map(|(_, f, h)| (f, h)).collect(),
        ignored_columns: parsed.cols.ignored.clone(),
        invalid: rows.iter().filter(|r| !r.errors.is_empty()).count(),
        inserts: plan.inserts.len(),
        updates: plan.updates.len(),
        unchanged: plan.unchanged,
        remapped: plan.remapped,
        rows,
    })
}

/// What [`import_valid_rows`] did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: Report,
    /// Rows not imported because they are invalid.
    pub skipped_invalid: Vec<usize>,
    /// Rows not imported because the person chose so (likely duplicates).
    pub skipped_chosen: Vec<usize>,
}

/// Imports the valid rows of an uploaded file for `actor`, leaving out the rows in `skip` (by
/// row number) and every invalid row, in one transaction: either all those rows are saved or none.
pub fn import_valid_rows(
    db: &Db,
    actor: &Actor,
    name: &str,
    bytes: &[u8],
    skip: &BTreeSet<usize>,
) -> Result<Outcome, ImportError> {
    let raw = table::read_bytes(name, bytes).map_err(ImportError::File)?;
    let parsed = parse(raw, false)?;
    let now = crate::clock::now();
    let hidden = ProgressBar::hidden();
    let result = db.write(|conn| -> Result<_, TxError> {
        let mut errors = parsed.cell_errors.clone();
        plan::plan(
            conn,
            &parsed.cols,
            &parsed.records,
            now,
            &hidden,
            &mut errors,
            Some(actor),
        )?;
        let invalid: BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
        let chosen: Vec<usize> = parsed
            .records
            .iter()
            .map(|r| r.row)
            .filter(|r| skip.contains(r) && !invalid.contains(r))
            .collect();
        let kept: Vec<Record> = parsed
            .records
            .iter()
            .filter(|r| !invalid.contains(&r.row) && !skip.contains(&r.row))
            .cloned()
            .collect();
        let mut errors = Vec::new();
        let mut plan = plan::plan(
            conn,
            &parsed.cols,
            &kept,
            now,
            &hidden,
            &mut errors,
            Some(actor),
        )?;
        if !errors.is_empty() {
            // The rows left conflict among themselves; save nothing.
            return Err(TxError::Rows(errors));
        }
        plan::apply(
            conn,
            &crate::db::audit_chain::Who::of(actor),
            &mut plan,
            &hidden,
        )?;
        Ok((plan, invalid.into_iter().collect::<Vec<_>>(), chosen))
    });
    let (plan, skipped_invalid, skipped_chosen) = match result {
        Ok(v) => v,
        Err(TxError::Rows(mut errors)) => {
            errors.sort_by_key(|e| e.row);
            return Err(ImportError::Rows {
                errors,
                rows: parsed.records.len(),
            });
        }
        Err(TxError::Db(e)) => return Err(ImportError::Db(e)),
    };
    Ok(Outcome {
        report: Report {
            source: parsed.source,
            rows: parsed.records.len(),
            inserted: plan.inserts.len(),
            updated: plan.updates.len(),
            unchanged: plan.unchanged,
            remapped: plan.remapped,
            ignored_columns: parsed.cols.ignored.clone(),
            dry_run: false,
        },
        skipped_invalid,
        skipped_chosen,
    })
}

/// A progress bar on stderr (indicatif hides it when stderr is not a terminal).
fn progress_bar(progress: bool, len: u64, what: &'static str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg:>18} [{bar:32.cyan/blue}] {human_pos:>7}/{human_len:<7} {elapsed:>4}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what);
    bar
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
