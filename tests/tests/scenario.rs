//! The field scenario: a team leader drafts an unannounced assignment (invisible to the
//! inspector), releases it; the inspector submits the visit idempotently, uploads its photo with
//! a content digest, and later corrects the visit with a new revision that keeps the original.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::Cursor;

use chrono::{Duration, Utc};
use doi178_tests::{content_digest, ids, urlencode, Resp, Session, TestServer, HUE};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Everything `/api/v1/sync` returns from `cursor` on, following `has_more`.
struct Pulled {
    cursor: String,
    assignments: Vec<Value>,
    revoked: Vec<String>,
    visits: Vec<Value>,
}

fn sync_from(s: &TestServer, who: &Session, cursor: Option<&str>) -> Pulled {
    let mut out = Pulled {
        cursor: String::new(),
        assignments: vec![],
        revoked: vec![],
        visits: vec![],
    };
    let mut cursor = cursor.map(str::to_string);
    for _ in 0..200 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sync?cursor={}", urlencode(c)),
            None => "/api/v1/sync".to_string(),
        };
        let page = s.get_ok(&path, who);
        out.assignments.extend(
            page["assignments"]
                .as_array()
                .expect("assignments")
                .iter()
                .cloned(),
        );
        out.visits
            .extend(page["visits"].as_array().expect("visits").iter().cloned());
        out.revoked.extend(
            page["revoked_assignments"]
                .as_array()
                .expect("revoked_assignments")
                .iter()
                .map(|v| v.as_str().unwrap().to_string()),
        );
        let next = page["cursor"].as_str().expect("cursor").to_string();
        if !page["has_more"].as_bool().expect("has_more") {
            out.cursor = next;
            return out;
        }
        assert_ne!(
            Some(&next),
            cursor.as_ref(),
            "sync says has_more but does not advance"
        );
        cursor = Some(next);
    }
    panic!("sync never finished");
}

/// A JPEG carrying EXIF (camera make, orientation) and a comment, which the server must strip.
fn jpeg_with_metadata() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    });
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .unwrap();
    assert_eq!(&plain[..2], &[0xFF, 0xD8]);
    let make = b"DOI178-SECRET-CAMERA\0";
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II");
    tiff.extend_from_slice(&42u16.to_le_bytes());
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    // 0x010F Make, ASCII, stored after the IFD.
    tiff.extend_from_slice(&0x010Fu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(make.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&(8u32 + 2 + 2 * 12 + 4).to_le_bytes());
    // 0x0112 Orientation = 1.
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0u16.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(make);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let comment = b"DOI178-SECRET-COMMENT";
    let mut com = vec![0xFF, 0xFE];
    com.extend_from_slice(&((2 + comment.len()) as u16).to_be_bytes());
    com.extend_from_slice(comment);
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&app1);
    out.extend_from_slice(&com);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn put_photo(
    s: &TestServer,
    who: &Session,
    id: &str,
    body: &[u8],
    content_type: &str,
    digest: Option<&str>,
) -> Resp {
    let mut headers = vec![("Content-Type", content_type)];
    if let Some(d) = digest {
        headers.push(("Content-Digest", d));
    }
    s.request(
        Method::PUT,
        &format!("/api/v1/photos/{id}"),
        who.token(),
        &headers,
        Some(body.to_vec()),
    )
}

