//! Coverage toward the programme target: per unit and its children, the share of establishments
//! in scope with at least one counted inspection this year (annual target) and since the start of
//! the programme period (end target), how many more are needed and whether the pace will do.

pub mod status;

use chrono::{Datelike, NaiveDate};
use doi178_shared::coverage::{
    annual_window, cumulative_window, project, year_window, Projection, Tally,
};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::programme::ShareBp;
use doi178_shared::unit::{UnitKind, UnitLevel};
use doi178_shared::ProblemCode;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::db::{
    self,
    coverage::{Area, Window},
    programmes::ProgrammeRow,
    units::UnitRow,
};
use crate::error::{ApiError, ApiResult};

/// The `unit` value that asks for the whole country (administrators only).
pub const NATIONAL: &str = "VN";

/// Years before this are not coverage years of any programme.
pub const MIN_YEAR: i32 = 2000;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// Unit id (`2025:46`), or `VN` for the whole country (administrators).
    pub unit: Option<String>,
    /// Calendar year of the annual target (default: the year of `as_of`).
    pub year: Option<String>,
    /// Only establishments of this type (e.g. `karaoke`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub establishment_type: Option<String>,
    /// Count up to this date (`YYYY-MM-DD`, default: today in Vietnam).
    pub as_of: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Measure {
    /// Establishments in scope that were operating in the window.
    pub in_scope: u64,
    /// Of those, the ones with at least one counted inspection in the window.
    pub inspected: u64,
    /// `inspected / in_scope`, or null when nothing is in scope.
    pub share: Option<f64>,
    /// How many more must be inspected to reach the target.
    pub needed: u64,
    /// `{"status": "met" | "on_pace" (with `date`) | "not_in_time" | "no_activity"}`.
    #[schema(value_type = Object)]
    pub projection: Projection,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    pub unit_id: String,
    pub name: String,
    /// Toward the annual minimum share, in the calendar year.
    pub annual: Measure,
    /// Toward the end share, since the start of the programme period.
    pub cumulative: Measure,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageProgramme {
    pub id: String,
    pub name: String,
    /// 0.2 = 20 %.
    pub annual_min_share: f64,
    pub end_share: f64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub unit: String,
    pub year: i32,
    pub as_of: NaiveDate,
    pub programme: CoverageProgramme,
    pub total: CoverageRow,
    pub children: Vec<CoverageRow>,
}

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(ProblemCode::Invalid, field, detail)
}

/// Checked query parameters.
#[derive(Debug, Clone)]
pub struct Params {
    pub unit: String,
    pub year: i32,
    pub as_of: NaiveDate,
    pub establishment_type: Option<EstablishmentType>,
}

/// Checks the query parameters (`today`: the default `as_of`).
pub fn parse_params(q: CoverageQuery, today: NaiveDate) -> ApiResult<Params> {
    let unit = q
        .unit
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                ProblemCode::Required,
                "unit",
                "say which unit: `unit=2025:46` (or `unit=VN` for the whole country)",
            )
        })?;
    let as_of = match q.as_of.as_deref().map(str::trim) {
        None | Some("") => today,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request(ProblemCode::Invalid, "as_of", "as_of must be YYYY-MM-DD")
        })?,
    };
    let year = match q.year.as_deref().map(str::trim) {
        None | Some("") => as_of.year(),
        Some(s) => s.parse::<i32>().map_err(|_| {
            ApiError::bad_request(
                ProblemCode::Invalid,
                "year",
                "year must be a number such as 2026",
            )
        })?,
    };
    if year < MIN_YEAR {
        return Err(invalid("year", format!("year must be {MIN_YEAR} or later")));
    }
    let establishment_type = q
        .establishment_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(EstablishmentType::parse)
        .transpose()
        .map_err(|e| ApiError::from(e).field("type"))?;
    Ok(Params {
        unit,
        year,
        as_of,
        establishment_type,
    })
}

/// The programme that covers `year`: the one whose period contains `as_of` when several do,
/// else the latest. When none does, the error names `field`.
pub fn programme_for(
    programmes: Vec<ProgrammeRow>,
    year: i32,
    as_of: NaiveDate,
    field: &str,
) -> ApiResult<ProgrammeRow> {
    let mut covering: Vec<ProgrammeRow> = programmes
        .into_iter()
        .filter(|p| p.period_start.year() <= year && year <= p.period_end.year())
        .collect();
    covering.sort_by_key(|p| {
        (
            p.period_start <= as_of && as_of <= p.period_end,
            p.period_start,
        )
    });
    covering.pop().ok_or_else(|| {
        invalid(
            field,
            format!("no programme covers {year}; see GET /api/v1/programmes"),
        )
    })
}

