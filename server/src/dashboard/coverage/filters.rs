//! The filters of the coverage pages and the map (unit, year, type), their defaults and the
//! breadcrumbs.

use actix_web::HttpRequest;
use chrono::Datelike;
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::ProblemCode;

use crate::auth::Actor;
use crate::clock::today;
use crate::dashboard::page::Lang;
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::{self as api, CoverageQuery, Params, NATIONAL};

/// The query of a coverage page (`/coverage`, `/map` and the map's JSON routes). Read leniently:
/// unknown keys are ignored, the last value of a repeated key wins.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub unit: Option<String>,
    pub year: Option<String>,
    pub establishment_type: Option<String>,
    /// `annual` (default) or `cumulative` (the map's colouring).
    pub measure: Option<String>,
    /// Order of the coverage table: by name (default), or by `annual` / `cumulative` share,
    /// lowest first.
    pub sort: Option<String>,
}

impl PageQuery {
    pub fn from_request(req: &HttpRequest) -> PageQuery {
        let mut q = PageQuery::default();
        for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
            let v = Some(v.into_owned());
            match k.as_ref() {
                "unit" => q.unit = v,
                "year" => q.year = v,
                "type" => q.establishment_type = v,
                "measure" => q.measure = v,
                "sort" => q.sort = v,
                _ => {}
            }
        }
        q
    }
}

/// Where a user's coverage pages open: the whole country for administrators, else the user's own
/// unit, else the unit of their first team.
pub fn default_unit(actor: &Actor) -> ApiResult<String> {
    if actor.is_admin() {
        return Ok(NATIONAL.to_string());
    }
    actor
        .unit_id
        .clone()
        .or_else(|| actor.teams.first().map(|m| m.unit_id.clone()))
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::NOT_FOUND,
                ProblemCode::NoUnit,
                "your account has no unit or team yet; ask your administrator to assign one",
            )
            .field("unit")
        })
}

/// The checked parameters of a page query, with the user's default unit: the same checks and
/// defaults as `GET /api/v1/coverage` (a bad year or type is a 4xx naming the field).
pub fn params_of(actor: &Actor, q: &PageQuery) -> ApiResult<Params> {
    let unit = match q.unit.as_deref().map(str::trim) {
        None | Some("") => default_unit(actor)?,
        Some(u) => u.to_string(),
    };
    api::parse_params(
        CoverageQuery {
            unit: Some(unit),
            year: q.year.clone(),
            establishment_type: q.establishment_type.clone(),
            as_of: None,
        },
        today(),
    )
}

/// The query string of a unit's page under the same filters: `unit=…&year=…[&type=…]`.
pub fn query_for(unit: &str, p: &Params) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("unit", unit);
    s.append_pair("year", &p.year.to_string());
    if let Some(t) = p.establishment_type {
        s.append_pair("type", t.as_str());
    }
    s.finish()
}

/// The filter form: the years some programme covers (up to this year) and the types in scope.
pub struct Filters {
    pub unit: String,
    pub year: i32,
    pub type_code: String,
    pub years: Vec<i32>,
    pub types: Vec<(&'static str, &'static str)>,
}

pub fn filters(
    c: &mut AnyConnection,
    l: Lang,
    p: &Params,
    in_scope: &[EstablishmentType],
) -> ApiResult<Filters> {
    let this_year = today().year();
    let mut years: Vec<i32> = db::programmes::list(c)?
        .iter()
        .flat_map(|pr| pr.period_start.year()..=pr.period_end.year().min(this_year))
        .collect();
    years.push(p.year);
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    let mut types: Vec<(&'static str, &'static str)> = EstablishmentType::ALL
        .iter()
        .filter(|t| in_scope.contains(t))
        .map(|t| (t.as_str(), l.label(t)))
        .collect();
    types.sort_by_key(|(_, label)| *label);
    Ok(Filters {
        unit: p.unit.clone(),
        year: p.year,
        type_code: p
            .establishment_type
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        years,
        types,
    })
}

/// One step of the path from the user's top unit down to the page's unit.
pub struct Crumb {
    pub unit: String,
    pub name: String,
    /// The same page for that unit, under the same filters.
    pub href: String,
}

/// The units above `unit` the user may see (the country for administrators), top first, ending
/// with `unit` itself; each links to `path` (`/coverage` or `/map`) under the filters of `p`.
pub fn crumbs(
    c: &mut AnyConnection,
    actor: &Actor,
    unit: &db::units::UnitRow,
    path: &str,
    p: &Params,
) -> Vec<Crumb> {
    let mut chain = vec![(unit.id.clone(), unit.name.clone())];
    let mut parent = unit.parent_id.clone();
    while let Some(id) = parent {
        match db::units::get(c, actor, &id) {
            Ok(Some(u)) => {
                parent = u.parent_id.clone();
                chain.push((u.id, u.name));
            }
            _ => break,
        }
    }
    if actor.is_admin() && unit.id != NATIONAL {
        chain.push((NATIONAL.to_string(), "Việt Nam".to_string()));
    }
    chain.reverse();
    chain
        .into_iter()
        .map(|(unit, name)| Crumb {
            href: format!("{path}?{}", query_for(&unit, p)),
            unit,
            name,
        })
        .collect()
}
