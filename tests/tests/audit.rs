//! The tamper-evident audit log: every write endpoint leaves exactly its entries, with who did
//! it; concurrent writes keep the chain linear; `doi178-server audit verify` passes on an intact
//! log and, after the database is tampered with directly (an entry edited, removed, two entries
//! swapped, a record changed behind the log's back, the last entry dropped), fails naming the
//! first bad entry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output, Stdio};

use chrono::{Duration, Utc};
use doi178_tests::{content_digest, Raw, Session, TestServer, HUE};
use reqwest::Method;
use serde_json::{json, Value};

/// Tables with an entry per write, and the entity kind the log names them by.
const AUDITED: [(&str, &str); 10] = [
    ("visits", "visit"),
    ("photos", "photo"),
    ("assignments", "assignment"),
    ("establishments", "establishment"),
    ("tips", "tip"),
    ("teams", "team"),
    ("team_members", "team_member"),
    ("users", "user"),
    ("programmes", "programme"),
    ("checklist_templates", "checklist_template"),
];

/// Tables without their own entries, and why. A new table must be added to one of the lists.
const NOT_AUDITED: [(&str, &str); 17] = [
    ("audit_log", "the log itself"),
    (
        "auth_epoch",
        "a counter the database's triggers change, no record",
    ),
    (
        "auth_failures",
        "failed sign-in counters for throttling, not records",
    ),
    ("sync_counter", "the change counter, no record"),
    (
        "admin_units",
        "reference data, loaded in bulk (one entry per batch)",
    ),
    ("unit_lineage", "reference data"),
    (
        "reference_sets",
        "which version of each shipped reference set the database holds; the sets' rows have \
         their bulk entries",
    ),
    (
        "agencies",
        "reference data, loaded in bulk (one entry per batch)",
    ),
    ("refresh_tokens", "sign-in sessions, not records"),
    (
        "visit_revisions",
        "part of the visit: its body is in the visit's digest",
    ),
    (
        "visit_violations",
        "part of the visit: derived from its body",
    ),
    ("visit_photos", "part of the visit: derived from its body"),
    (
        "assignment_establishments",
        "part of the assignment's audited JSON",
    ),
    ("inspection_days", "derived from visits (coverage)"),
    ("establishment_visit_summary", "derived from visits"),
    ("coverage_rollup_since", "derived (coverage rollup)"),
    ("coverage_rollup", "derived (coverage rollup)"),
];

