//! The authorisation matrix, on SQLite and PostgreSQL: every route of the route table
//! (`doi178-server routes`, built from the same declarations as the server's routing) × every kind
//! of caller (anonymous, administrator, provincial staff, commune staff, team leader, inspector,
//! a commune team's leader and the staff and leader of another province) × a record inside the
//! caller's jurisdiction, one outside it and an id that does not exist. The expected answer comes
//! from the route's rule; a record outside the jurisdiction must get exactly the answer of an id
//! that does not exist (no existence leak). Dashboard routes are called with a cookie session, and
//! every dashboard POST without its anti-forgery token is refused with 403.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use doi178_tests::{
    route_table, str_of, urlencode, Browser, Resp, RouteRule, Session, TestServer, DEMO_PASSWORD,
    HUE, QUANG_TRI,
};
use reqwest::header::LOCATION;
use reqwest::Method;
use serde_json::{json, Value};

/// A cookie session of the dashboard.
/// The records of one part of the demo data, by kind (`establishment`, `visit`, `photo`,
/// `assignment`, `tip`, `team`, `user`, `unit`): ids.
type Records = BTreeMap<&'static str, Vec<String>>;

/// Where a record lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Zone {
    /// Phường Phú Xuân, a commune of Huế with its own team.
    PhuXuan,
    /// Huế outside Phú Xuân.
    HueElsewhere,
    /// Quảng Trị.
    QuangTri,
}

/// Every record of the demo data by zone, as the administrator sees them.
struct World {
    zones: BTreeMap<Zone, Records>,
    /// Every id of every kind, for "inside" samples.
    zone_of: BTreeMap<String, Zone>,
    programme: String,
    template: String,
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().expect("items").clone()
}

/// Marks every name seeded outside a caller's jurisdiction: no answer to them may contain it.
const MARKER: &str = "ZQXMARKER";

fn created(r: Resp) -> Value {
    assert!(
        matches!(r.status, 200 | 201),
        "{} {}: {} {}",
        r.method,
        r.path,
        r.status,
        r.text()
    );
    r.json()
}

/// What [`seed_quang_tri`] created, all of it carrying [`MARKER`].
struct Seeded {
    establishment: String,
    visit: String,
    photo: String,
    tip: String,
    assignment: String,
}

/// Records with distinctive names in Quảng Trị, made by its team leader: an establishment, a visit
/// with a photo, a tip and an unannounced assignment still in draft.
fn seed_quang_tri(s: &TestServer) -> Seeded {
    let leader = s.login("doitruong.quangtri");
    let team = items(&s.get_ok("/api/v1/teams", &leader))[0].clone();
    let team_id = str_of(&team, "id");
    let unit = s.get_ok(&format!("/api/v1/units/{QUANG_TRI}"), &leader);
    let commune = str_of(&unit["children"][0], "id");
    let est = created(s.post_json(
        "/api/v1/establishments",
        leader.token(),
        &json!({
            "name": format!("Karaoke {MARKER} Bí Mật"),
            "establishment_type": "karaoke",
            "unit": commune,
            "address": format!("12 Đường {MARKER}"),
            "lat": 16.75, "lon": 107.18,
            "business_reg_no": format!("{MARKER}-REG"),
            "licence_no": null, "licence_issued_on": null, "licence_expires_on": null,
            "antt_cert_no": null,
            "owner_name": format!("Chủ {MARKER}"),
            "phone": "0912000111",
            "status": "operating",
            "risk": "high",
        }),
    ));
    let est_id = str_of(&est, "id");
    let template = items(&s.get_ok("/api/v1/checklist-templates?type=karaoke", &leader))[0].clone();
    let now = chrono::Utc::now();
    let visit_id = uuid::Uuid::new_v4().to_string();
    let photo_id = uuid::Uuid::new_v4().to_string();
    s.put_json(
        &format!("/api/v1/visits/{visit_id}"),
        leader.token(),
        &json!({
            "establishment_id": est_id,
            "team_id": team_id,
            "assignment_id": null,
            "members_present": [str_of(&s.get_ok("/api/v1/me", &leader), "id")],
            "started_at": (now - chrono::Duration::hours(3)).to_rfc3339(),
            "ended_at": (now - chrono::Duration::hours(2)).to_rfc3339(),
            "gps": {"lat": 16.75, "lon": 107.18, "accuracy_m": 10.0},
            "template_id": template["id"],
            "template_version": template["version"],
            "answers": [],
            "outcome": "no_violation",
            "violations": [],
            "minutes_no": format!("{MARKER}/BB"),
            "follow_up_on": null,
            "photo_ids": [photo_id],
            "notes": format!("Ghi chú {MARKER}"),
        }),
    )
    .expect(201);
    let jpeg = doi178_tests::jpeg(90);
    s.request(
        Method::PUT,
        &format!("/api/v1/photos/{photo_id}"),
        leader.token(),
        &[
            ("Content-Type", "image/jpeg"),
            ("Content-Digest", &doi178_tests::content_digest(&jpeg)),
        ],
        Some(jpeg),
    );
    assert!(
        s.get(&format!("/api/v1/photos/{photo_id}"), leader.token())
            .status
            == 200,
        "the seeded photo was not stored"
    );
    let tip = created(s.post_json(
        "/api/v1/tips",
        leader.token(),
        &json!({
            "channel": "hotline",
            "received_at": now.to_rfc3339(),
            "content": format!("Tin báo {MARKER}: có dấu hiệu vi phạm"),
            "unit": commune,
            "establishment_id": est_id,
            "reporter_contact": format!("{MARKER} 0988"),
            "deadline": null,
        }),
    ));
    let today = now.date_naive();
    let assignment = created(s.post_json(
        "/api/v1/assignments",
        leader.token(),
        &json!({
            "team_id": team_id,
            "kind": "unannounced",
            "window_start": today.to_string(),
            "window_end": (today + chrono::Duration::days(5)).to_string(),
            "establishment_ids": [est_id],
            "note": format!("Đột xuất {MARKER}"),
            "tip_id": null,
            "follow_up_of": null,
        }),
    ));
    Seeded {
        establishment: est_id,
        visit: visit_id,
        photo: photo_id,
        tip: str_of(&tip, "id"),
        assignment: str_of(&assignment, "id"),
    }
}

