//! Every id a write refers to lies in the caller's jurisdiction, on SQLite and PostgreSQL.
//!
//! - Generated from the OpenAPI document and the route table: every write whose JSON body has a
//!   field naming a record (an establishment, team, user, unit, assignment, tip, visit, photo or
//!   agency) is sent, by a Huế account allowed to make it, with that field pointing at a record of
//!   Quảng Trị: it is refused with a client error and leaves nothing (no audit entry, so no row),
//!   while the same body with the field left inside Huế is accepted.
//! - A photo belongs to the account and team that took it: it cannot be listed in another team's
//!   visit, an id another team's visit lists cannot be uploaded, and a link stored before that
//!   was refused makes nothing readable and is reported by `doi178-server audit photo-links`.
//! - A visit's answers name items of its checklist version.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use doi178_tests::{
    jpeg, route_table, server_command, str_of, Raw, Session, TestServer, HUE, QUANG_TRI,
};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

fn first_item(v: &Value) -> Value {
    v["items"][0].clone()
}

/// Which kind of record a body field names, by its name. Every field of a write body that
/// looks like a reference must be listed here or in [`NATIONAL`], so that a new one cannot be
/// added without saying how it is scoped.
fn kind_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "establishment_id" | "establishment_ids" => "establishment",
        "team_id" => "team",
        "members_present" | "user_id" => "user",
        "unit" | "unit_id" => "unit",
        "assignment_id" => "assignment",
        "tip_id" => "tip",
        "follow_up_of" => "visit",
        "photo_ids" => "photo",
        "agency_id" => "agency",
        _ => return None,
    })
}

/// Reference fields that name national data, the same for every jurisdiction.
const NATIONAL: [(&str, &str); 1] = [(
    "template_id",
    "checklist templates are national reference data",
)];

/// Whether a body property is a reference: a UUID (or a list of them), or named like one.
fn is_reference(name: &str, schema: &Value) -> bool {
    let uuid = |s: &Value| s["format"] == "uuid";
    name != "id"
        && (uuid(schema)
            || uuid(&schema["items"])
            || name.ends_with("_id")
            || name.ends_with("_ids")
            || name == "unit"
            || kind_of(name).is_some())
}

/// The schema `s` points at, following one `$ref`.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str() {
        Some(r) => doc
            .pointer(&r.replacen('#', "", 1))
            .unwrap_or_else(|| panic!("{r} in the document")),
        None => s,
    }
}

/// The reference fields of a request body schema, as JSON pointers into the body (`/team_id`,
/// `/visit/photo_ids`). A property that is an object without declared properties and is named
/// `visit` is the visit the phone sends (a revision's body), read with `VisitInput`.
fn references(doc: &Value, schema: &Value, prefix: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let Some(props) = schema["properties"].as_object() else {
        return;
    };
    for (name, prop) in props {
        let prop = resolve(doc, prop);
        if name == "visit" && prop["properties"].is_null() {
            let visit = &doc["components"]["schemas"]["VisitInput"];
            assert!(visit.is_object(), "VisitInput is in the document");
            references(doc, visit, &format!("{prefix}/visit"), out);
        } else if is_reference(name, prop) {
            out.push(format!("{prefix}/{name}"));
        } else if prop["properties"].is_object() {
            references(doc, prop, &format!("{prefix}/{name}"), out);
        }
    }
}

/// `body` with the field at `pointer` pointing at `foreign`: appended to a list, or replacing a
/// single id.
fn pointing_at(body: &Value, pointer: &str, foreign: &str) -> Value {
    let mut b = body.clone();
    let slot = match b.pointer_mut(pointer) {
        Some(slot) => slot,
        None => {
            let (parent, name) = pointer.rsplit_once('/').unwrap();
            let parent = if parent.is_empty() {
                &mut b
            } else {
                b.pointer_mut(parent).unwrap()
            };
            parent[name] = Value::Null;
            b.pointer_mut(pointer).unwrap()
        }
    };
    match slot {
        Value::Array(items) => items.push(json!(foreign)),
        other => *other = json!(foreign),
    }
    b
}