fn key_sql(table: &str) -> String {
    if table == "team_members" {
        "SELECT team_id || '/' || user_id AS v FROM team_members".to_string()
    } else {
        format!("SELECT id AS v FROM {table}")
    }
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

fn verify(s: &TestServer, extra: &[&str]) -> Output {
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    doi178_tests::server_command(s, &args)
}

fn out_text(o: &Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_intact(s: &TestServer, entries: i64) {
    let o = verify(s, &[]);
    let text = out_text(&o);
    assert!(o.status.success(), "verify failed on an intact log: {text}");
    assert!(
        text.contains(&format!("{entries} entries, chain intact, last hash ")),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

fn assert_broken(s: &TestServer, extra: &[&str], expected: &str) {
    let o = verify(s, extra);
    let text = out_text(&o);
    assert!(
        !o.status.success(),
        "verify passed, expected `{expected}`: {text}"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(expected),
        "verify does not say `{expected}`: {text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Makes requests and remembers which (method, path template) it used.
struct Writer<'a> {
    s: &'a TestServer,
    used: BTreeSet<(String, String)>,
}

impl Writer<'_> {
    fn send(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        who: &Session,
        body: Option<&Value>,
        status: u16,
    ) -> Value {
        self.used.insert((method.to_string(), template.to_string()));
        let r = match body {
            Some(b) => self.s.send_json(method, path, who.token(), b),
            None => self.s.request(method, path, who.token(), &[], None),
        };
        r.expect(status);
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        }
    }
}

fn jpeg() -> Vec<u8> {
    doi178_tests::jpeg_from_fn(32, 24, |x, y| [(x * 8) as u8, (y * 9) as u8, 77])
}

/// What a visit needs: the inspector's team, an establishment with a location and its checklist.
struct Field {
    team_id: String,
    inspector_id: String,
    est: Value,
    template: Value,
}

fn field(s: &TestServer, leader: &Session, inspector: &Session) -> Field {
    let me = s.get_ok("/api/v1/me", leader);
    let team_id = me["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "leader" && t["unit_id"] == HUE)
        .unwrap_or_else(|| panic!("doitruong.hue leads no Huế team: {me}"))["team_id"]
        .as_str()
        .unwrap()
        .to_string();
    let inspector_id = s.get_ok("/api/v1/me", inspector)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let candidates = s.get_ok("/api/v1/establishments?limit=100&status=operating", leader);
    let (est, template) = s
        .with_checklist(&candidates, true, inspector)
        .expect("no operating establishment with a location and a checklist");
    Field {
        team_id,
        inspector_id,
        est,
        template,
    }
}

fn visit_body(f: &Field, assignment: Option<&str>, photos: &[String], minutes: &str) -> Value {
    let answers: Vec<Value> = f.template["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"item": i["code"], "result": "pass", "note": null}))
        .collect();
    let now = Utc::now();
    json!({
        "establishment_id": f.est["id"],
        "team_id": f.team_id,
        "assignment_id": assignment,
        "members_present": [f.inspector_id],
        "started_at": (now - Duration::hours(2)).to_rfc3339(),
        "ended_at": (now - Duration::hours(1)).to_rfc3339(),
        "gps": {"lat": f.est["location"]["lat"], "lon": f.est["location"]["lon"], "accuracy_m": 10.0},
        "template_id": f.template["id"],
        "template_version": f.template["version"],
        "answers": answers,
        "outcome": "no_violation",
        "violations": [],
        "minutes_no": minutes,
        "follow_up_on": null,
        "photo_ids": photos,
        "notes": null
    })
}

/// (kind, action) of the entries after `after`, with how many of each.
fn entries_after(raw: &mut Raw, after: i64) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for row in raw.texts(&format!(
        "SELECT entity_kind || ' ' || action AS v FROM audit_log WHERE seq > {after}"
    )) {
        let (k, a) = row.split_once(' ').unwrap();
        *out.entry((k.to_string(), a.to_string())).or_insert(0) += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn every_write_endpoint_leaves_its_entries_and_no_table_is_forgotten() {
    let s = TestServer::start();
    let mut raw = Raw::open(s.database_url());

    // Every table is either audited or listed with the reason it is not.
    let known: BTreeSet<String> = AUDITED
        .iter()
        .map(|(t, _)| t.to_string())
        .chain(NOT_AUDITED.iter().map(|(t, _)| t.to_string()))
        .collect();
    let tables = raw.tables();
    let unknown: Vec<&String> = tables.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "tables neither audited nor listed in NOT_AUDITED: {unknown:?}"
    );
    let gone: Vec<&String> = known.difference(&tables).collect();
    assert!(gone.is_empty(), "tables listed but missing: {gone:?}");

    // The demo data verifies, and its entries came from the shipped reference data (loaded first)
    // and the demo command.
    let start = raw.last_seq();
    assert!(start > 0, "the demo data wrote no audit entries");
    assert_intact(&s, start);
    let actors: BTreeSet<String> = raw
        .texts("SELECT DISTINCT actor_username AS v FROM audit_log")
        .into_iter()
        .collect();
    assert_eq!(
        actors,
        BTreeSet::from(["system:reference".to_string(), "system:demo".to_string()])
    );
    let before: BTreeMap<&str, BTreeSet<String>> = AUDITED
        .iter()
        .map(|(t, _)| (*t, raw.texts(&key_sql(t)).into_iter().collect()))
        .collect();

    let hue = s.login("tinh.hue");
    let admin = s.login("admin");
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let f = field(&s, &leader, &inspector);
    let commune = s.get_ok(&format!("/api/v1/units?parent={HUE}"), &hue)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut w = Writer {
        s: &s,
        used: BTreeSet::new(),
    };
    let post = Method::POST;
    let put = Method::PUT;

    // Establishments.
    let mut est = json!({
        "name": "Karaoke Nhật Ký", "establishment_type": "karaoke", "unit": commune,
        "address": "1 Lê Lợi", "lat": 16.4637, "lon": 107.5909, "status": "operating",
        "risk": "medium", "commitment_signed": false
    });
    let e = w.send(
        post.clone(),
        "/api/v1/establishments",
        "/api/v1/establishments",
        &hue,
        Some(&est),
        201,
    );
    let est_id = e["id"].as_str().unwrap().to_string();
    est["risk"] = json!("high");
    w.send(
        put.clone(),
        "/api/v1/establishments/{id}",
        &format!("/api/v1/establishments/{est_id}"),
        &hue,
        Some(&est),
        200,
    );

    // Teams, users, members.
    let team = w.send(
        post.clone(),
        "/api/v1/teams",
        "/api/v1/teams",
        &hue,
        Some(&json!({"name": "Đội kiểm tra nhật ký", "level": "commune", "unit_id": commune})),
        201,
    );
    let team_id = team["id"].as_str().unwrap().to_string();
    let user = w.send(post.clone(), "/api/v1/users", "/api/v1/users", &hue, Some(&json!({
        "username": "kiemtra.nhatky.hue", "display_name": "Lê Văn Nhật", "password": "Nhat-ky-2026-kiem-tra",
        "role": "inspector", "unit_id": commune, "agency_id": null
    })), 201);
    let user_id = user["id"].as_str().unwrap().to_string();
    // The account administered: edited, deactivated and reactivated, its password reset (four
    // updates), unlocked (no record changes).
    w.send(
        put.clone(),
        "/api/v1/users/{id}",
        &format!("/api/v1/users/{user_id}"),
        &hue,
        Some(
            &json!({"display_name": "Lê Văn Nhật Ký", "role": "inspector",
            "unit_id": commune, "agency_id": null}),
        ),
        200,
    );
    for active in [false, true] {
        w.send(
            put.clone(),
            "/api/v1/users/{id}/active",
            &format!("/api/v1/users/{user_id}/active"),
            &hue,
            Some(&json!({"active": active, "reason": "kiểm tra nhật ký"})),
            200,
        );
    }
    w.send(
        post.clone(),
        "/api/v1/users/{id}/password-reset",
        &format!("/api/v1/users/{user_id}/password-reset"),
        &hue,
        Some(&json!({"reason": "kiểm tra nhật ký"})),
        200,
    );
    w.send(
        post.clone(),
        "/api/v1/users/{id}/unlock",
        &format!("/api/v1/users/{user_id}/unlock"),
        &hue,
        Some(&json!({})),
        200,
    );
    w.send(
        post.clone(),
        "/api/v1/teams/{id}/members",
        &format!("/api/v1/teams/{team_id}/members"),
        &hue,
        Some(&json!({"user_id": user_id, "role": "member"})),
        200,
    );
    w.send(
        Method::DELETE,
        "/api/v1/teams/{id}/members/{user_id}",
        &format!("/api/v1/teams/{team_id}/members/{user_id}"),
        &hue,
        None,
        204,
    );

    // Programmes and checklist templates (administrators).
    let programmes = s.get_ok("/api/v1/programmes", &admin);
    let current = programmes["items"][0].clone();
    let mut programme = json!({
        "name": "Chương trình nhật ký 2036–2040", "period_start": "2036-01-01",
        "period_end": "2040-12-31", "annual_min_share_bp": 2000, "end_share_bp": 10000,
        "types_in_scope": current["types_in_scope"],
    });
    let p = w.send(
        post.clone(),
        "/api/v1/programmes",
        "/api/v1/programmes",
        &admin,
        Some(&programme),
        201,
    );
    let programme_id = p["id"].as_str().unwrap().to_string();
    programme["annual_min_share_bp"] = json!(2500);
    w.send(
        put.clone(),
        "/api/v1/programmes/{id}",
        &format!("/api/v1/programmes/{programme_id}"),
        &admin,
        Some(&programme),
        200,
    );
    w.send(post.clone(), "/api/v1/checklist-templates", "/api/v1/checklist-templates", &admin, Some(&json!({
        "establishment_type": "karaoke", "title": "Bảng kiểm tra (nhật ký)", "valid_from": "2026-01-01",
        "items": [{"code": "GP_KD", "text": "Có giấy phép kinh doanh", "legal_basis": "Điều 4 Nghị định 96/2016/NĐ-CP"}]
    })), 201);

    // Tips.
    let tip = w.send(
        post.clone(),
        "/api/v1/tips",
        "/api/v1/tips",
        &hue,
        Some(&json!({
            "channel": "hotline", "received_at": (Utc::now() - Duration::hours(1)).to_rfc3339(),
            "content": "Phản ánh hoạt động quá giờ", "unit": commune
        })),
        201,
    );
    let tip_id = tip["id"].as_str().unwrap().to_string();
    w.send(
        post.clone(),
        "/api/v1/tips/{id}/status",
        &format!("/api/v1/tips/{tip_id}/status"),
        &hue,
        Some(&json!({"status": "verifying"})),
        200,
    );

    // Assignments: one released then completed, one cancelled.
    let today = Utc::now().date_naive();
    let assignment = json!({
        "team_id": f.team_id, "kind": "planned", "window_start": today - Duration::days(1),
        "window_end": today + Duration::days(14), "establishment_ids": [f.est["id"]], "note": null
    });
    let a1 = w.send(
        post.clone(),
        "/api/v1/assignments",
        "/api/v1/assignments",
        &leader,
        Some(&assignment),
        201,
    );
    let a1 = a1["id"].as_str().unwrap().to_string();
    let a2 = w.send(
        post.clone(),
        "/api/v1/assignments",
        "/api/v1/assignments",
        &leader,
        Some(&assignment),
        201,
    );
    let a2 = a2["id"].as_str().unwrap().to_string();
    w.send(
        post.clone(),
        "/api/v1/assignments/{id}/release",
        &format!("/api/v1/assignments/{a1}/release"),
        &leader,
        None,
        200,
    );
    w.send(
        post.clone(),
        "/api/v1/assignments/{id}/cancel",
        &format!("/api/v1/assignments/{a2}/cancel"),
        &leader,
        None,
        200,
    );

    // A visit with a photo, corrected, reviewed.
    let visit_id = uuid::Uuid::new_v4().to_string();
    let photo_id = uuid::Uuid::new_v4().to_string();
    let visit = visit_body(&f, Some(&a1), std::slice::from_ref(&photo_id), "1/BB-NK");
    w.send(
        put.clone(),
        "/api/v1/visits/{id}",
        &format!("/api/v1/visits/{visit_id}"),
        &inspector,
        Some(&visit),
        201,
    );
    // A replay stores nothing and appends nothing.
    let seq = raw.last_seq();
    s.put_json(
        &format!("/api/v1/visits/{visit_id}"),
        inspector.token(),
        &visit,
    )
    .expect(200);
    assert_eq!(
        raw.last_seq(),
        seq,
        "a replayed visit appended to the audit log"
    );
    let image = jpeg();
    w.used.insert(("PUT".into(), "/api/v1/photos/{id}".into()));
    s.request(
        put.clone(),
        &format!("/api/v1/photos/{photo_id}"),
        inspector.token(),
        &[
            ("Content-Type", "image/jpeg"),
            ("Content-Digest", &content_digest(&image)),
        ],
        Some(image.clone()),
    )
    .expect(201);
    let mut corrected = visit.clone();
    corrected["notes"] = json!("Bổ sung ghi chú");
    w.send(
        post.clone(),
        "/api/v1/visits/{id}/revisions",
        &format!("/api/v1/visits/{visit_id}/revisions"),
        &inspector,
        Some(&json!({"reason": "Bổ sung", "base_revision": 1, "visit": corrected})),
        200,
    );
    w.send(
        post.clone(),
        "/api/v1/visits/{id}/review",
        &format!("/api/v1/visits/{visit_id}/review"),
        &leader,
        Some(&json!({"decision": "accepted"})),
        200,
    );
    w.send(
        post.clone(),
        "/api/v1/assignments/{id}/complete",
        &format!("/api/v1/assignments/{a1}/complete"),
        &leader,
        None,
        200,
    );
    // A refused write appends nothing.
    let seq = raw.last_seq();
    s.post_json(
        "/api/v1/teams",
        inspector.token(),
        &json!({"name": "x", "level": "commune", "unit_id": commune}),
    )
    .problem(403, None);
    est["name"] = json!("");
    s.put_json(
        &format!("/api/v1/establishments/{est_id}"),
        hue.token(),
        &est,
    )
    .client_error_on("name");
    assert_eq!(
        raw.last_seq(),
        seq,
        "a refused write appended to the audit log"
    );

    // Every write operation of the API was exercised (sign-in sessions are not records).
    let doc = s.get("/api/openapi.json", None).ok_json();
    let mut writes = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if method != "get" && !path.starts_with("/api/v1/auth/") {
                writes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let missed: Vec<_> = writes.difference(&w.used).collect();
    assert!(
        missed.is_empty(),
        "write operations this test does not exercise: {missed:?}"
    );

    // Exactly the entries those writes make.
    let got = entries_after(&mut raw, start);
    let want: BTreeMap<(String, String), usize> = [
        ("establishment", "create", 1),
        ("establishment", "update", 1),
        ("team", "create", 1),
        ("user", "create", 1),
        ("user", "update", 4),
        ("team_member", "create", 1),
        ("team_member", "delete", 1),
        ("programme", "create", 1),
        ("programme", "update", 1),
        ("checklist_template", "create", 1),
        ("tip", "create", 1),
        ("tip", "update", 1),
        ("assignment", "create", 2),
        ("assignment", "update", 3),
        ("visit", "create", 1),
        ("visit", "update", 2),
        ("photo", "create", 1),
    ]
    .into_iter()
    .map(|(k, a, n)| ((k.to_string(), a.to_string()), n))
    .collect();
    assert_eq!(got, want, "entries after the demo data");

    // Each new row has its create entry; each entry names who made it.
    for (table, kind) in AUDITED {
        let now: BTreeSet<String> = raw.texts(&key_sql(table)).into_iter().collect();
        for id in now.difference(&before[table]) {
            let n = raw.int(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) AS v FROM audit_log WHERE seq > {start} \
                 AND entity_kind = '{kind}' AND entity_id = '{id}' AND action = 'create'"
            ));
            assert_eq!(n, 1, "{table} row {id} has no create entry");
        }
    }
    let who: BTreeSet<String> = raw
        .texts(&format!(
            "SELECT a.actor_username || ' ' || u.username AS v FROM audit_log a \
             JOIN users u ON u.id = a.actor_id WHERE a.seq > {start}"
        ))
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = ["admin", "doitruong.hue", "kiemtra.hue", "tinh.hue"]
        .iter()
        .map(|u| format!("{u} {u}"))
        .collect();
    assert_eq!(
        who, expected,
        "entries must name the signed-in users who wrote"
    );
    let total = raw.last_seq();
    assert_eq!(
        raw.int(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) AS v FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE a.seq > {start}"
        )),
        total - start,
        "entries without a user"
    );
    let review = raw.text(&format!(
        "SELECT summary AS v FROM audit_log WHERE entity_id = '{visit_id}' ORDER BY seq DESC LIMIT 1"
    ));
    assert!(
        review.contains("review_status: submitted → accepted"),
        "{review}"
    );
    assert_intact(&s, total);
}

#[test]
fn verify_names_the_first_edited_removed_or_reordered_entry() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let f = field(&s, &leader, &inspector);

    // Concurrent submissions: the chain stays linear with no gaps.
    const CLIENTS: usize = 6;
    const EACH: usize = 5;
    let mut raw = Raw::open(s.database_url());
    let start = raw.last_seq();
    let visit_ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (s, f, inspector) = (&s, &f, &inspector);
                scope.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let id = uuid::Uuid::new_v4().to_string();
                            let body = visit_body(f, None, &[], &format!("{c}-{i}/BB"));
                            s.put_json(&format!("/api/v1/visits/{id}"), inspector.token(), &body)
                                .expect(201);
                            id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(raw.last_seq(), start + (CLIENTS * EACH) as i64);
    // The last write: a review of the first visit.
    let reviewed = &visit_ids[0];
    s.post_json(
        &format!("/api/v1/visits/{reviewed}/review"),
        leader.token(),
        &json!({"decision": "accepted"}),
    )
    .expect(200);
    let last = raw.last_seq();
    assert_eq!(last, start + (CLIENTS * EACH) as i64 + 1);
    assert_intact(&s, last);

    raw.exec("CREATE TABLE audit_copy AS SELECT * FROM audit_log");
    let restore = |raw: &mut Raw| {
        raw.exec("DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM audit_copy;");
        assert_intact(&s, last);
    };
    let k = last - 5;

    // 1. An entry's field edited.
    raw.exec(&format!(
        "UPDATE audit_log SET actor_username = 'admin' WHERE seq = {k}"
    ));
    assert_broken(
        &s,
        &[],
        &format!("entry {k}: hash mismatch, its content was edited"),
    );
    restore(&mut raw);
    raw.exec(&format!(
        "UPDATE audit_log SET after_digest = before_digest WHERE seq = {}",
        k + 1
    ));
    assert_broken(
        &s,
        &["--chain-only"],
        &format!("entry {}: hash mismatch", k + 1),
    );
    restore(&mut raw);

    if doi178_tests::backend_name() == "sqlite" {
        // SQLite stores any text in any column: a time that is not one is named too.
        raw.exec(&format!(
            "UPDATE audit_log SET at = 'yesterday' WHERE seq = {k}"
        ));
        assert_broken(
            &s,
            &[],
            &format!("the entry after entry {}: unreadable", k - 1),
        );
        restore(&mut raw);
    }

    // 2. A middle entry removed.
    raw.exec(&format!("DELETE FROM audit_log WHERE seq = {k}"));
    assert_broken(&s, &[], &format!("entry {k} is missing (removed)"));
    restore(&mut raw);

    // 3. Two entries swapped (their sequence numbers exchanged).
    raw.exec(&format!(
        "UPDATE audit_log SET seq = -1 WHERE seq = {k}; \
         UPDATE audit_log SET seq = {k} WHERE seq = {}; \
         UPDATE audit_log SET seq = {} WHERE seq = -1;",
        k + 1,
        k + 1
    ));
    assert_broken(
        &s,
        &[],
        &format!(
            "entry {k}: prev_hash does not match the hash of entry {}",
            k - 1
        ),
    );
    restore(&mut raw);

    // 4. A record changed behind the log's back: its latest entry no longer matches it.
    let victim = &visit_ids[3];
    let victim_seq = raw.int(&format!(
        "SELECT CAST(MAX(seq) AS TEXT) AS v FROM audit_log WHERE entity_id = '{victim}'"
    ));
    let minutes = raw.text(&format!(
        "SELECT minutes_no AS v FROM visits WHERE id = '{victim}'"
    ));
    raw.exec(&format!(
        "UPDATE visits SET minutes_no = 'giả mạo' WHERE id = '{victim}'"
    ));
    assert_broken(
        &s,
        &[],
        &format!("entry {victim_seq}: the live visit {victim} does not match"),
    );
    raw.exec(&format!(
        "UPDATE visits SET minutes_no = '{minutes}' WHERE id = '{victim}'"
    ));
    assert_intact(&s, last);

    // 5. The last entry dropped: the chain alone cannot tell, the live rows can.
    let created = raw.int(&format!(
        "SELECT CAST(MIN(seq) AS TEXT) AS v FROM audit_log WHERE entity_id = '{reviewed}'"
    ));
    raw.exec(&format!("DELETE FROM audit_log WHERE seq = {last}"));
    let o = verify(&s, &["--chain-only"]);
    assert!(o.status.success(), "{}", out_text(&o));
    assert_broken(
        &s,
        &[],
        &format!("entry {created}: the live visit {reviewed} does not match"),
    );
    restore(&mut raw);
}

#[test]
fn imported_rows_each_get_an_entry_from_the_import_command() {
    let s = TestServer::start();
    let mut raw = Raw::open(s.database_url());
    let start = raw.last_seq();
    let dir = tempfile::tempdir().unwrap();
    let import = |csv: &str| {
        let file = dir.path().join("list.csv");
        std::fs::write(&file, csv).unwrap();
        let o = Command::new(doi178_tests::server_bin())
            .args(["--database-url", s.database_url(), "--data-dir"])
            .arg(dir.path())
            .arg("import")
            .arg(&file)
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run doi178-server import");
        assert!(o.status.success(), "import failed: {}", out_text(&o));
    };
    let header = "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Số ĐKKD\n";
    import(&format!(
        "{header}Karaoke Nhật Ký A,Karaoke,2025:19753,12 Lê Lợi,3309990001\n\
         Nhà nghỉ Nhật Ký B,Nhà nghỉ,2025:19753,3 Hùng Vương,3309990002\n"
    ));
    let after_first = raw.last_seq();
    assert_eq!(
        entries_after(&mut raw, start),
        BTreeMap::from([(("establishment".to_string(), "create".to_string()), 2)])
    );
    // The same list with one address changed: that establishment is updated, the other not.
    import(&format!(
        "{header}Karaoke Nhật Ký A,Karaoke,2025:19753,14 Lê Lợi,3309990001\n\
         Nhà nghỉ Nhật Ký B,Nhà nghỉ,2025:19753,3 Hùng Vương,3309990002\n"
    ));
    assert_eq!(
        entries_after(&mut raw, after_first),
        BTreeMap::from([(("establishment".to_string(), "update".to_string()), 1)])
    );
    let actors = raw.texts(&format!(
        "SELECT DISTINCT actor_username AS v FROM audit_log WHERE seq > {start}"
    ));
    assert_eq!(actors, vec!["system:import".to_string()]);
    let last = raw.last_seq();
    let summary = raw.text(&format!(
        "SELECT summary AS v FROM audit_log WHERE seq = {last}"
    ));
    assert!(summary.contains("address"), "{summary}");
    assert_intact(&s, last);
}
