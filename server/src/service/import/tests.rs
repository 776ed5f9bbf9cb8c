//! Database-level tests of the importer: a temporary SQLite database with a few units.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use diesel::prelude::*;
use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType, RiskLevel};
use tempfile::TempDir;

use super::*;
use crate::db::establishments::EstablishmentRow;
use crate::db::schema::{establishments, unit_lineage};
use crate::db::units::{LineageRow, UnitRow};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn unit(
    id: &str,
    level: &str,
    kind: &str,
    parent: Option<&str>,
    valid_to: Option<NaiveDate>,
) -> UnitRow {
    let (version, code) = id.split_once(':').unwrap();
    UnitRow {
        id: id.to_string(),
        code: code.to_string(),
        code_version: version.to_string(),
        name: format!("Unit {code}"),
        full_name: format!("Unit {code}"),
        name_en: format!("Unit {code}"),
        level: level.parse().unwrap(),
        kind: kind.parse().unwrap(),
        parent_id: parent.map(str::to_string),
        path: match parent {
            Some(p) => format!("/{p}/{id}/"),
            None => format!("/{id}/"),
        },
        search_key: format!("unit {code}"),
        valid_from: if version == "2025" {
            date(2025, 7, 1)
        } else {
            date(2008, 8, 1)
        },
        valid_to,
        area_km2: None,
    }
}

/// A migrated database with Huế (46), two current wards, and three pre-2025 units: 19750 merged
/// into 19753, 19751 split between 19753 and 19754, 19752 with no lineage.
fn setup() -> (TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("t.sqlite").to_str().unwrap(), 2).unwrap();
    db.migrate().unwrap();
    let old = Some(date(2025, 6, 30));
    let units = vec![
        unit("2025:46", "province", "central_city", None, None),
        unit("2025:19753", "commune", "ward", Some("2025:46"), None),
        unit("2025:19754", "commune", "ward", Some("2025:46"), None),
        unit("pre2025:46", "province", "province", None, old),
        unit("pre2025:19750", "commune", "ward", Some("pre2025:46"), old),
        unit("pre2025:19751", "commune", "ward", Some("pre2025:46"), old),
        unit("pre2025:19752", "commune", "ward", Some("pre2025:46"), old),
    ];
    let lineage = [
        ("pre2025:19750", "2025:19753", "merged_into"),
        ("pre2025:19751", "2025:19753", "split_from"),
        ("pre2025:19751", "2025:19754", "split_from"),
    ];
    db.write(|c| -> Result<(), DbError> {
        crate::db::units::insert_all(c, &units)?;
        let rows: Vec<LineageRow> = lineage
            .iter()
            .map(|(f, t, k)| LineageRow {
                from_unit: (*f).to_string(),
                to_unit: (*t).to_string(),
                kind: k.parse().unwrap(),
                effective: date(2025, 7, 1),
            })
            .collect();
        crate::insert_rows!(c, unit_lineage::table, &rows)?;
        Ok(())
    })
    .unwrap();
    (dir, db)
}

fn write(dir: &TempDir, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn all(db: &Db) -> Vec<EstablishmentRow> {
    db.read(|c| -> Result<_, DbError> {
        Ok(establishments::table
            .select(EstablishmentRow::as_select())
            .order(establishments::name.asc())
            .load(c)?)
    })
    .unwrap()
}

fn row_errors(result: Result<Report, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Rows { errors, .. }) => errors.iter().map(ToString::to_string).collect(),
        other => panic!("expected row errors, got {other:?}"),
    }
}

fn file_error(result: Result<Report, ImportError>) -> String {
    match result {
        Err(ImportError::File(e)) => format!("{e:#}"),
        other => panic!("expected a file error, got {other:?}"),
    }
}

