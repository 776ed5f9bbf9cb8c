//! A later official change of the administrative units, loaded with the command line while the
//! server runs: `units load` a new code list (two of Huế's wards merged into one) with its
//! lineage, and the records follow (establishments, accounts, teams; the coverage counts the
//! merged ward's establishments in its successor); `units import-lineage` refuses a wrong file
//! whole, naming each wrong row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::process::Output;

use doi178_tests::{server_command, Session, TestServer, HUE};
use serde_json::Value;

fn text(o: &Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// (in scope, inspected) this year, for `unit` as a child of `parent`.
fn child(s: &TestServer, who: &Session, parent: &str, unit: &str) -> (u64, u64) {
    let answer = s.get_ok(&format!("/api/v1/coverage?unit={parent}&year=2026"), who);
    let c = answer["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unit_id"] == unit)
        .unwrap_or_else(|| panic!("no child {unit} in {answer}"))
        .clone();
    (
        c["annual"]["in_scope"].as_u64().unwrap(),
        c["annual"]["inspected"].as_u64().unwrap(),
    )
}

fn total(s: &TestServer, who: &Session, unit: &str) -> (u64, u64) {
    let t = s.get_ok(&format!("/api/v1/coverage?unit={unit}&year=2026"), who)["total"].clone();
    (
        t["annual"]["in_scope"].as_u64().unwrap(),
        t["annual"]["inspected"].as_u64().unwrap(),
    )
}

/// The shipped 2025 list as a `units load` file for the code list 2027, with `gone` merged into
/// `kept` (renamed), and the lineage from every 2025 unit to its 2027 one.
fn files(gone: &str, kept: &str) -> (String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/data");
    let provinces = std::fs::read_to_string(root.join("vn_units_2025_provinces.csv")).unwrap();
    let communes = std::fs::read_to_string(root.join("vn_units_2025_communes.csv")).unwrap();
    let mut list = String::from("code,full_name,unit_type,parent_code\n");
    let mut lineage = String::from("old_code,new_code,kind,effective\n");
    let mut reader = csv::Reader::from_reader(provinces.as_bytes());
    for r in reader.records() {
        let r = r.unwrap();
        writeln!(list, "{},\"{}\",\"{}\",", &r[0], &r[2], &r[6]).unwrap();
        writeln!(lineage, "2025:{},2027:{},renamed,01/01/2027", &r[0], &r[0]).unwrap();
    }
    let mut reader = csv::Reader::from_reader(communes.as_bytes());
    for r in reader.records() {
        let r = r.unwrap();
        let code = &r[0];
        if code == gone {
            writeln!(lineage, "2025:{code},2027:{kept},merged_into,01/01/2027").unwrap();
            continue;
        }
        let name = if code == kept {
            "Phường Hợp Nhất".to_string()
        } else {
            r[2].to_string()
        };
        writeln!(list, "{code},\"{name}\",\"{}\",{}", &r[6], &r[8]).unwrap();
        writeln!(lineage, "2025:{code},2027:{code},renamed,01/01/2027").unwrap();
    }
    (list, lineage)
}