#[test]
fn assignment_release_visit_photo_and_revision() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let qt = s.login("tinh.quangtri");

    // The Huế provincial team: led by doitruong.hue, kiemtra.hue a member.
    let leader_me = s.get_ok("/api/v1/me", &leader);
    let team_id = leader_me["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "leader" && t["unit_id"] == HUE)
        .unwrap_or_else(|| panic!("doitruong.hue leads no Huế team: {leader_me}"))["team_id"]
        .as_str()
        .unwrap()
        .to_string();
    let me = s.get_ok("/api/v1/me", &inspector);
    let inspector_id = me["id"].as_str().unwrap().to_string();
    assert!(
        ids(me["teams"].as_array().unwrap(), "team_id").contains(&team_id),
        "kiemtra.hue is not on the team: {me}"
    );
    let team = s.get_ok(&format!("/api/v1/teams/{team_id}"), &inspector);
    let members = ids(team["members"].as_array().unwrap(), "user_id");
    assert!(members.contains(&inspector_id));

    // An establishment of Huế with a location and a checklist for its type.
    let candidates = s.get_ok("/api/v1/establishments?limit=100&status=operating", &leader);
    let (est, template) = s
        .with_checklist(&candidates, true, &inspector)
        .expect("no operating establishment with a location and a checklist");
    let est_id = est["id"].as_str().unwrap().to_string();
    assert_eq!(template["establishment_type"], est["establishment_type"]);

    // Baseline of what the inspector's phone knows.
    let before = sync_from(&s, &inspector, None);
    let visible_before: BTreeSet<String> = ids(&before.assignments, "id").into_iter().collect();

    // 1. The leader drafts an unannounced assignment.
    let today = Utc::now().date_naive();
    let assignment = json!({
        "team_id": team_id,
        "kind": "unannounced",
        "window_start": today - Duration::days(1),
        "window_end": today + Duration::days(14),
        "establishment_ids": [est_id],
        "note": "Kiểm tra đột xuất"
    });
    let created = s.post_json("/api/v1/assignments", leader.token(), &assignment);
    created.expect(201);
    let created = created.json();
    assert_eq!(created["status"], "draft", "{created}");
    let aid = created["id"].as_str().unwrap().to_string();
    assert!(!visible_before.contains(&aid));
    // Inspectors may not plan.
    s.post_json("/api/v1/assignments", inspector.token(), &assignment)
        .problem(403, None);

    // 2. The inspector sees nothing of the draft: not in the list, not by id, not in sync.
    let list = s.get_ok("/api/v1/assignments", &inspector);
    assert!(
        !ids(list["items"].as_array().unwrap(), "id").contains(&aid),
        "inspector sees a draft in the list"
    );
    s.get(&format!("/api/v1/assignments/{aid}"), inspector.token())
        .problem(404, None);
    let pulled = sync_from(&s, &inspector, Some(&before.cursor));
    assert!(
        !ids(&pulled.assignments, "id").contains(&aid),
        "draft leaked through sync (incremental)"
    );
    let full = sync_from(&s, &inspector, None);
    assert!(
        !ids(&full.assignments, "id").contains(&aid),
        "draft leaked through sync (full)"
    );
    let r = s.request(
        Method::POST,
        &format!("/api/v1/assignments/{aid}/release"),
        inspector.token(),
        &[],
        None,
    );
    assert!(
        r.status == 404 || r.status == 403,
        "an inspector released a draft: {} {}",
        r.status,
        r.text()
    );
    // The leader sees it.
    let list = s.get_ok("/api/v1/assignments", &leader);
    assert!(ids(list["items"].as_array().unwrap(), "id").contains(&aid));
    assert_eq!(
        s.get_ok(&format!("/api/v1/assignments/{aid}"), &leader)["status"],
        "draft"
    );
    // Another province sees nothing.
    s.get(&format!("/api/v1/assignments/{aid}"), qt.token())
        .problem(404, None);

    // 3. Released: now the inspector sees it everywhere.
    let released = s
        .request(
            Method::POST,
            &format!("/api/v1/assignments/{aid}/release"),
            leader.token(),
            &[],
            None,
        )
        .ok_json();
    assert_eq!(released["status"], "released");
    assert!(released["released_at"].is_string());
    let list = s.get_ok("/api/v1/assignments", &inspector);
    assert!(
        ids(list["items"].as_array().unwrap(), "id").contains(&aid),
        "released assignment not listed for the inspector"
    );
    let got = s.get_ok(&format!("/api/v1/assignments/{aid}"), &inspector);
    assert_eq!(got["status"], "released");
    assert_eq!(got["establishment_ids"], json!([est_id]));
    let pulled = sync_from(&s, &inspector, Some(&before.cursor));
    assert!(
        ids(&pulled.assignments, "id").contains(&aid),
        "released assignment missing from incremental sync"
    );
    // Releasing twice is a conflict, not a silent success.
    s.request(
        Method::POST,
        &format!("/api/v1/assignments/{aid}/release"),
        leader.token(),
        &[],
        None,
    )
    .problem(409, None);

    // 4. The visit, with one photo still to upload.
    let visit_id = uuid::Uuid::new_v4().to_string();
    let photo_id = uuid::Uuid::new_v4().to_string();
    let items = template["items"].as_array().unwrap();
    assert!(!items.is_empty(), "template without items: {template}");
    let answers: Vec<Value> = items
        .iter()
        .map(|i| json!({"item": i["code"], "result": "pass", "note": null}))
        .collect();
    let now = Utc::now();
    let visit = json!({
        "establishment_id": est_id,
        "team_id": team_id,
        "assignment_id": aid,
        "members_present": [inspector_id],
        "started_at": (now - Duration::hours(2)).to_rfc3339(),
        "ended_at": (now - Duration::hours(1)).to_rfc3339(),
        "gps": {"lat": est["location"]["lat"], "lon": est["location"]["lon"], "accuracy_m": 12.5},
        "template_id": template["id"],
        "template_version": template["version"],
        "answers": answers,
        "outcome": "no_violation",
        "violations": [],
        "minutes_no": "15/BB-ĐKT",
        "follow_up_on": null,
        "photo_ids": [photo_id],
        "notes": null
    });
    let est_visits_before = s
        .get_all_pages(
            &format!("/api/v1/visits?establishment={est_id}"),
            &inspector,
        )
        .len();
    let first = s.put_json(
        &format!("/api/v1/visits/{visit_id}"),
        inspector.token(),
        &visit,
    );
    first.expect(201);
    let first = first.json();
    assert_eq!(first["id"], visit_id.as_str());
    assert_eq!(first["revision"], 1);
    assert_eq!(first["establishment_id"], est_id.as_str());
    assert_eq!(first["submitted_by"], inspector_id.as_str());
    let digest = first["digest"].as_str().expect("digest").to_string();
    assert!(!digest.is_empty());
    assert_eq!(first["evidence_pending"], true, "{first}");
    assert_eq!(first["pending_photo_ids"], json!([photo_id]));
    assert!(
        first["distance_m"].as_f64().unwrap() < 1.0,
        "GPS at the establishment: {first}"
    );

    // The same body again: 200 with the stored visit, nothing new stored.
    let again = s.put_json(
        &format!("/api/v1/visits/{visit_id}"),
        inspector.token(),
        &visit,
    );
    again.expect(200);
    let again = again.json();
    assert_eq!(again["id"], visit_id.as_str());
    assert_eq!(again["digest"], digest.as_str());
    // Checked at the end, so that a mismatch does not hide the rest of the scenario.
    let replay_received_at = (first["received_at"].clone(), again["received_at"].clone());
    let est_visits = s.get_all_pages(
        &format!("/api/v1/visits?establishment={est_id}"),
        &inspector,
    );
    assert_eq!(
        est_visits.len(),
        est_visits_before + 1,
        "a replay stored a second visit"
    );
    assert_eq!(
        ids(&est_visits, "id")
            .iter()
            .filter(|i| **i == visit_id)
            .count(),
        1
    );

    // Different content under the same id: conflict naming what is stored.
    let mut other = visit.clone();
    other["notes"] = json!("Nội dung khác");
    let p = s
        .put_json(
            &format!("/api/v1/visits/{visit_id}"),
            inspector.token(),
            &other,
        )
        .problem(409, None);
    assert_eq!(p["stored_digest"], digest.as_str(), "{p}");
    assert_eq!(
        s.get_ok(&format!("/api/v1/visits/{visit_id}"), &inspector)["notes"],
        Value::Null,
        "the conflict changed the visit"
    );

    // A different inspector's province cannot see the visit.
    s.get(&format!("/api/v1/visits/{visit_id}"), qt.token())
        .problem(404, None);
    // The leader sees it.
    assert_eq!(
        s.get_ok(&format!("/api/v1/visits/{visit_id}"), &leader)["id"],
        visit_id.as_str()
    );

    // 5. The photo.
    let jpeg = jpeg_with_metadata();
    assert!(contains(&jpeg, b"DOI178-SECRET-CAMERA") && contains(&jpeg, b"Exif"));
    let right = content_digest(&jpeg);
    let wrong = content_digest(b"something else");
    put_photo(&s, &inspector, &photo_id, &jpeg, "image/jpeg", Some(&wrong)).problem(400, None);
    put_photo(&s, &inspector, &photo_id, &jpeg, "image/jpeg", None).problem(400, None);
    put_photo(
        &s,
        &inspector,
        &photo_id,
        &jpeg,
        "image/jpeg",
        Some("sha-256=:not base64:"),
    )
    .problem(400, None);
    s.get(&format!("/api/v1/photos/{photo_id}"), inspector.token())
        .problem(404, None);
    let stored = put_photo(&s, &inspector, &photo_id, &jpeg, "image/jpeg", Some(&right));
    stored.expect(201);
    let stored = stored.json();
    assert_eq!(stored["id"], photo_id.as_str());
    assert_eq!(stored["upload_sha256"], hex(&Sha256::digest(&jpeg)));
    assert_eq!(
        (stored["width"].as_i64(), stored["height"].as_i64()),
        (Some(64), Some(48))
    );
    let replay = put_photo(&s, &inspector, &photo_id, &jpeg, "image/jpeg", Some(&right));
    replay.expect(200);
    assert_eq!(replay.json()["sha256"], stored["sha256"]);
    // Other bytes under the same id: conflict.
    let other_jpeg = {
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3])))
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .unwrap();
        out
    };
    put_photo(
        &s,
        &inspector,
        &photo_id,
        &other_jpeg,
        "image/jpeg",
        Some(&content_digest(&other_jpeg)),
    )
    .problem(409, None);
    // Not an image: 415, whether declared as one or not.
    let text = b"this is not a photo at all".to_vec();
    let fake = uuid::Uuid::new_v4().to_string();
    put_photo(
        &s,
        &inspector,
        &fake,
        &text,
        "image/jpeg",
        Some(&content_digest(&text)),
    )
    .problem(415, None);
    put_photo(
        &s,
        &inspector,
        &fake,
        &text,
        "text/plain",
        Some(&content_digest(&text)),
    )
    .problem(415, None);
    s.get(&format!("/api/v1/photos/{fake}"), inspector.token())
        .problem(404, None);

    // Read back: a JPEG without the metadata, for those who may see the visit only.
    let back = s.get(&format!("/api/v1/photos/{photo_id}"), inspector.token());
    back.expect(200);
    assert!(
        back.content_type().starts_with("image/jpeg"),
        "{}",
        back.content_type()
    );
    assert_eq!(
        hex(&Sha256::digest(&back.body)),
        stored["sha256"].as_str().unwrap()
    );
    let decoded =
        image::load_from_memory_with_format(&back.body, image::ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!((decoded.width(), decoded.height()), (64, 48));
    assert!(
        !contains(&back.body, b"DOI178-SECRET"),
        "photo metadata not stripped"
    );
    assert!(!contains(&back.body, b"Exif"), "EXIF block not stripped");
    let thumb = s.get(
        &format!("/api/v1/photos/{photo_id}/thumbnail"),
        leader.token(),
    );
    thumb.expect(200);
    assert!(thumb.content_type().starts_with("image/jpeg"));
    s.get(&format!("/api/v1/photos/{photo_id}"), leader.token())
        .expect(200);
    s.get(&format!("/api/v1/photos/{photo_id}"), qt.token())
        .problem(404, None);
    s.get(&format!("/api/v1/photos/{photo_id}/thumbnail"), qt.token())
        .problem(404, None);
    s.get(&format!("/api/v1/photos/{photo_id}"), None)
        .problem(401, None);
    let now_visit = s.get_ok(&format!("/api/v1/visits/{visit_id}"), &inspector);
    assert_eq!(
        now_visit["evidence_pending"], false,
        "photo uploaded but still pending: {now_visit}"
    );

    // 6. A correction: a new revision; the original stays.
    let mut corrected = visit.clone();
    corrected["outcome"] = json!("violations_found");
    corrected["answers"][0]["result"] = json!("fail");
    corrected["violations"] = json!([{
        "code": "ND282-15.1.a",
        "description": "Không có sổ theo dõi khách lưu trú",
        "legal_basis": "Điểm a khoản 1 Điều 15 Nghị định 282/2025/NĐ-CP",
        "proposed_fine_vnd": 1_500_000
    }]);
    let revision = json!({"reason": "Bổ sung vi phạm phát hiện khi đối chiếu sổ sách", "base_revision": 1, "visit": corrected});
    let revised = s
        .post_json(
            &format!("/api/v1/visits/{visit_id}/revisions"),
            inspector.token(),
            &revision,
        )
        .ok_json();
    assert_eq!(revised["revision"], 2, "{revised}");
    assert_eq!(revised["outcome"], "violations_found");
    assert_eq!(revised["violation_count"], 1);
    assert_eq!(revised["total_fine_vnd"], 1_500_000);
    assert_eq!(
        revised["original_digest"],
        digest.as_str(),
        "the original digest must be kept"
    );
    assert_ne!(revised["digest"], digest.as_str());
    let got = s.get_ok(&format!("/api/v1/visits/{visit_id}"), &leader);
    assert_eq!(got["revision"], 2);
    let revs = got["revisions"].as_array().expect("revisions");
    assert_eq!(revs.len(), 2, "{got}");
    assert_eq!(revs[0]["revision"], 1);
    assert_eq!(revs[0]["digest"], digest.as_str(), "revision 1 was altered");
    assert_eq!(revs[1]["revision"], 2);
    assert!(revs[1]["reason"].as_str().unwrap().contains("Bổ sung"));
    // A correction based on an old revision is refused.
    s.post_json(
        &format!("/api/v1/visits/{visit_id}/revisions"),
        inspector.token(),
        &revision,
    )
    .problem(409, None);
    // Another province cannot correct it.
    let r = s.post_json(
        &format!("/api/v1/visits/{visit_id}/revisions"),
        qt.token(),
        &revision,
    );
    assert!(
        r.status == 403 || r.status == 404,
        "another province corrected a visit: {} {}",
        r.status,
        r.text()
    );
    // Still exactly one visit under this id.
    let est_visits = s.get_all_pages(
        &format!("/api/v1/visits?establishment={est_id}"),
        &inspector,
    );
    assert_eq!(
        ids(&est_visits, "id")
            .iter()
            .filter(|i| **i == visit_id)
            .count(),
        1
    );

    // The inspector's phone receives the visit through sync.
    let pulled = sync_from(&s, &inspector, Some(&before.cursor));
    assert!(
        ids(&pulled.visits, "id").contains(&visit_id),
        "the team's new visit is not in sync"
    );

    // The replay returned exactly what the first answer said was stored.
    assert_eq!(
        replay_received_at.1, replay_received_at.0,
        "a replay must return the stored visit (received_at differs from the first answer)"
    );
}