const GOOD: &str = "\u{feff}STT;Tên cơ sở;Loại hình;Mã xã;Địa chỉ;Số ĐKKD;Số giấy phép;Ngày cấp;Điện thoại;Trạng thái;Mức độ rủi ro
1;Karaoke Hoa Mai;Karaoke;19753;12 Lê Lợi;3300123456-001;15/GP-VHTT;15/03/2023;0234 3822 123;;
2;Nhà nghỉ Bình An;Nhà nghỉ;2025:19754;3 Hùng Vương;3300999888;;2024-01-02;;Đang hoạt động;Cao

3;Massage Sen;Xoa bóp, xông hơi;19750;8 Nguyễn Huệ;;22/GP;;;;low
";

#[test]
fn imports_a_valid_file() {
    let (dir, db) = setup();
    let path = write(&dir, "list.csv", GOOD.as_bytes());
    let report = import_file(&db, &path, false, false).unwrap();
    assert_eq!(report.rows, 3);
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (3, 0, 0)
    );
    assert_eq!(report.remapped, 1);
    assert_eq!(report.ignored_columns, vec!["STT".to_string()]);
    let rows = all(&db);
    assert_eq!(rows.len(), 3);
    let karaoke = &rows[0];
    assert_eq!(karaoke.name, "Karaoke Hoa Mai");
    assert_eq!(karaoke.establishment_type, EstablishmentType::Karaoke);
    assert_eq!(karaoke.unit_id, "2025:19753");
    assert_eq!(karaoke.licence_issued_on, Some(date(2023, 3, 15)));
    assert_eq!(karaoke.phone.as_deref(), Some("02343822123"));
    assert_eq!(karaoke.status, EstablishmentStatus::Operating);
    assert_eq!(karaoke.risk, RiskLevel::Medium);
    assert!(karaoke.search_key.contains("karaoke hoa mai"));
    let massage = &rows[1];
    assert_eq!(massage.establishment_type, EstablishmentType::MassageSauna);
    assert_eq!(
        massage.unit_id, "2025:19753",
        "old code mapped through lineage"
    );
    assert_eq!(massage.risk, RiskLevel::Low);
    let guesthouse = &rows[2];
    assert_eq!(guesthouse.unit_id, "2025:19754");
    assert_eq!(guesthouse.risk, RiskLevel::High);
    assert_eq!(guesthouse.licence_issued_on, Some(date(2024, 1, 2)));
    let mut seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, vec![1, 2, 3]);
    let current = db
        .read(|c| -> Result<_, DbError> { Ok(crate::db::current_seq(c)?) })
        .unwrap();
    assert_eq!(current, 3);
}

#[test]
fn reimport_updates_instead_of_duplicating() {
    let (dir, db) = setup();
    let path = write(&dir, "list.csv", GOOD.as_bytes());
    import_file(&db, &path, false, false).unwrap();
    let before = all(&db);

    let again = import_file(&db, &path, false, false).unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 3));
    assert_eq!(all(&db), before);

    // Same registration number in the same commune, new phone and name: an update. The file has no
    // licence column, and a blank cell keeps the stored value.
    let changed = "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Số ĐKKD,Điện thoại\n\
                   Karaoke Hoa Mai 2,karaoke,19753,12 Lê Lợi,3300123456-001,0905 123 456\n\
                   Karaoke Mới,karaoke,19754,1 Trần Hưng Đạo,3300123456-001,\n";
    let path = write(&dir, "changed.csv", changed.as_bytes());
    let report = import_file(&db, &path, false, false).unwrap();
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (1, 1, 0)
    );
    let after = all(&db);
    assert_eq!(after.len(), 4);
    let updated = after.iter().find(|r| r.id == before[0].id).unwrap();
    assert_eq!(updated.name, "Karaoke Hoa Mai 2");
    assert_eq!(updated.phone.as_deref(), Some("0905123456"));
    assert_eq!(updated.licence_no.as_deref(), Some("15/GP-VHTT"));
    assert_eq!(updated.created_at, before[0].created_at);
    assert!(updated.seq > 3);
}