#[test]
fn a_new_list_with_lineage_moves_the_records_and_their_coverage() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let communes = s.get_ok(&format!("/api/v1/units?parent={HUE}"), &staff)["items"]
        .as_array()
        .unwrap()
        .clone();
    // Two wards with establishments in scope.
    let with: Vec<String> = communes
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .filter(|id| child(&s, &staff, HUE, id).0 > 0)
        .take(2)
        .collect();
    assert_eq!(with.len(), 2, "two wards with establishments");
    let (kept, gone) = (&with[0], &with[1]);
    let before_kept = child(&s, &staff, HUE, kept);
    let before_gone = child(&s, &staff, HUE, gone);
    let before_total = total(&s, &staff, HUE);

    let code = |id: &str| id.rsplit(':').next().unwrap().to_string();
    let (list, lineage) = files(&code(gone), &code(kept));
    let dir = tempfile::tempdir().unwrap();
    let list_file = dir.path().join("ds-2027.csv");
    let lineage_file = dir.path().join("lineage-2027.csv");
    std::fs::write(&list_file, &list).unwrap();
    std::fs::write(&lineage_file, &lineage).unwrap();

    // A wrong lineage file loads nothing and names every wrong row.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "old_code,new_code,kind\npre2025:19750,2025:19753,merged_into\n\
         99999,2025:19753,\npre2025:19751,2025:19753,swallowed\n",
    )
    .unwrap();
    let o = server_command(&s, &["units", "import-lineage", bad.to_str().unwrap()]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("line 3, old_code: no former unit has the code \"99999\""),
        "{out}"
    );
    assert!(out.contains("line 4, kind: \"swallowed\" is not"), "{out}");
    assert!(out.contains("2 wrong rows"), "{out}");
    assert!(!out.contains("panicked"), "{out}");

    // A dry run reports and changes nothing.
    let load = |extra: &[&str]| {
        let mut args = vec![
            "units",
            "load",
            list_file.to_str().unwrap(),
            "--code-list",
            "2027",
            "--valid-from",
            "01/01/2027",
            "--lineage",
            lineage_file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        server_command(&s, &args)
    };
    let o = load(&["--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("dry run: code list 2027"), "{}", text(&o));
    assert_eq!(s.get_ok("/api/v1/units/46", &staff)["id"], HUE);

    let o = load(&[]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("3354 units added"), "{out}");
    assert!(
        out.contains("3355 units of the list in force before closed on 31/12/2026"),
        "{out}"
    );
    assert!(!out.contains("warning"), "{out}");

    // The bare code is now the 2027 unit, and the provincial staff moved with their province.
    let staff = s.login("tinh.hue");
    let hue = s.get_ok("/api/v1/units/46", &staff);
    assert_eq!(hue["id"], "2027:46");
    let new_kept = format!("2027:{}", code(kept));
    let children: Vec<Value> = hue["children"].as_array().unwrap().clone();
    assert_eq!(children.len(), communes.len() - 1);
    let merged = children
        .iter()
        .find(|c| c["id"] == new_kept.as_str())
        .unwrap();
    assert_eq!(merged["full_name"], "Phường Hợp Nhất");
    // The former units stay readable (by the administrator: a jurisdiction is a subtree of the
    // list in force), closed the day before.
    let admin = s.login("admin");
    let old = s.get_ok(&format!("/api/v1/units/{gone}"), &admin);
    assert_eq!(old["valid_to"], "2026-12-31");

    // Coverage follows the establishments: the merged ward counts both, the province is whole.
    let after = child(&s, &staff, "2027:46", &new_kept);
    assert_eq!(
        after,
        (before_kept.0 + before_gone.0, before_kept.1 + before_gone.1)
    );
    assert_eq!(total(&s, &staff, "46"), before_total);
    // The establishments of the former ward list under the merged one.
    let listed = s.get_ok(
        &format!("/api/v1/establishments?unit={new_kept}&limit=200"),
        &staff,
    );
    let in_merged = listed["items"].as_array().unwrap().len() as u64;
    assert!(in_merged >= before_kept.0 + before_gone.0, "{in_merged}");

    // The team leader's team moved too: the team's assignments and planner still work.
    let leader = s.login("doitruong.hue");
    let teams = s.get_ok("/api/v1/teams", &leader);
    let units: Vec<&str> = teams["items"]
        .as_array()
        .or(teams.as_array())
        .unwrap()
        .iter()
        .map(|t| t["unit_id"].as_str().unwrap())
        .collect();
    assert!(units.iter().all(|u| u.starts_with("2027:")), "{units:?}");

    // Every move is in the audit chain, which verifies.
    let o = server_command(&s, &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
}