/// `complete`: every kind must have a record in Huế (outside Phú Xuân) and in Quảng Trị, where
/// outside samples come from (Phú Xuân only gives inside samples).
fn survey(s: &TestServer, admin: &Session, phu_xuan: &str, complete: bool) -> World {
    let mut unit_zone: BTreeMap<String, Zone> = BTreeMap::new();
    for (province, zone) in [(HUE, Zone::HueElsewhere), (QUANG_TRI, Zone::QuangTri)] {
        unit_zone.insert(province.to_string(), zone);
        let unit = s.get_ok(&format!("/api/v1/units/{province}"), admin);
        for c in unit["children"].as_array().unwrap() {
            unit_zone.insert(str_of(c, "id"), zone);
        }
    }
    unit_zone.insert(phu_xuan.to_string(), Zone::PhuXuan);
    let mut zones: BTreeMap<Zone, Records> = BTreeMap::new();
    let mut zone_of = BTreeMap::new();
    let mut add =
        |zones: &mut BTreeMap<Zone, Records>, zone: Zone, kind: &'static str, id: String| {
            zone_of.insert(id.clone(), zone);
            zones
                .entry(zone)
                .or_default()
                .entry(kind)
                .or_default()
                .push(id);
        };
    for (unit, zone) in &unit_zone {
        if unit != HUE && unit != QUANG_TRI {
            add(&mut zones, *zone, "unit", unit.clone());
        }
    }
    let mut est_zone = BTreeMap::new();
    for e in s.get_all_pages("/api/v1/establishments?limit=500", admin) {
        if let Some(z) = unit_zone.get(e["unit_id"].as_str().unwrap()) {
            est_zone.insert(str_of(&e, "id"), *z);
            add(&mut zones, *z, "establishment", str_of(&e, "id"));
        }
    }
    for v in s.get_all_pages("/api/v1/visits?limit=500", admin) {
        if let Some(z) = est_zone.get(v["establishment_id"].as_str().unwrap()) {
            add(&mut zones, *z, "visit", str_of(&v, "id"));
            for p in v["photo_ids"].as_array().unwrap() {
                add(&mut zones, *z, "photo", p.as_str().unwrap().to_string());
            }
        }
    }
    let mut team_zone = BTreeMap::new();
    for t in items(&s.get_ok("/api/v1/teams", admin)) {
        if let Some(z) = unit_zone.get(t["unit_id"].as_str().unwrap()) {
            team_zone.insert(str_of(&t, "id"), *z);
            add(&mut zones, *z, "team", str_of(&t, "id"));
        }
    }
    for a in items(&s.get_ok("/api/v1/assignments?limit=1000", admin)) {
        if let Some(z) = team_zone.get(a["team_id"].as_str().unwrap()) {
            add(&mut zones, *z, "assignment", str_of(&a, "id"));
        }
    }
    for t in items(&s.get_ok("/api/v1/tips?limit=1000", admin)) {
        if let Some(z) = unit_zone.get(t["unit_id"].as_str().unwrap()) {
            add(&mut zones, *z, "tip", str_of(&t, "id"));
        }
    }
    for u in items(&s.get_ok("/api/v1/users", admin)) {
        if let Some(z) = u["unit_id"].as_str().and_then(|u| unit_zone.get(u)) {
            add(&mut zones, *z, "user", str_of(&u, "id"));
        }
    }
    let zones_needed: &[Zone] = if complete {
        &[Zone::HueElsewhere, Zone::QuangTri]
    } else {
        &[]
    };
    for &zone in zones_needed {
        for kind in [
            "unit",
            "establishment",
            "visit",
            "photo",
            "team",
            "assignment",
            "tip",
            "user",
        ] {
            assert!(
                zones
                    .get(&zone)
                    .and_then(|r| r.get(kind))
                    .is_some_and(|v| !v.is_empty()),
                "the demo data has no {kind} in {zone:?}"
            );
        }
    }
    let programme = str_of(&items(&s.get_ok("/api/v1/programmes", admin))[0], "id");
    let template = str_of(
        &items(&s.get_ok("/api/v1/checklist-templates", admin))[0],
        "id",
    );
    World {
        zones,
        zone_of,
        programme,
        template,
    }
}

/// Name, role, leads a team, member of a team, zones covered (`None`: all).
type CallerSpec = (
    &'static str,
    Option<&'static str>,
    bool,
    bool,
    Option<Vec<Zone>>,
);

/// A caller of the matrix.
struct Caller {
    name: &'static str,
    /// `None` for anonymous.
    role: Option<&'static str>,
    leads_a_team: bool,
    in_a_team: bool,
    api: Option<Session>,
    web: Option<Browser>,
    /// Per kind: a record this caller sees (from their own lists, inside their zones).
    inside: BTreeMap<&'static str, String>,
    /// Per kind: a record outside their jurisdiction.
    outside: BTreeMap<&'static str, String>,
}