#[test]
fn bad_rows_write_nothing_and_name_every_problem() {
    let (dir, db) = setup();
    let content = "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Ngày cấp,Trạng thái,Vĩ độ\n\
                   Karaoke A,karaoke,19753,1 Lê Lợi,,,\n\
                   ,Tiệm vàng,19753,2 Lê Lợi,31/02/2023,,\n\
                   Bar B,bar,99999,3 Lê Lợi,,,\n\
                   Bar C,bar,19751,3 Lê Lợi,,,\n\
                   Bar D,bar,19753,3 Lê Lợi,,closed,\n\
                   Bar E,bar,46,3 Lê Lợi,,,16.46\n\
                   Bar F,bàn,99998,3 Lê Lợi,,,\n";
    let path = write(&dir, "bad.csv", content.as_bytes());
    let errors = row_errors(import_file(&db, &path, false, false));
    let expected_starts = [
        "row 3, column Tên cơ sở: is required",
        "row 3, column Loại hình: unknown type \"Tiệm vàng\"",
        "row 3, column Ngày cấp: \"31/02/2023\" is not a valid date",
        "row 4, column Mã xã: unknown commune code 99999",
        "row 5, column Mã xã: the former commune 19751",
        "row 6, column Ngày đóng cửa (not in the file): is required",
        "row 7, column Mã xã: 46 is a province code",
        "row 8, column Loại hình: unknown type \"bàn\"",
        "row 8, column Mã xã: unknown commune code 99998",
    ];
    for start in expected_starts {
        assert!(
            errors.iter().any(|e| e.starts_with(start)),
            "{start:?} not in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), expected_starts.len(), "{errors:#?}");
    assert!(all(&db).is_empty());
}

#[test]
fn domain_errors_name_the_column() {
    let (dir, db) = setup();
    let content = "name,type,unit,address,phone,lat,lon,licence_issued_on,licence_expires_on\n\
                   A,karaoke,19753,x,12ab,,,,\n\
                   B,karaoke,19753,x,,16.4,,,\n\
                   C,karaoke,19753,x,,,,01/01/2024,01/01/2023\n";
    let path = write(&dir, "bad.csv", content.as_bytes());
    let errors = row_errors(import_file(&db, &path, false, false));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].starts_with("row 2, column phone: "),
        "{errors:#?}"
    );
    assert!(errors[1].starts_with("row 3, column lon: "), "{errors:#?}");
    assert!(
        errors[2].starts_with("row 4, column licence_expires_on: "),
        "{errors:#?}"
    );
}

#[test]
fn duplicates_inside_the_file_are_errors() {
    let (dir, db) = setup();
    let content = "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Số ĐKKD,Số giấy phép\n\
                   A,karaoke,19753,x,111,\n\
                   B,karaoke,2025:19753,y,111,\n\
                   C,karaoke,19754,z,111,\n\
                   D,bar,19754,z,,GP 1\n\
                   E,bar,19754,z,,gp1\n";
    let path = write(&dir, "dup.csv", content.as_bytes());
    let errors = row_errors(import_file(&db, &path, false, false));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("row 3, column Số ĐKKD: the same Số ĐKKD appears in row 2"));
    assert!(
        errors[1].starts_with("row 6, column Số giấy phép: the same Số giấy phép appears in row 5")
    );
    assert!(all(&db).is_empty());
}

#[test]
fn dry_run_writes_nothing() {
    let (dir, db) = setup();
    let path = write(&dir, "list.csv", GOOD.as_bytes());
    let report = import_file(&db, &path, true, false).unwrap();
    assert!(report.dry_run);
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (3, 0, 0)
    );
    assert!(all(&db).is_empty());
    let current = db
        .read(|c| -> Result<_, DbError> { Ok(crate::db::current_seq(c)?) })
        .unwrap();
    assert_eq!(current, 0);
}

