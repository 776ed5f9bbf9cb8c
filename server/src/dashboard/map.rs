//! Dashboard area `map`: the coverage map. A province's communes (the 34 provinces for national
//! users) coloured by annual coverage against the programme's target, with a toggle to the
//! cumulative measure, a legend, details on hover and click, filters by year and type, and the
//! establishments as clustered markers coloured by status.
//!
//! Everything on the map comes from the coverage API's own functions: the figures are
//! [`crate::service::coverage::compute`] (embedded in the page and at `/map/coverage.json`), the
//! markers the same resolution and windows ([`super::coverage::establishments`]). Boundaries are the
//! shipped GeoJSON files; base tiles only when `map_tiles_url` is configured.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use doi178_shared::unit::UnitLevel;
use serde::Serialize;

use super::assets;
use super::coverage::{
    crumbs, establishments, filters, legend, params_of, pct, query_for, Crumb, EstStatus, Filters,
    Legend, PageQuery,
};
use super::page::{render, Ctx, DashResult};
use super::session::Web;
use crate::access::{get, RouteSpec, SIGNED_IN};
use crate::db::units::UnitRow;
use crate::error::ApiResult;
use crate::service::coverage::{self as api, Coverage};
use crate::state::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/map", SIGNED_IN, page),
        get("/map/coverage.json", SIGNED_IN, coverage_json),
        get("/map/markers.json", SIGNED_IN, markers_json),
    ]
}

/// The two-digit province code of a unit id (`2025:46` → `46`).
fn code_of(id: &str) -> &str {
    id.rsplit(':').next().unwrap_or(id)
}

fn communes_file(province_id: &str) -> Option<String> {
    let path = format!("geo/communes-{}.geojson", code_of(province_id));
    assets::exists(&path).then(|| format!("/static/{path}"))
}

/// What to draw for a unit: the boundary file, whether its features are the unit's children
/// (painted one by one) or the unit itself (painted with the total), and which feature to keep
/// when the file holds more than the unit.
#[derive(Debug, PartialEq, Eq)]
pub struct Geo {
    pub url: Option<String>,
    /// `children` or `total`.
    pub paint: &'static str,
    /// Keep only the feature of this unit id (empty: keep all).
    pub only: String,
}

pub fn geo_for(unit: &UnitRow) -> Geo {
    const PROVINCES: &str = "/static/geo/provinces.geojson";
    match unit.level {
        UnitLevel::Country => Geo {
            url: Some(PROVINCES.to_string()),
            paint: "children",
            only: String::new(),
        },
        UnitLevel::Commune => Geo {
            url: unit.parent_id.as_deref().and_then(communes_file),
            paint: "total",
            only: unit.id.clone(),
        },
        _ => match communes_file(&unit.id) {
            Some(url) => Geo {
                url: Some(url),
                paint: "children",
                only: String::new(),
            },
            None => Geo {
                url: Some(PROVINCES.to_string()),
                paint: "total",
                only: unit.id.clone(),
            },
        },
    }
}

