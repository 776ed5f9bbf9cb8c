//! Black-box tests of `doi178-server import`: run the real binary on a fresh SQLite data directory
//! (migrated by the binary, which loads the shipped administrative units) and check what it
//! prints and what lands in the database. SQLite only: skipped when `DOI178_TEST_DATABASE_URL`
//! is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;
use doi178_tests::server_bin;
use tempfile::TempDir;

fn skip_unless_sqlite() -> bool {
    if std::env::var_os("DOI178_TEST_DATABASE_URL").is_some() {
        eprintln!(
            "skipped: the import tests run on SQLite only (DOI178_TEST_DATABASE_URL is set); \
             the importer's database code is backend-neutral diesel"
        );
        return true;
    }
    false
}

struct Env {
    dir: TempDir,
}

impl Env {
    /// A data directory migrated by the binary, which loads the shipped reference data: Huế's
    /// wards 19753 (Phú Xuân) and 19774, and the pre-2025 ward 19750 (Tây Lộc), merged into
    /// 19753.
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        let out = env.run(&["migrate"]);
        assert!(out.status.success(), "migrate failed: {}", text(&out));
        env
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(server_bin())
            .env_remove("DOI178_DATABASE_URL")
            .env_remove("DOI178_CONFIG")
            .env_remove("DOI178_DATA_DIR")
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .output()
            .expect("run doi178-server")
    }

    fn import(&self, file: &Path, dry_run: bool) -> Output {
        let file = file.to_str().unwrap();
        if dry_run {
            self.run(&["import", file, "--dry-run"])
        } else {
            self.run(&["import", file])
        }
    }

    fn conn(&self) -> SqliteConnection {
        let path = self.dir.path().join("doi178.sqlite");
        SqliteConnection::establish(path.to_str().unwrap()).unwrap()
    }

    fn count(&self) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT COUNT(*) AS n FROM establishments")
            .get_result::<Count>(&mut self.conn())
            .unwrap()
            .n
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const VALID: &str = "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Số ĐKKD,Số giấy phép,Ngày cấp,Điện thoại
Karaoke Hoa Mai,Karaoke,19753,12 Lê Lợi,3300123456-001,15/GP-VHTT,15/03/2023,0234 3822 123
Nhà nghỉ Bình An,Nhà nghỉ,2025:19774,3 Hùng Vương,3300999888,,02/01/2024,
Massage Sen,\"Xoa bóp, xông hơi\",19750,8 Nguyễn Huệ,,22/GP,,
Bar Sông Hương,bar,19774,1 Lê Lợi,3301111111,,,
Khách sạn Hương Giang,Khách sạn,19753,51 Lê Lợi,3302222222,,,0905123456
";

#[test]
fn imports_a_valid_csv_and_reimports_without_twins() {
    if skip_unless_sqlite() {
        return;
    }
    let env = Env::new();
    let file = env.file("list.csv", VALID.as_bytes());
    let out = env.import(&file, false);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("5 added, 0 updated, 0 unchanged"),
        "{}",
        text(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert_eq!(env.count(), 5);

    let again = env.import(&file, false);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 added, 0 updated, 5 unchanged"),
        "{}",
        text(&again)
    );
    assert_eq!(env.count(), 5);
}

