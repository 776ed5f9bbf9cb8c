//! `doi178-server backup` / `restore` through the real binary: a backup taken while the server
//! runs and receives visits with photos restores into a consistent database (a prefix of the
//! writes, referential integrity, the manifest's counts), a backup of the quiet server restores
//! every row of every table and every photo exactly, and damaged input is refused.
//! Runs on SQLite, and on PostgreSQL (through pg_dump / pg_restore) when
//! `DOI178_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use doi178_tests::storage::*;
use serde_json::Value;

const NO_ENV: &[(String, String)] = &[];

fn read_manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Tables whose existing rows a visit updates (counters and coverage figures); all others only
/// gain rows, so a snapshot's rows must all still be in the original.
const UPDATED_IN_PLACE: &[&str] = &[
    "sync_counter",
    "auth_epoch",
    "coverage_rollup",
    "coverage_rollup_since",
    "establishment_visit_summary",
    "inspection_days",
];

/// Checks a restored data directory against the manifest it came from: row counts per table,
/// every photo file and its hash, and the photo rows' own hashes.
fn check_against_manifest(manifest: &Value, restored_dir: &Path, restored_db: &str) {
    let rows = all_rows(restored_db);
    let counts: BTreeMap<String, i64> = rows
        .iter()
        .map(|(t, r)| (t.clone(), r.len() as i64))
        .collect();
    let want: BTreeMap<String, i64> = serde_json::from_value(manifest["tables"].clone()).unwrap();
    assert_eq!(counts, want, "restored row counts differ from the manifest");
    let photos = manifest["photos"].as_array().unwrap();
    let db_photos = photo_rows(restored_db);
    assert_eq!(photos.len(), db_photos.len() * 2, "two files per photo row");
    for p in photos {
        let id = p["id"].as_str().unwrap();
        let thumb = p["variant"] == "thumbnail";
        let bytes = std::fs::read(photo_path(restored_dir, id, thumb))
            .unwrap_or_else(|e| panic!("restored photo {id} missing: {e}"));
        assert_eq!(
            sha256_hex(&bytes),
            p["sha256"].as_str().unwrap(),
            "photo {id}"
        );
    }
    for (id, sha) in &db_photos {
        let bytes = std::fs::read(photo_path(restored_dir, id, false)).unwrap();
        assert_eq!(&sha256_hex(&bytes), sha, "photo row {id}: stored hash");
    }
}

/// Referential integrity of a restored SQLite file (PostgreSQL enforces its foreign keys while
/// pg_restore loads the rows, so a completed restore there has none broken).
fn check_foreign_keys(db_url: &str) {
    if db_url.starts_with("postgres") {
        return;
    }
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Fk {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table: String,
    }
    let mut c = diesel::SqliteConnection::establish(db_url).unwrap();
    let broken: Vec<Fk> = diesel::sql_query("PRAGMA foreign_key_check")
        .load(&mut c)
        .unwrap();
    assert!(
        broken.is_empty(),
        "restored database has broken references, first in {}",
        broken[0].table
    );
}

