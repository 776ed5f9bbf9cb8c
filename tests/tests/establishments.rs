//! Administrative units (tree, search without diacritics) and establishments (filters, search,
//! cursor pagination, create/read/update, refusal of bad input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashSet};

use doi178_tests::{ids, urlencode, Session, TestServer, HUE, QUANG_TRI};
use reqwest::Method;
use serde_json::{json, Value};

/// Phường Phú Xuân, Huế.
const PHU_XUAN: &str = "2025:19753";
/// Phường Đông Hà, Quảng Trị.
const DONG_HA: &str = "2025:19333";

fn new_establishment(name: &str, unit: &str) -> Value {
    json!({
        "name": name,
        "establishment_type": "karaoke",
        "unit": unit,
        "address": "12 Lê Lợi",
        "lat": 16.4637,
        "lon": 107.5909,
        "business_reg_no": "3301234567",
        "licence_no": "KD-2025/17",
        "owner_name": "Nguyễn Văn An",
        "phone": "0234 382 212",
        "status": "operating",
        "risk": "medium",
        "commitment_signed": true,
        "commitment_signed_on": "2025-03-01"
    })
}

#[test]
fn units_tree_and_search_ignore_diacritics() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");

    // The top of the caller's jurisdiction is their province.
    let top = s.get_ok("/api/v1/units", &hue);
    let top_ids = ids(top["items"].as_array().unwrap(), "id");
    assert_eq!(top_ids, vec![HUE.to_string()], "{top}");

    // Its children are current communes of Huế.
    let province = s.get_ok(&format!("/api/v1/units/{HUE}"), &hue);
    assert_eq!(province["id"], HUE);
    assert_eq!(province["level"], "province");
    let children = province["children"].as_array().unwrap();
    assert!(
        children.len() > 20,
        "Huế has dozens of communes: {}",
        children.len()
    );
    for c in children {
        assert_eq!(c["parent_id"], HUE, "{c}");
        assert_eq!(c["level"], "commune", "{c}");
    }
    let child_ids: BTreeSet<String> = ids(children, "id").into_iter().collect();
    assert!(child_ids.contains(PHU_XUAN));
    let listed = s.get_ok(&format!("/api/v1/units?parent={}", urlencode(HUE)), &hue);
    let listed: BTreeSet<String> = ids(listed["items"].as_array().unwrap(), "id")
        .into_iter()
        .collect();
    assert_eq!(listed, child_ids, "?parent= and /units/{{id}} disagree");

    // Search folds case and diacritics both ways.
    for q in ["phu xuan", "Phú Xuân", "PHU XUÂN"] {
        let found = s.get_ok(&format!("/api/v1/units?q={}", urlencode(q)), &hue);
        let found = ids(found["items"].as_array().unwrap(), "id");
        assert!(found.contains(&PHU_XUAN.to_string()), "q={q}: {found:?}");
        // Only Huế: the other communes called Phú Xuân are in other provinces.
        assert!(
            found.iter().all(|id| id == HUE || child_ids.contains(id)),
            "q={q} leaks units of other provinces: {found:?}"
        );
    }
    let found = s.get_ok("/api/v1/units?q=hue", &hue);
    assert!(ids(found["items"].as_array().unwrap(), "id").contains(&HUE.to_string()));

    // Outside the jurisdiction: not found, and not found by search.
    s.get(&format!("/api/v1/units/{DONG_HA}"), hue.token())
        .problem(404, None);
    let found = s.get_ok("/api/v1/units?q=dong%20ha", &hue);
    assert!(
        !ids(found["items"].as_array().unwrap(), "id").contains(&DONG_HA.to_string()),
        "{found}"
    );
    // The administrator sees the country; Đông Hà is found there.
    let admin = s.login("admin");
    let found = s.get_ok("/api/v1/units?q=dong%20ha", &admin);
    assert!(ids(found["items"].as_array().unwrap(), "id").contains(&DONG_HA.to_string()));
    let top = s.get_ok("/api/v1/units", &admin);
    assert!(top["items"].as_array().unwrap().len() >= 34, "34 provinces");

    // Bad query parameters are problems, not 500s.
    s.get("/api/v1/units?limit=0", hue.token())
        .client_error_on("limit");
    s.get("/api/v1/units?limit=abc", hue.token())
        .problem(400, None);
}