#[test]
fn tab_separated_english_headers_and_a_title_row() {
    let (dir, db) = setup();
    let content = "DANH SÁCH CƠ SỞ\t\t\t\n\
                   Name\tType\tUnit\tAddress\tCommitment signed\tCommitment signed on\n\
                   Bar X\tquán bar\t19753\t9 Lê Lợi\tx\t01/02/2025\n";
    let path = write(&dir, "list.tsv", content.as_bytes());
    let report = import_file(&db, &path, false, false).unwrap();
    assert_eq!(report.inserted, 1);
    let rows = all(&db);
    assert!(rows[0].commitment_signed);
    assert_eq!(rows[0].commitment_signed_on, Some(date(2025, 2, 1)));
}

#[test]
fn unusable_files_give_clear_messages() {
    let (dir, db) = setup();
    let check = |name: &str, content: &[u8], expected: &str| {
        let path = write(&dir, name, content);
        let msg = file_error(import_file(&db, &path, false, false));
        assert!(msg.contains(expected), "{name}: {msg:?} lacks {expected:?}");
    };
    check("list.pdf", b"x", "use a .csv (UTF-8) or .xlsx file");
    check("empty.csv", b"", "empty");
    check("blank.csv", b"\n,,\n", "empty");
    check("latin.csv", b"T\xean c\xf4 s\xf4\n", "not UTF-8");
    check(
        "cols.csv",
        "Tên cơ sở,Địa chỉ\nA,B\n".as_bytes(),
        "missing required columns",
    );
    check(
        "nodata.csv",
        "Tên cơ sở,Loại hình,Mã xã,Địa chỉ\n,,,\n".as_bytes(),
        "no establishments",
    );
    check("broken.xlsx", b"not a zip", "cannot open");
    let missing = file_error(import_file(
        &db,
        Path::new("/nonexistent/x.csv"),
        false,
        false,
    ));
    assert!(missing.contains("cannot read"), "{missing}");
    assert!(all(&db).is_empty());
}

#[test]
fn a_unit_database_without_units_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("t.sqlite").to_str().unwrap(), 2).unwrap();
    db.migrate().unwrap();
    let path = write(&dir, "list.csv", GOOD.as_bytes());
    let errors = row_errors(import_file(&db, &path, false, false));
    assert!(errors[0].contains("no administrative units"), "{errors:#?}");
}

/// Provincial staff whose jurisdiction holds ward 19753 but not 19754.
fn staff_of_19753() -> crate::auth::Actor {
    crate::auth::Actor {
        user_id: uuid::Uuid::new_v4(),
        username: "tinh.test".into(),
        display_name: "Tinh Test".into(),
        role: doi178_shared::Role::ProvincialStaff,
        unit_id: Some("2025:46".into()),
        teams: Vec::new(),
        jurisdiction: crate::auth::actor::Jurisdiction::Units(
            ["2025:46", "2025:19753"]
                .iter()
                .map(|s| s.to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into(),
        ),
        team_units: Vec::new(),
        session: uuid::Uuid::new_v4(),
        must_change_password: false,
    }
}

const MIXED: &str = "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Số ĐKKD,Ngày cấp
Quán bar Gió,Quán bar,19753,5 Trần Phú,,
Karaoke Hoa Mai (đổi tên),Karaoke,19753,12 Lê Lợi,3300123456-001,
KARAOKE HOA MAI.,Karaoke,19753,\"12 Le Loi, phuong 19753\",,
Khách sạn Xa,Khách sạn,19754,1 Lý Thường Kiệt,,
Cơ sở sai ngày,Karaoke,19753,9 Lê Lợi,,31/02/2024
Quán bar Gió 2,Quán bar,19753,5 Tran Phu,,
";

#[test]
fn preview_shows_every_row_with_errors_duplicates_and_updates() {
    let (dir, db) = setup();
    import_file(&db, &write(&dir, "a.csv", GOOD.as_bytes()), false, false).unwrap();
    let before = all(&db);
    let actor = staff_of_19753();
    let p = preview(&db, &actor, "mixed.csv", MIXED.as_bytes()).unwrap();
    assert_eq!(all(&db), before, "a preview writes nothing");
    assert_eq!(p.rows.len(), 6);
    let row = |n: usize| p.rows.iter().find(|r| r.record.row == n).unwrap();
    assert_eq!(row(2).action, Some(RowAction::Insert));
    assert!(row(2).duplicates.is_empty() && row(2).errors.is_empty());
    assert_eq!(row(2).unit.as_ref().unwrap().0, "2025:19753");
    assert!(
        matches!(row(3).action, Some(RowAction::Update { ref name, .. }) if name == "Karaoke Hoa Mai")
    );
    // Close name and address of a registered establishment, no number: a likely duplicate.
    let d = &row(4).duplicates;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].reason, duplicates::Reason::CloseNameAddress);
    assert!(
        matches!(&d[0].other, duplicates::Other::Registered { name, .. } if name == "Karaoke Hoa Mai")
    );
    // Outside the jurisdiction: an error naming the column.
    let e = &row(5).errors;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].column.as_deref(), Some("Mã xã"));
    assert!(e[0].message.contains("outside your jurisdiction"), "{e:?}");
    assert_eq!(row(5).action, None);
    assert_eq!(row(6).errors[0].column.as_deref(), Some("Ngày cấp"));
    assert_eq!(
        row(6).raw.get(&Field::LicenceIssuedOn).map(String::as_str),
        Some("31/02/2024")
    );
    // A close twin of an earlier row of the file.
    assert_eq!(row(7).duplicates[0].other, duplicates::Other::Row(2));
    assert_eq!((p.inserts, p.updates, p.invalid), (3, 1, 2));
}

