//! The field core against the real server: a day of offline work synced in one go, no resends,
//! a killed app, an expired access token, a revoked session, another account on the phone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::io::BufRead;
use std::process::{Command, Stdio};

use chrono::{Duration, Utc};
use common::*;
use doi178_field::shared::visit::{
    AnswerInput, AnswerResult, Outcome, ReviewStatus, ViolationInput,
};
use doi178_field::*;
use serde_json::Value;
use uuid::Uuid;

struct Recorded {
    visit: Uuid,
    photos: Vec<Uuid>,
}

/// Records `n` visits (each with `photos` photos) on establishments of the team, as the UI would.
fn record_visits(core: &FieldCore, n: usize, photos: usize, salt: u32) -> Vec<Recorded> {
    record_visits_with(core, n, photos, salt, jpeg)
}

fn record_visits_with(
    core: &FieldCore,
    n: usize,
    photos: usize,
    salt: u32,
    make: fn(u32) -> Vec<u8>,
) -> Vec<Recorded> {
    let ests: Vec<EstablishmentSummary> = core
        .establishments_nearby(NearbyQuery {
            lat: None,
            lon: None,
            query: None,
            limit: Some(500),
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.lat.is_some() && core.checklist(e.id.parse().unwrap()).is_ok())
        .collect();
    assert!(
        ests.len() >= n,
        "only {} establishments with a checklist",
        ests.len()
    );
    let start = Utc::now() - Duration::hours(8);
    let mut out = Vec::new();
    for i in 0..n {
        let est = &ests[(i + salt as usize * 7) % ests.len()];
        let est_id: Uuid = est.id.parse().unwrap();
        let began = start + Duration::minutes(20 * i as i64);
        let draft = core
            .visit_start(VisitStart {
                establishment_id: est_id,
                assignment_id: None,
                team_id: None,
                id: Some(if i % 2 == 0 {
                    Uuid::now_v7()
                } else {
                    Uuid::new_v4()
                }),
                started_at: Some(began),
            })
            .unwrap();
        // Half the visits on site, half 1+ km away (recorded with a warning).
        let offset = if i % 2 == 0 { 0.0002 } else { 0.012 };
        let gps = core
            .visit_gps(VisitGps {
                id: draft.id,
                lat: est.lat.unwrap() + offset,
                lon: est.lon.unwrap(),
                accuracy_m: 8.0,
            })
            .unwrap();
        let d = gps.distance_m.unwrap();
        assert_eq!(gps.warning.is_some(), d > 100.0, "{d} m: {:?}", gps.warning);
        let checklist = core.checklist(est_id).unwrap();
        assert_eq!(checklist.template_id, draft.template_id);
        let answers = checklist
            .items
            .iter()
            .take(3)
            .map(|it| AnswerInput {
                item: it.code.clone(),
                result: AnswerResult::Pass,
                note: None,
            })
            .collect();
        let violations = i % 3 == 0;
        core.visit_update(VisitUpdate {
            id: draft.id,
            answers: Some(answers),
            outcome: Some(if violations {
                Outcome::ViolationsFound
            } else {
                Outcome::NoViolation
            }),
            violations: violations.then(|| {
                vec![ViolationInput {
                    code: "ND282_D23_K2".into(),
                    description: "Không có danh sách nhân viên".into(),
                    legal_basis: "Khoản 2 Điều 23 Nghị định 282/2025/NĐ-CP".into(),
                    proposed_fine_vnd: 5_000_000,
                }]
            }),
            minutes_no: violations.then(|| format!("{i}/BB-ĐKT")),
            notes: Some(format!("Ghi chú {i}")),
            follow_up_on: (i % 4 == 0).then(|| began.date_naive() + Duration::days(30)),
            ..Default::default()
        })
        .unwrap();
        let mut ids = Vec::new();
        for p in 0..photos {
            let bytes = make(salt * 1000 + (i * 10 + p) as u32);
            let item = core
                .add_processed_photo(
                    draft.id,
                    ProcessedPhoto {
                        id: None,
                        original_sha256: sha_hex(&[bytes.as_slice(), b"original"].concat()),
                        sha256: sha_hex(&bytes),
                        bytes,
                        taken_at: Some(began + Duration::minutes(2)),
                        mime: None,
                    },
                )
                .unwrap();
            ids.push(item.id.parse().unwrap());
        }
        let item = core
            .visit_submit(VisitSubmit {
                id: draft.id,
                ended_at: Some(began + Duration::minutes(15)),
            })
            .unwrap();
        assert_eq!(item.status, VisitStatus::Queued);
        out.push(Recorded {
            visit: draft.id,
            photos: ids,
        });
    }
    out
}

/// Every recorded visit is on the server once, complete, with every photo downloadable.
fn assert_on_server(srv: &Server, token: &str, recorded: &[Recorded]) {
    for r in recorded {
        let (s, v) = srv.get(&format!("/api/v1/visits/{}", r.visit), token);
        assert_eq!(s, 200, "visit {}: {v}", r.visit);
        assert_eq!(v["evidence_pending"], false, "{v}");
        let listed: Vec<String> = v["photo_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let want: Vec<String> = r.photos.iter().map(Uuid::to_string).collect();
        assert_eq!(listed, want);
        assert_eq!(v["revisions"].as_array().unwrap().len(), 1);
        for p in &r.photos {
            let (s, b) = srv.get_bytes(&format!("/api/v1/photos/{p}"), token);
            assert_eq!(s, 200, "photo {p}");
            assert!(b.starts_with(&[0xFF, 0xD8]), "a JPEG");
        }
    }
}

fn team_of(core: &FieldCore) -> String {
    core.status().unwrap().user.unwrap().teams[0]
        .team_id
        .to_string()
}

/// Photos go up several at a time (the proxy sees requests in flight at once), and one upload
/// cut mid-body costs nothing else: the uploads in flight beside it are stored and recorded as
/// done, the cut one stays queued and goes on the next sync; nothing is created twice. With
/// `upload_concurrency` 1 there is never more than one request in flight.
#[test]
fn photo_uploads_overlap_and_one_cut_upload_loses_or_repeats_nothing() {
    use faultproxy::{Fault, FaultProxy, Policy};
    let srv = Server::start();
    let upstream = srv
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let proxy = FaultProxy::start(upstream.as_str(), Policy::pass()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = FieldCore::open_with(
        dir.path(),
        Some(Settings {
            server_url: proxy.url(),
            upload_concurrency: 4,
            ..Settings::default()
        }),
        Options {
            // One try per step: the cut upload ends this sync at once.
            retry: RetryPolicy {
                max_attempts: 1,
                base_ms: 10,
                cap_ms: 10,
            },
            timeout: std::time::Duration::from_secs(20),
        },
    )
    .unwrap();
    sign_in(&core, INSPECTOR);
    assert!(core.sync_now().unwrap().ok);
    let (token, _) = srv.login(INSPECTOR);
    let recorded = record_visits_with(&core, 3, 4, 21, noise_jpeg);
    let all_photos: Vec<Uuid> = recorded.iter().flat_map(|r| r.photos.clone()).collect();

    // The first new connection is cut 30 kB up: past any visit PUT, inside its first photo (a
    // photo is 50 kB or more). The others are slowed to 50 kB/s so that uploads take a while.
    let slow: Fault = "slow:50000".parse().unwrap();
    let mut schedule = vec!["drop:up:30000".parse::<Fault>().unwrap()];
    schedule.extend(std::iter::repeat_n(slow.clone(), 12));
    proxy.set_policy(Policy::Schedule(schedule));
    proxy.close_all();
    let first = core.sync_now().unwrap();
    assert!(!first.ok, "the cut upload ends the sync: {first:?}");
    assert_eq!(first.error.as_ref().unwrap().code, "offline", "{first:?}");
    assert_eq!(first.visits_created, 3, "{first:?}");
    let stats = proxy.stats();
    assert!(stats.faults_injected >= 1, "{stats:?}");
    assert!(
        stats.max_in_flight >= 2,
        "uploads overlap: at most {} request(s) in flight",
        stats.max_in_flight
    );
    let photos: Vec<PhotoItem> = core
        .outbox()
        .unwrap()
        .into_iter()
        .flat_map(|i| i.photos)
        .collect();
    assert_eq!(photos.len(), 12);
    assert!(
        photos.iter().all(|p| p.status != PhotoStatus::Sending),
        "{photos:?}"
    );
    let done: Vec<&PhotoItem> = photos
        .iter()
        .filter(|p| p.status == PhotoStatus::Done)
        .collect();
    let cut: Vec<&PhotoItem> = photos
        .iter()
        .filter(|p| p.status == PhotoStatus::Queued && p.last_error.is_some())
        .collect();
    assert_eq!(cut.len(), 1, "exactly the cut upload failed: {photos:?}");
    assert_eq!(done.len() as u32, first.photos_created, "{first:?}");
    assert!(
        !done.is_empty(),
        "the uploads beside the cut one went through: {photos:?}"
    );
    // The server has exactly the done ones.
    for p in &photos {
        let (s, _) = srv.get_bytes(&format!("/api/v1/photos/{}", p.id), &token);
        let want = if p.status == PhotoStatus::Done {
            200
        } else {
            404
        };
        assert_eq!(s, want, "photo {} ({:?})", p.id, p.status);
    }

    // The link is fine again: the rest goes, the done ones are not sent again.
    proxy.set_policy(Policy::pass());
    let second = core.sync_now().unwrap();
    assert!(second.ok, "{second:?}");
    assert_eq!(second.visits_created + second.visits_replayed, 0);
    assert_eq!(first.photos_created + second.photos_created, 12);
    assert_eq!(second.photos_replayed, 0, "{second:?}");
    assert_eq!(second.uploads as usize, 12 - done.len(), "{second:?}");
    assert!(core
        .outbox()
        .unwrap()
        .iter()
        .all(|i| i.status == VisitStatus::Done));
    assert_on_server(&srv, &token, &recorded);
    let mut seen: HashSet<Uuid> = HashSet::new();
    assert!(all_photos.iter().all(|p| seen.insert(*p)));

    // The control: one upload at a time never has two requests in flight.
    let serial = FaultProxy::start(upstream.as_str(), Policy::Always(slow)).unwrap();
    core.settings_set(SettingsPatch {
        server_url: Some(serial.url()),
        upload_concurrency: Some(1),
        ..Default::default()
    })
    .unwrap();
    let more = record_visits_with(&core, 2, 3, 22, noise_jpeg);
    let third = core.sync_now().unwrap();
    assert!(third.ok, "{third:?}");
    assert_eq!(third.photos_created, 6);
    assert_eq!(serial.stats().max_in_flight, 1);
    assert_on_server(&srv, &token, &more);
}

/// The link drops, resets and stalls connections at random points of requests and answers (a
/// seeded fault-injecting proxy between the phone and the real server): syncing again until
/// the outbox is empty delivers every visit and photo exactly once.
#[test]
fn connections_cut_mid_upload_never_lose_or_duplicate_a_visit_or_photo() {
    use faultproxy::{Fault, FaultProxy, Policy, RandomPolicy};
    let srv = Server::start();
    let upstream = srv
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let proxy = FaultProxy::start(upstream.as_str(), Policy::pass()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = FieldCore::open_with(
        dir.path(),
        Some(Settings {
            server_url: proxy.url(),
            ..Settings::default()
        }),
        Options {
            retry: RetryPolicy {
                max_attempts: 4,
                base_ms: 10,
                cap_ms: 100,
            },
            // A stalled connection is given up after this and retried.
            timeout: std::time::Duration::from_secs(2),
        },
    )
    .unwrap();
    sign_in(&core, INSPECTOR);
    assert!(core.sync_now().unwrap().ok);
    let (token, _) = srv.login(INSPECTOR);
    let team = team_of(&core);
    let before = srv.team_visits(&team, &token).len();
    let recorded = record_visits(&core, 10, 3, 11);

    // Every new connection gets the next fault until the list runs out: requests cut on the way
    // up (mid-body of visits and photos), answers cut on the way down (the server stored it, the
    // phone never heard), resets and stalls; then a seeded random mix.
    let faults: Vec<Fault> = [
        "drop:up:200",
        "reset:down:60",
        "drop:up:1500",
        "stall:up:900:4s",
        "drop:down:150",
        "reset:up:3000",
        "drop:up:5000",
        "reset:down:20",
        "drop:down:400",
        "stall:down:10:4s",
        "drop:up:700",
        "reset:up:9000",
    ]
    .iter()
    .map(|f| f.parse().unwrap())
    .collect();
    let scheduled = faults.len() as u64;
    proxy.set_policy(Policy::Schedule(faults));
    proxy.close_all();
    let mut rounds = 0;
    let mut created = (0, 0);
    loop {
        rounds += 1;
        let report = core.sync_now().unwrap();
        created.0 += report.visits_created;
        created.1 += report.photos_created;
        let outbox = core.outbox().unwrap();
        if outbox.iter().all(|i| i.status == VisitStatus::Done) {
            break;
        }
        if rounds == 3 {
            // Then a seeded random mix on every new connection.
            proxy.set_policy(Policy::Random(RandomPolicy {
                seed: 178,
                fault_probability: 0.5,
                max_after: 16 * 1024,
                stall: Some(std::time::Duration::from_secs(4)),
                slow_bytes_per_sec: 0,
            }));
            proxy.close_all();
        }
        assert!(
            outbox
                .iter()
                .all(|i| i.status != VisitStatus::Failed && i.status != VisitStatus::Conflict),
            "a cut connection is only ever retried: {outbox:?}"
        );
        assert!(
            rounds < 60,
            "not delivered after {rounds} syncs: {outbox:?}"
        );
    }
    let stats = proxy.stats();
    assert!(
        stats.faults_injected >= scheduled,
        "the link was really faulty: {} faults over {} connections",
        stats.faults_injected,
        stats.connections
    );
    proxy.set_policy(Policy::pass());
    // Created at most once each (a replay after a lost answer is a 200, not a second record).
    assert!(created.0 <= 10 && created.1 <= 30, "{created:?}");
    assert_on_server(&srv, &token, &recorded);
    assert_eq!(srv.team_visits(&team, &token).len(), before + 10);
    let again = core.sync_now().unwrap();
    assert!(again.ok);
    assert_eq!(again.uploads, 0, "nothing is sent twice: {again:?}");
}

#[test]
fn a_day_offline_is_synced_once_and_never_resent() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &srv.base);
    let who = sign_in(&core, INSPECTOR);
    assert_eq!(who.user.username, INSPECTOR);
    assert_eq!(who.other_users_outbox, 0);
    let first = core.sync_now().unwrap();
    assert!(first.ok, "{first:?}");
    assert!(
        first.pulled_establishments > 0 && first.pulled_templates > 0,
        "{first:?}"
    );
    assert_eq!(first.uploads, 0);

    // Queries work on the pulled data: search without diacritics, nearest first.
    let all = core
        .establishments_nearby(NearbyQuery {
            lat: None,
            lon: None,
            query: None,
            limit: Some(500),
        })
        .unwrap();
    let some = all.iter().find(|e| e.lat.is_some()).unwrap();
    let word = some.name.split(' ').next_back().unwrap().to_string();
    let folded = doi178_field::shared::text::fold(&word);
    let found = core
        .establishments_nearby(NearbyQuery {
            lat: some.lat,
            lon: some.lon,
            query: Some(folded.to_uppercase()),
            limit: Some(10),
        })
        .unwrap();
    assert_eq!(
        found[0].id, some.id,
        "searching {folded:?} near it finds it first"
    );
    assert!(found.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
    let card = core.establishment(some.id.parse().unwrap()).unwrap();
    assert_eq!(card.establishment.id, some.id);
    let _ = core.assignments_today(None).unwrap();

    // The day: the phone is offline (nothing listens at the server URL).
    let real = core.settings_get().unwrap().server_url;
    core.settings_set(SettingsPatch {
        server_url: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    })
    .unwrap();
    let (token, _) = srv.login(INSPECTOR);
    let team = team_of(&core);
    let before = srv.team_visits(&team, &token).len();
    // The day: 20 visits with 100 photos between them.
    let recorded = record_visits(&core, 20, 5, 1);
    let offline = core.sync_now().unwrap();
    assert!(!offline.ok);
    assert_eq!(
        offline.error.as_ref().unwrap().code,
        "offline",
        "{offline:?}"
    );
    assert_eq!(core.status().unwrap().pending, 20);
    assert!(core
        .outbox()
        .unwrap()
        .iter()
        .all(|i| i.status == VisitStatus::Queued));

    // Back in coverage: one sync sends everything.
    core.settings_set(SettingsPatch {
        server_url: Some(real),
        ..Default::default()
    })
    .unwrap();
    let report = core.sync_now().unwrap();
    assert!(report.ok, "{report:?}\n{}", srv.output());
    assert_eq!(report.visits_created, 20, "{report:?}");
    assert_eq!(report.photos_created, 100, "{report:?}");
    assert_eq!(report.uploads, 120, "{report:?}");
    assert_eq!((report.visits_replayed, report.photos_replayed), (0, 0));
    let outbox = core.outbox().unwrap();
    assert!(
        outbox.iter().all(|i| i.status == VisitStatus::Done),
        "{outbox:?}"
    );
    assert!(outbox.iter().all(|i| i.server_status == Some(201)));
    assert_on_server(&srv, &token, &recorded);
    let after = srv.team_visits(&team, &token);
    assert_eq!(
        after.len(),
        before + 20,
        "exactly 20 new visits on the server"
    );
    let ids: HashSet<String> = after
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), after.len(), "no visit twice");
    // The far-away visits carry the phone's warning (or the server's own beyond 300 m).
    let (_, far) = srv.get(&format!("/api/v1/visits/{}", recorded[1].visit), &token);
    assert!(far["gps_warning"].as_str().is_some(), "{far}");
    let (_, near) = srv.get(&format!("/api/v1/visits/{}", recorded[0].visit), &token);
    assert!(near["gps_warning"].is_null(), "{near}");

    // Sync again: nothing is sent again.
    let again = core.sync_now().unwrap();
    assert!(again.ok, "{again:?}");
    assert_eq!(again.uploads, 0, "{again:?}");
    assert_eq!(again.visits_created + again.visits_replayed, 0);
    // The team's visits came back with the pull, with their review status.
    let card = core
        .establishment(core.outbox().unwrap()[0].establishment_id.parse().unwrap())
        .unwrap();
    assert!(card.team_visits.iter().any(
        |v| v.id == recorded[0].visit.to_string() && v.review_status == ReviewStatus::Submitted
    ));
    assert_eq!(srv.team_visits(&team, &token).len(), before + 20);
}

#[test]
fn server_shows_evidence_pending_until_the_photos_arrive() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &srv.base);
    sign_in(&core, INSPECTOR);
    assert!(core.sync_now().unwrap().ok);
    let rec = record_visits(&core, 1, 2, 2);
    // The second photo's file disappears (storage trouble): the visit goes, one photo does not.
    let missing = rec[0].photos[1];
    std::fs::remove_file(dir.path().join("photos").join(format!("{missing}.jpg"))).unwrap();
    let report = core.sync_now().unwrap();
    assert_eq!(
        (report.visits_created, report.photos_created),
        (1, 1),
        "{report:?}"
    );
    let item = &core.outbox().unwrap()[0];
    assert_eq!(item.status, VisitStatus::EvidencePending);
    assert_eq!(item.photos[1].status, PhotoStatus::Failed);
    assert!(
        item.last_error.as_deref().unwrap().contains("gone"),
        "{item:?}"
    );
    let (token, _) = srv.login(INSPECTOR);
    let (_, v) = srv.get(&format!("/api/v1/visits/{}", rec[0].visit), &token);
    assert_eq!(v["evidence_pending"], true, "{v}");
    assert_eq!(
        v["pending_photo_ids"],
        serde_json::json!([missing.to_string()])
    );
}

