//! Tests of the demo generator: determinism, geometry, accounts, coverage of types.

#![allow(clippy::unwrap_used)]

use doi178_shared::unit::UnitLevel;
use std::collections::BTreeSet;

use diesel::prelude::*;

use super::establishments::{quang_tri_count, Generator, Sites};
use super::geo::Shapes;
use super::kinds::Kind;
use super::*;
use crate::db::schema::{
    assignments, establishments, inspection_days, programmes, team_members, teams, users,
    visit_revisions, visits,
};

fn sites(seed: u64) -> Sites {
    let shapes = Shapes::load().unwrap();
    let units = crate::service::reference::units_2025().unwrap();
    Sites::load(seed, shapes, &units).unwrap()
}

#[test]
fn units_cover_the_country() {
    let rows = crate::service::reference::units_2025().unwrap();
    let provinces = rows
        .iter()
        .filter(|u| u.level == UnitLevel::Province)
        .count();
    let communes = rows
        .iter()
        .filter(|u| u.level == UnitLevel::Commune)
        .count();
    assert_eq!((provinces, communes), (34, 3321));
    let hue = rows
        .iter()
        .filter(|u| u.parent_id.as_deref() == Some("2025:46"))
        .count();
    assert_eq!(hue, 40);
}

#[test]
fn same_seed_same_establishments() {
    let s = sites(178);
    let take = |seed: u64| {
        let mut g = Generator::new(seed, &s, 300);
        std::iter::from_fn(|| g.next_row().map(|(row, _)| row)).collect::<Vec<_>>()
    };
    let a = take(178);
    let b = take(178);
    assert_eq!(a.len(), 300 + quang_tri_count(300));
    assert_eq!(a, b);
    let c = take(179);
    assert_ne!(a[10].id, c[10].id);
}

#[test]
fn establishments_lie_inside_their_commune() {
    let s = sites(178);
    let mut g = Generator::new(178, &s, 2000);
    let mut hue = 0;
    let mut kinds = BTreeSet::new();
    while let Some((row, est)) = g.next_row() {
        let site = s.get(usize::from(est.site));
        assert_eq!(row.unit_id, site.unit_id);
        let (lat, lon) = (row.lat.unwrap(), row.lon.unwrap());
        assert!(
            site.shape.contains(lon, lat),
            "{} at {lat},{lon} is outside {}",
            row.name,
            site.full_name
        );
        assert!(row.address.ends_with(&site.full_name));
        if site.province == people::HUE {
            hue += 1;
            kinds.insert(row.establishment_type);
        }
    }
    assert_eq!(hue, 2000);
    assert_eq!(kinds.len(), Kind::ALL.len());
}

struct NoStore;
impl PhotoStore for NoStore {
    fn put(&self, _: Uuid, _: crate::storage::Variant, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn get(&self, _: Uuid, _: crate::storage::Variant) -> std::io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

#[test]
fn generates_a_small_demo_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("demo.sqlite").to_str().unwrap(), 4).unwrap();
    db.migrate().unwrap();
    let store = crate::storage::LocalDirStore::new(&dir.path().join("photos")).unwrap();
    let args = DemoArgs {
        establishments: 200,
        visits: 300,
        seed: 178,
    };
    let hash = crate::auth::passwords::hash_password(DEMO_PASSWORD).unwrap();
    let summary = generate_with_hash(&db, &store, &args, &hash).unwrap();
    assert_eq!(summary.invalid_visits, 0);
    assert_eq!(summary.visits, 300);
    assert!(summary.photos > 0);
    let mut c = db.conn().unwrap();