/// A write to try: who sends it, where, and a valid body (`n` makes names unique).
struct Fixture<'a> {
    who: &'a Session,
    path: String,
    body: Box<dyn Fn(usize) -> Value + 'a>,
}

/// Records of Quảng Trị, by kind, as its staff and leader see them.
fn quang_tri(s: &TestServer) -> BTreeMap<&'static str, String> {
    let staff = s.login("tinh.quangtri");
    let leader = s.login("doitruong.quangtri");
    let mut out = BTreeMap::new();
    out.insert(
        "establishment",
        str_of(
            &first_item(&s.get_ok("/api/v1/establishments?limit=1", &staff)),
            "id",
        ),
    );
    out.insert(
        "team",
        str_of(&first_item(&s.get_ok("/api/v1/teams", &staff)), "id"),
    );
    let users = s.get_ok("/api/v1/users", &staff);
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "inspector" || u["role"] == "team_leader")
        .expect("a user of Quảng Trị");
    out.insert("user", str_of(user, "id"));
    let unit = s.get_ok(&format!("/api/v1/units/{QUANG_TRI}"), &staff);
    out.insert("unit", str_of(&unit["children"][0], "id"));
    out.insert(
        "assignment",
        str_of(
            &first_item(&s.get_ok("/api/v1/assignments?limit=1", &leader)),
            "id",
        ),
    );
    let tip = s.post_json(
        "/api/v1/tips",
        staff.token(),
        &json!({"channel": "hotline", "received_at": "2026-01-05T08:00:00Z",
                "content": "Tin báo Quảng Trị", "unit": out["unit"]}),
    );
    out.insert("tip", str_of(&tip.expect(201).json(), "id"));
    out.insert(
        "visit",
        str_of(
            &first_item(&s.get_ok("/api/v1/visits?limit=1", &staff)),
            "id",
        ),
    );
    let photo = Uuid::new_v4().to_string();
    s.put_photo(&leader, &photo, "image/jpeg", &jpeg(7))
        .expect(201);
    out.insert("photo", photo);
    let agencies = s.get_ok("/api/v1/agencies", &staff);
    let agency = agencies["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["unit_id"] == QUANG_TRI)
        .expect("an agency of Quảng Trị");
    out.insert("agency", str_of(agency, "id"));
    out
}