#[test]
fn backup_while_writing_and_quiet_restore_every_row_and_photo() {
    let work = tempfile::tempdir().unwrap();
    let orig_dir = work.path().join("orig");
    std::fs::create_dir_all(&orig_dir).unwrap();
    let orig_db = TestDb::new(&orig_dir);
    demo(&orig_dir, &orig_db.url, NO_ENV);
    let server = Server::start(&orig_dir, &orig_db.url, NO_ENV);
    let token = server.login("kiemtra.hue");
    let kit = VisitKit::find(&server, &token);
    for seed in 0..3 {
        submit_visit_with_photos(&server, &token, &kit, seed, 2);
    }

    // 1. A backup taken while a phone keeps submitting visits with photos.
    let acked = Mutex::new(Vec::<String>::new());
    let stop = AtomicBool::new(false);
    let during = work.path().join("during");
    let (acked_before, acked_after) = std::thread::scope(|scope| {
        scope.spawn(|| {
            let started = Instant::now();
            let mut seed = 100;
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                let v = submit_visit_with_photos(&server, &token, &kit, seed, 1);
                acked.lock().unwrap().push(v);
                seed += 1;
            }
        });
        while acked.lock().unwrap().len() < 3 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let before = acked.lock().unwrap().len();
        cli_ok(
            &orig_dir,
            &orig_db.url,
            NO_ENV,
            &["backup", "--out", during.to_str().unwrap()],
        );
        let after = acked.lock().unwrap().len();
        // Writes go on after the backup too.
        while acked.lock().unwrap().len() < after + 3 {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::SeqCst);
        (before, after)
    });
    let acked = acked.into_inner().unwrap();
    let manifest = read_manifest(&during);
    assert_eq!(
        manifest["backend"],
        if orig_db.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    assert!(manifest["schema_version"].as_str().unwrap().len() >= 8);

    let r1_dir = work.path().join("restored-during");
    let r1_db = TestDb::new(&r1_dir);
    let out = cli_ok(
        &r1_dir,
        &r1_db.url,
        NO_ENV,
        &["restore", "--from", during.to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("photos verified"));
    check_against_manifest(&manifest, &r1_dir, &r1_db.url);
    check_foreign_keys(&r1_db.url);
    let restored = all_rows(&r1_db.url);
    let original = all_rows(&orig_db.url);
    for (table, rows) in &restored {
        if UPDATED_IN_PLACE.contains(&table.as_str()) {
            continue;
        }
        let orig: BTreeSet<&String> = original[table].iter().collect();
        let extra: Vec<&String> = rows.iter().filter(|r| !orig.contains(r)).collect();
        assert!(
            extra.is_empty(),
            "{table}: {} restored rows never existed in the original, e.g. {}",
            extra.len(),
            extra[0]
        );
    }
    // The snapshot holds a prefix of the phone's visits: all acknowledged before the backup
    // started, none after one that is missing.
    let r1_server = Server::start(&r1_dir, &r1_db.url, NO_ENV);
    let t1 = r1_server.login("kiemtra.hue");
    let present: Vec<bool> = acked
        .iter()
        .map(|v| {
            let (status, _) = r1_server.get_bytes(&format!("/api/v1/visits/{v}"), &t1);
            assert!(status == 200 || status == 404, "GET visit {v}: {status}");
            status == 200
        })
        .collect();
    let k = present.iter().take_while(|p| **p).count();
    assert!(
        present[k..].iter().all(|p| !p),
        "the snapshot is not a prefix of the writes: {present:?}"
    );
    assert!(
        k >= acked_before && k <= acked_after + 1,
        "snapshot holds {k} of the visits; {acked_before} were acknowledged before the backup \
         started and {acked_after} when it ended"
    );
    // A restored visit's photo through the API: the same bytes as the original's.
    let visit = r1_server.get_json(&format!("/api/v1/visits/{}", acked[0]), &t1);
    assert_eq!(visit["evidence_pending"], false, "{visit}");
    let photo = visit["photo_ids"][0].as_str().unwrap();
    let (status, bytes) = r1_server.get_bytes(&format!("/api/v1/photos/{photo}"), &t1);
    assert_eq!(status, 200);
    let (_, orig_bytes) = server.get_bytes(&format!("/api/v1/photos/{photo}"), &token);
    assert_eq!(sha256_hex(&bytes), sha256_hex(&orig_bytes));
    drop(r1_server);

    // 2. A backup of the quiet (still running) server, as a .tar: the restore is identical,
    // every row of every table and every photo file.
    let tar = work.path().join("quiet.tar");
    cli_ok(
        &orig_dir,
        &orig_db.url,
        NO_ENV,
        &["backup", "--out", tar.to_str().unwrap()],
    );
    let r2_dir = work.path().join("restored-quiet");
    let r2_db = TestDb::new(&r2_dir);
    cli_ok(
        &r2_dir,
        &r2_db.url,
        NO_ENV,
        &["restore", "--from", tar.to_str().unwrap()],
    );
    let r2_server = Server::start(&r2_dir, &r2_db.url, NO_ENV);
    let original = all_rows(&orig_db.url);
    let restored = all_rows(&r2_db.url);
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        restored.keys().collect::<Vec<_>>(),
        "tables"
    );
    for (table, rows) in &original {
        assert!(
            rows == &restored[table],
            "{table}: {} rows in the original, {} restored; they differ",
            rows.len(),
            restored[table].len()
        );
    }
    let orig_photos: BTreeMap<String, String> = file_hashes(&orig_dir.join("photos"))
        .into_iter()
        .filter(|(p, _)| !p.contains(".tmp-"))
        .collect();
    let restored_photos = file_hashes(&r2_dir.join("photos"));
    assert_eq!(orig_photos, restored_photos, "photo files and their hashes");
    assert_eq!(
        photo_rows(&r2_db.url).len() * 2,
        restored_photos.len(),
        "two files per photo"
    );
    // The restored server serves them, and the sessions signed with the restored secret work.
    let t2 = r2_server.login("kiemtra.hue");
    let last = acked.last().unwrap();
    let v = r2_server.get_json(&format!("/api/v1/visits/{last}"), &t2);
    assert_eq!(v["evidence_pending"], false);
    drop(server);
}

