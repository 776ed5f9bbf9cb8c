//! The report form: the request it makes (unit, year, period) checked with errors naming the
//! field, and the units to choose from.

use chrono::{Datelike, NaiveDate};
use doi178_shared::unit::UnitLevel;
use doi178_shared::ProblemCode;
use serde::Deserialize;

use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::{MIN_YEAR, NATIONAL};
use crate::service::plan_report::{Period, Request};
use doi178_shared::lang::Lang;

/// The unit a report starts on: the whole country for administrators, else the user's own unit
/// (a team leader's team unit, a provincial user's province).
pub(super) fn default_unit(actor: &Actor) -> String {
    if actor.is_admin() {
        return NATIONAL.to_string();
    }
    actor
        .unit_id
        .clone()
        .or_else(|| actor.teams.first().map(|m| m.unit_id.clone()))
        .or_else(|| actor.unit_ids().and_then(|u| u.into_iter().next()))
        .unwrap_or_else(|| NATIONAL.to_string())
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    unit: Option<String>,
    period: Option<String>,
    year: Option<String>,
}

pub(super) fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn parse_year(raw: Option<&str>, today: NaiveDate, l: Lang) -> ApiResult<Option<i32>> {
    let Some(s) = raw else { return Ok(None) };
    let year: i32 = s.parse().map_err(|_| {
        ApiError::unprocessable(
            ProblemCode::Invalid,
            "year",
            l.t(
                "Năm phải là một số, ví dụ 2026.",
                "The year must be a number such as 2026.",
            ),
        )
    })?;
    if year < MIN_YEAR || year > today.year() {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "year",
            format!(
                "{} {MIN_YEAR}–{}.",
                l.t("Chọn năm trong khoảng", "Choose a year in"),
                today.year()
            ),
        ));
    }
    Ok(Some(year))
}

pub(super) fn parse_request(
    q: &ReportQuery,
    actor: &Actor,
    today: NaiveDate,
    l: Lang,
) -> ApiResult<Request> {
    let year = parse_year(filled(&q.year), today, l)?.unwrap_or(today.year());
    let period = match filled(&q.period) {
        None => Period::default_for(today),
        Some(p) => Period::parse(p).ok_or_else(|| {
            ApiError::unprocessable(
                ProblemCode::Invalid,
                "period",
                l.t(
                    "Kỳ báo cáo phải là 6 tháng hoặc cả năm.",
                    "The period must be the half-year or the full year.",
                ),
            )
        })?,
    };
    Ok(Request {
        unit: filled(&q.unit).map_or_else(|| default_unit(actor), str::to_string),
        year,
        period,
    })
}

/// One choice in the unit list.
pub struct UnitOption {
    pub id: String,
    pub name: String,
    pub child: bool,
    pub selected: bool,
}

/// The units a report can be made for: the user's top units and, under a province, its communes
/// (for administrators the communes of the chosen province only, the country has 3,321).
pub(super) fn unit_options(
    c: &mut db::AnyConnection,
    actor: &Actor,
    selected: &str,
    l: Lang,
) -> ApiResult<Vec<UnitOption>> {
    let mut out = Vec::new();
    if actor.is_admin() {
        out.push(UnitOption {
            id: NATIONAL.to_string(),
            name: l.t("Toàn quốc", "Whole country").to_string(),
            child: false,
            selected: selected == NATIONAL,
        });
    }
    let selected_province = db::units::get(c, actor, selected)?
        .and_then(|u| crate::service::reports::province_of(&u).map(str::to_string));
    let roots: Vec<_> = db::units::children(c, actor, None)?
        .into_iter()
        .filter(|u| u.valid_to.is_none())
        .collect();
    let expand_all = !actor.is_admin();
    for root in roots {
        let expand = root.level == UnitLevel::Province
            && (expand_all || selected_province.as_deref() == Some(root.id.as_str()));
        out.push(UnitOption {
            selected: root.id == selected,
            id: root.id.clone(),
            name: root.name.clone(),
            child: false,
        });
        if expand {
            for u in db::units::children(c, actor, Some(&root.id))?
                .into_iter()
                .filter(|u| u.valid_to.is_none())
            {
                out.push(UnitOption {
                    selected: u.id == selected,
                    id: u.id,
                    name: u.name,
                    child: true,
                });
            }
        }
    }
    Ok(out)
}