    // Accounts and roles.
    for (login, role, unit) in [
        ("admin", "admin", None),
        ("tinh.hue", "provincial_staff", Some("2025:46")),
        ("doitruong.hue", "team_leader", Some("2025:46")),
        ("kiemtra.hue", "inspector", Some("2025:46")),
        ("tinh.quangtri", "provincial_staff", Some("2025:44")),
    ] {
        let (r, u): (String, Option<String>) = users::table
            .filter(users::username.eq(login))
            .select((users::role, users::unit_id))
            .first(&mut *c)
            .unwrap();
        assert_eq!((r.as_str(), u.as_deref()), (role, unit), "{login}");
    }
    for (login, _) in DEMO_ACCOUNTS {
        let n: i64 = users::table
            .filter(users::username.eq(login))
            .count()
            .get_result(&mut *c)
            .unwrap();
        assert_eq!(n, 1, "{login}");
    }
    // The leader's team: provincial, at least three members, with the inspector.
    let (team, level): (String, String) = team_members::table
        .inner_join(teams::table)
        .inner_join(users::table)
        .filter(users::username.eq("doitruong.hue"))
        .filter(team_members::role.eq("leader"))
        .select((teams::id, teams::level))
        .first(&mut *c)
        .unwrap();
    assert_eq!(level, "province");
    let members: Vec<String> = team_members::table
        .inner_join(users::table)
        .filter(team_members::team_id.eq(&team))
        .select(users::username)
        .load(&mut *c)
        .unwrap();
    assert!(members.len() >= 3 && members.contains(&"kiemtra.hue".to_string()));
    let statuses: Vec<(String, String)> = assignments::table
        .filter(assignments::team_id.eq(&team))
        .select((assignments::kind, assignments::status))
        .load(&mut *c)
        .unwrap();
    assert!(statuses.iter().any(|(_, s)| s == "released"));
    assert!(statuses
        .iter()
        .any(|(k, s)| k == "unannounced" && s == "draft"));
    let all: Vec<(String, String)> = assignments::table
        .select((assignments::kind, assignments::status))
        .load(&mut *c)
        .unwrap();
    for s in ["draft", "released", "done", "cancelled"] {
        assert!(all.iter().any(|(_, x)| x == s), "no {s} assignment");
    }
    for k in ["planned", "unannounced", "follow_up", "tip"] {
        assert!(all.iter().any(|(x, _)| x == k), "no {k} assignment");
    }

    // Establishments of every type in Huế, some in Quảng Trị.
    let types: Vec<String> = establishments::table
        .filter(establishments::unit_id.like("2025:%"))
        .select(establishments::establishment_type)
        .distinct()
        .load(&mut *c)
        .unwrap();
    assert_eq!(types.len(), Kind::ALL.len());
    let total: i64 = establishments::table.count().get_result(&mut *c).unwrap();
    assert_eq!(total as usize, 200 + quang_tri_count(200));

    // Visits have their first revision with the same body and digest, and distinct seqs.
    let v: Vec<(String, String, i64)> = visits::table
        .select((visits::body, visits::digest, visits::seq))
        .load(&mut *c)
        .unwrap();
    let r: Vec<(String, String)> = visit_revisions::table
        .filter(visit_revisions::revision.eq(1))
        .select((visit_revisions::body, visit_revisions::digest))
        .load(&mut *c)
        .unwrap();
    assert_eq!(v.len(), r.len());
    let seqs: BTreeSet<i64> = v.iter().map(|x| x.2).collect();
    assert_eq!(seqs.len(), v.len());
    let (body, digest, _) = &v[0];
    let input: doi178_shared::visit::VisitInput = serde_json::from_str(body).unwrap();
    let record = doi178_shared::visit::VisitRecord::parse(input, chrono::Utc::now()).unwrap();
    assert_eq!(&record.digest(), digest);