fn measure(
    tally: Tally,
    target: ShareBp,
    window_start: NaiveDate,
    as_of: NaiveDate,
    deadline: NaiveDate,
) -> Measure {
    Measure {
        in_scope: tally.in_scope,
        inspected: tally.inspected,
        share: tally.share(),
        needed: tally.needed(target),
        projection: project(tally, target, window_start, as_of, deadline),
    }
}

const EMPTY: Tally = Tally {
    in_scope: 0,
    inspected: 0,
};

/// Everything a coverage count needs, resolved for checked parameters as `actor` sees it: the
/// unit (404 outside the jurisdiction), its children, the programme with the targets that apply
/// there, the types counted and the two windows. Shared by [`compute`] and the dashboard (the
/// map's establishment markers and the coverage drill-down), so they count the same way.
pub struct Resolved {
    pub unit: UnitRow,
    pub area: Area,
    pub children: Vec<UnitRow>,
    pub row: ProgrammeRow,
    pub programme: doi178_shared::programme::Programme,
    pub types: Vec<EstablishmentType>,
    /// The annual window (both ends included).
    pub annual: (NaiveDate, NaiveDate),
    /// The cumulative window: programme start to `as_of` (never past the period end).
    pub cumulative: (NaiveDate, NaiveDate),
    /// The deadline of the annual target: 31 December of the year, or the period end.
    pub year_end: NaiveDate,
}

/// Resolves the unit, programme, types and windows of a coverage request (see [`Resolved`]).
pub fn resolve(c: &mut db::AnyConnection, actor: &Actor, p: &Params) -> ApiResult<Resolved> {
    let (unit, area, children): (UnitRow, Area, Vec<UnitRow>) = if p.unit == NATIONAL {
        if !actor.is_admin() {
            return Err(ApiError::not_found("unit"));
        }
        let provinces: Vec<UnitRow> = db::units::children(c, actor, None)?
            .into_iter()
            .filter(|u| u.level == UnitLevel::Province && u.valid_to.is_none())
            .collect();
        (national_unit(), Area::National, provinces)
    } else {
        let unit = db::units::get(c, actor, &p.unit)?.ok_or_else(|| ApiError::not_found("unit"))?;
        if unit.level == UnitLevel::Commune {
            let area = Area::Commune(unit.id.clone());
            (unit, area, Vec::new())
        } else {
            let children = db::units::children(c, actor, Some(&unit.id))?;
            let area = Area::Province(unit.id.clone());
            (unit, area, children)
        }
    };
    let row = programme_for(db::programmes::list(c)?, p.year, p.as_of, "year")?;
    // A province's own targets (per-province overrides) apply to it and its communes.
    let programme = crate::service::reports::effective_programme(&row, &unit)?;
    year_window(p.year, p.as_of).ok_or_else(|| {
        invalid(
            "as_of",
            format!("as_of must not be before the start of {}", p.year),
        )
    })?;
    let types: Vec<EstablishmentType> = match p.establishment_type {
        Some(t) if programme.covers_type(t) => vec![t],
        Some(t) => {
            return Err(invalid(
                "type",
                format!("{} is not in the programme's scope", t.as_str()),
            ))
        }
        None => programme.types_in_scope().to_vec(),
    };
    let annual = annual_window(&programme, p.year, p.as_of)
        .ok_or_else(|| invalid("as_of", "as_of is before the programme began"))?;
    // Programme start to as_of, never past the end of the period.
    let cumulative = cumulative_window(&programme, p.as_of)
        .ok_or_else(|| invalid("as_of", "as_of is before the programme began"))?;
    let year_end = NaiveDate::from_ymd_opt(p.year, 12, 31)
        .unwrap_or(annual.1)
        .min(programme.period_end());
    Ok(Resolved {
        unit,
        area,
        children,
        row,
        programme,
        types,
        annual,
        cumulative,
        year_end,
    })
}

/// The coverage answer for checked parameters, as `actor` sees it (what `GET /api/v1/coverage`
/// returns; also what `doi178-server bench` measures).
pub fn compute(c: &mut db::AnyConnection, actor: &Actor, p: &Params) -> ApiResult<Coverage> {
    let resolved = resolve(c, actor, p)?;
    compute_resolved(c, p, &resolved)
}

