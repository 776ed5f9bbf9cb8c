//! Positions: a point inside Vietnam (islands included), distances between points, and a phone's
//! GPS fix with its reported accuracy.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};

/// Southern edge of the accepted box (south of the Spratly Islands / Trường Sa).
pub const MIN_LAT: f64 = 6.0;
/// Northern edge (Hà Giang, Lũng Cú).
pub const MAX_LAT: f64 = 23.6;
/// Western edge (Điện Biên, A Pa Chải).
pub const MIN_LON: f64 = 102.0;
/// Eastern edge (east of the Spratly Islands).
pub const MAX_LON: f64 = 118.0;
/// Mean Earth radius (IUGG), used by [`GeoPoint::distance_m`].
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Worst accuracy a GPS fix may report and still be recorded.
pub const MAX_ACCURACY_M: f64 = 10_000.0;

/// A WGS 84 position inside Vietnam's extended bounding box (mainland, Hoàng Sa, Trường Sa).
/// The box is deliberately coarse: it catches swapped coordinates and (0, 0), not borders.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawGeoPoint")]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
}

/// Wire form of a [`GeoPoint`], not yet validated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    /// Errors name `lat` or `lon`: `invalid` for NaN or infinity, `out_of_range` outside Vietnam.
    pub fn parse(lat: f64, lon: f64) -> DomainResult<Self> {
        check_coordinate("lat", lat, MIN_LAT, MAX_LAT)?;
        check_coordinate("lon", lon, MIN_LON, MAX_LON)?;
        Ok(Self { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Great-circle distance in metres (haversine on a sphere of radius [`EARTH_RADIUS_M`]).
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        haversine_m(self.lat, self.lon, other.lat, other.lon)
    }
}

/// Beyond this distance (metres) between the phone's fix and the establishment, a visit is
/// flagged for review.
pub const GPS_WARNING_RADIUS_M: f64 = 300.0;

/// The distance in metres from a visit's fix to its establishment (both known) and the warning
/// stored with the visit: beyond [`GPS_WARNING_RADIUS_M`] the distance says so; otherwise the
/// phone's own note (`phone_warning`, when it had no good fix) is kept.
pub fn gps_distance_and_warning(
    fix: Option<(f64, f64)>,
    site: Option<(f64, f64)>,
    phone_warning: Option<&str>,
) -> (Option<f64>, Option<String>) {
    let distance = fix
        .zip(site)
        .map(|((lat, lon), (elat, elon))| haversine_m(lat, lon, elat, elon));
    let warning = distance
        .filter(|d| *d > GPS_WARNING_RADIUS_M)
        .map(|d| {
            format!(
                "recorded {d:.0} m from the establishment (more than {GPS_WARNING_RADIUS_M:.0} m)"
            )
        })
        .or_else(|| phone_warning.map(str::to_string));
    (distance, warning)
}

/// Great-circle distance in metres between two raw positions (no validation; for stored values).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let d_lat = p2 - p1;
    let d_lon = (lon2 - lon1).to_radians();
    let a = (d_lat / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

fn check_coordinate(field: &str, value: f64, min: f64, max: f64) -> DomainResult<()> {
    if !value.is_finite() {
        return Err(DomainError::invalid(field, "must be a finite number"));
    }
    if !(min..=max).contains(&value) {
        return Err(DomainError::out_of_range(
            field,
            format!("{value} is outside Vietnam ({min} to {max})"),
        ));
    }
    Ok(())
}

impl TryFrom<RawGeoPoint> for GeoPoint {
    type Error = DomainError;
    fn try_from(raw: RawGeoPoint) -> DomainResult<Self> {
        Self::parse(raw.lat, raw.lon)
    }
}

impl From<GeoPoint> for RawGeoPoint {
    fn from(p: GeoPoint) -> Self {
        Self {
            lat: p.lat,
            lon: p.lon,
        }
    }
}

/// A position reported by a phone with its horizontal accuracy (metres, 68 % radius as Android and
/// iOS report it). On the wire it is flat: `{"lat":…,"lon":…,"accuracy_m":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GpsInput", into = "GpsInput")]
pub struct GpsFix {
    point: GeoPoint,
    accuracy_m: f64,
}

/// Wire form of a [`GpsFix`], not yet validated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GpsInput {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
}

impl GpsFix {
    /// `accuracy_m` must be finite, above 0 and at most [`MAX_ACCURACY_M`] (field `accuracy_m`).
    pub fn parse(point: GeoPoint, accuracy_m: f64) -> DomainResult<Self> {
        if !accuracy_m.is_finite() {
            return Err(DomainError::invalid(
                "accuracy_m",
                "must be a finite number",
            ));
        }
        if accuracy_m <= 0.0 || accuracy_m > MAX_ACCURACY_M {
            return Err(DomainError::out_of_range(
                "accuracy_m",
                format!("must be above 0 and at most {MAX_ACCURACY_M} m"),
            ));
        }
        Ok(Self { point, accuracy_m })
    }

    pub fn point(&self) -> GeoPoint {
        self.point
    }

    pub fn accuracy_m(&self) -> f64 {
        self.accuracy_m
    }
}

impl TryFrom<GpsInput> for GpsFix {
    type Error = DomainError;
    fn try_from(raw: GpsInput) -> DomainResult<Self> {
        Self::parse(GeoPoint::parse(raw.lat, raw.lon)?, raw.accuracy_m)
    }
}

impl From<GpsFix> for GpsInput {
    fn from(f: GpsFix) -> Self {
        Self {
            lat: f.point.lat,
            lon: f.point.lon,
            accuracy_m: f.accuracy_m,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const HUE: (f64, f64) = (16.4637, 107.5909);
    const DA_NANG: (f64, f64) = (16.0544, 108.2022);

    #[test]
    fn accepts_points_in_vietnam_and_islands() {
        assert!(GeoPoint::parse(HUE.0, HUE.1).is_ok());
        assert!(GeoPoint::parse(21.0285, 105.8542).is_ok()); // Hà Nội
        assert!(GeoPoint::parse(16.53, 111.61).is_ok()); // Hoàng Sa
        assert!(GeoPoint::parse(8.64, 111.92).is_ok()); // Trường Sa
        assert!(GeoPoint::parse(MIN_LAT, MIN_LON).is_ok());
        assert!(GeoPoint::parse(MAX_LAT, MAX_LON).is_ok());
    }

    #[test]
    fn rejects_points_outside_vietnam() {
        let e = GeoPoint::parse(0.0, 0.0).unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("lat", "out_of_range"));
        assert!(e.message.contains("outside Vietnam"));
        // Swapped coordinates.
        let e = GeoPoint::parse(107.59, 16.46).unwrap_err();
        assert_eq!(e.field, "lat");
        let e = GeoPoint::parse(16.46, 101.99).unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("lon", "out_of_range"));
        assert!(GeoPoint::parse(23.61, 105.0).is_err());
        assert!(GeoPoint::parse(16.0, 118.01).is_err());
        assert!(GeoPoint::parse(5.99, 105.0).is_err());
    }

    #[test]
    fn rejects_non_finite_values() {
        let e = GeoPoint::parse(f64::NAN, 105.0).unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("lat", "invalid"));
        let e = GeoPoint::parse(16.0, f64::INFINITY).unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("lon", "invalid"));
    }

    #[test]
    fn getters_return_the_coordinates() {
        let p = GeoPoint::parse(HUE.0, HUE.1).unwrap();
        assert_eq!((p.lat(), p.lon()), HUE);
    }

    #[test]
    fn distance_hue_da_nang_is_about_78_km() {
        let hue = GeoPoint::parse(HUE.0, HUE.1).unwrap();
        let dn = GeoPoint::parse(DA_NANG.0, DA_NANG.1).unwrap();
        let d = hue.distance_m(&dn);
        assert!((76_000.0..80_000.0).contains(&d), "{d}");
        assert!((d - dn.distance_m(&hue)).abs() < 1e-6);
        assert_eq!(hue.distance_m(&hue), 0.0);
    }

    #[test]
    fn distance_of_one_arc_minute_of_latitude_is_about_1853_m() {
        let a = GeoPoint::parse(16.0, 107.0).unwrap();
        let b = GeoPoint::parse(16.0 + 1.0 / 60.0, 107.0).unwrap();
        assert!((a.distance_m(&b) - 1853.2).abs() < 1.0);
    }

    #[test]
    fn geo_point_serde_round_trip_and_validation() {
        let p = GeoPoint::parse(HUE.0, HUE.1).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"lat":16.4637,"lon":107.5909}"#);
        assert_eq!(serde_json::from_str::<GeoPoint>(&json).unwrap(), p);
        assert!(serde_json::from_str::<GeoPoint>(r#"{"lat":0,"lon":0}"#).is_err());
        assert!(serde_json::from_str::<GeoPoint>(r#"{"lat":16.4}"#).is_err());
        assert!(serde_json::from_str::<GeoPoint>(r#"{"lat":16.4,"lon":107.5,"alt":3}"#).is_err());
        assert_eq!(
            RawGeoPoint::from(p),
            RawGeoPoint {
                lat: HUE.0,
                lon: HUE.1
            }
        );
    }

    #[test]
    fn gps_fix_accuracy_rules() {
        let p = GeoPoint::parse(HUE.0, HUE.1).unwrap();
        let fix = GpsFix::parse(p, 12.5).unwrap();
        assert_eq!((fix.point(), fix.accuracy_m()), (p, 12.5));
        assert!(GpsFix::parse(p, MAX_ACCURACY_M).is_ok());
        for bad in [0.0, -1.0, 10_000.01] {
            let e = GpsFix::parse(p, bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code.as_str()),
                ("accuracy_m", "out_of_range")
            );
        }
        let e = GpsFix::parse(p, f64::NAN).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("accuracy_m", "invalid")
        );
    }

    #[test]
    fn gps_fix_serde_is_flat_and_validated() {
        let fix = GpsFix::parse(GeoPoint::parse(HUE.0, HUE.1).unwrap(), 8.0).unwrap();
        let json = serde_json::to_string(&fix).unwrap();
        assert_eq!(json, r#"{"lat":16.4637,"lon":107.5909,"accuracy_m":8.0}"#);
        assert_eq!(serde_json::from_str::<GpsFix>(&json).unwrap(), fix);
        assert!(
            serde_json::from_str::<GpsFix>(r#"{"lat":16.4637,"lon":107.5909,"accuracy_m":0}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<GpsFix>(r#"{"lat":1,"lon":107.5909,"accuracy_m":5}"#).is_err()
        );
    }

    #[test]
    fn a_fix_far_from_the_establishment_is_flagged_otherwise_the_phones_note_stays() {
        let near = (HUE.0 + 0.001, HUE.1);
        let (d, w) = gps_distance_and_warning(Some(near), Some(HUE), Some("GPS yếu"));
        assert!(d.unwrap() < GPS_WARNING_RADIUS_M);
        assert_eq!(w.as_deref(), Some("GPS yếu"));
        let (d, w) = gps_distance_and_warning(Some(DA_NANG), Some(HUE), Some("GPS yếu"));
        assert!(d.unwrap() > 70_000.0);
        assert!(w.unwrap().contains("more than 300 m"));
        assert_eq!(
            gps_distance_and_warning(None, Some(HUE), None),
            (None, None)
        );
        assert_eq!(
            gps_distance_and_warning(Some(HUE), None, Some("x")),
            (None, Some("x".to_string()))
        );
    }
}