#[test]
fn damaged_backups_and_wrong_targets_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let orig_dir = work.path().join("orig");
    std::fs::create_dir_all(&orig_dir).unwrap();
    let orig_db = TestDb::new(&orig_dir);
    demo(&orig_dir, &orig_db.url, NO_ENV);
    let good = work.path().join("good");
    cli_ok(
        &orig_dir,
        &orig_db.url,
        NO_ENV,
        &["backup", "--out", good.to_str().unwrap()],
    );
    // Backing up into a directory that holds something: refused.
    cli_fails(
        &orig_dir,
        &orig_db.url,
        NO_ENV,
        &["backup", "--out", good.to_str().unwrap()],
        "not an empty directory",
    );
    if !orig_db.is_postgres() {
        // A data directory with no database.
        let empty = work.path().join("nothing-here");
        std::fs::create_dir_all(&empty).unwrap();
        cli_fails(
            &empty,
            &empty.join("doi178.sqlite").display().to_string(),
            NO_ENV,
            &["backup", "--out", work.path().join("x").to_str().unwrap()],
            "no database",
        );
    }
    let copy = |name: &str| {
        let dir = work.path().join(name);
        for (rel, _) in file_hashes(&good) {
            let to = dir.join(&rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(good.join(&rel), to).unwrap();
        }
        dir
    };
    let target = |name: &str| {
        let dir = work.path().join(name);
        let db = TestDb::new(&dir);
        (dir, db)
    };

    // Missing backup.
    let (t, tdb) = target("t-missing");
    cli_fails(
        &t,
        &tdb.url,
        NO_ENV,
        &[
            "restore",
            "--from",
            work.path().join("no-such-backup").to_str().unwrap(),
        ],
        "does not exist",
    );

    // Corrupt manifest.
    let corrupt = copy("corrupt");
    std::fs::write(
        corrupt.join("manifest.json"),
        b"{\"format\": 1, \"tables\": [",
    )
    .unwrap();
    let (t, tdb) = target("t-corrupt");
    cli_fails(
        &t,
        &tdb.url,
        NO_ENV,
        &["restore", "--from", corrupt.to_str().unwrap()],
        "manifest",
    );

    // A manifest whose counts were edited.
    let edited = copy("edited");
    let mut m = read_manifest(&edited);
    let n = m["tables"]["visits"].as_i64().unwrap();
    m["tables"]["visits"] = Value::from(n + 1);
    std::fs::write(
        edited.join("manifest.json"),
        serde_json::to_vec(&m).unwrap(),
    )
    .unwrap();
    let (t, tdb) = target("t-edited");
    if !tdb.is_postgres() {
        cli_fails(
            &t,
            &tdb.url,
            NO_ENV,
            &["restore", "--from", edited.to_str().unwrap()],
            "row counts",
        );
    }

    // A tampered photo: refused before anything is installed.
    let tampered = copy("tampered");
    let m = read_manifest(&tampered);
    let victim = m["photos"][0]["path"].as_str().unwrap().to_string();
    let mut bytes = std::fs::read(tampered.join(&victim)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(tampered.join(&victim), bytes).unwrap();
    let (t, tdb) = target("t-tampered");
    cli_fails(
        &t,
        &tdb.url,
        NO_ENV,
        &["restore", "--from", tampered.to_str().unwrap()],
        "does not match the manifest",
    );
    assert!(
        file_hashes(&t).is_empty(),
        "a refused restore left files behind: {:?}",
        file_hashes(&t)
    );

    // A damaged database file.
    let damaged = copy("damaged");
    let db_file = read_manifest(&damaged)["database"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bytes = std::fs::read(damaged.join(&db_file)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(damaged.join(&db_file), bytes).unwrap();
    let (t, tdb) = target("t-damaged");
    cli_fails(
        &t,
        &tdb.url,
        NO_ENV,
        &["restore", "--from", damaged.to_str().unwrap()],
        "does not match the manifest",
    );

    // A non-empty target needs --force; with it, the restore replaces what was there.
    let (t, tdb) = target("t-busy");
    cli_ok(
        &t,
        &tdb.url,
        NO_ENV,
        &["restore", "--from", good.to_str().unwrap()],
    );
    cli_fails(
        &t,
        &tdb.url,
        NO_ENV,
        &["restore", "--from", good.to_str().unwrap()],
        "pass --force",
    );
    cli_ok(
        &t,
        &tdb.url,
        NO_ENV,
        &["restore", "--from", good.to_str().unwrap(), "--force"],
    );
    check_against_manifest(&read_manifest(&good), &t, &tdb.url);
}
