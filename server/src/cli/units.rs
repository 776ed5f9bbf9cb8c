//! `doi178-server units …`: load a later official list of administrative units and its lineage.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::db::audit_chain::Who;
use crate::db::Db;
use crate::service::reference::change::{self, Relabelled};
use crate::service::reference::lineage::{self, RowError};

#[derive(Args, Debug)]
pub struct UnitsArgs {
    #[command(subcommand)]
    pub command: UnitsCommand,
}

#[derive(Subcommand, Debug)]
pub enum UnitsCommand {
    /// Load lineage from former units to the ones in force: a CSV with the columns old_code and
    /// new_code (`46`, or with its list: `pre2025:19750`), optionally kind (merged_into,
    /// split_from, renamed) and effective (dd/mm/yyyy). Records in former units then move to
    /// their successor. A file with any wrong row loads nothing.
    ImportLineage {
        file: PathBuf,
        /// Check the file and report, without saving.
        #[arg(long)]
        dry_run: bool,
    },
    /// Load a new official list (a resolution merging or renaming units) as a new code list: a
    /// CSV with the columns code, full_name and parent_code (the province's code, empty for a
    /// province), optionally name, name_en and unit_type. The units in force before close the day
    /// before it starts; with --lineage, records in closed units move to their successor.
    Load {
        file: PathBuf,
        /// Name of the new code list, used in unit ids (`2027` gives `2027:46`).
        #[arg(long)]
        code_list: String,
        /// The day the list comes into force (dd/mm/yyyy).
        #[arg(long)]
        valid_from: String,
        /// Lineage from the units of the list in force to the new ones (as for import-lineage).
        #[arg(long)]
        lineage: Option<PathBuf>,
        /// Check the files and report, without saving.
        #[arg(long)]
        dry_run: bool,
    },
}

fn read(file: &PathBuf) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text; save it as CSV UTF-8", file.display()))
}

fn report_errors(file: &Path, errors: &[RowError]) -> anyhow::Error {
    for e in errors {
        eprintln!("{}: {e}", file.display());
    }
    anyhow::anyhow!(
        "{} wrong row{} in {}: nothing was loaded; correct the file and run again",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        file.display()
    )
}

fn print_relabelled(r: &Relabelled) {
    println!(
        "moved to the successor unit: {} establishments, {} tips, {} teams, {} accounts, {} \
         programmes' province targets",
        r.establishments, r.tips, r.teams, r.users, r.programmes
    );
    if !r.without_successor.is_empty() {
        let listed: Vec<&str> = r
            .without_successor
            .iter()
            .take(20)
            .map(String::as_str)
            .collect();
        println!(
            "warning: records remain in {} unit{} no longer in force with no lineage to a unit in \
             force ({}{}); load their lineage with `units import-lineage`",
            r.without_successor.len(),
            if r.without_successor.len() == 1 {
                ""
            } else {
                "s"
            },
            listed.join(", "),
            if r.without_successor.len() > 20 {
                ", …"
            } else {
                ""
            }
        );
    }
}

/// Rolls a dry run back after reporting what it would do.
#[derive(Debug)]
struct DryRun;

impl std::fmt::Display for DryRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dry run")
    }
}

impl std::error::Error for DryRun {}

pub fn run(db: &Db, args: &UnitsArgs) -> anyhow::Result<()> {
    let who = Who::system("units");
    match &args.command {
        UnitsCommand::ImportLineage { file, dry_run } => {
            let text = read(file)?;
            let outcome = db.write(|c| -> anyhow::Result<_> {
                let imported = lineage::import(c, &text, false)?;
                if !imported.errors.is_empty() {
                    return Ok((imported, None));
                }
                let moved = change::relabel(c, &who)?;
                if *dry_run {
                    println!(
                        "dry run: {} rows would add {} and update {} lineage pairs",
                        imported.rows, imported.added, imported.updated
                    );
                    print_relabelled(&moved);
                    return Err(DryRun.into());
                }
                Ok((imported, Some(moved)))
            });
            let (imported, moved) = match outcome {
                Err(e) if e.is::<DryRun>() => return Ok(()),
                other => other?,
            };
            if !imported.errors.is_empty() {
                return Err(report_errors(file, &imported.errors));
            }
            println!(
                "{} rows: {} lineage pairs added, {} updated",
                imported.rows, imported.added, imported.updated
            );
            if let Some(moved) = moved {
                print_relabelled(&moved);
            }
            Ok(())
        }
        UnitsCommand::Load {
            file,
            code_list,
            valid_from,
            lineage: lineage_file,
            dry_run,
        } => {
            let code_list = code_list.trim();
            if code_list.is_empty()
                || !code_list
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                anyhow::bail!(
                    "--code-list: {code_list:?} must be letters, digits, '-' or '_' (e.g. 2027)"
                );
            }
            let starts = crate::service::import::values::parse_date_text(valid_from)
                .map_err(|e| anyhow::anyhow!("--valid-from: {e}"))?;
            let text = read(file)?;
            let rows = change::parse_list(&text, code_list, starts)
                .map_err(|errors| report_errors(file, &errors))?;
            let lineage_text = lineage_file.as_ref().map(read).transpose()?;
            let outcome = db.write(|c| -> anyhow::Result<_> {
                let loaded = change::load_list(c, &rows)?;
                let imported = match &lineage_text {
                    Some(t) => Some(lineage::import(c, t, false)?),
                    None => None,
                };
                if let Some(i) = imported.as_ref().filter(|i| !i.errors.is_empty()) {
                    // Nothing of the list either: the whole change lands together.
                    return Err(report_errors(
                        lineage_file.as_deref().unwrap_or(file),
                        &i.errors,
                    ));
                }
                let moved = change::relabel(c, &who)?;
                println!(
                    "{}code list {code_list} from {}: {} units added, {} updated; {} units of the \
                     list in force before closed on {}",
                    if *dry_run { "dry run: " } else { "" },
                    starts.format("%d/%m/%Y"),
                    loaded.added,
                    loaded.updated,
                    loaded.closed,
                    starts.pred_opt().unwrap_or(starts).format("%d/%m/%Y"),
                );
                if let Some(i) = &imported {
                    println!("lineage: {} pairs added, {} updated", i.added, i.updated);
                }
                print_relabelled(&moved);
                if *dry_run {
                    return Err(DryRun.into());
                }
                Ok(())
            });
            match outcome {
                Err(e) if e.is::<DryRun>() => Ok(()),
                other => other,
            }
        }
    }
}
