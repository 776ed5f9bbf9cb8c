//! The `import` command: an establishment list (CSV, XLSX) through the importer
//! ([`crate::service::import`]), with progress bars on a terminal and every row error listed.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::db::Db;
use crate::service::import::{import_file, ImportError, Report};

const AFTER_HELP: &str = "\
Columns (header row; Vietnamese or English, case and diacritics ignored):
  required: Tên cơ sở (name), Loại hình (type), Mã xã (unit), Địa chỉ (address)
  optional: Số ĐKKD (business_reg_no), Số giấy phép (licence_no), Ngày cấp (licence_issued_on),
            Ngày hết hạn (licence_expires_on), Số GCN ANTT (antt_cert_no), Chủ cơ sở (owner_name),
            Điện thoại (phone), Vĩ độ (lat), Kinh độ (lon), Trạng thái (status, default operating),
            Ngày hoạt động (opened_on), Ngày đóng cửa (closed_on), Mức độ rủi ro (risk, default
            medium), Đã ký cam kết (commitment_signed), Ngày ký cam kết (commitment_signed_on)
Types: a code (karaoke, dance_hall, ...) or a label (Karaoke, Vũ trường, Nhà nghỉ, Khách sạn, ...).
Unit: 2025:19753, 19753, or a pre-2025 commune code (mapped through the unit lineage).
Dates: dd/mm/yyyy or yyyy-mm-dd. CSV files must be UTF-8; the separator may be , ; or tab.
A row whose Số ĐKKD or Số giấy phép is already registered in the same commune updates it.
If any row is invalid nothing is saved.";

#[derive(Args, Debug, Clone)]
#[command(after_help = AFTER_HELP)]
pub struct ImportArgs {
    /// The CSV (UTF-8) or XLSX file.
    pub file: PathBuf,
    /// Check every row and report errors without saving anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// The `import` command: imports, prints the summary on stdout, or lists every row error on
/// stderr and fails.
pub fn run(db: &Db, args: &ImportArgs) -> anyhow::Result<()> {
    match import_file(db, &args.file, args.dry_run, true) {
        Ok(report) => {
            print_report(&args.file, &report);
            Ok(())
        }
        Err(ImportError::Rows { errors, rows }) => {
            let bad: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
            eprintln!(
                "{}: {} error{} in {} of {rows} rows:",
                args.file.display(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                bad.len()
            );
            for e in &errors {
                eprintln!("  {e}");
            }
            if args.dry_run {
                anyhow::bail!(
                    "dry run: {} row{} must be fixed before this file can be imported",
                    bad.len(),
                    if bad.len() == 1 { "" } else { "s" }
                )
            }
            anyhow::bail!(
                "nothing was imported: fix the row{} listed above and run the import again",
                if bad.len() == 1 { "" } else { "s" }
            )
        }
        Err(ImportError::File(e)) => {
            Err(e.context(format!("cannot import {}", args.file.display())))
        }
        Err(e @ ImportError::Db(_)) => Err(anyhow::Error::new(e)),
    }
}

fn print_report(file: &Path, r: &Report) {
    println!(
        "{}: {} row{} read ({})",
        file.display(),
        r.rows,
        if r.rows == 1 { "" } else { "s" },
        r.source
    );
    if !r.ignored_columns.is_empty() {
        println!("columns not imported: {}", r.ignored_columns.join(", "));
    }
    if r.remapped > 0 {
        println!(
            "{} row{} gave a pre-2025 commune code, filed under the current commune",
            r.remapped,
            if r.remapped == 1 { "" } else { "s" }
        );
    }
    if r.dry_run {
        println!(
            "dry run: every row is valid; {} would be added, {} updated, {} unchanged. Nothing was saved.",
            r.inserted, r.updated, r.unchanged
        );
    } else {
        println!(
            "imported: {} added, {} updated, {} unchanged",
            r.inserted, r.updated, r.unchanged
        );
    }
}
