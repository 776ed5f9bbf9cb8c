//! The administrative units of the shipped code lists: the 2025 list (34 provinces, 3,321
//! communes; Decision 19/2025/QĐ-TTg) and the three-tier list in force until 30/06/2025
//! (63 provinces, 691 districts, 10,035 communes), with parent links and materialized paths
//! (`/2025:46/2025:19753/`, `/pre2025:46/pre2025:474/pre2025:19753/`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use chrono::NaiveDate;
use diesel::prelude::*;
use doi178_shared::text::{fold, unaccent};
use doi178_shared::unit::{UnitKind, UnitLevel};
use serde::Deserialize;

use super::data;
use crate::db::schema::admin_units;
use crate::db::units::UnitRow;
use crate::db::AnyConnection;

/// The code-list version of the list in force since 01/07/2025.
pub const CURRENT: &str = "2025";
/// The code-list version of the three-tier list in force until 30/06/2025.
pub const PRE_2025: &str = "pre2025";

pub fn unit_id(version: &str, code: &str) -> String {
    format!("{version}:{code}")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The day the 2025 list came into force.
pub fn reform_day() -> NaiveDate {
    date(2025, 7, 1)
}

#[derive(Debug, Deserialize)]
struct ProvinceRecord {
    province_code: String,
    name: String,
    full_name: String,
    name_en: String,
    unit_type: String,
}

#[derive(Debug, Deserialize)]
struct CommuneRecord {
    commune_code: String,
    name: String,
    full_name: String,
    name_en: String,
    unit_type: String,
    province_code: String,
}

#[derive(Debug, Deserialize)]
struct AreaRecord {
    code: String,
    area_km2: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct OldCommuneRecord {
    province_code: String,
    province_full_name: String,
    district_code: String,
    district_full_name: String,
    commune_code: String,
    commune_full_name: String,
    commune_name_en: String,
}

#[derive(Debug, Deserialize)]
struct LineageDistrict {
    old_code: String,
    old_district_code: String,
    old_district_full_name: String,
    old_province_code: String,
}

/// The kind of a unit from its `unit_type` or full name in the official list ("Tỉnh", "Phường",
/// "Huyện A Lưới", …).
fn kind_at(unit_type: &str, level: UnitLevel) -> anyhow::Result<UnitKind> {
    UnitKind::from_vietnamese_at_level(unit_type, level)
        .with_context(|| format!("unknown {level} unit type {unit_type:?}"))
}

/// The name without its unit type: "Huyện A Lưới" → "A Lưới", "Thành phố Huế" → "Huế".
pub(crate) fn short_name(full_name: &str) -> String {
    const TYPES: &[&str] = &[
        "Thành phố",
        "Thị trấn",
        "Thị xã",
        "Tỉnh",
        "Quận",
        "Huyện",
        "Xã",
        "Phường",
        "Đặc khu",
    ];
    let trimmed = full_name.trim();
    for t in TYPES {
        if let Some(rest) = trimmed.strip_prefix(t) {
            if let Some(rest) = rest.strip_prefix(' ') {
                return rest.trim().to_string();
            }
        }
    }
    trimmed.to_string()
}

/// All 34 provinces (first) and 3,321 communes of the 2025 code list.
pub fn units_2025() -> anyhow::Result<Vec<UnitRow>> {
    let valid_from = reform_day();
    let mut areas: BTreeMap<String, f64> = BTreeMap::new();
    for record in csv::Reader::from_reader(data::AREAS_2025_CSV.as_bytes()).deserialize() {
        let a: AreaRecord = record.context("areas of the 2025 units")?;
        if let Some(km2) = a.area_km2 {
            areas.insert(a.code, km2);
        }
    }

    let mut rows = Vec::with_capacity(3400);
    let mut reader = csv::Reader::from_reader(data::PROVINCES_2025_CSV.as_bytes());
    for record in reader.deserialize::<ProvinceRecord>() {
        let p = record.context("2025 province list")?;
        let id = unit_id(CURRENT, &p.province_code);
        rows.push(UnitRow {
            path: format!("/{id}/"),
            id,
            search_key: fold(&p.full_name),
            area_km2: areas.get(&p.province_code).copied(),
            kind: kind_at(&p.unit_type, UnitLevel::Province)?,
            code: p.province_code,
            code_version: CURRENT.to_string(),
            name: p.name,
            full_name: p.full_name,
            name_en: p.name_en,
            level: UnitLevel::Province,
            parent_id: None,
            valid_from,
            valid_to: None,
        });
    }
    let provinces: BTreeSet<String> = rows.iter().map(|p| p.id.clone()).collect();

    let mut reader = csv::Reader::from_reader(data::COMMUNES_2025_CSV.as_bytes());
    for record in reader.deserialize::<CommuneRecord>() {
        let c = record.context("2025 commune list")?;
        let parent = unit_id(CURRENT, &c.province_code);
        anyhow::ensure!(
            provinces.contains(&parent),
            "commune {} has unknown province {}",
            c.commune_code,
            c.province_code
        );
        let id = unit_id(CURRENT, &c.commune_code);
        rows.push(UnitRow {
            path: format!("/{parent}/{id}/"),
            id,
            search_key: fold(&c.full_name),
            area_km2: areas.get(&c.commune_code).copied(),
            kind: kind_at(&c.unit_type, UnitLevel::Commune)?,
            code: c.commune_code,
            code_version: CURRENT.to_string(),
            name: c.name,
            full_name: c.full_name,
            name_en: c.name_en,
            level: UnitLevel::Commune,
            parent_id: Some(parent),
            valid_from,
            valid_to: None,
        });
    }
    Ok(rows)
}

/// The three-tier list as in force from 01/03/2025 until 30/06/2025: provinces, then districts,
/// then communes. Earlier changes are not recorded, so every unit is valid from 01/03/2025.
pub fn units_pre_2025() -> anyhow::Result<Vec<UnitRow>> {
    let valid_from = date(2025, 3, 1);
    let valid_to = Some(date(2025, 6, 30));
    let mut provinces: BTreeMap<String, UnitRow> = BTreeMap::new();
    let mut districts: BTreeMap<String, UnitRow> = BTreeMap::new();
    let mut communes = Vec::with_capacity(10_100);
    let row = |code: &str,
               full_name: &str,
               name_en: String,
               level: UnitLevel,
               parent: Option<&UnitRow>|
     -> anyhow::Result<UnitRow> {
        let id = unit_id(PRE_2025, code);
        Ok(UnitRow {
            path: match parent {
                Some(p) => format!("{}{id}/", p.path),
                None => format!("/{id}/"),
            },
            kind: kind_at(full_name, level)?,
            id,
            code: code.to_string(),
            code_version: PRE_2025.to_string(),
            name: short_name(full_name),
            full_name: full_name.to_string(),
            name_en,
            level,
            parent_id: parent.map(|p| p.id.clone()),
            search_key: fold(full_name),
            valid_from,
            valid_to,
            area_km2: None,
        })
    };
    let mut reader = csv::Reader::from_reader(data::COMMUNES_PRE_2025_CSV.as_bytes());
    for (i, record) in reader.deserialize::<OldCommuneRecord>().enumerate() {
        let c = record.with_context(|| format!("pre-2025 list, row {}", i + 2))?;
        if !provinces.contains_key(&c.province_code) {
            let p = row(
                &c.province_code,
                &c.province_full_name,
                unaccent(&short_name(&c.province_full_name)),
                UnitLevel::Province,
                None,
            )?;
            provinces.insert(c.province_code.clone(), p);
        }
        let province = &provinces[&c.province_code];
        if !districts.contains_key(&c.district_code) {
            let d = row(
                &c.district_code,
                &c.district_full_name,
                unaccent(&short_name(&c.district_full_name)),
                UnitLevel::District,
                Some(province),
            )?;
            districts.insert(c.district_code.clone(), d);
        }
        let district = &districts[&c.district_code];
        anyhow::ensure!(
            district.parent_id.as_deref() == Some(province.id.as_str()),
            "pre-2025 district {} appears under two provinces",
            c.district_code
        );
        communes.push(row(
            &c.commune_code,
            &c.commune_full_name,
            c.commune_name_en.clone(),
            UnitLevel::Commune,
            Some(district),
        )?);
    }
    // Island districts without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo) are
    // only in the lineage table, which names them as the origin of their 2025 special zone.
    let mut reader = csv::Reader::from_reader(data::LINEAGE_2025_CSV.as_bytes());
    for (i, record) in reader.deserialize::<LineageDistrict>().enumerate() {
        let r = record.with_context(|| format!("2025 lineage, row {}", i + 2))?;
        if !r.old_code.is_empty() || districts.contains_key(&r.old_district_code) {
            continue;
        }
        let province = provinces.get(&r.old_province_code).with_context(|| {
            format!(
                "district {} of unknown province {}",
                r.old_district_code, r.old_province_code
            )
        })?;
        let d = row(
            &r.old_district_code,
            &r.old_district_full_name,
            unaccent(&short_name(&r.old_district_full_name)),
            UnitLevel::District,
            Some(province),
        )?;
        districts.insert(r.old_district_code.clone(), d);
    }
    let mut rows: Vec<UnitRow> = provinces.into_values().collect();
    rows.extend(districts.into_values());
    rows.extend(communes);
    Ok(rows)
}

/// The fields a newer list may change, for comparing a stored unit with a shipped one.
fn same(a: &UnitRow, b: &UnitRow) -> bool {
    let names = |u: &UnitRow| {
        (
            u.code.clone(),
            u.code_version.clone(),
            u.name.clone(),
            u.full_name.clone(),
            u.name_en.clone(),
            u.search_key.clone(),
        )
    };
    let place = |u: &UnitRow| {
        (
            u.level,
            u.kind,
            u.parent_id.clone(),
            u.path.clone(),
            u.valid_from,
            u.valid_to,
            u.area_km2.map(f64::to_bits),
        )
    };
    names(a) == names(b) && place(a) == place(b)
}

/// Counts of an in-place apply.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub added: usize,
    pub updated: usize,
}

/// Adds the units that are missing and updates the ones that differ (parents first, as `rows`
/// lists them); never removes one.
pub fn apply(conn: &mut AnyConnection, rows: &[UnitRow]) -> QueryResult<Applied> {
    let versions: BTreeSet<&str> = rows.iter().map(|r| r.code_version.as_str()).collect();
    let stored: BTreeMap<String, UnitRow> = admin_units::table
        .filter(admin_units::code_version.eq_any(versions))
        .select(UnitRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let mut applied = Applied::default();
    let mut missing: Vec<UnitRow> = Vec::new();
    for row in rows {
        match stored.get(&row.id) {
            None => missing.push(row.clone()),
            Some(old) if !same(old, row) => {
                diesel::update(admin_units::table.filter(admin_units::id.eq(&row.id)))
                    .set((
                        admin_units::code.eq(&row.code),
                        admin_units::code_version.eq(&row.code_version),
                        admin_units::name.eq(&row.name),
                        admin_units::full_name.eq(&row.full_name),
                        admin_units::name_en.eq(&row.name_en),
                        admin_units::level.eq(row.level),
                        admin_units::kind.eq(row.kind),
                        admin_units::parent_id.eq(&row.parent_id),
                        admin_units::path.eq(&row.path),
                        admin_units::search_key.eq(&row.search_key),
                        admin_units::valid_from.eq(row.valid_from),
                        admin_units::valid_to.eq(row.valid_to),
                        admin_units::area_km2.eq(row.area_km2),
                    ))
                    .execute(conn)?;
                applied.updated += 1;
            }
            Some(_) => {}
        }
    }
    applied.added = crate::db::units::insert_all(conn, &missing)?;
    Ok(applied)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_2025_list_has_34_provinces_and_3321_communes() {
        let units = units_2025().unwrap();
        let provinces = units
            .iter()
            .filter(|u| u.level == UnitLevel::Province)
            .count();
        assert_eq!((provinces, units.len() - provinces), (34, 3321));
        let phu_xuan = units.iter().find(|u| u.id == "2025:19753").unwrap();
        assert_eq!(phu_xuan.full_name, "Phường Phú Xuân");
        assert_eq!(phu_xuan.path, "/2025:46/2025:19753/");
        assert_eq!(phu_xuan.kind, UnitKind::Ward);
        assert!(phu_xuan.area_km2.is_some_and(|a| a > 0.0));
        assert!(units.iter().all(|u| u.valid_to.is_none()));
    }

    #[test]
    fn the_pre_2025_list_has_three_tiers() {
        let units = units_pre_2025().unwrap();
        let count = |level| units.iter().filter(|u| u.level == level).count();
        assert_eq!(count(UnitLevel::Province), 63);
        // 691 with communes, and 5 island districts without.
        assert_eq!(count(UnitLevel::District), 696);
        let ly_son = units.iter().find(|u| u.id == "pre2025:536").unwrap();
        assert_eq!(ly_son.parent_id.as_deref(), Some("pre2025:51"));
        assert_eq!(count(UnitLevel::Commune), 10_035);
        let ids: BTreeSet<&str> = units.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), units.len(), "ids are unique");
        // Parents come before their children, and every path runs through the parent's.
        let mut seen = BTreeMap::new();
        for u in &units {
            if let Some(p) = &u.parent_id {
                let parent_path: &String = seen.get(p).expect("parent listed first");
                assert!(u.path.starts_with(parent_path.as_str()), "{}", u.id);
            }
            seen.insert(u.id.clone(), u.path.clone());
        }
        let ba_dinh = units.iter().find(|u| u.id == "pre2025:001").unwrap();
        assert_eq!(
            (ba_dinh.name.as_str(), ba_dinh.kind),
            ("Ba Đình", UnitKind::UrbanDistrict)
        );
        assert_eq!(ba_dinh.name_en, "Ba Dinh");
        let hue = units.iter().find(|u| u.id == "pre2025:46").unwrap();
        // Huế became a centrally-run city on 01/01/2025, before this list's date.
        assert_eq!(
            (hue.full_name.as_str(), hue.kind),
            ("Thành phố Huế", UnitKind::CentralCity)
        );
        assert!(units.iter().all(|u| u.valid_to == Some(date(2025, 6, 30))));
    }

    #[test]
    fn short_names_drop_the_unit_type() {
        assert_eq!(short_name("Thành phố Huế"), "Huế");
        assert_eq!(short_name("Huyện A Lưới"), "A Lưới");
        assert_eq!(short_name("Thị trấn Sịa"), "Sịa");
        assert_eq!(short_name("Phường 1"), "1");
        assert_eq!(short_name("Xã"), "Xã");
    }
}