#[derive(Template)]
#[template(path = "map/page.html")]
struct MapPage {
    ctx: Ctx,
    f: Filters,
    crumbs: Vec<Crumb>,
    unit_id: String,
    unit_name: String,
    level: UnitLevel,
    year: i32,
    geo: Geo,
    /// Provinces among the children whose communes can be drawn (national map).
    drill: String,
    coverage_json: String,
    markers_url: String,
    table_href: String,
    tiles: String,
    measure: &'static str,
    /// The legends of the annual and the cumulative measure.
    legends: Vec<(&'static str, Legend)>,
    annual_target: String,
    end_target: String,
    programme_name: String,
    as_of: String,
    statuses: Vec<(&'static str, &'static str)>,
}

async fn page(
    req: HttpRequest,
    web_user: Web,
    state: web::Data<AppState>,
) -> DashResult<HttpResponse> {
    let q = PageQuery::from_request(&req);
    let l = web_user.lang;
    let actor = web_user.actor.clone();
    let p = params_of(&actor, &q)?;
    let pp = p.clone();
    let db = state.db.clone();
    let (cov, unit, filters, crumbs) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let r = api::resolve(c, &actor, &pp)?;
            let cov: Coverage = api::compute_resolved(c, &pp, &r)?;
            let filters = filters(c, l, &pp, r.programme.types_in_scope())?;
            let crumbs = crumbs(c, &actor, &r.unit, "/map", &pp);
            Ok((cov, r.unit, filters, crumbs))
        })
    })
    .await??;
    let measure = match q.measure.as_deref() {
        Some("cumulative") => "cumulative",
        _ => "annual",
    };
    let drill = if unit.level == UnitLevel::Country {
        cov.children
            .iter()
            .filter(|r| communes_file(&r.unit_id).is_some())
            .map(|r| r.unit_id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        String::new()
    };
    let coverage_json =
        serde_json::to_string(&cov).map_err(|_| crate::error::ApiError::internal())?;
    let title = format!(
        "{} · {}",
        l.t("Bản đồ độ bao phủ", "Coverage map"),
        cov.total.name
    );
    let (at, et) = (cov.programme.annual_min_share, cov.programme.end_share);
    let tpl = MapPage {
        ctx: web_user.ctx(&title, "/map"),
        f: filters,
        crumbs,
        unit_id: cov.unit.clone(),
        unit_name: cov.total.name.clone(),
        level: unit.level,
        year: cov.year,
        geo: geo_for(&unit),
        drill,
        coverage_json,
        markers_url: format!("/map/markers.json?{}", query_for(&cov.unit, &p)),
        table_href: format!("/coverage?{}", query_for(&cov.unit, &p)),
        tiles: state.settings.map_tiles_url.clone().unwrap_or_default(),
        measure,
        legends: vec![("annual", legend(l, at)), ("cumulative", legend(l, et))],
        annual_target: pct(l, Some(at)),
        end_target: pct(l, Some(et)),
        programme_name: cov.programme.name.clone(),
        as_of: l.date(&cov.as_of),
        statuses: EstStatus::ALL
            .iter()
            .map(|s| (s.code(), s.label(l)))
            .collect(),
    };
    render(&tpl)
}

/// `GET /map/coverage.json?unit=…&year=…&type=…`: the coverage the map paints, exactly the body of
/// `GET /api/v1/coverage` with the same parameters (the user's unit by default).
async fn coverage_json(
    req: HttpRequest,
    web_user: Web,
    state: web::Data<AppState>,
) -> DashResult<HttpResponse> {
    let q = PageQuery::from_request(&req);
    let actor = web_user.actor;
    let p = params_of(&actor, &q)?;
    let db = state.db.clone();
    let cov = web::block(move || db.read(|c| api::compute(c, &actor, &p))).await??;
    Ok(HttpResponse::Ok().json(cov))
}

/// One establishment on the map.
#[derive(Serialize)]
pub struct Marker {
    pub id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// `never`, `not_this_year`, `inspected`, `violation` or `follow_up` (see `EstStatus`).
    pub status: &'static str,
}

#[derive(Serialize)]
pub struct Markers {
    pub unit: String,
    pub year: i32,
    pub items: Vec<Marker>,
}

/// Rounds a coordinate to 5 decimals (about a metre): enough for a marker, and a lighter answer.
fn round5(v: f64) -> f64 {
    (v * 100_000.0).round() / 100_000.0
}