fn check_filter(
    s: &TestServer,
    who: &Session,
    query: &str,
    all: &[Value],
    pred: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let got = s.get_all_pages(&format!("/api/v1/establishments?limit=100&{query}"), who);
    let want: BTreeSet<String> = all
        .iter()
        .filter(|e| pred(e))
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let got_ids: BTreeSet<String> = ids(&got, "id").into_iter().collect();
    assert!(
        !want.is_empty(),
        "{query}: the demo data has no match; the filter test would prove nothing"
    );
    assert_eq!(
        got_ids, want,
        "{query}: filter result differs from the expected set"
    );
    got
}

#[test]
fn establishment_lists_filter_search_and_paginate() {
    let s = TestServer::start();
    let hue = s.login("tinh.hue");

    // Walk every page with a small page size: no duplicates, sorted by name, stable.
    let first = s.get_ok("/api/v1/establishments?limit=37", &hue);
    assert_eq!(first["items"].as_array().unwrap().len(), 37);
    assert!(
        first["next_cursor"].is_string(),
        "a first page of 37 must have a next_cursor"
    );
    let all = s.get_all_pages("/api/v1/establishments?limit=37", &hue);
    let all_ids = ids(&all, "id");
    let unique: HashSet<&String> = all_ids.iter().collect();
    assert_eq!(
        unique.len(),
        all_ids.len(),
        "pagination returned duplicates"
    );
    assert!(
        all.len() >= 250,
        "expected the ~300 demo establishments of Huế, got {}",
        all.len()
    );
    let big = s.get_all_pages("/api/v1/establishments?limit=500", &hue);
    let big_ids: BTreeSet<String> = ids(&big, "id").into_iter().collect();
    assert_eq!(
        big_ids,
        unique
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        "page size changes the result"
    );
    let names: Vec<&str> = all.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "not ordered by name"
    );

    // Everything is in Huế.
    let communes: BTreeSet<String> = ids(
        s.get_ok(&format!("/api/v1/units/{HUE}"), &hue)["children"]
            .as_array()
            .unwrap(),
        "id",
    )
    .into_iter()
    .collect();
    for e in &all {
        assert!(
            communes.contains(e["unit_id"].as_str().unwrap()),
            "outside Huế: {e}"
        );
    }

    // Filters: each gives exactly the matching subset.
    let some_type = all[0]["establishment_type"].as_str().unwrap().to_string();
    check_filter(&s, &hue, &format!("type={some_type}"), &all, |e| {
        e["establishment_type"] == some_type.as_str()
    });
    check_filter(&s, &hue, "status=operating", &all, |e| {
        e["status"] == "operating"
    });
    let busiest = {
        let mut counts = std::collections::BTreeMap::new();
        for e in &all {
            *counts
                .entry(e["unit_id"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
        counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0
    };
    check_filter(
        &s,
        &hue,
        &format!("unit={}", urlencode(&busiest)),
        &all,
        |e| e["unit_id"] == busiest.as_str(),
    );
    // A province filter includes every commune below it.
    check_filter(&s, &hue, &format!("unit={}", urlencode(HUE)), &all, |_| {
        true
    });
    // Combined filters: built from an operating establishment, so the answer is not empty.
    let sample = all
        .iter()
        .find(|e| e["status"] == "operating")
        .expect("an operating establishment")
        .clone();
    check_filter(
        &s,
        &hue,
        &format!(
            "unit={}&type={}&status=operating",
            urlencode(sample["unit_id"].as_str().unwrap()),
            sample["establishment_type"].as_str().unwrap()
        ),
        &all,
        |e| {
            e["unit_id"] == sample["unit_id"]
                && e["establishment_type"] == sample["establishment_type"]
                && e["status"] == "operating"
        },
    );

    // Search ignores case and diacritics: "nha nghi" finds every "Nhà nghỉ …".
    let guesthouses: BTreeSet<String> = all
        .iter()
        .filter(|e| {
            e["name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("nhà nghỉ")
        })
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !guesthouses.is_empty(),
        "the demo data has no \"Nhà nghỉ …\""
    );
    for q in ["nha nghi", "NHÀ NGHỈ", "Nha Nghỉ"] {
        let found = s.get_all_pages(
            &format!("/api/v1/establishments?limit=200&q={}", urlencode(q)),
            &hue,
        );
        let found: BTreeSet<String> = ids(&found, "id").into_iter().collect();
        assert!(
            guesthouses.is_subset(&found),
            "q={q}: misses some \"Nhà nghỉ\" ({} of {})",
            guesthouses.intersection(&found).count(),
            guesthouses.len()
        );
        assert!(found.len() < all.len(), "q={q} matched everything");
    }
    // An exact name finds that establishment.
    let target = &all[all.len() / 2];
    let found = s.get_all_pages(
        &format!(
            "/api/v1/establishments?q={}",
            urlencode(target["name"].as_str().unwrap())
        ),
        &hue,
    );
    assert!(ids(&found, "id").contains(&target["id"].as_str().unwrap().to_string()));
    let none = s.get_ok("/api/v1/establishments?q=zzzqqqxxx-no-such-name", &hue);
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    assert!(none["next_cursor"].is_null());

    // Bad parameters: problems naming the parameter, never a 500.
    s.get("/api/v1/establishments?type=casino", hue.token())
        .client_error_on("type");
    s.get("/api/v1/establishments?status=sleeping", hue.token())
        .client_error_on("status");
    s.get("/api/v1/establishments?limit=0", hue.token())
        .client_error_on("limit");
    s.get("/api/v1/establishments?limit=100000", hue.token())
        .client_error_on("limit");
    s.get("/api/v1/establishments?cursor=%21%21garbage", hue.token())
        .client_error_on("cursor");
    s.get("/api/v1/establishments?colour=red", hue.token())
        .client_error_on("colour");
    let r = s.get(
        &format!("/api/v1/establishments?unit={}", urlencode(QUANG_TRI)),
        hue.token(),
    );
    assert!(
        r.status == 404 || (r.status == 200 && r.json()["items"].as_array().unwrap().is_empty()),
        "a unit outside the jurisdiction must give nothing: {} {}",
        r.status,
        r.text()
    );
}

#[test]
fn establishments_create_read_update() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let name = format!("Karaoke Thử Nghiệm {}", uuid::Uuid::new_v4().simple());
    let created = s.post_json(
        "/api/v1/establishments",
        staff.token(),
        &new_establishment(&name, PHU_XUAN),
    );
    created.expect(201);
    let created = created.json();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(created["name"], name.as_str());
    assert_eq!(created["unit_id"], PHU_XUAN);
    assert_eq!(created["establishment_type"], "karaoke");
    assert_eq!(created["phone"], "0234382212", "phone stored compactly");
    assert_eq!(created["location"]["lat"], 16.4637);

    let read = s.get_ok(&format!("/api/v1/establishments/{id}"), &staff);
    assert_eq!(read["name"], name.as_str());
    assert_eq!(read["address"], "12 Lê Lợi");
    assert_eq!(read["owner_name"], "Nguyễn Văn An");
    assert_eq!(read["commitment_signed"], true);

    // Found by a diacritic-free search.
    let folded = s.get_all_pages("/api/v1/establishments?q=karaoke%20thu%20nghiem", &staff);
    assert!(
        ids(&folded, "id").contains(&id),
        "new establishment not found by search"
    );

    // Update: replace the data.
    let mut changed = new_establishment(&format!("{name} (đã đổi)"), PHU_XUAN);
    changed["status"] = json!("closed");
    changed["opened_on"] = json!("2024-01-01");
    changed["closed_on"] = json!("2025-06-30");
    changed["risk"] = json!("high");
    let updated = s
        .put_json(
            &format!("/api/v1/establishments/{id}"),
            staff.token(),
            &changed,
        )
        .ok_json();
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["status"], "closed");
    assert_eq!(updated["risk"], "high");
    assert!(
        updated["version"].as_i64().unwrap() > created["version"].as_i64().unwrap(),
        "version must increase"
    );
    let read = s.get_ok(&format!("/api/v1/establishments/{id}"), &staff);
    assert_eq!(read["name"], format!("{name} (đã đổi)").as_str());
    assert_eq!(read["closed_on"], "2025-06-30");

    // Team leaders may register too; inspectors may not.
    s.post_json(
        "/api/v1/establishments",
        s.login("doitruong.hue").token(),
        &new_establishment(&format!("{name} 2"), PHU_XUAN),
    )
    .expect(201);
    let inspector = s.login("kiemtra.hue");
    s.post_json(
        "/api/v1/establishments",
        inspector.token(),
        &new_establishment(&format!("{name} 3"), PHU_XUAN),
    )
    .problem(403, None);
    s.put_json(
        &format!("/api/v1/establishments/{id}"),
        inspector.token(),
        &changed,
    )
    .problem(403, None);

    // Another province neither sees it nor may write into Huế.
    let qt = s.login("tinh.quangtri");
    s.get(&format!("/api/v1/establishments/{id}"), qt.token())
        .problem(404, None);
    s.put_json(
        &format!("/api/v1/establishments/{id}"),
        qt.token(),
        &new_establishment("x", DONG_HA),
    )
    .problem(404, None);
    s.post_json(
        "/api/v1/establishments",
        qt.token(),
        &new_establishment(&format!("{name} QT"), PHU_XUAN),
    )
    .client_error_on("unit");
    // Unknown and malformed ids.
    s.get(
        &format!("/api/v1/establishments/{}", uuid::Uuid::new_v4()),
        staff.token(),
    )
    .problem(404, None);
    s.get("/api/v1/establishments/not-a-uuid", staff.token())
        .problem(404, None);
    // What the create answered is what was stored (checked last: it hides nothing else).
    assert_eq!(
        read["created_at"], created["created_at"],
        "created_at in the 201 answer differs from the stored one"
    );
}