#[test]
fn invalid_visits_are_problems_naming_the_field() {
    let s = TestServer::start();
    let inspector = s.login("kiemtra.hue");
    let me = s.get_ok("/api/v1/me", &inspector);
    let inspector_id = me["id"].as_str().unwrap().to_string();
    let team_id = me["teams"][0]["team_id"].as_str().unwrap().to_string();
    let ests = s.get_ok("/api/v1/establishments?limit=50", &inspector);
    let (est, template) = s
        .with_checklist(&ests, false, &inspector)
        .expect("an establishment with a checklist");
    let now = Utc::now();
    let good = json!({
        "establishment_id": est["id"],
        "team_id": team_id,
        "assignment_id": null,
        "members_present": [inspector_id],
        "started_at": (now - Duration::hours(3)).to_rfc3339(),
        "ended_at": (now - Duration::hours(2)).to_rfc3339(),
        "gps": null,
        "template_id": template["id"],
        "template_version": template["version"],
        "answers": [],
        "outcome": "no_violation",
        "violations": [],
        "minutes_no": null,
        "follow_up_on": null,
        "photo_ids": [],
        "notes": null
    });
    let put = |body: &Value| {
        s.put_json(
            &format!("/api/v1/visits/{}", uuid::Uuid::new_v4()),
            inspector.token(),
            body,
        )
    };
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    put(&with("members_present", json!([]))).client_error_on("members_present");
    put(&with("members_present", json!([uuid::Uuid::new_v4()])))
        .client_error_on("members_present[0]");
    put(&with(
        "ended_at",
        json!((now + Duration::hours(2)).to_rfc3339()),
    ))
    .client_error_on("ended_at");
    put(&with(
        "ended_at",
        json!((now - Duration::hours(5)).to_rfc3339()),
    ))
    .client_error_on("ended_at");
    put(&with("outcome", json!("violations_found"))).client_error_on("violations");
    put(&with("outcome", json!("maybe"))).client_error_on("outcome");
    put(&with(
        "gps",
        json!({"lat": 48.85, "lon": 2.35, "accuracy_m": 10.0}),
    ))
    .client_error_on("gps.lat");
    put(&with(
        "template_version",
        json!(template["version"].as_i64().unwrap() + 7),
    ))
    .client_error_on("template_version");
    put(&with("establishment_id", json!(uuid::Uuid::new_v4()))).client_error_on("establishment_id");
    put(&with("assignment_id", json!(uuid::Uuid::new_v4()))).client_error_on("assignment_id");
    let mut v = with("outcome", json!("violations_found"));
    v["violations"] = json!([{"code": "X-1", "description": "d", "legal_basis": "Điều 1", "proposed_fine_vnd": 100}]);
    put(&v).client_error_on("minutes_no");
    v["minutes_no"] = json!("1/BB");
    v["violations"][0]["proposed_fine_vnd"] = json!(-5);
    put(&v).client_error_on("violations[0].proposed_fine_vnd");
    s.request(
        Method::PUT,
        &format!("/api/v1/visits/{}", uuid::Uuid::new_v4()),
        inspector.token(),
        &[("Content-Type", "application/json")],
        Some(b"{\"establishment_id\":".to_vec()),
    )
    .problem(400, Some("malformed_json"));
    // A visit under a malformed id is a client error.
    let r = s.put_json("/api/v1/visits/not-a-uuid", inspector.token(), &good);
    assert!((400..500).contains(&r.status), "{} {}", r.status, r.text());
    // Provincial staff do not submit visits.
    s.put_json(
        &format!("/api/v1/visits/{}", uuid::Uuid::new_v4()),
        s.login("tinh.hue").token(),
        &good,
    )
    .problem(403, None);
    // After all that, the good body is accepted.
    put(&good).expect(201);

    // Unknown fields are refused, naming the field.
    put(&with("surprise", json!(true))).client_error_on("surprise");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