#[test]
fn imports_an_xlsx_file() {
    if skip_unless_sqlite() {
        return;
    }
    let env = Env::new();
    let path = env.dir.path().join("list.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    let headers = [
        "STT",
        "Tên cơ sở",
        "Loại hình",
        "Mã xã",
        "Địa chỉ",
        "Số ĐKKD",
        "Ngày cấp",
        "Điện thoại",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    let rows = [
        (
            "Karaoke Ánh Dương",
            "Karaoke",
            19753.0,
            "5 Lê Lợi",
            "3300000001",
        ),
        (
            "Vũ trường Sao Mai",
            "Vũ trường",
            19774.0,
            "7 Hùng Vương",
            "3300000002",
        ),
        (
            "Quán bar Gió",
            "Quán bar",
            19753.0,
            "9 Lê Lợi",
            "3300000003",
        ),
    ];
    for (i, (name, kind, unit, address, reg)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, f64::from(r)).unwrap();
        sheet.write_string(r, 1, *name).unwrap();
        sheet.write_string(r, 2, *kind).unwrap();
        sheet.write_number(r, 3, *unit).unwrap();
        sheet.write_string(r, 4, *address).unwrap();
        sheet.write_string(r, 5, *reg).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2023, 3, 15).unwrap();
        sheet
            .write_datetime_with_format(r, 6, &date, &date_format)
            .unwrap();
        sheet.write_number(r, 7, 905_123_456.0).unwrap();
    }
    workbook.save(&path).unwrap();

    let out = env.import(&path, false);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 added"),
        "{}",
        text(&out)
    );
    assert_eq!(env.count(), 3);

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        establishment_type: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        phone: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
        licence_issued_on: Option<chrono::NaiveDate>,
    }
    let row: Row = diesel::sql_query(
        "SELECT establishment_type, phone, licence_issued_on FROM establishments \
         WHERE business_reg_no = '3300000002'",
    )
    .get_result(&mut env.conn())
    .unwrap();
    assert_eq!(row.establishment_type, "dance_hall");
    assert_eq!(row.phone.as_deref(), Some("0905123456"));
    assert_eq!(
        row.licence_issued_on,
        chrono::NaiveDate::from_ymd_opt(2023, 3, 15)
    );
}

#[test]
fn a_bad_row_writes_nothing_and_is_named() {
    if skip_unless_sqlite() {
        return;
    }
    let env = Env::new();
    let bad = VALID.replace("Bar Sông Hương,bar,19774", "Bar Sông Hương,tiệm vàng,19774");
    let bad = bad.replace("02/01/2024", "31/02/2024");
    let file = env.file("bad.csv", bad.as_bytes());
    let out = env.import(&file, false);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("row 3, column Ngày cấp:"), "{}", text(&out));
    assert!(
        stderr.contains("row 5, column Loại hình: unknown type"),
        "{}",
        text(&out)
    );
    assert!(stderr.contains("nothing was imported"), "{}", text(&out));
    assert!(!stderr.contains("panicked"), "{}", text(&out));
    assert_eq!(env.count(), 0);
}

#[test]
fn dry_run_writes_nothing() {
    if skip_unless_sqlite() {
        return;
    }
    let env = Env::new();
    let file = env.file("list.csv", VALID.as_bytes());
    let out = env.import(&file, true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("dry run"),
        "{}",
        text(&out)
    );
    assert_eq!(env.count(), 0);
}

#[test]
fn unusable_files_fail_cleanly() {
    if skip_unless_sqlite() {
        return;
    }
    let env = Env::new();
    let cases: [(&str, &[u8], &str); 4] = [
        ("list.pdf", b"%PDF", ".xlsx"),
        ("latin.csv", b"T\xean c\xf4 s\xf4,Lo\xe1i\n", "UTF-8"),
        ("empty.csv", b"", "empty"),
        (
            "cols.csv",
            "Tên cơ sở;Địa chỉ\nA;B\n".as_bytes(),
            "missing required columns",
        ),
    ];
    for (name, content, expected) in cases {
        let file = env.file(name, content);
        let out = env.import(&file, false);
        assert!(!out.status.success(), "{name}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{name}: {}", text(&out));
        assert!(!stderr.contains("panicked"), "{name}: {}", text(&out));
    }
    // A semicolon-separated file is read like a comma-separated one.
    let file = env.file(
        "semi.csv",
        VALID
            .replace(",\"Xoa bóp, xông hơi\",", ",Massage,")
            .replace(',', ";")
            .as_bytes(),
    );
    let out = env.import(&file, false);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(env.count(), 5);
}