const STRONG_PASSWORD: &str = "Authz-matrix-Pw-2026!long";

/// The commune staff account the demo data lacks: provincial staff placed at Phú Xuân.
fn create_commune_staff(s: &TestServer, admin: &Session, phu_xuan: &str) -> Session {
    let r = s.post_json(
        "/api/v1/users",
        admin.token(),
        &json!({
            "username": "canbo.phuxuan",
            "display_name": "Cán bộ Phường Phú Xuân",
            "password": STRONG_PASSWORD,
            "role": "provincial_staff",
            "unit_id": phu_xuan,
        }),
    );
    r.expect(201);
    let v = s
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "canbo.phuxuan", "password": STRONG_PASSWORD}),
        )
        .ok_json();
    Session {
        username: "canbo.phuxuan".into(),
        access_token: str_of(&v, "access_token"),
        refresh_token: str_of(&v, "refresh_token"),
    }
}

/// What `who` lists of each kind, by id.
fn own_lists(s: &TestServer, who: &Session) -> BTreeMap<&'static str, Vec<String>> {
    let ids = |v: Vec<Value>| -> Vec<String> { v.iter().map(|x| str_of(x, "id")).collect() };
    let mut m = BTreeMap::new();
    m.insert(
        "establishment",
        ids(s.get_all_pages("/api/v1/establishments?limit=500", who)),
    );
    let visits = s.get_all_pages("/api/v1/visits?limit=500", who);
    let photos: Vec<String> = visits
        .iter()
        .flat_map(|v| v["photo_ids"].as_array().unwrap().clone())
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    m.insert("visit", ids(visits));
    m.insert("photo", photos);
    m.insert("team", ids(items(&s.get_ok("/api/v1/teams", who))));
    m.insert(
        "assignment",
        ids(items(&s.get_ok("/api/v1/assignments?limit=1000", who))),
    );
    m.insert("tip", ids(items(&s.get_ok("/api/v1/tips?limit=1000", who))));
    m.insert("user", ids(items(&s.get_ok("/api/v1/users", who))));
    // Units: the communes below the caller's own top units.
    let mut units = Vec::new();
    for top in items(&s.get_ok("/api/v1/units", who)) {
        units.push(str_of(&top, "id"));
        let detail = s.get_ok(&format!("/api/v1/units/{}", str_of(&top, "id")), who);
        units.extend(
            detail["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| str_of(c, "id")),
        );
    }
    m.insert("unit", units);
    m
}

/// Which sample a path parameter takes: the kind of record the path names.
fn kind_of(path: &str, param: &str) -> Option<&'static str> {
    if param == "user_id" {
        // A member to remove: never a real one, so that the matrix does not take a leader out of
        // their team halfway through.
        return Some("nobody");
    }
    if param != "id" {
        return None;
    }
    let before = &path[..path.find("{id}").unwrap()];
    let kinds = [
        ("/establishments/photos/", "photo"),
        ("/photos/", "photo"),
        ("/establishments/", "establishment"),
        ("/units/", "unit"),
        ("/teams/", "team"),
        ("/users/", "user"),
        ("/tips/", "tip"),
        ("/assignments/", "assignment"),
        ("/visits/", "visit"),
        ("/programmes/", "programme"),
        ("/checklist-templates/", "template"),
    ];
    kinds
        .iter()
        .find(|(suffix, _)| before.ends_with(suffix))
        .map(|(_, k)| *k)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Inside,
    Outside,
    Missing,
}

/// The concrete path of `route` for `case`, or `None` when the caller has no such record.
fn concrete_path(route: &RouteRule, world: &World, who: &Caller, case: Case) -> Option<String> {
    let mut out = String::new();
    let mut rest = route.path.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let param = rest[open + 1..close].split(':').next().unwrap();
        let value = match param {
            "lang" => "en".to_string(),
            "path" => "app.css".to_string(),
            "file" => "establishments.csv".to_string(),
            "action" => "release".to_string(),
            _ => {
                let kind = kind_of(&route.path, param).unwrap_or_else(|| {
                    panic!(
                        "{} {}: the matrix has no sample for the path parameter {{{param}}}; \
                         add one to concrete_path()",
                        route.method, route.path
                    )
                });
                match kind {
                    "nobody" => uuid::Uuid::new_v4().to_string(),
                    "programme" => world.programme.clone(),
                    "template" => world.template.clone(),
                    _ => match case {
                        Case::Inside => who.inside.get(kind)?.clone(),
                        Case::Outside => who.outside.get(kind)?.clone(),
                        Case::Missing if kind == "unit" => "2025:99999".to_string(),
                        Case::Missing => uuid::Uuid::new_v4().to_string(),
                    },
                }
            }
        };
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    // Required query parameters: the caller's own unit or team.
    if route.path.starts_with("/api/v1/coverage") {
        let unit = who.inside.get("unit").map_or(HUE, String::as_str);
        out.push_str(&format!("?unit={unit}"));
        if route.path.ends_with("/summary") {
            out.push_str("&from=2025-01-01&to=2026-12-31");
        }
    } else if route.path == "/api/v1/planner" {
        let team = who
            .inside
            .get("team")
            .cloned()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        out.push_str(&format!("?team={team}"));
    }
    Some(out)
}