/// Run by `killed_between_recording_and_sync` in a child process that it kills.
#[test]
fn child_records_then_waits_to_be_killed() {
    let (Ok(dir), Ok(url)) = (
        std::env::var("FIELD_CHILD_DIR"),
        std::env::var("FIELD_CHILD_URL"),
    ) else {
        return; // Only meaningful as the child of the test below.
    };
    let core = open(std::path::Path::new(&dir), &url);
    let rec = record_visits(&core, 3, 1, 3);
    let ids: Vec<String> = rec.iter().map(|r| r.visit.to_string()).collect();
    println!("RECORDED {}", ids.join(","));
    std::thread::sleep(std::time::Duration::from_secs(120));
}

#[test]
fn killed_between_recording_and_sync() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    {
        let core = open(dir.path(), &srv.base);
        sign_in(&core, INSPECTOR);
        assert!(core.sync_now().unwrap().ok);
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_records_then_waits_to_be_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FIELD_CHILD_DIR", dir.path())
        .env("FIELD_CHILD_URL", &srv.base)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ids = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        // libtest may print "test <name> ... " on the same line first.
        if let Some(at) = line.find("RECORDED ") {
            ids = line[at + 9..]
                .trim()
                .split(',')
                .map(str::to_string)
                .collect();
            break;
        }
    }
    assert_eq!(ids.len(), 3, "the child did not record");
    child.kill().unwrap(); // SIGKILL: no destructor, no shutdown.
    child.wait().unwrap();

    let core = open(dir.path(), &srv.base);
    let outbox = core.outbox().unwrap();
    let queued: Vec<&String> = outbox.iter().map(|i| &i.visit_id).collect();
    assert_eq!(queued, ids.iter().collect::<Vec<_>>());
    assert!(outbox
        .iter()
        .all(|i| i.status == VisitStatus::Queued && i.photos.len() == 1));
    let report = core.sync_now().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.visits_created, report.photos_created), (3, 3));
    let (token, _) = srv.login(INSPECTOR);
    for id in &ids {
        let (s, v) = srv.get(&format!("/api/v1/visits/{id}"), &token);
        assert_eq!(s, 200);
        assert_eq!(v["evidence_pending"], false);
    }

    // Killed after the server stored a visit and its photo but before the phone recorded the
    // answers: the requests were still `sending`. They go again and the server replays (200).
    drop(core);
    {
        use diesel::prelude::*;
        let mut c =
            SqliteConnection::establish(dir.path().join("field.sqlite").to_str().unwrap()).unwrap();
        diesel::sql_query(
            "UPDATE visits SET status = 'sending', server_status = NULL WHERE id = ?",
        )
        .bind::<diesel::sql_types::Text, _>(&ids[0])
        .execute(&mut c)
        .unwrap();
        diesel::sql_query("UPDATE photos SET status = 'sending' WHERE visit_id = ?")
            .bind::<diesel::sql_types::Text, _>(&ids[0])
            .execute(&mut c)
            .unwrap();
    }
    let core = open(dir.path(), &srv.base);
    assert_eq!(core.outbox().unwrap()[0].status, VisitStatus::Queued);
    let report = core.sync_now().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        (report.visits_created, report.visits_replayed),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(
        (report.photos_created, report.photos_replayed),
        (0, 1),
        "{report:?}"
    );
    let item = &core.outbox().unwrap()[0];
    assert_eq!(
        (item.status, item.server_status),
        (VisitStatus::Done, Some(200))
    );
    let (_, v) = srv.get(&format!("/api/v1/visits/{}", ids[0]), &token);
    assert_eq!(v["revisions"].as_array().unwrap().len(), 1, "stored once");
}