    // Coverage: the programmes count the default outcomes, and the inspection days filled in
    // bulk by SQL are exactly what the per-establishment refresh (run on every visit write)
    // computes from the visits.
    let counted: Vec<String> = programmes::table
        .select(programmes::counted_outcomes)
        .load(&mut *c)
        .unwrap();
    for json in &counted {
        assert_eq!(json, r#"["no_violation","violations_found"]"#);
    }
    let days = |c: &mut crate::db::AnyConnection| -> Vec<(String, chrono::NaiveDate, i32)> {
        inspection_days::table
            .select((
                inspection_days::establishment_id,
                inspection_days::day,
                inspection_days::visits,
            ))
            .order((inspection_days::establishment_id, inspection_days::day))
            .load(c)
            .unwrap()
    };
    let bulk = days(&mut c);
    assert!(!bulk.is_empty());
    let counted_outcomes = doi178_shared::coverage::DEFAULT_COUNTED_OUTCOMES;
    let ids: Vec<String> = establishments::table
        .select(establishments::id)
        .load(&mut *c)
        .unwrap();
    for id in &ids {
        crate::db::coverage::refresh_establishment(&mut c, id, counted_outcomes).unwrap();
    }
    assert_eq!(days(&mut c), bulk);
    // A rejected visit stops counting; a not-operating one never counted.
    let (visit, est): (String, String) = visits::table
        .filter(visits::outcome.eq("no_violation"))
        .select((visits::id, visits::establishment_id))
        .first(&mut *c)
        .unwrap();
    let before = bulk.iter().filter(|d| d.0 == est).map(|d| d.2).sum::<i32>();
    diesel::update(visits::table.filter(visits::id.eq(&visit)))
        .set(visits::review_status.eq("rejected"))
        .execute(&mut *c)
        .unwrap();
    crate::db::coverage::refresh_establishment(&mut c, &est, counted_outcomes).unwrap();
    let after = days(&mut c)
        .iter()
        .filter(|d| d.0 == est)
        .map(|d| d.2)
        .sum::<i32>();
    assert_eq!(after, before - 1);
    crate::db::coverage::refresh_establishment(&mut c, &est, &[]).unwrap();
    assert!(days(&mut c).iter().all(|d| d.0 != est));

    // Loading again is a no-op.
    drop(c);
    ensure_loaded(&db, &NoStore, &args).unwrap();
}

/// Every window the coverage API asks for, counted through the rollup, equals the exact count
/// over the establishments; also after the writes that move establishments between rollup
/// groups (another commune, another type), close them mid-year, and reject a visit.
#[test]
fn coverage_rollup_equals_the_exact_count() {
    use crate::db::coverage::{exact_tallies, refresh_rollup_groups, tallies, Area, Window};
    use chrono::{Datelike, NaiveDate};
    use doi178_shared::establishment::EstablishmentType;

    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("demo.sqlite").to_str().unwrap(), 2).unwrap();
    db.migrate().unwrap();
    let args = DemoArgs {
        establishments: 300,
        visits: 900,
        seed: 7,
    };
    let hash = crate::auth::passwords::hash_password(DEMO_PASSWORD).unwrap();
    generate_with_hash(&db, &NoStore, &args, &hash).unwrap();
    let mut c = db.conn().unwrap();
    let types: Vec<EstablishmentType> = Kind::ALL.iter().map(|k| k.establishment_type()).collect();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let (start, _end) = programmes::table
        .select((programmes::period_start, programmes::period_end))
        .first::<(NaiveDate, NaiveDate)>(&mut *c)
        .unwrap();
    let mut windows = Vec::new();
    for as_of in [
        d(2025, 3, 31),
        d(2025, 12, 31),
        d(2026, 6, 30),
        d(2026, 11, 15),
        d(2026, 11, 18),
        d(2026, 12, 31),
        d(2027, 6, 1),
    ] {
        let jan1 = d(as_of.year(), 1, 1).max(start);
        windows.push(Window {
            operating_from: jan1,
            operating_to: as_of,
            inspected_from: jan1,
            inspected_to: as_of,
        });
        windows.push(Window {
            operating_from: as_of,
            operating_to: as_of,
            inspected_from: start,
            inspected_to: as_of,
        });
    }
    let areas = [
        Area::National,
        Area::Province("2025:46".into()),
        Area::Province("2025:44".into()),
    ];
    let check = |c: &mut crate::db::AnyConnection, what: &str| {
        let mut fast_used = 0;
        for w in &windows {
            for area in &areas {
                for ts in [types.clone(), types[..2].to_vec()] {
                    let fast = tallies(c, area, &ts, w).unwrap();
                    let exact = exact_tallies(c, area, &ts, w, None).unwrap();
                    assert_eq!(fast, exact, "{what}: {area:?} {w:?}");
                    if let Some((_, unsettled)) =
                        crate::db::coverage::rollup_tallies(c, area, &ts, w).unwrap()
                    {
                        if unsettled.is_empty() {
                            fast_used += 1;
                        }
                    }
                }
            }
        }
        // Windows ending after the last visit are answered by the rollup alone.
        assert!(fast_used > 0, "{what}: the rollup was never used");
    };
    check(&mut c, "after the bulk load");

