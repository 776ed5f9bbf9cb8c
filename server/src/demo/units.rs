//! Administrative units of 2025 from the embedded code lists: every province and every commune,
//! with parent links, materialized paths (`/2025:46/2025:19753/`) and the source's areas.

use doi178_shared::unit::{UnitKind, UnitLevel};
use std::collections::BTreeMap;

use anyhow::Context;
use serde::Deserialize;

use super::data;
use super::geo::Shapes;
use crate::db::units::UnitRow;

pub const CODE_VERSION: &str = "2025";

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

/// Only the properties of the province layer; the geometry is skipped while parsing.
#[derive(Deserialize)]
struct PropertiesOnly {
    features: Vec<FeatureProperties>,
}

#[derive(Deserialize)]
struct FeatureProperties {
    properties: AreaProperties,
}

#[derive(Deserialize)]
struct AreaProperties {
    code: String,
    #[serde(rename = "areaKm2")]
    area_km2: Option<f64>,
}

pub fn unit_id(code: &str) -> String {
    format!("{CODE_VERSION}:{code}")
}

/// The kind of a unit from its `unit_type` in the official list ("Tỉnh", "Phường", …).
fn kind_at(unit_type: &str, level: UnitLevel) -> anyhow::Result<UnitKind> {
    UnitKind::from_vietnamese_at_level(unit_type, level)
        .with_context(|| format!("unknown {level} unit type {unit_type:?}"))
}

/// All 34 provinces (first) and 3,321 communes of the 2025 code list.
pub fn all_units(shapes: &Shapes) -> anyhow::Result<Vec<UnitRow>> {
    let valid_from = super::date(2025, 7, 1);
    let province_areas: BTreeMap<String, f64> =
        serde_json::from_str::<PropertiesOnly>(data::PROVINCES_GEOJSON)
            .context("province boundaries")?
            .features
            .into_iter()
            .filter_map(|f| Some((f.properties.code, f.properties.area_km2?)))
            .collect();

    let mut rows = Vec::with_capacity(3400);
    let mut reader = csv::Reader::from_reader(data::PROVINCES_CSV.as_bytes());
    for record in reader.deserialize::<ProvinceRecord>() {
        let p = record.context("province list")?;
        let id = unit_id(&p.province_code);
        rows.push(UnitRow {
            path: format!("/{id}/"),
            id,
            search_key: doi178_shared::text::fold(&p.full_name),
            area_km2: province_areas.get(&p.province_code).copied(),
            code: p.province_code,
            code_version: CODE_VERSION.to_string(),
            name: p.name,
            full_name: p.full_name,
            name_en: p.name_en,
            level: UnitLevel::Province,
            kind: kind_at(&p.unit_type, UnitLevel::Province)?,
            parent_id: None,
            valid_from,
            valid_to: None,
        });
    }
    let provinces = rows.len();

    let mut reader = csv::Reader::from_reader(data::COMMUNES_CSV.as_bytes());
    for record in reader.deserialize::<CommuneRecord>() {
        let c = record.context("commune list")?;
        let parent = unit_id(&c.province_code);
        if !rows[..provinces].iter().any(|p| p.id == parent) {
            anyhow::bail!(
                "commune {} has unknown province {}",
                c.commune_code,
                c.province_code
            );
        }
        let id = unit_id(&c.commune_code);
        rows.push(UnitRow {
            path: format!("/{parent}/{id}/"),
            id,
            search_key: doi178_shared::text::fold(&c.full_name),
            area_km2: shapes.get(&c.commune_code).and_then(|s| s.area_km2),
            kind: kind_at(&c.unit_type, UnitLevel::Commune)?,
            code: c.commune_code,
            code_version: CODE_VERSION.to_string(),
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