#[test]
fn the_command_surface_records_and_syncs_a_visit() {
    use base64::Engine;
    use doi178_field::commands::{call, COMMANDS};
    use serde_json::json;
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &srv.base);
    let c = |name: &str, args: Value| {
        assert!(COMMANDS.contains(&name), "{name}");
        call(&core, name, args).unwrap_or_else(|e| panic!("{name}: {e:?}"))
    };
    let e = call(
        &core,
        "sign_in",
        json!({"username": INSPECTOR, "password": "wrong"}),
    )
    .unwrap_err();
    assert_eq!(e.code, "invalid_credentials");
    let who = c(
        "sign_in",
        json!({"username": INSPECTOR, "password": PASSWORD}),
    );
    assert_eq!(who["user"]["username"], INSPECTOR);
    assert_eq!(c("sync_now", Value::Null)["ok"], true);
    let list = c(
        "establishments_nearby",
        json!({"lat": 16.4637, "lon": 107.5909, "limit": 5}),
    );
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 5);
    let est = list
        .iter()
        .find(|e| call(&core, "checklist", json!({"id": e["id"]})).is_ok())
        .unwrap()
        .clone();
    let checklist = c("checklist", json!({"id": est["id"]}));
    assert!(checklist["version"].as_u64().unwrap() >= 1);
    let card = c("establishment", json!({"id": est["id"]}));
    assert_eq!(card["establishment"]["id"], est["id"]);
    let draft = c("visit_start", json!({"establishment_id": est["id"]}));
    let id = draft["id"].clone();
    assert_eq!(draft["template_id"], checklist["template_id"]);
    let gps = c(
        "visit_gps",
        json!({"id": id, "lat": est["lat"], "lon": est["lon"], "accuracy_m": 6.5}),
    );
    assert!(
        gps["distance_m"].as_f64().unwrap() < 1.0 && gps["warning"].is_null(),
        "{gps}"
    );
    let item = &checklist["items"][0]["code"];
    c(
        "visit_update",
        json!({"id": id, "outcome": "no_violation", "answers": [{"item": item, "result": "pass"}], "notes": "Đủ điều kiện"}),
    );
    let bytes = jpeg(77);
    let photo = c(
        "visit_add_photo",
        json!({"visit_id": id, "data_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
               "original_sha256": sha_hex(b"camera"), "sha256": sha_hex(&bytes)}),
    );
    assert_eq!(photo["status"], "queued");
    let bad = call(
        &core,
        "visit_add_photo",
        json!({"visit_id": id, "data_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
               "original_sha256": sha_hex(b"camera"), "sha256": sha_hex(b"other")}),
    )
    .unwrap_err();
    assert_eq!(bad.field.as_deref(), Some("sha256"));
    let queued = c("visit_submit", json!({"id": id}));
    assert_eq!(queued["status"], "queued");
    assert_eq!(c("status", Value::Null)["pending"], 1);
    let report = c("sync_now", json!({}));
    assert_eq!(report["visits_created"], 1, "{report}");
    assert_eq!(report["photos_created"], 1, "{report}");
    let outbox = c("outbox", Value::Null);
    assert_eq!(outbox[0]["status"], "done");
    assert_eq!(outbox[0]["photos"][0]["status"], "done");
    assert_eq!(c("settings_get", Value::Null)["photo_long_edge"], 1600);
    let _ = c("assignments_today", json!({}));
}