/// [`compute`] for a request already resolved (the dashboard resolves once and reuses it).
pub fn compute_resolved(
    c: &mut db::AnyConnection,
    p: &Params,
    r: &Resolved,
) -> ApiResult<Coverage> {
    let Resolved {
        unit,
        area,
        children,
        row,
        programme,
        types,
        annual: (annual_from, annual_to),
        cumulative: (cum_from, cum_to),
        year_end,
    } = r;
    let (annual_from, annual_to, cum_from, cum_to, year_end) =
        (*annual_from, *annual_to, *cum_from, *cum_to, *year_end);
    let annual = db::coverage::tallies(
        c,
        area,
        types,
        &Window {
            operating_from: annual_from,
            operating_to: annual_to,
            inspected_from: annual_from,
            inspected_to: annual_to,
        },
    )?;
    let cumulative = db::coverage::tallies(
        c,
        area,
        types,
        &Window {
            operating_from: cum_to,
            operating_to: cum_to,
            inspected_from: cum_from,
            inspected_to: cum_to,
        },
    )?;
    let annual_share = programme.annual_min_share();
    let end_share = programme.end_share();
    let row_of = |unit_id: String, name: String, a: Tally, cu: Tally| CoverageRow {
        unit_id,
        name,
        annual: measure(a, annual_share, annual_from, annual_to, year_end),
        cumulative: measure(cu, end_share, cum_from, cum_to, programme.period_end()),
    };
    let annual_children = annual.by_child(area);
    let cumulative_children = cumulative.by_child(area);
    let children_rows: Vec<CoverageRow> = children
        .iter()
        .map(|u| {
            let a = annual_children.get(&u.id).copied().unwrap_or(EMPTY);
            let cu = cumulative_children.get(&u.id).copied().unwrap_or(EMPTY);
            row_of(u.id.clone(), u.name.clone(), a, cu)
        })
        .collect();
    let total = row_of(
        unit.id.clone(),
        unit.name.clone(),
        annual.total(),
        cumulative.total(),
    );
    Ok(Coverage {
        unit: unit.id.clone(),
        year: p.year,
        as_of: p.as_of,
        programme: CoverageProgramme {
            id: row.id.clone(),
            name: row.name.clone(),
            annual_min_share: annual_share.as_fraction(),
            end_share: end_share.as_fraction(),
            period_start: programme.period_start(),
            period_end: programme.period_end(),
        },
        total,
        children: children_rows,
    })
}

fn national_unit() -> UnitRow {
    UnitRow {
        id: NATIONAL.to_string(),
        code: NATIONAL.to_string(),
        code_version: String::new(),
        name: "Việt Nam".to_string(),
        full_name: "Việt Nam".to_string(),
        name_en: "Viet Nam".to_string(),
        level: UnitLevel::Country,
        kind: UnitKind::Country,
        parent_id: None,
        path: "/".to_string(),
        search_key: String::new(),
        valid_from: NaiveDate::MIN,
        valid_to: None,
        area_km2: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn q(
        unit: Option<&str>,
        year: Option<&str>,
        t: Option<&str>,
        as_of: Option<&str>,
    ) -> CoverageQuery {
        CoverageQuery {
            unit: unit.map(str::to_string),
            year: year.map(str::to_string),
            establishment_type: t.map(str::to_string),
            as_of: as_of.map(str::to_string),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn parameters_default_and_name_the_field_at_fault() {
        let p = parse_params(q(Some("2025:46"), None, None, None), today()).unwrap();
        assert_eq!((p.year, p.as_of), (2026, today()));
        let field = |r: ApiResult<Params>| r.err().and_then(|e| e.field).unwrap();
        assert_eq!(
            field(parse_params(q(None, None, None, None), today())),
            "unit"
        );
        assert_eq!(
            field(parse_params(
                q(Some("x"), Some("20x6"), None, None),
                today()
            )),
            "year"
        );
        assert_eq!(
            field(parse_params(
                q(Some("x"), Some("1999"), None, None),
                today()
            )),
            "year"
        );
        assert_eq!(
            field(parse_params(
                q(Some("x"), None, Some("casino"), None),
                today()
            )),
            "type"
        );
        assert_eq!(
            field(parse_params(
                q(Some("x"), None, None, Some("2026-13-01")),
                today()
            )),
            "as_of"
        );
    }
}