/// `GET /map/markers.json?unit=…&year=…&type=…`: the establishments in scope of the annual measure
/// that have a location, with their status. Only what the user may see (the unit is resolved
/// through their jurisdiction, and the db layer filters by it again).
async fn markers_json(
    req: HttpRequest,
    web_user: Web,
    state: web::Data<AppState>,
) -> DashResult<HttpResponse> {
    let q = PageQuery::from_request(&req);
    let actor = web_user.actor;
    let p = params_of(&actor, &q)?;
    let db = state.db.clone();
    let out = web::block(move || {
        db.read(|c| -> ApiResult<Markers> {
            let r = api::resolve(c, &actor, &p)?;
            let items = establishments(c, &actor, &p, &r)?
                .into_iter()
                .filter(|e| e.annual_in_scope)
                .filter_map(|e| {
                    Some(Marker {
                        lat: round5(e.row.lat?),
                        lon: round5(e.row.lon?),
                        status: e.status.code(),
                        id: e.row.id,
                        name: e.row.name,
                    })
                })
                .collect();
            Ok(Markers {
                unit: r.unit.id,
                year: p.year,
                items,
            })
        })
    })
    .await??;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn unit(id: &str, level: &str, parent: Option<&str>) -> UnitRow {
        UnitRow {
            id: id.to_string(),
            code: code_of(id).to_string(),
            code_version: "2025".to_string(),
            name: id.to_string(),
            full_name: id.to_string(),
            name_en: id.to_string(),
            level: level.parse().unwrap(),
            kind: level.parse().unwrap(),
            parent_id: parent.map(str::to_string),
            path: String::new(),
            search_key: String::new(),
            valid_from: NaiveDate::MIN,
            valid_to: None,
            area_km2: None,
        }
    }

    #[test]
    fn each_unit_draws_from_a_shipped_boundary_file() {
        let country = geo_for(&unit("VN", "country", None));
        assert_eq!(
            country.url.as_deref(),
            Some("/static/geo/provinces.geojson")
        );
        assert_eq!(country.paint, "children");
        let hue = geo_for(&unit("2025:46", "province", None));
        assert_eq!(hue.url.as_deref(), Some("/static/geo/communes-46.geojson"));
        assert_eq!(hue.paint, "children");
        // Every province ships its communes: Hà Nội too.
        let hanoi = geo_for(&unit("2025:01", "province", None));
        assert_eq!(
            hanoi.url.as_deref(),
            Some("/static/geo/communes-01.geojson")
        );
        assert_eq!(hanoi.paint, "children");
        let phu_xuan = geo_for(&unit("2025:19753", "commune", Some("2025:46")));
        assert_eq!(
            phu_xuan.url.as_deref(),
            Some("/static/geo/communes-46.geojson")
        );
        assert_eq!(phu_xuan.only, "2025:19753");
        // A unit of a code list without shipped boundaries (a future province code) draws the
        // provinces' outline or nothing.
        let unknown = geo_for(&unit("2030:99", "province", None));
        assert_eq!(
            unknown.url.as_deref(),
            Some("/static/geo/provinces.geojson")
        );
        assert_eq!((unknown.paint, unknown.only.as_str()), ("total", "2030:99"));
        assert_eq!(
            geo_for(&unit("2030:00001", "commune", Some("2030:99"))).url,
            None
        );
    }

    /// Every commune of the 2025 list has exactly one shape, in its own province's file, under
    /// the list's full name; and every province one shape in the provinces' file.
    #[test]
    fn every_commune_has_one_shape() {
        use std::collections::BTreeMap;
        #[derive(serde::Deserialize)]
        struct Collection {
            features: Vec<Feature>,
        }
        #[derive(serde::Deserialize)]
        struct Feature {
            properties: Props,
        }
        #[derive(serde::Deserialize)]
        struct Props {
            unit_id: String,
            name: String,
        }
        let read = |path: &str| -> Vec<Props> {
            let file = assets::get(path).unwrap_or_else(|| panic!("{path} is not shipped"));
            serde_json::from_slice::<Collection>(&file)
                .unwrap()
                .features
                .into_iter()
                .map(|f| f.properties)
                .collect()
        };
        let units = crate::service::reference::units_2025().unwrap();
        let mut shapes: BTreeMap<String, (String, String)> = BTreeMap::new();
        for province in units.iter().filter(|u| u.level == UnitLevel::Province) {
            for p in read(&format!("geo/communes-{}.geojson", province.code)) {
                let dup = shapes.insert(p.unit_id.clone(), (province.id.clone(), p.name));
                assert!(dup.is_none(), "{} drawn twice", p.unit_id);
            }
        }
        let communes: Vec<_> = units
            .iter()
            .filter(|u| u.level == UnitLevel::Commune)
            .collect();
        assert_eq!(communes.len(), 3321);
        assert_eq!(
            shapes.len(),
            communes.len(),
            "one shape per commune, no extra"
        );
        for c in communes {
            let (province, name) = shapes
                .get(&c.id)
                .unwrap_or_else(|| panic!("{} has no shape", c.id));
            assert_eq!(Some(province), c.parent_id.as_ref(), "{}", c.id);
            assert_eq!(name, &c.full_name, "{}", c.id);
        }
        let provinces: Vec<String> = read("geo/provinces.geojson")
            .into_iter()
            .map(|p| p.unit_id)
            .collect();
        assert_eq!(provinces.len(), 34);
    }

    #[test]
    fn coordinates_are_rounded_to_about_a_metre() {
        assert_eq!(round5(16.463_712_345), 16.46371);
        assert_eq!(round5(107.590_004_9), 107.59);
    }
}