#[test]
fn bad_establishment_input_is_a_problem_never_a_500() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let token = staff.token();
    let good = new_establishment("Karaoke Kiểm Tra Đầu Vào", PHU_XUAN);
    let post = |body: &Value| s.post_json("/api/v1/establishments", token, body);
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };

    // Malformed JSON.
    let r = s.request(
        Method::POST,
        "/api/v1/establishments",
        token,
        &[("Content-Type", "application/json")],
        Some(b"{\"name\": \"x\",".to_vec()),
    );
    r.problem(400, Some("malformed_json"));
    assert!(
        r.json()["field"].is_string(),
        "malformed JSON must name a field: {}",
        r.text()
    );
    // Wrong content type.
    let r = s.request(
        Method::POST,
        "/api/v1/establishments",
        token,
        &[("Content-Type", "text/plain")],
        Some(serde_json::to_vec(&good).unwrap()),
    );
    r.problem(415, None);
    let r = s.request(
        Method::POST,
        "/api/v1/establishments",
        token,
        &[],
        Some(serde_json::to_vec(&good).unwrap()),
    );
    r.problem(415, None);
    // Wrong types and values.
    post(&with("name", json!(42))).client_error_on("name");
    post(&with("name", json!("   "))).client_error_on("name");
    post(&with("establishment_type", json!("casino"))).client_error_on("establishment_type");
    post(&with("status", json!("sleeping"))).client_error_on("status");
    // Invalid unit codes: malformed, a province instead of a commune, one that does not exist.
    post(&with("unit", json!("hue"))).client_error_on("unit");
    post(&with("unit", json!("2025:4"))).client_error_on("unit");
    post(&with("unit", json!(HUE))).client_error_on("unit");
    post(&with("unit", json!("2025:99999"))).client_error_on("unit");
    // Coordinates outside Vietnam (Paris), swapped, or only one of them.
    let mut paris = good.clone();
    paris["lat"] = json!(48.8566);
    paris["lon"] = json!(2.3522);
    post(&paris).client_error_on("lat");
    let mut swapped = good.clone();
    swapped["lat"] = json!(107.59);
    swapped["lon"] = json!(16.46);
    let p = post(&swapped);
    assert!(p.status == 422 || p.status == 400, "{}", p.text());
    let f = p.json()["field"].as_str().unwrap_or_default().to_string();
    assert!(
        f == "lat" || f == "lon",
        "swapped coordinates must name lat or lon: {}",
        p.text()
    );
    let mut lonely = good.clone();
    lonely.as_object_mut().unwrap().remove("lon");
    post(&lonely).client_error_on("lon");
    // Inconsistent dates.
    post(&with("status", json!("closed"))).client_error_on("closed_on");
    // Oversized body (over the 1 MiB limit).
    let huge = with("address", json!("x".repeat(1_300_000)));
    let r = post(&huge);
    r.problem(413, None);
    // Deeply nested JSON.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    s.request(
        Method::POST,
        "/api/v1/establishments",
        token,
        &[("Content-Type", "application/json")],
        Some(deep.into_bytes()),
    )
    .problem(400, None);
    // Not UTF-8.
    s.request(
        Method::POST,
        "/api/v1/establishments",
        token,
        &[("Content-Type", "application/json")],
        Some(b"{\"name\": \"\xff\"}".to_vec()),
    )
    .problem(400, None);

    // None of it was stored; the good body still works.
    s.post_json("/api/v1/establishments", token, &good)
        .expect(201);
    let found = s.get_all_pages("/api/v1/establishments?q=kiem%20tra%20dau%20vao", &staff);
    assert_eq!(found.len(), 1, "exactly one stored: {found:?}");

    // Unknown fields are refused, naming the field (last: the other checks run first).
    let p = post(&with("evil", json!(1))).client_error_on("evil");
    assert!(p["detail"].as_str().unwrap().contains("evil"), "{p}");
}
