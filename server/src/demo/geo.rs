//! Commune boundaries of Huế and Quảng Trị from the embedded GeoJSON, and deterministic sampling
//! of points inside them (rejection sampling in the bounding box, or around a "hub" so that
//! establishments cluster along settlements instead of scattering over mountains).

use std::collections::BTreeMap;

use anyhow::Context;
use geo::{BoundingRect, Contains, InteriorPoint, MultiPolygon, Point, Rect};
use rand::Rng;

use super::data;

/// Metres per degree of latitude (and of longitude at the equator).
const M_PER_DEG: f64 = 111_320.0;

pub struct Shape {
    pub polygon: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
    pub area_km2: Option<f64>,
}

/// Commune shapes by official code (Huế and Quảng Trị).
pub struct Shapes(BTreeMap<String, Shape>);

impl Shapes {
    pub fn load() -> anyhow::Result<Shapes> {
        let mut map = parse_collection(data::HUE_COMMUNES_GEOJSON).context("Huế communes")?;
        map.extend(
            parse_collection(data::QUANG_TRI_COMMUNES_GEOJSON).context("Quảng Trị communes")?,
        );
        Ok(Shapes(map))
    }

    pub fn take(&mut self, code: &str) -> Option<Shape> {
        self.0.remove(code)
    }
}

pub fn parse_collection(text: &str) -> anyhow::Result<BTreeMap<String, Shape>> {
    let parsed: geojson::GeoJson = text.parse()?;
    let geojson::GeoJson::FeatureCollection(collection) = parsed else {
        anyhow::bail!("expected a FeatureCollection");
    };
    let mut out = BTreeMap::new();
    for feature in collection.features {
        let code = feature
            .property("code")
            .and_then(|v| v.as_str())
            .context("feature without a code")?
            .to_string();
        let area_km2 = feature.property("areaKm2").and_then(|v| v.as_f64());
        let geometry = feature
            .geometry
            .with_context(|| format!("feature {code} has no geometry"))?;
        let polygon = match geo::Geometry::<f64>::try_from(geometry)? {
            geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
            geo::Geometry::MultiPolygon(m) => m,
            _ => anyhow::bail!("feature {code} is not a polygon"),
        };
        let bbox = polygon
            .bounding_rect()
            .with_context(|| format!("feature {code} is empty"))?;
        out.insert(
            code,
            Shape {
                polygon,
                bbox,
                area_km2,
            },
        );
    }
    Ok(out)
}

/// Rounds to 1e-6 degrees (about 0.1 m), as a phone would report.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Shape {
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.polygon.contains(&Point::new(lon, lat))
    }

    /// A point that is inside even when sampling keeps missing (thin or odd shapes).
    fn fallback(&self) -> (f64, f64) {
        match self.polygon.interior_point() {
            Some(p) => (p.x(), p.y()),
            None => {
                let c = self.bbox.center();
                (c.x, c.y)
            }
        }
    }

    /// A uniformly distributed point inside the shape: `(lon, lat)`.
    pub fn sample_uniform(&self, rng: &mut impl Rng) -> (f64, f64) {
        let (min, max) = (self.bbox.min(), self.bbox.max());
        for _ in 0..10_000 {
            let lon = round6(rng.gen_range(min.x..=max.x));
            let lat = round6(rng.gen_range(min.y..=max.y));
            if self.contains(lon, lat) {
                return (lon, lat);
            }
        }
        self.fallback()
    }

    /// A point inside the shape, normally distributed around `(lon, lat)` with `sigma_m`
    /// metres; falls back to uniform sampling when the centre sits at an edge.
    pub fn sample_near(&self, rng: &mut impl Rng, center: (f64, f64), sigma_m: f64) -> (f64, f64) {
        for _ in 0..64 {
            let (dx, dy) = gaussian_pair(rng);
            let (lon, lat) = offset_m(center, dx * sigma_m, dy * sigma_m);
            let (lon, lat) = (round6(lon), round6(lat));
            if self.contains(lon, lat) {
                return (lon, lat);
            }
        }
        self.sample_uniform(rng)
    }
}

/// Two independent standard normal numbers (Box–Muller).
pub fn gaussian_pair(rng: &mut impl Rng) -> (f64, f64) {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    let r = (-2.0 * u1.ln()).sqrt();
    let t = std::f64::consts::TAU * u2;
    (r * t.cos(), r * t.sin())
}

/// Moves `(lon, lat)` by `east_m` and `north_m` metres.
pub fn offset_m((lon, lat): (f64, f64), east_m: f64, north_m: f64) -> (f64, f64) {
    let lat2 = lat + north_m / M_PER_DEG;
    let lon2 = lon + east_m / (M_PER_DEG * lat.to_radians().cos());
    (lon2, lat2)
}