fn session_row(dir: &std::path::Path) -> (String, String, i64) {
    use diesel::prelude::*;
    let mut c = SqliteConnection::establish(dir.join("field.sqlite").to_str().unwrap()).unwrap();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        access_token: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        refresh_token: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        access_expires_at: i64,
    }
    let r: Row = diesel::sql_query(
        "SELECT access_token, refresh_token, access_expires_at FROM session WHERE id = 1",
    )
    .get_result(&mut c)
    .unwrap();
    (r.access_token, r.refresh_token, r.access_expires_at)
}

fn set_access(dir: &std::path::Path, token: &str, expires_at: i64) {
    use diesel::prelude::*;
    let mut c = SqliteConnection::establish(dir.join("field.sqlite").to_str().unwrap()).unwrap();
    diesel::sql_query("UPDATE session SET access_token = ?, access_expires_at = ? WHERE id = 1")
        .bind::<diesel::sql_types::Text, _>(token)
        .bind::<diesel::sql_types::BigInt, _>(expires_at)
        .execute(&mut c)
        .unwrap();
}

/// An access token like the server's, signed with the test secret, expired an hour ago.
fn forge_expired(valid: &str) -> String {
    use base64::Engine;
    let payload = valid.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let mut claims: Value = serde_json::from_slice(&bytes).unwrap();
    let now = Utc::now().timestamp();
    claims["iat"] = (now - 7200).into();
    claims["exp"] = (now - 3600).into();
    claims["jti"] = Uuid::new_v4().to_string().into();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

#[test]
fn expired_token_refreshes_revoked_session_needs_sign_in_and_keeps_the_outbox() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &srv.base);
    sign_in(&core, INSPECTOR);
    assert!(core.sync_now().unwrap().ok);

    // Days offline: the access token expired while the phone believed it still valid.
    let rec = record_visits(&core, 2, 1, 4);
    let (access, refresh, _) = session_row(dir.path());
    let far_future = Utc::now().timestamp() + 3600;
    set_access(dir.path(), &forge_expired(&access), far_future);
    let report = core.sync_now().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.visits_created, 2);
    let (_, refresh2, _) = session_row(dir.path());
    assert_ne!(refresh, refresh2, "the refresh token was used and rotated");
    // The stored expiry passed: refreshed before asking, nothing resent.
    set_access(dir.path(), &session_row(dir.path()).0, 0);
    let report = core.sync_now().unwrap();
    assert!(report.ok && report.uploads == 0, "{report:?}");
    let (token, _) = srv.login(INSPECTOR);
    assert_on_server(&srv, &token, &rec);

    // The session is closed from another client (signed out elsewhere / by an admin).
    let rec2 = record_visits(&core, 2, 1, 5);
    let (access, _, _) = session_row(dir.path());
    let r = srv
        .http
        .post(format!("{}/api/v1/auth/logout", srv.base))
        .bearer_auth(&access)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let report = core.sync_now().unwrap();
    assert!(!report.ok);
    assert!(report.needs_sign_in, "{report:?}");
    let status = core.status().unwrap();
    assert!(status.needs_sign_in && !status.signed_in);
    assert_eq!(status.pending, 2, "{status:?}");
    assert!(
        core.outbox()
            .unwrap()
            .iter()
            .filter(|i| i.status == VisitStatus::Queued)
            .count()
            == 2
    );
    // Work goes on meanwhile: a visit recorded while the session is closed joins the outbox.
    let rec3 = record_visits(&core, 1, 1, 6);
    assert_eq!(core.status().unwrap().pending, 3);
    // Still needs sign-in without asking the server again.
    let again = core.sync_now().unwrap();
    assert!(again.needs_sign_in && again.requests == 0, "{again:?}");

    // Another account on the same phone: the inspector's outbox is not pushed under it.
    let other = sign_in(&core, "doitruong.hue");
    assert_eq!(other.other_users_outbox, 3);
    assert!(other.warning.is_some());
    let report = core.sync_now().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.uploads, 0, "not another user's outbox");
    for r in &rec2 {
        let (s, _) = srv.get(&format!("/api/v1/visits/{}", r.visit), &token);
        assert_eq!(s, 404);
    }

    // The inspector signs in again: the outbox goes.
    let back = sign_in(&core, INSPECTOR);
    assert_eq!(back.other_users_outbox, 0);
    let report = core.sync_now().unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.visits_created, report.photos_created), (3, 3));
    assert_eq!(core.status().unwrap().pending, 0);
    assert_on_server(&srv, &token, &rec2);
    assert_on_server(&srv, &token, &rec3);
}