#[test]
fn importing_valid_rows_skips_the_invalid_and_the_chosen() {
    let (dir, db) = setup();
    import_file(&db, &write(&dir, "a.csv", GOOD.as_bytes()), false, false).unwrap();
    let actor = staff_of_19753();
    let skip = std::collections::BTreeSet::from([4, 7]);
    let o = import_valid_rows(&db, &actor, "mixed.csv", MIXED.as_bytes(), &skip).unwrap();
    assert_eq!((o.report.inserted, o.report.updated), (1, 1));
    assert_eq!(o.skipped_invalid, vec![5, 6]);
    assert_eq!(o.skipped_chosen, vec![4, 7]);
    let names: Vec<String> = all(&db).into_iter().map(|r| r.name).collect();
    assert!(names.contains(&"Quán bar Gió".to_string()));
    assert!(names.contains(&"Karaoke Hoa Mai (đổi tên)".to_string()));
    assert!(!names
        .iter()
        .any(|n| n == "KARAOKE HOA MAI." || n == "Khách sạn Xa"));
    assert_eq!(names.len(), 4);
}

#[test]
fn uploaded_spreadsheets_are_read_from_bytes() {
    let err = |name: &str, bytes: &[u8]| match table::read_bytes(name, bytes) {
        Ok(_) => panic!("{name} should not be readable"),
        Err(e) => e.to_string(),
    };
    let e = err("list.xlsx", b"not a zip");
    assert!(e.contains("spreadsheet"), "{e}");
    let e = err("list.pdf", b"%PDF");
    assert!(e.contains(".pdf"), "{e}");
}

#[test]
fn an_uploaded_xlsx_is_previewed_like_a_csv() {
    let (_dir, db) = setup();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows = [
        ["Tên cơ sở", "Loại hình", "Mã xã", "Địa chỉ"],
        ["Karaoke Sóng Xanh", "Karaoke", "19753", "4 Lê Lợi"],
        ["Nhà nghỉ Khác Tỉnh", "Nhà nghỉ", "19754", "2 Hùng Vương"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let p = preview(&db, &staff_of_19753(), "danh-sach.xlsx", &bytes).unwrap();
    assert!(p.source.starts_with("worksheet"), "{}", p.source);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0].action, Some(RowAction::Insert));
    assert_eq!(p.rows[1].record.row, 3);
    assert!(p.rows[1].errors[0]
        .message
        .contains("outside your jurisdiction"));
}