fn call(s: &TestServer, route: &RouteRule, who: &Caller, path: &str, csrf: bool) -> Resp {
    let method = Method::from_bytes(route.method.as_bytes()).unwrap();
    let writes = method != Method::GET;
    if route.surface == "dashboard" {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(b) = &who.web {
            headers.push(("Cookie", &b.cookie));
            if csrf {
                headers.push(("X-CSRF-Token", &b.csrf));
            }
        }
        if writes {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        s.request(method, path, None, &headers, writes.then(Vec::new))
    } else {
        let token = who.api.as_ref().map(|a| a.access_token.as_str());
        if writes {
            s.send_json(method, path, token, &json!({}))
        } else {
            s.get(path, token)
        }
    }
}

/// What the rule says `who` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Anonymous on a signed-in API route.
    Unauthorized,
    /// Anonymous on a signed-in dashboard page: sent to the sign-in form.
    SignIn,
    Forbidden,
    Allowed,
}

fn expect(route: &RouteRule, who: &Caller) -> Expect {
    if route.who == "anyone" {
        return Expect::Allowed;
    }
    let Some(role) = who.role else {
        return if route.surface == "dashboard" {
            Expect::SignIn
        } else {
            Expect::Unauthorized
        };
    };
    let allowed = match route.who.as_str() {
        "signed_in" => true,
        "roles" => route.roles.iter().any(|r| r == role),
        "leadership" => who.leads_a_team,
        "team_member" => who.in_a_team,
        other => panic!("unknown rule {other} on {} {}", route.method, route.path),
    };
    if allowed {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// The body with the id replaced, to compare the answers for two different ids.
fn normalized(resp: &Resp, id_path: &str) -> String {
    let mut text = resp.text();
    for seg in id_path.split('/') {
        if seg.len() >= 8 {
            text = text.replace(seg, "<id>");
        }
    }
    text
}

fn check(
    failures: &mut Vec<String>,
    route: &RouteRule,
    who: &Caller,
    case: Case,
    resp: &Resp,
    want: Expect,
) {
    let status = resp.status;
    let ok = match want {
        Expect::Unauthorized => status == 401,
        Expect::SignIn => {
            status == 303
                && resp
                    .headers
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .is_some_and(|l| l.starts_with("/?next="))
        }
        Expect::Forbidden => status == 403,
        Expect::Allowed => {
            let reads = route.method == "GET";
            match case {
                // The leader's chain is per team: a leader may be refused a record of a team
                // they do not lead even inside their jurisdiction.
                Case::Inside if route.who == "leadership" => {
                    !matches!(status, 401 | 404) && status < 500
                }
                Case::Inside if reads => (200..400).contains(&status),
                // Removing a member who is not one: the team is found, the member is not.
                Case::Inside if route.path.contains("{user_id}") => {
                    !matches!(status, 401 | 403) && status < 500
                }
                Case::Inside => !matches!(status, 401 | 403 | 404) && status < 500,
                // Outside and missing are compared with each other below.
                Case::Outside | Case::Missing if route.scoped && reads => status == 404,
                Case::Outside | Case::Missing => status != 401 && status < 500,
            }
        }
    };
    if !ok {
        failures.push(format!(
            "{} {} as {} ({case:?}): expected {want:?} by the rule {}{}, got {}: {}",
            route.method,
            resp.path,
            who.name,
            route.who,
            if route.roles.is_empty() {
                String::new()
            } else {
                format!("({})", route.roles.join(","))
            },
            status,
            resp.text().chars().take(300).collect::<String>()
        ));
    }
}

fn callers(s: &TestServer, world: &World, admin: Session, phu_xuan: &str) -> Vec<Caller> {
    let commune_staff = create_commune_staff(s, &admin, phu_xuan);
    let hue = vec![Zone::PhuXuan, Zone::HueElsewhere];
    let specs: Vec<CallerSpec> = vec![
        ("anonymous", None, false, false, Some(vec![])),
        ("admin", Some("admin"), false, false, None),
        (
            "tinh.hue",
            Some("provincial_staff"),
            false,
            false,
            Some(hue.clone()),
        ),
        (
            "canbo.phuxuan",
            Some("provincial_staff"),
            false,
            false,
            Some(vec![Zone::PhuXuan]),
        ),
        (
            "doitruong.hue",
            Some("team_leader"),
            true,
            true,
            Some(hue.clone()),
        ),
        ("kiemtra.hue", Some("inspector"), false, true, Some(hue)),
        (
            "doitruong.phuxuan",
            Some("team_leader"),
            true,
            true,
            Some(vec![Zone::PhuXuan]),
        ),
        (
            "tinh.quangtri",
            Some("provincial_staff"),
            false,
            false,
            Some(vec![Zone::QuangTri]),
        ),
        (
            "doitruong.quangtri",
            Some("team_leader"),
            true,
            true,
            Some(vec![Zone::QuangTri]),
        ),
    ];
    let mut out = Vec::new();
    for (name, role, leads, member, zones) in specs {
        let (api, web) = match name {
            "anonymous" => (None, None),
            "admin" => (
                Some(admin.clone()),
                Some(s.sign_in_browser(name, DEMO_PASSWORD)),
            ),
            "canbo.phuxuan" => (
                Some(commune_staff.clone()),
                Some(s.sign_in_browser(name, STRONG_PASSWORD)),
            ),
            _ => (
                Some(s.login(name)),
                Some(s.sign_in_browser(name, DEMO_PASSWORD)),
            ),
        };
        let mut inside = BTreeMap::new();
        let mut outside = BTreeMap::new();
        if let Some(session) = &api {
            let zone_ok = |id: &String| match (&zones, world.zone_of.get(id)) {
                (None, Some(_)) => true,
                (Some(zs), Some(z)) => zs.contains(z),
                _ => false,
            };
            for (kind, ids) in own_lists(s, session) {
                if let Some(id) = ids.iter().find(|id| zone_ok(id)) {
                    inside.insert(kind, id.clone());
                }
            }
            if let Some(zs) = &zones {
                // Outside: the nearest zone the caller does not cover.
                let other = [Zone::HueElsewhere, Zone::QuangTri, Zone::PhuXuan]
                    .into_iter()
                    .find(|z| !zs.contains(z))
                    .unwrap();
                for (kind, ids) in &world.zones[&other] {
                    outside.insert(*kind, ids[0].clone());
                }
            }
        } else {
            // Anonymous: any real record.
            for (kind, ids) in &world.zones[&Zone::HueElsewhere] {
                inside.insert(*kind, ids[0].clone());
            }
        }
        out.push(Caller {
            name,
            role,
            leads_a_team: leads,
            in_a_team: member,
            api,
            web,
            inside,
            outside,
        });
    }
    out
}

/// Routes that end the caller's session go last, so the rest of the matrix keeps its sessions.
fn ends_session(route: &RouteRule) -> bool {
    route.path.ends_with("/logout")
}

#[test]
fn every_route_answers_every_caller_as_its_rule_says() {
    let table = route_table();
    assert!(table.len() > 60, "the route table is suspiciously short");
    let s = TestServer::start();
    let admin = s.login("admin");
    let phu_xuan = str_of(
        &items(&s.get_ok("/api/v1/teams", &s.login("doitruong.phuxuan")))[0],
        "unit_id",
    );
    seed_quang_tri(&s);
    let world = survey(&s, &admin, &phu_xuan, true);
    let callers = callers(&s, &world, admin, &phu_xuan);

    let mut routes: Vec<&RouteRule> = table.iter().collect();
    // Reads first, then writes, then sign-outs: a write in the matrix may change what later
    // requests see, never the reverse.
    routes.sort_by_key(|r| (ends_session(r), r.method != "GET"));

    let mut failures = Vec::new();
    let mut checked = 0usize;
    let mut skipped_inside: BTreeSet<String> = BTreeSet::new();
    for route in routes {
        for who in &callers {
            if route.who == "anyone" && who.role.is_some() && route.method != "GET" {
                // A public write (sign-in forms) is checked once, anonymously.
                continue;
            }
            // Anti-forgery: every signed-in dashboard POST without its token is refused.
            if route.surface == "dashboard"
                && route.method != "GET"
                && route.who != "anyone"
                && who.web.is_some()
            {
                let path = concrete_path(route, &world, who, Case::Missing).unwrap();
                let resp = call(&s, route, who, &path, false);
                checked += 1;
                if resp.status != 403 {
                    failures.push(format!(
                        "{} {path} as {} without the anti-forgery token: expected 403, got {}",
                        route.method, who.name, resp.status
                    ));
                }
            }
            let want = expect(route, who);
            let has_id = route.path.contains('{');
            let cases: &[Case] = if route.scoped && who.role.is_some() {
                &[Case::Inside, Case::Outside, Case::Missing]
            } else {
                &[Case::Inside]
            };
            let mut answers: BTreeMap<&str, (String, u16, String)> = BTreeMap::new();
            for &case in cases {
                let Some(path) = concrete_path(route, &world, who, case) else {
                    skipped_inside.insert(format!(
                        "{} {} as {} ({case:?})",
                        route.method, route.path, who.name
                    ));
                    continue;
                };
                let resp = call(&s, route, who, &path, true);
                checked += 1;
                check(&mut failures, route, who, case, &resp, want);
                if has_id && case != Case::Inside {
                    answers.insert(
                        if case == Case::Outside {
                            "outside"
                        } else {
                            "missing"
                        },
                        (path.clone(), resp.status, normalized(&resp, &path)),
                    );
                }
            }
            if let (Some(o), Some(m)) = (answers.get("outside"), answers.get("missing")) {
                if (o.1, &o.2) != (m.1, &m.2) {
                    failures.push(format!(
                        "{} {} as {}: a record outside the jurisdiction ({}) answers {} {} \
                         but an id that does not exist ({}) answers {} {}",
                        route.method, route.path, who.name, o.0, o.1, o.2, m.0, m.1, m.2
                    ));
                }
            }
        }
    }
    eprintln!(
        "authorisation matrix on {}: {checked} requests over {} routes and {} callers; no \
         record of the kind for {} combinations: {:?}",
        doi178_tests::backend_name(),
        table.len(),
        callers.len(),
        skipped_inside.len(),
        skipped_inside
    );
    assert!(
        failures.is_empty(),
        "{} answers break their rule:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The text of every sheet of an XLSX workbook.
fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
            .expect("a readable XLSX workbook");
    let mut out = String::new();
    for (_, range) in book.worksheets() {
        for row in range.rows() {
            for cell in row {
                out.push_str(&cell.to_string());
                out.push('\t');
            }
            out.push('\n');
        }
    }
    out
}

/// Everything a caller can read through lists, search, counts, map data, exports, reports,
/// planner and sync: (what, body as text). `unit` and `province` are units to ask about.
fn everything_seen(s: &TestServer, who: &Caller, foreign_unit: &str) -> Vec<(String, String)> {
    let api = who.api.as_ref().unwrap();
    let web = who.web.as_ref().unwrap();
    let mut seen = Vec::new();
    let api_get = |path: String, seen: &mut Vec<(String, String)>| {
        let r = s.get(&path, api.token());
        assert!(r.status < 500);
        seen.push((format!("GET {path} -> {}", r.status), r.text()));
    };
    // The seeded establishment's name without the marker, so that an echo of the query is no leak.
    let q = urlencode("Bí Mật");
    let home = who.inside.get("unit").map_or(HUE, String::as_str);
    let province = HUE;
    let team = who.inside.get("team").map_or("", String::as_str);
    for path in [
        "/api/v1/establishments?limit=500".to_string(),
        format!("/api/v1/establishments?q={q}"),
        format!("/api/v1/establishments?unit={foreign_unit}"),
        "/api/v1/visits?limit=500".to_string(),
        "/api/v1/tips?limit=1000".to_string(),
        "/api/v1/assignments?limit=1000".to_string(),
        "/api/v1/teams".to_string(),
        "/api/v1/users".to_string(),
        format!("/api/v1/units?q={}", urlencode(MARKER)),
        "/api/v1/units".to_string(),
        format!("/api/v1/coverage?unit={home}"),
        format!("/api/v1/coverage?unit={foreign_unit}"),
        format!("/api/v1/coverage?unit={province}"),
        "/api/v1/coverage?unit=VN".to_string(),
        format!("/api/v1/coverage/series?unit={home}"),
        format!("/api/v1/coverage/series?unit={province}"),
        format!("/api/v1/coverage/never-inspected?unit={home}&limit=500"),
        format!("/api/v1/coverage/never-inspected?unit={province}&limit=500"),
        format!("/api/v1/coverage/follow-ups?unit={home}"),
        format!("/api/v1/coverage/follow-ups?unit={province}"),
        format!("/api/v1/coverage/summary?unit={home}&from=2025-01-01&to=2026-12-31"),
        format!("/api/v1/coverage/summary?unit={province}&from=2025-01-01&to=2026-12-31"),
        format!("/api/v1/coverage/summary?unit={foreign_unit}&from=2025-01-01&to=2026-12-31"),
        format!("/api/v1/planner?team={team}"),
        "/api/v1/agencies".to_string(),
    ] {
        api_get(path, &mut seen);
    }
    // Sync: every page.
    let mut cursor = String::new();
    for _ in 0..200 {
        let path = if cursor.is_empty() {
            "/api/v1/sync".to_string()
        } else {
            format!("/api/v1/sync?cursor={}", urlencode(&cursor))
        };
        let r = s.get(&path, api.token());
        let text = r.text();
        seen.push((format!("GET {path} -> {}", r.status), text));
        if r.status != 200 {
            break;
        }
        let v = r.json();
        if v["has_more"] != json!(true) {
            break;
        }
        cursor = v["cursor"].as_str().unwrap().to_string();
    }
    // The dashboard, with its map data, exports and reports.
    for path in [
        "/".to_string(),
        "/map".to_string(),
        "/map/coverage.json".to_string(),
        "/map/markers.json".to_string(),
        format!("/map/coverage.json?unit={province}"),
        format!("/map/markers.json?unit={province}"),
        format!("/coverage?unit={province}"),
        format!("/reports?unit={province}"),
        format!("/reports/report.xlsx?unit={province}"),
        format!("/reports/export/visits.csv?unit={province}"),
        format!("/map/coverage.json?unit={foreign_unit}"),
        format!("/map/markers.json?unit={foreign_unit}"),
        "/coverage".to_string(),
        format!("/coverage?unit={foreign_unit}"),
        "/establishments".to_string(),
        format!("/establishments?q={q}"),
        "/tips".to_string(),
        format!("/tips/establishments?q={q}"),
        "/reports".to_string(),
        format!("/reports?unit={foreign_unit}"),
        "/reports/report.xlsx".to_string(),
        "/reports/export/establishments.csv".to_string(),
        "/reports/export/visits.csv".to_string(),
        "/reports/export/establishments.xlsx".to_string(),
        "/reports/export/visits.xlsx".to_string(),
        format!("/reports/export/establishments.csv?unit={foreign_unit}"),
        "/leader".to_string(),
        "/leader/assignments".to_string(),
        "/leader/reviews".to_string(),
        "/inspector".to_string(),
    ] {
        let r = s.request(Method::GET, &path, None, &[("Cookie", &web.cookie)], None);
        assert!(r.status < 500);
        let text = if path.contains(".xlsx") && r.status == 200 {
            xlsx_text(&r.body)
        } else {
            r.text()
        };
        seen.push((format!("dashboard GET {path} -> {}", r.status), text));
    }
    seen
}

fn grep_leaks(who: &str, seen: &[(String, String)], needles: &[&str]) -> Vec<String> {
    let mut leaks = Vec::new();
    for (what, body) in seen {
        for needle in needles {
            if body.contains(needle) {
                let at = body.find(needle).unwrap();
                let from = body[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                leaks.push(format!(
                    "{who}: {what} shows {needle:?}: …{}…",
                    body[from..].chars().take(200).collect::<String>()
                ));
            }
        }
    }
    leaks
}

/// Outsiders (the staff, leaders and inspector of Huế and of its commune Phú Xuân) see nothing of
/// what was recorded in Quảng Trị: no name, id, count or figure through any list, search, count,
/// map data, export, report, planner, photo, sync or error message. Their answers before and after
/// Quảng Trị's records were made are the same.
#[test]
fn outsiders_learn_nothing_of_records_outside_their_jurisdiction() {
    let s = TestServer::start();
    let admin = s.login("admin");
    let phu_xuan = str_of(
        &items(&s.get_ok("/api/v1/teams", &s.login("doitruong.phuxuan")))[0],
        "unit_id",
    );
    let world = survey(&s, &admin, &phu_xuan, false);
    let all = callers(&s, &world, admin, &phu_xuan);
    let outsiders: Vec<&Caller> = all
        .iter()
        .filter(|c| {
            c.role.is_some() && !matches!(c.name, "admin" | "tinh.quangtri" | "doitruong.quangtri")
        })
        .collect();
    assert_eq!(outsiders.len(), 5);
    let before: Vec<Vec<(String, String)>> = outsiders
        .iter()
        .map(|c| everything_seen(&s, c, QUANG_TRI))
        .collect();

    let seeded = seed_quang_tri(&s);
    let needles = [
        MARKER,
        seeded.establishment.as_str(),
        seeded.visit.as_str(),
        seeded.photo.as_str(),
        seeded.tip.as_str(),
        seeded.assignment.as_str(),
    ];
    let mut leaks = Vec::new();
    for (who, earlier) in outsiders.iter().zip(&before) {
        let now = everything_seen(&s, who, QUANG_TRI);
        let answered = now.iter().filter(|(w, _)| w.ends_with("-> 200")).count();
        let statuses: Vec<&str> = now.iter().map(|(w, _)| w.as_str()).collect();
        assert!(
            answered >= 25,
            "{} got only {answered} answers to look through: {statuses:#?}",
            who.name
        );
        leaks.extend(grep_leaks(who.name, &now, &needles));
        // Counts, totals and figures do not move when another province records something.
        for ((what, a), (_, b)) in earlier.iter().zip(&now) {
            // The sync cursor is one global change counter; its pages are compared by content.
            if what.contains("/api/v1/sync") {
                continue;
            }
            // Forms offer the current minute as a default (the tip's reception time): a minute
            // boundary between the two reads is not a leak.
            let (a, b) = (&without_clock(a), &without_clock(b));
            if a != b {
                let at = a
                    .char_indices()
                    .zip(b.chars())
                    .find(|((_, x), y)| x != y)
                    .map_or(a.len().min(b.len()), |((i, _), _)| i);
                let from = a[..at].char_indices().rev().nth(80).map_or(0, |(i, _)| i);
                leaks.push(format!(
                    "{}: {what} changed after Quảng Trị recorded something: …{}… became …{}…",
                    who.name,
                    a[from..].chars().take(200).collect::<String>(),
                    b[from.min(b.len())..].chars().take(200).collect::<String>(),
                ));
            }
        }
        // The seeded records by id: exactly the answer of an id that does not exist.
        let api = who.api.as_ref().unwrap();
        for (path, id) in [
            ("/api/v1/establishments/", &seeded.establishment),
            ("/api/v1/visits/", &seeded.visit),
            ("/api/v1/photos/", &seeded.photo),
            ("/api/v1/tips/", &seeded.tip),
            ("/api/v1/assignments/", &seeded.assignment),
        ] {
            let got = s.get(&format!("{path}{id}"), api.token());
            let missing = uuid::Uuid::new_v4().to_string();
            let none = s.get(&format!("{path}{missing}"), api.token());
            assert_eq!(
                got.status,
                404,
                "{} GET {path}{id}: {}",
                who.name,
                got.text()
            );
            assert_eq!(
                got.text().replace(id.as_str(), "<id>"),
                none.text().replace(&missing, "<id>"),
                "{}: {path}: an id outside answers differently from one that does not exist",
                who.name
            );
        }
        let thumb = s.get(
            &format!("/api/v1/photos/{}/thumbnail", seeded.photo),
            api.token(),
        );
        assert_eq!(
            thumb.status,
            404,
            "{}: thumbnail {}",
            who.name,
            thumb.text()
        );
        let web = who.web.as_ref().unwrap();
        for path in [
            format!("/establishments/{}", seeded.establishment),
            format!("/establishments/photos/{}", seeded.photo),
            format!("/establishments/photos/{}/thumbnail", seeded.photo),
        ] {
            let r = s.request(Method::GET, &path, None, &[("Cookie", &web.cookie)], None);
            assert_eq!(
                r.status,
                404,
                "{}: dashboard {path}: {}",
                who.name,
                r.text()
            );
            leaks.extend(grep_leaks(who.name, &[(path.clone(), r.text())], &[MARKER]));
        }
    }
    // The markers are there to be found: Quảng Trị's own staff find them.
    let qt = all.iter().find(|c| c.name == "tinh.quangtri").unwrap();
    let qt_seen = everything_seen(&s, qt, QUANG_TRI);
    assert!(
        qt_seen.iter().any(|(_, b)| b.contains(MARKER)),
        "Quảng Trị's staff do not see the seeded records either: the leak check proves nothing"
    );
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

/// An unannounced assignment in draft is the leader's chain's secret: the team's inspectors do not
/// get it through sync, lists, counts or by id until it is released; then they do.
#[test]
fn a_draft_unannounced_assignment_is_invisible_to_inspectors_until_released() {
    let s = TestServer::start();
    let leader = s.login("doitruong.hue");
    let inspector = s.login("kiemtra.hue");
    let inspector_web = s.sign_in_browser("kiemtra.hue", DEMO_PASSWORD);
    // The province's staff are outside the leader's chain too: an unannounced inspection is
    // nobody else's business before it is over.
    let staff = s.login("tinh.hue");
    let staff_web = s.sign_in_browser("tinh.hue", DEMO_PASSWORD);
    let team = items(&s.get_ok("/api/v1/teams", &inspector))
        .into_iter()
        .find(|t| {
            t["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["role"] == "leader" && m["username"] == "doitruong.hue")
        })
        .or_else(|| {
            items(&s.get_ok("/api/v1/teams", &leader))
                .into_iter()
                .next()
        })
        .unwrap();
    let team_id = str_of(&team, "id");
    let est = &s.get_ok("/api/v1/establishments?limit=5", &leader)["items"][0];
    let note = format!("Kiểm tra đột xuất {MARKER}-DRAFT");

    let view = |s: &TestServer| -> Vec<(String, String)> {
        let mut out = Vec::new();
        let est_id = est["id"].as_str().unwrap();
        let unit = est["unit_id"].as_str().unwrap();
        for path in [
            "/api/v1/assignments?limit=1000".to_string(),
            format!("/api/v1/coverage/summary?unit={unit}&from=2025-01-01&to=2030-12-31"),
            "/api/v1/establishments?limit=500".to_string(),
            format!("/api/v1/establishments/{est_id}"),
        ] {
            for who in [&inspector, &staff] {
                let r = s.get(&path, who.token());
                assert_eq!(r.status, 200, "{path}: {}", r.text());
                out.push((format!("{} {path}", who.username), r.text()));
            }
        }
        let mut sync = String::new();
        let mut cursor = String::new();
        for _ in 0..200 {
            let path = if cursor.is_empty() {
                "/api/v1/sync".to_string()
            } else {
                format!("/api/v1/sync?cursor={}", urlencode(&cursor))
            };
            let v = s.get_ok(&path, &inspector);
            sync.push_str(&v["assignments"].to_string());
            sync.push_str(&v["establishments"].to_string());
            if v["has_more"] != json!(true) {
                break;
            }
            cursor = v["cursor"].as_str().unwrap().to_string();
        }
        out.push(("/api/v1/sync".to_string(), sync));
        for (who, path) in [
            (&inspector_web, "/inspector".to_string()),
            (&inspector_web, format!("/establishments/{est_id}")),
            (&staff_web, format!("/establishments/{est_id}")),
            (&staff_web, "/tips".to_string()),
        ] {
            let page = s.request(Method::GET, &path, None, &[("Cookie", &who.cookie)], None);
            assert_eq!(page.status, 200, "{path}");
            out.push((path, page.text()));
        }
        out
    };
    let before = view(&s);
    let today = chrono::Utc::now().date_naive();
    let draft = created(s.post_json(
        "/api/v1/assignments",
        leader.token(),
        &json!({
            "team_id": team_id,
            "kind": "unannounced",
            "window_start": today.to_string(),
            "window_end": (today + chrono::Duration::days(3)).to_string(),
            "establishment_ids": [est["id"]],
            "note": note,
            "tip_id": null,
            "follow_up_of": null,
        }),
    ));
    let id = str_of(&draft, "id");
    assert_eq!(draft["status"], "draft");
    let during = view(&s);
    for ((what, a), (_, b)) in before.iter().zip(&during) {
        assert!(
            !b.contains(MARKER) && !b.contains(&id),
            "the inspector sees the draft through {what}"
        );
        // Pages carry nothing that changes by itself; the JSON answers must be identical.
        if what.contains("/api/") {
            assert_eq!(a, b, "{what} changed when a draft was made");
        }
    }
    let by_id = s.get(&format!("/api/v1/assignments/{id}"), inspector.token());
    let missing = uuid::Uuid::new_v4().to_string();
    let none = s.get(&format!("/api/v1/assignments/{missing}"), inspector.token());
    assert_eq!(by_id.status, 404, "{}", by_id.text());
    assert_eq!(
        by_id.text().replace(&id, "<id>"),
        none.text().replace(&missing, "<id>")
    );

    s.request(
        Method::POST,
        &format!("/api/v1/assignments/{id}/release"),
        leader.token(),
        &[],
        None,
    )
    .expect(200);
    let after = view(&s);
    let listed = &after[0].1;
    assert!(after[0].0.starts_with("kiemtra.hue"));
    assert!(
        listed.contains(&id),
        "the released assignment is not listed for the inspector"
    );
    let synced = &after.iter().find(|(w, _)| w == "/api/v1/sync").unwrap().1;
    assert!(
        synced.contains(&id),
        "the released assignment is not synced to the inspector"
    );
    assert!(
        !after[1].1.contains(&id),
        "the province's staff see an unannounced assignment before it is over"
    );
    s.get(&format!("/api/v1/assignments/{id}"), inspector.token())
        .expect(200);
}

/// Masks `value="dd/mm/yyyy hh:mm"` (the tip form's default time of receipt, the current minute).
fn without_clock(body: &str) -> String {
    const PREFIX: &str = "value=\"";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find(PREFIX) {
        let (head, tail) = rest.split_at(i + PREFIX.len());
        out.push_str(head);
        let candidate = tail.get(..16).unwrap_or("");
        let is_minute = candidate.len() == 16
            && candidate.bytes().enumerate().all(|(k, c)| match k {
                2 | 5 => c == b'/',
                10 => c == b' ',
                13 => c == b':',
                _ => c.is_ascii_digit(),
            });
        if is_minute {
            out.push_str("<minute>");
            rest = &tail[16..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}