#[test]
fn the_leaders_work_reaches_the_phone_and_revocations_remove_it() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &srv.base);
    sign_in(&core, INSPECTOR);
    assert!(core.sync_now().unwrap().ok);
    let today = doi178_field::shared::time::vietnam_date(Utc::now());
    // What the phone lists for today is what the server has released for the team today.
    let team = team_of(&core);
    let (leader, _) = srv.login("doitruong.hue");
    let (s, list) = srv.get(
        &format!("/api/v1/assignments?team={team}&status=released&limit=500"),
        &leader,
    );
    assert_eq!(s, 200, "{list}");
    let mut want: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["window_start"].as_str().unwrap() <= today.to_string().as_str()
                && a["window_end"].as_str().unwrap() >= today.to_string().as_str()
        })
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let mut got: Vec<String> = core
        .assignments_today(None)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    got.sort();
    assert_eq!(got, want);

    // The leader plans and releases an assignment for today.
    let ests: Vec<EstablishmentSummary> = core
        .establishments_nearby(NearbyQuery {
            lat: None,
            lon: None,
            query: None,
            limit: Some(500),
        })
        .unwrap()
        .into_iter()
        .filter(|e| core.checklist(e.id.parse().unwrap()).is_ok())
        .take(2)
        .collect();
    let (s, a) = srv.post(
        "/api/v1/assignments",
        &leader,
        &serde_json::json!({
            "team_id": team, "kind": "unannounced", "window_start": today, "window_end": today,
            "establishment_ids": [ests[0].id, ests[1].id], "note": "Kiểm tra đột xuất"
        }),
    );
    assert_eq!(s, 201, "{a}");
    let aid = a["id"].as_str().unwrap().to_string();
    let (s, _) = srv.post(
        &format!("/api/v1/assignments/{aid}/release"),
        &leader,
        &Value::Null,
    );
    assert_eq!(s, 200);
    let r = core.sync_now().unwrap();
    assert!(r.ok && r.pulled_assignments >= 1, "{r:?}");
    let card = core
        .assignments_today(None)
        .unwrap()
        .into_iter()
        .find(|c| c.id == aid)
        .expect("the released assignment is on the phone");
    assert_eq!(card.establishments.len(), 2);
    assert_eq!(card.note.as_deref(), Some("Kiểm tra đột xuất"));

    // A visit for it, reviewed by the leader with a comment.
    let est: Uuid = ests[0].id.parse().unwrap();
    let d = core
        .visit_start(VisitStart {
            establishment_id: est,
            assignment_id: Some(aid.parse().unwrap()),
            team_id: None,
            id: None,
            started_at: Some(Utc::now() - Duration::minutes(30)),
        })
        .unwrap();
    assert_eq!(d.id.get_version_num(), 7);
    // Submitting without an outcome is refused by the shared rules, naming the field.
    let e = core
        .visit_submit(VisitSubmit {
            id: d.id,
            ended_at: None,
        })
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("outcome"));
    core.visit_update(VisitUpdate {
        id: d.id,
        outcome: Some(Outcome::ViolationsFound),
        violations: Some(vec![ViolationInput {
            code: "ND282_D23_K2".into(),
            description: "Không có danh sách nhân viên".into(),
            legal_basis: "Khoản 2 Điều 23 Nghị định 282/2025/NĐ-CP".into(),
            proposed_fine_vnd: 5_000_000,
        }]),
        ..Default::default()
    })
    .unwrap();
    let e = core
        .visit_submit(VisitSubmit {
            id: d.id,
            ended_at: None,
        })
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("minutes_no"), "{e:?}");
    core.visit_update(VisitUpdate {
        id: d.id,
        minutes_no: Some("7/BB-ĐKT".into()),
        ..Default::default()
    })
    .unwrap();
    core.visit_submit(VisitSubmit {
        id: d.id,
        ended_at: None,
    })
    .unwrap();
    let e = core
        .visit_update(VisitUpdate {
            id: d.id,
            notes: Some("late".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.code, "not_editable");
    let visited = &core.assignments_today(None).unwrap();
    let card = visited.iter().find(|c| c.id == aid).unwrap();
    assert_eq!(card.visited, vec![est.to_string()]);
    let r = core.sync_now().unwrap();
    assert!(r.ok && r.visits_created == 1, "{r:?}");
    let (s, v) = srv.post(
        &format!("/api/v1/visits/{}/review", d.id),
        &leader,
        &serde_json::json!({"decision": "correction_requested", "comment": "Bổ sung ảnh biển hiệu"}),
    );
    assert_eq!(s, 200, "{v}");
    // The leader cancels the assignment.
    let (s, _) = srv.post(
        &format!("/api/v1/assignments/{aid}/cancel"),
        &leader,
        &Value::Null,
    );
    assert_eq!(s, 200);
    let r = core.sync_now().unwrap();
    assert!(r.ok, "{r:?}");
    assert!(r.revoked_assignments >= 1, "{r:?}");
    assert!(core
        .assignments_today(None)
        .unwrap()
        .iter()
        .all(|c| c.id != aid));
    let card = core.establishment(est).unwrap();
    let tv = card
        .team_visits
        .iter()
        .find(|v| v.id == d.id.to_string())
        .unwrap();
    assert_eq!(tv.review_status, ReviewStatus::CorrectionRequested);
    assert_eq!(tv.review_comment.as_deref(), Some("Bổ sung ảnh biển hiệu"));
    assert!(card.assignments.is_empty());
    assert_eq!(card.local_visits.len(), 1);
    assert_eq!(card.local_visits[0].status, VisitStatus::Done);
}

/// The pull sync stores the roster of the inspector's team; `team_roster` lists it (through the
/// command surface too), the form's members present are checked against it, and a visit with
/// several members present from it reaches the server with them.
#[test]
fn the_team_roster_is_stored_and_used_for_members_present() {
    use doi178_field::commands::call;
    use serde_json::json;
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &srv.base);
    sign_in(&core, INSPECTOR);
    let report = core.sync_now().unwrap();
    assert!(report.ok, "{report:?}");
    let me = core.status().unwrap().user.unwrap();
    let team = me.teams[0].team_id;
    // What the server says the team is.
    let (token, _) = srv.login(INSPECTOR);
    let (st, t) = srv.get(&format!("/api/v1/teams/{team}"), &token);
    assert_eq!(st, 200, "{t}");
    let mut want: Vec<String> = t["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    assert!(want.len() >= 3, "the demo team has several members: {t}");

    let roster = core
        .team_roster(RosterQuery {
            team_id: Some(team),
        })
        .unwrap();
    assert_eq!(
        report.roster_members as usize,
        core.team_roster(RosterQuery::default()).unwrap().len()
    );
    let mut got: Vec<String> = roster.iter().map(|m| m.user_id.clone()).collect();
    got.sort();
    assert_eq!(got, want, "the stored roster is the team's");
    assert!(roster
        .iter()
        .all(|m| !m.display_name.is_empty() && m.team_id == team.to_string()));
    assert!(roster.iter().any(|m| m.agency_name.is_some()), "{roster:?}");
    assert!(roster.iter().any(|m| m.user_id == me.id.to_string()));
    // Another team's roster is not the phone's business.
    let e = core
        .team_roster(RosterQuery {
            team_id: Some(Uuid::new_v4()),
        })
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("team_id"));
    let via = call(&core, "team_roster", json!({})).unwrap();
    assert_eq!(via.as_array().unwrap().len(), roster.len());

    // Kept offline: a fresh core on the same store (the server is gone) still has it.
    drop(core);
    let core = FieldCore::open_with(
        dir.path(),
        Some(Settings {
            server_url: "http://127.0.0.1:9".into(),
            ..Settings::default()
        }),
        fast_options(),
    )
    .unwrap();
    assert_eq!(core.team_roster(RosterQuery::default()).unwrap(), roster);

    // The form: the signed-in user is preselected; members come from the roster only.
    let est = core
        .establishments_nearby(NearbyQuery {
            lat: None,
            lon: None,
            query: None,
            limit: Some(500),
        })
        .unwrap()
        .into_iter()
        .find(|e| core.checklist(e.id.parse().unwrap()).is_ok())
        .unwrap();
    let draft = core
        .visit_start(VisitStart {
            establishment_id: est.id.parse().unwrap(),
            assignment_id: None,
            team_id: Some(team),
            id: None,
            started_at: Some(Utc::now() - Duration::minutes(30)),
        })
        .unwrap();
    assert_eq!(draft.members_present, vec![me.id]);
    let stranger = Uuid::new_v4();
    let e = core
        .visit_update(VisitUpdate {
            id: draft.id,
            members_present: Some(vec![me.id, stranger]),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("members_present[1]"), "{e:?}");
    let present: Vec<Uuid> = roster
        .iter()
        .take(3)
        .map(|m| m.user_id.parse().unwrap())
        .collect();
    let d = core
        .visit_update(VisitUpdate {
            id: draft.id,
            members_present: Some(present.clone()),
            outcome: Some(Outcome::NoViolation),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(d.members_present, present);
    core.visit_submit(VisitSubmit {
        id: draft.id,
        ended_at: None,
    })
    .unwrap();
    core.settings_set(SettingsPatch {
        server_url: Some(srv.base.clone()),
        ..Default::default()
    })
    .unwrap();
    let r = core.sync_now().unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.visits_created, 1);
    let (s, v) = srv.get(&format!("/api/v1/visits/{}", draft.id), &token);
    assert_eq!(s, 200, "{v}");
    let mut on_server: Vec<String> = v["members_present"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    on_server.sort();
    let mut sent: Vec<String> = present.iter().map(Uuid::to_string).collect();
    sent.sort();
    assert_eq!(on_server, sent);
}

/// Signing out revokes the session on the server and forgets the tokens, but never touches the
/// outbox: the waiting visit and its photo go after signing in again. Offline, the tokens are
/// dropped all the same (one quick try, no waiting).
#[test]
fn sign_out_revokes_the_session_and_keeps_the_outbox() {
    use doi178_field::commands::call;
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &srv.base);
    sign_in(&core, INSPECTOR);
    assert!(core.sync_now().unwrap().ok);
    let recorded = record_visits(&core, 1, 1, 31);
    let (_, refresh, _) = session_row(dir.path());

    let out: SignOutResult =
        serde_json::from_value(call(&core, "sign_out", Value::Null).unwrap()).unwrap();
    assert!(out.revoked_on_server, "{out:?}");
    assert_eq!(out.outbox_kept, 1);
    assert!(out.message.is_some());
    // The server no longer takes the refresh token.
    let r = srv
        .http
        .post(format!("{}/api/v1/auth/refresh", srv.base))
        .json(&serde_json::json!({ "refresh_token": refresh }))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let st = core.status().unwrap();
    assert!(!st.signed_in && st.needs_sign_in, "{st:?}");
    assert_eq!(st.pending, 1);
    let outbox = core.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].status, VisitStatus::Queued);
    assert_eq!(outbox[0].photos.len(), 1);
    // Nothing goes out while signed out.
    let r = core.sync_now().unwrap();
    assert!(!r.ok && r.needs_sign_in, "{r:?}");
    assert_eq!(r.uploads, 0);

    // Signing in again sends the outbox.
    sign_in(&core, INSPECTOR);
    let r = core.sync_now().unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!((r.visits_created, r.photos_created), (1, 1));
    let (token, _) = srv.login(INSPECTOR);
    assert_on_server(&srv, &token, &recorded);

    // Offline: one quick try, the tokens go, the outbox stays.
    let more = record_visits(&core, 1, 1, 32);
    core.settings_set(SettingsPatch {
        server_url: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let out = core.sign_out().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!out.revoked_on_server);
    assert_eq!(out.outbox_kept, 1);
    assert!(core.status().unwrap().needs_sign_in);
    assert_eq!(
        diesel_refresh(dir.path()),
        None,
        "no token is left on the phone"
    );
    assert_eq!(core.outbox().unwrap().len(), 2);
    core.settings_set(SettingsPatch {
        server_url: Some(srv.base.clone()),
        ..Default::default()
    })
    .unwrap();
    sign_in(&core, INSPECTOR);
    assert!(core.sync_now().unwrap().ok);
    assert_on_server(&srv, &token, &more);
}

/// The stored refresh token (None when signed out).
fn diesel_refresh(dir: &std::path::Path) -> Option<String> {
    use diesel::prelude::*;
    let mut c = SqliteConnection::establish(dir.join("field.sqlite").to_str().unwrap()).unwrap();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        refresh_token: Option<String>,
    }
    let r: Row = diesel::sql_query("SELECT refresh_token FROM session WHERE id = 1")
        .get_result(&mut c)
        .unwrap();
    r.refresh_token
}