#[test]
fn every_reference_of_every_write_stays_in_the_callers_jurisdiction() {
    let s = TestServer::start();
    let mut raw = Raw::open(s.database_url());
    let doc = s.get("/api/openapi.json", None).ok_json();
    let foreign = quang_tri(&s);

    let staff = s.login("tinh.hue");
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let hue = s.get_ok(&format!("/api/v1/units/{HUE}"), &staff);
    let commune = str_of(&hue["children"][0], "id");
    let team = s.hue_team_led_by(&leader);
    let est = first_item(&s.get_ok(
        &format!("/api/v1/establishments?limit=1&unit={commune}"),
        &staff,
    ));
    let est = if est.is_null() {
        first_item(&s.get_ok("/api/v1/establishments?limit=1", &leader))
    } else {
        est
    };
    let est_id = str_of(&est, "id");
    let hue_visit = str_of(
        &first_item(&s.get_ok("/api/v1/visits?limit=1", &leader)),
        "id",
    );
    let hue_assignment = str_of(
        &first_item(&s.get_ok("/api/v1/assignments?limit=1", &staff)),
        "id",
    );
    let tip = |n: usize| {
        str_of(
            &s.post_json(
                "/api/v1/tips",
                staff.token(),
                &json!({"channel": "hotline", "received_at": "2026-01-05T08:00:00Z",
                        "content": format!("Tin báo Huế {n}"), "unit": commune}),
            )
            .expect(201)
            .json(),
            "id",
        )
    };
    let status_tip = tip(0);
    let newcomer = str_of(
        &s.post_json(
            "/api/v1/users",
            staff.token(),
            &json!({"username": "moi.hue.tham.gia", "display_name": "Người Mới",
                    "password": "Mật khẩu thật dài 178!", "role": "inspector",
                    "unit_id": commune}),
        )
        .expect(201)
        .json(),
        "id",
    );
    let visit = s.visit_body(&inspector);
    let revised = Uuid::new_v4().to_string();
    s.put_json(
        &format!("/api/v1/visits/{revised}"),
        inspector.token(),
        &visit,
    )
    .expect(201);
    let hue_agency = s.get_ok("/api/v1/agencies", &staff)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["unit_id"] == HUE)
        .map(|a| str_of(a, "id"))
        .expect("an agency of Huế");

    let establishment = {
        let commune = commune.clone();
        move |n: usize| {
            json!({"name": format!("Karaoke Tham Chiếu {n}"), "establishment_type": "karaoke",
                   "unit": commune, "address": "1 Lê Lợi", "lat": 16.46, "lon": 107.59,
                   "status": "operating", "risk": "medium", "commitment_signed": false})
        }
    };
    let mut fixtures: BTreeMap<(&str, &str), Fixture> = BTreeMap::new();
    let (st, le, ins) = (&staff, &leader, &inspector);
    let mut add = |method, path, f| {
        fixtures.insert((method, path), f);
    };
    add(
        "post",
        "/api/v1/establishments",
        Fixture {
            who: st,
            path: "/api/v1/establishments".into(),
            body: Box::new(establishment.clone()),
        },
    );
    add(
        "put",
        "/api/v1/establishments/{id}",
        Fixture {
            who: st,
            path: format!("/api/v1/establishments/{est_id}"),
            body: Box::new({
                let (est, commune) = (est.clone(), commune.clone());
                move |n| {
                    json!({"name": format!("{} {n}", str_of(&est, "name")),
                           "establishment_type": est["establishment_type"], "unit": est["unit_id"].as_str().map_or(commune.clone(), str::to_string),
                           "address": est["address"], "status": "operating", "risk": "medium",
                           "commitment_signed": false})
                }
            }),
        },
    );
    add(
        "post",
        "/api/v1/teams",
        Fixture {
            who: st,
            path: "/api/v1/teams".into(),
            body: Box::new({
                let commune = commune.clone();
                move |n| json!({"name": format!("Đội phường {n}"), "level": "commune", "unit_id": commune})
            }),
        },
    );
    add(
        "post",
        "/api/v1/teams/{id}/members",
        Fixture {
            who: st,
            path: format!("/api/v1/teams/{team}/members"),
            body: Box::new({
                let newcomer = newcomer.clone();
                move |_| json!({"user_id": newcomer, "role": "member"})
            }),
        },
    );
    add(
        "post",
        "/api/v1/users",
        Fixture {
            who: st,
            path: "/api/v1/users".into(),
            body: Box::new({
                let (commune, agency) = (commune.clone(), hue_agency.clone());
                move |n| {
                    json!({"username": format!("kiemtra.thamchieu{n}"), "display_name": "Kiểm Tra Viên",
                           "password": "Mật khẩu thật dài 178!", "role": "inspector",
                           "unit_id": commune, "agency_id": agency})
                }
            }),
        },
    );
    add(
        "put",
        "/api/v1/users/{id}",
        Fixture {
            who: st,
            path: format!("/api/v1/users/{newcomer}"),
            body: Box::new({
                let (commune, agency) = (commune.clone(), hue_agency.clone());
                move |_| {
                    json!({"display_name": "Người Mới", "role": "inspector",
                           "unit_id": commune, "agency_id": agency})
                }
            }),
        },
    );
    add(
        "post",
        "/api/v1/tips",
        Fixture {
            who: st,
            path: "/api/v1/tips".into(),
            body: Box::new({
                let (commune, est_id) = (commune.clone(), est_id.clone());
                move |n| {
                    json!({"channel": "hotline", "received_at": "2026-01-05T08:00:00Z",
                           "content": format!("Phòng hát mở quá giờ {n}"), "unit": commune,
                           "establishment_id": est_id})
                }
            }),
        },
    );
    add(
        "post",
        "/api/v1/tips/{id}/status",
        Fixture {
            who: st,
            path: format!("/api/v1/tips/{status_tip}/status"),
            body: Box::new({
                let a = hue_assignment.clone();
                move |_| json!({"status": "verifying", "assignment_id": a})
            }),
        },
    );
    add(
        "post",
        "/api/v1/assignments",
        Fixture {
            who: le,
            path: "/api/v1/assignments".into(),
            body: Box::new({
                let (team, est_id, visit, tip) = (
                    team.clone(),
                    est_id.clone(),
                    hue_visit.clone(),
                    status_tip.clone(),
                );
                move |_| {
                    json!({"team_id": team, "kind": "tip", "window_start": "2026-12-10",
                           "window_end": "2026-12-20", "establishment_ids": [est_id],
                           "tip_id": tip, "follow_up_of": visit})
                }
            }),
        },
    );
    add(
        "put",
        "/api/v1/visits/{id}",
        Fixture {
            who: ins,
            path: String::new(),
            body: Box::new({
                let visit = visit.clone();
                move |_| visit.clone()
            }),
        },
    );
    add(
        "post",
        "/api/v1/visits/{id}/revisions",
        Fixture {
            who: ins,
            path: format!("/api/v1/visits/{revised}/revisions"),
            body: Box::new({
                let visit = visit.clone();
                move |_| {
                    let mut v = visit.clone();
                    v["notes"] = json!("Bổ sung biên bản");
                    json!({"reason": "Bổ sung", "base_revision": 1, "visit": v})
                }
            }),
        },
    );

    // Every write of the route table is in the document; admin-only writes have no outside.
    let mut tried = BTreeSet::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for route in route_table()
        .into_iter()
        .filter(|r| r.surface == "api" && r.method != "GET")
    {
        let method = route.method.to_ascii_lowercase();
        let op = &doc["paths"][&route.path][&method];
        assert!(
            op.is_object(),
            "{} {} is not in the OpenAPI document",
            route.method,
            route.path
        );
        let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else {
            continue;
        };
        let mut fields = Vec::new();
        references(&doc, schema, "", &mut fields);
        let national: BTreeSet<&str> = NATIONAL.iter().map(|(f, _)| *f).collect();
        let fields: Vec<String> = fields
            .into_iter()
            .filter(|f| !national.contains(f.rsplit('/').next().unwrap()))
            .collect();
        if fields.is_empty() {
            continue;
        }
        if route.roles == ["admin"] {
            // The administrator's jurisdiction is the whole country: nothing lies outside it.
            continue;
        }
        let f = fixtures
            .get(&(method.as_str(), route.path.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "{} {}: reference fields {fields:?} but no fixture in this test",
                    route.method, route.path
                )
            });
        for field in &fields {
            let name = field.rsplit('/').next().unwrap();
            let kind = kind_of(name).unwrap_or_else(|| {
                panic!(
                    "{} {}: field {field} looks like a reference: add it to kind_of or NATIONAL",
                    route.method, route.path
                )
            });
            n += 1;
            let body = pointing_at(&(f.body)(n), field, &foreign[kind]);
            let path = if f.path.is_empty() {
                format!("/api/v1/visits/{}", Uuid::new_v4())
            } else {
                f.path.clone()
            };
            let before = raw.last_seq();
            let m = Method::from_bytes(route.method.as_bytes()).unwrap();
            let r = s.send_json(m, &path, f.who.token(), &body);
            let after = raw.last_seq();
            if !matches!(r.status, 400 | 403 | 404 | 409 | 422) || after != before {
                failures.push(format!(
                    "{} {path} as {} with {field} → {kind} of Quảng Trị: {} {} ({} audit entries written)",
                    route.method, f.who.username, r.status, r.text(), after - before
                ));
            }
            tried.insert((route.path.clone(), field.clone()));
        }
        // The same body inside Huế is accepted: the refusals were about the reference.
        n += 1;
        let path = if f.path.is_empty() {
            format!("/api/v1/visits/{}", Uuid::new_v4())
        } else {
            f.path.clone()
        };
        let m = Method::from_bytes(route.method.as_bytes()).unwrap();
        let r = s.send_json(m, &path, f.who.token(), &(f.body)(n));
        if !(200..300).contains(&r.status) {
            failures.push(format!(
                "{} {path}: the valid body inside Huế was refused: {} {}",
                route.method,
                r.status,
                r.text()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The generation found the references this test is about (it read the document right).
    for (path, field) in [
        ("/api/v1/visits/{id}", "/photo_ids"),
        ("/api/v1/visits/{id}", "/members_present"),
        ("/api/v1/visits/{id}/revisions", "/visit/photo_ids"),
        ("/api/v1/assignments", "/establishment_ids"),
        ("/api/v1/assignments", "/follow_up_of"),
        ("/api/v1/tips/{id}/status", "/assignment_id"),
        ("/api/v1/users", "/agency_id"),
        ("/api/v1/users/{id}", "/unit_id"),
        ("/api/v1/teams/{id}/members", "/user_id"),
        ("/api/v1/establishments", "/unit"),
    ] {
        assert!(
            tried.contains(&(path.to_string(), field.to_string())),
            "{path} {field} was not tried: {tried:?}"
        );
    }
}

#[test]
fn another_provinces_photo_never_becomes_readable_through_ones_own_visit() {
    let s = TestServer::start();
    let mut raw = Raw::open(s.database_url());
    let qt = s.login("doitruong.quangtri");
    let inspector = s.login("kiemtra.hue");
    let staff = s.login("tinh.hue");
    let leader = s.login("doitruong.hue");
    let hue = [&inspector, &staff, &leader];
    let hidden = |photo: &str| {
        for who in hue {
            for variant in ["", "/thumbnail"] {
                s.get(&format!("/api/v1/photos/{photo}{variant}"), who.token())
                    .expect(404);
            }
        }
    };
    let submit_body = |who: &Session, photos: Value| {
        let mut v = s.visit_body(who);
        v["photo_ids"] = photos;
        let id = Uuid::new_v4().to_string();
        (
            s.put_json(&format!("/api/v1/visits/{id}"), who.token(), &v),
            id,
            v,
        )
    };
    let submit = |who: &Session, photos: Value| {
        let (r, id, _) = submit_body(who, photos);
        (r, id)
    };

    // The report of the defect: a Quảng Trị leader's photo in a Quảng Trị visit…
    let p1 = Uuid::new_v4().to_string();
    s.put_photo(&qt, &p1, "image/jpeg", &jpeg(1)).expect(201);
    let (r, _) = submit(&qt, json!([p1]));
    r.expect(201);
    hidden(&p1);
    // …listed in a Huế inspector's own visit: refused, naming the photo, and nothing stored.
    let before = raw.last_seq();
    let (r, id) = submit(&inspector, json!([p1]));
    let p = r.problem(409, Some("photo_in_use"));
    assert_eq!(p["field"], "photo_ids[0]");
    assert_eq!(
        raw.last_seq(),
        before,
        "a refused visit wrote audit entries"
    );
    s.get(&format!("/api/v1/visits/{id}"), inspector.token())
        .expect(404);
    hidden(&p1);
    s.get(&format!("/api/v1/photos/{p1}"), qt.token())
        .expect(200);

    // A photo of Quảng Trị not yet in any visit: not the inspector's to list (the index named).
    let p2 = Uuid::new_v4().to_string();
    s.put_photo(&qt, &p2, "image/jpeg", &jpeg(2)).expect(201);
    let own = Uuid::new_v4().to_string();
    s.put_photo(&inspector, &own, "image/jpeg", &jpeg(3))
        .expect(201);
    let (r, id) = submit(&inspector, json!([own, p2]));
    let p = r.problem(422, Some("not_your_photo"));
    assert_eq!(p["field"], "photo_ids[1]");
    s.get(&format!("/api/v1/visits/{id}"), inspector.token())
        .expect(404);
    hidden(&p2);

    // An id a Huế visit lists before its upload cannot be taken by Quảng Trị: neither uploaded
    // nor listed in its own visit. The inspector's upload then completes the visit.
    let p3 = Uuid::new_v4().to_string();
    let (r, v3, mut visit) = submit_body(&inspector, json!([p3]));
    assert_eq!(r.expect(201).json()["pending_photo_ids"], json!([p3]));
    s.put_photo(&qt, &p3, "image/jpeg", &jpeg(4))
        .problem(409, Some("photo_in_use"));
    let (r, _) = submit(&qt, json!([p3]));
    r.problem(409, Some("photo_in_use"));
    s.put_photo(&inspector, &p3, "image/jpeg", &jpeg(5))
        .expect(201);
    s.get(&format!("/api/v1/photos/{p3}"), staff.token())
        .expect(200);
    s.get(&format!("/api/v1/photos/{p3}"), qt.token())
        .expect(404);

    // The team's leader corrects the visit and keeps the inspector's photo; a correction cannot
    // add another province's photo.
    visit["photo_ids"] = json!([p3, p1]);
    let revise = |who: &Session, visit: &Value, base: i64| {
        s.post_json(
            &format!("/api/v1/visits/{v3}/revisions"),
            who.token(),
            &json!({"reason": "Bổ sung ảnh", "base_revision": base, "visit": visit}),
        )
    };
    let p = revise(&leader, &visit, 1).problem(409, Some("photo_in_use"));
    assert_eq!(p["field"], "visit.photo_ids[1]");
    visit["photo_ids"] = json!([p3]);
    visit["notes"] = json!("Đội trưởng bổ sung");
    revise(&leader, &visit, 1).expect(200);
    s.get(&format!("/api/v1/photos/{p3}"), staff.token())
        .expect(200);

    // A cross-team link stored before the fix (written straight into the database) makes
    // nothing readable, and the repair command reports it for review.
    assert!(server_command(&s, &["audit", "photo-links"])
        .status
        .success());
    raw.exec(&format!(
        "INSERT INTO visit_photos (visit_id, photo_id) VALUES ('{v3}', '{p1}')"
    ));
    hidden(&p1);
    let out = server_command(&s, &["audit", "photo-links"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a cross-team link is reported: {text}"
    );
    assert!(
        text.contains(&v3) && text.contains(&p1) && text.contains("doitruong.quangtri"),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        1,
        "only the stored cross-team link: {text}"
    );
    raw.exec(&format!(
        "DELETE FROM visit_photos WHERE visit_id = '{v3}' AND photo_id = '{p1}'"
    ));
    let out = server_command(&s, &["audit", "photo-links"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no visit lists a photo of another team"));
}

#[test]
fn answers_name_items_of_the_visits_checklist() {
    let s = TestServer::start();
    let mut raw = Raw::open(s.database_url());
    let inspector = s.login("kiemtra.hue");
    let mut v = s.visit_body(&inspector);
    let template = s.get_ok(
        &format!("/api/v1/checklist-templates/{}", str_of(&v, "template_id")),
        &inspector,
    );
    let item = str_of(&template["items"][0], "code");
    let before = raw.last_seq();
    for answers in [
        json!([{"item": "ZZ99", "result": "pass"}]),
        json!([{"item": item, "result": "pass"}, {"item": "ZZ99", "result": "fail", "note": "?"}]),
        json!([{"item": item.to_lowercase() + "x", "result": "pass"}]),
    ] {
        let idx = answers.as_array().unwrap().len() - 1;
        v["answers"] = answers;
        let id = Uuid::new_v4();
        let p = s
            .put_json(&format!("/api/v1/visits/{id}"), inspector.token(), &v)
            .problem(422, Some("unknown_item"));
        assert_eq!(p["field"], format!("answers[{idx}].item"));
        s.get(&format!("/api/v1/visits/{id}"), inspector.token())
            .expect(404);
    }
    assert_eq!(raw.last_seq(), before);
    v["answers"] = json!([{"item": item, "result": "pass"}]);
    s.put_json(
        &format!("/api/v1/visits/{}", Uuid::new_v4()),
        inspector.token(),
        &v,
    )
    .expect(201);
}