    // Moves, type changes and closures, each followed by the refresh the routes run.
    let rows: Vec<(String, String, EstablishmentType)> = establishments::table
        .filter(establishments::unit_id.like("2025:%"))
        .order(establishments::id)
        .select((
            establishments::id,
            establishments::unit_id,
            establishments::establishment_type,
        ))
        .limit(40)
        .load(&mut *c)
        .unwrap();
    let other_unit = rows[0].1.clone();
    for (i, (id, unit, kind)) in rows.iter().enumerate() {
        let mut groups = BTreeSet::from([(unit.clone(), *kind)]);
        let target = establishments::table.filter(establishments::id.eq(id));
        match i % 4 {
            0 => {
                diesel::update(target)
                    .set(establishments::unit_id.eq(&other_unit))
                    .execute(&mut *c)
                    .unwrap();
                groups.insert((other_unit.clone(), *kind));
            }
            1 => {
                let new_kind = types[(i / 4) % types.len()];
                diesel::update(target)
                    .set(establishments::establishment_type.eq(new_kind))
                    .execute(&mut *c)
                    .unwrap();
                groups.insert((unit.clone(), new_kind));
            }
            2 => {
                diesel::update(target)
                    .set(establishments::closed_on.eq(Some(d(2026, 7, 1))))
                    .execute(&mut *c)
                    .unwrap();
            }
            _ => {
                diesel::update(target)
                    .set((
                        establishments::opened_on.eq(Some(d(2026, 2, 1))),
                        establishments::closed_on.eq(Some(d(2026, 12, 1))),
                    ))
                    .execute(&mut *c)
                    .unwrap();
            }
        }
        refresh_rollup_groups(&mut c, &groups).unwrap();
    }
    check(&mut c, "after moves, type changes and closures");

    // Rejected visits stop counting once their establishment is refreshed.
    let counted = doi178_shared::coverage::DEFAULT_COUNTED_OUTCOMES;
    let hit: Vec<(String, String)> = visits::table
        .filter(visits::outcome.eq("no_violation"))
        .order(visits::id)
        .select((visits::id, visits::establishment_id))
        .limit(30)
        .load(&mut *c)
        .unwrap();
    for (visit, est) in &hit {
        diesel::update(visits::table.filter(visits::id.eq(visit)))
            .set(visits::review_status.eq("rejected"))
            .execute(&mut *c)
            .unwrap();
        crate::db::coverage::refresh_establishment(&mut c, est, counted).unwrap();
    }
    check(&mut c, "after rejected visits");

    // A full rebuild gives the same rows as the incremental upkeep.
    let snapshot =
        |c: &mut crate::db::AnyConnection| -> Vec<(String, String, NaiveDate, i32, i32)> {
            use crate::db::schema::coverage_rollup as r;
            r::table
                .order((r::since, r::unit_id, r::establishment_type))
                .select((
                    r::unit_id,
                    r::establishment_type,
                    r::since,
                    r::open_since,
                    r::inspected_now,
                ))
                .load(c)
                .unwrap()
        };
    let incremental = snapshot(&mut c);
    crate::db::coverage::rebuild_rollup(&mut c).unwrap();
    assert_eq!(snapshot(&mut c), incremental);

    // So does the planner's per-establishment summary of the visits.
    let summary = |c: &mut crate::db::AnyConnection| -> Vec<(String, Option<NaiveDate>, i64)> {
        use crate::db::schema::establishment_visit_summary as v;
        v::table
            .order(v::establishment_id)
            .select((
                v::establishment_id,
                v::last_inspected_on,
                v::prior_violations,
            ))
            .load(c)
            .unwrap()
    };
    let incremental = summary(&mut c);
    assert!(incremental.iter().any(|r| r.2 > 0) && incremental.iter().any(|r| r.1.is_some()));
    crate::db::coverage::rebuild_visit_summary(&mut c).unwrap();
    assert_eq!(summary(&mut c), incremental);
}
