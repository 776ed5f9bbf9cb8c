//! Reports toward the programme (issue 3): the monthly series against the target line, the
//! establishments never inspected in the period, overdue follow-ups, and the totals of a
//! reporting window (visits, violations and proposed fines, follow-ups, tips handled on time).
//!
//! Scoping is that of `GET /api/v1/coverage`: `unit` is a province or commune the caller can see
//! (anything else is 404, never 403) or `VN` for the whole country (administrators). Targets are
//! the programme's, replaced by the province's override when it has one
//! ([`effective_programme`]).

use chrono::{Datelike, NaiveDate};
use doi178_shared::coverage::{annual_window, year_window, Lifetime, Tally};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::programme::{Programme, ProgrammeInput};
use doi178_shared::tip::TipStatus;
use doi178_shared::unit::UnitLevel;
use doi178_shared::ProblemCode;
use doi178_shared::Role;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::db::{self, coverage::Area, programmes::ProgrammeRow, units::UnitRow};
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::{MIN_YEAR, NATIONAL};

/// Share of tips to handle by their deadline.
pub const TIPS_ON_TIME_TARGET: f64 = 1.0;

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/// The province whose overrides apply to `unit`: itself, a commune's parent, none for the country.
pub fn province_of(unit: &UnitRow) -> Option<&str> {
    match unit.level.as_str() {
        "province" => Some(unit.id.as_str()),
        "country" => None,
        _ => unit.parent_id.as_deref(),
    }
}

/// The validated programme of a stored row with the targets that apply in `province` (its
/// override, if any, replaces the programme's shares).
pub fn programme_in(row: &ProgrammeRow, province: Option<&str>) -> ApiResult<Programme> {
    let (annual, end) = db::reports::effective_shares_bp(row, province);
    let bp = |v: i32| u32::try_from(v).unwrap_or(u32::MAX);
    let types: Vec<EstablishmentType> = serde_json::from_str::<Vec<String>>(&row.types_in_scope)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| EstablishmentType::parse(t).ok())
        .collect();
    Programme::parse(ProgrammeInput {
        name: row.name.clone(),
        period_start: row.period_start,
        period_end: row.period_end,
        annual_min_share_bp: bp(annual),
        end_share_bp: bp(end),
        types_in_scope: types,
    })
    .map_err(|e| {
        tracing::error!(programme = %row.id, error = %e.message, "stored programme is invalid");
        ApiError::internal()
    })
}

/// [`programme_in`] for a unit (the country, a province or a commune).
pub fn effective_programme(row: &ProgrammeRow, unit: &UnitRow) -> ApiResult<Programme> {
    programme_in(row, province_of(unit))
}

pub fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(ProblemCode::Invalid, field, detail)
}

pub fn required_unit(unit: Option<String>) -> ApiResult<String> {
    unit.map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                ProblemCode::Required,
                "unit",
                "say which unit: `unit=2025:46` (or `unit=VN` for the whole country)",
            )
        })
}

pub fn parse_date(field: &str, value: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::bad_request(
                    ProblemCode::Invalid,
                    field,
                    format!("{field} must be YYYY-MM-DD"),
                )
            }),
    }
}

pub fn parse_type(value: Option<&str>) -> ApiResult<Option<EstablishmentType>> {
    value
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(EstablishmentType::parse)
        .transpose()
        .map_err(|e| ApiError::from(e).field("type"))
}

/// The unit asked for, resolved within the caller's jurisdiction.
pub struct Scope {
    pub unit_id: String,
    pub name: String,
    pub area: Area,
    pub province: Option<String>,
}

pub fn resolve(c: &mut db::AnyConnection, actor: &Actor, unit: &str) -> ApiResult<Scope> {
    if unit == NATIONAL {
        if !actor.is_admin() {
            return Err(ApiError::not_found("unit").field("unit"));
        }
        return Ok(Scope {
            unit_id: NATIONAL.to_string(),
            name: "Việt Nam".to_string(),
            area: Area::National,
            province: None,
        });
    }
    let row =
        db::units::get(c, actor, unit)?.ok_or_else(|| ApiError::not_found("unit").field("unit"))?;
    let area = if row.level == UnitLevel::Commune {
        Area::Commune(row.id.clone())
    } else {
        Area::Province(row.id.clone())
    };
    Ok(Scope {
        province: province_of(&row).map(str::to_string),
        unit_id: row.id,
        name: row.name,
        area,
    })
}

/// Types to count: the programme's, or the one asked for if it is in scope (field `type`).
pub fn types_for(
    programme: &Programme,
    only: Option<EstablishmentType>,
) -> ApiResult<Vec<EstablishmentType>> {
    match only {
        Some(t) if programme.covers_type(t) => Ok(vec![t]),
        Some(t) => Err(invalid(
            "type",
            format!("{} is not in the programme's scope", t.as_str()),
        )),
        None => Ok(programme.types_in_scope().to_vec()),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportProgramme {
    pub id: String,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The annual target that applies to the unit (0.2 = 20 %), its province's override if any.
    pub annual_min_share: f64,
    pub end_share: f64,
    /// Whether the unit's province overrides the programme's targets.
    pub province_override: bool,
}

pub fn report_programme(
    row: &ProgrammeRow,
    p: &Programme,
    province: Option<&str>,
) -> ReportProgramme {
    ReportProgramme {
        id: row.id.clone(),
        name: row.name.clone(),
        period_start: p.period_start(),
        period_end: p.period_end(),
        annual_min_share: p.annual_min_share().as_fraction(),
        end_share: p.end_share().as_fraction(),
        province_override: province.is_some_and(|pr| {
            db::reports::parse_overrides(&row.province_overrides).contains_key(pr)
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Monthly series
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, utoipa::ToSchema)]
pub struct SeriesMonth {
    /// 1–12.
    pub month: u32,
    /// Last day counted: the end of the month, or `as_of` in its month.
    pub through: NaiveDate,
    /// Establishments in scope that operated between 1 January (or the programme start) and `through`.
    pub in_scope: u64,
    /// Of those, the ones with at least one counted inspection in that time.
    pub inspected: u64,
    /// `inspected / in_scope`, null when nothing is in scope.
    pub share: Option<f64>,
    /// The target line: annual target × in_scope × month / 12.
    pub target: f64,
    /// annual target × month / 12 (0.1 = 10 %).
    pub target_share: f64,
    /// `inspected ≥ target`.
    pub on_track: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Series {
    pub unit: String,
    pub name: String,
    pub year: i32,
    pub as_of: NaiveDate,
    pub programme: ReportProgramme,
    pub months: Vec<SeriesMonth>,
}

/// The monthly series for checked parameters, as `actor` sees it (what
/// `GET /api/v1/coverage/series` returns; also the dashboard's progress chart).
pub fn compute_series(
    c: &mut db::AnyConnection,
    actor: &Actor,
    p: &crate::service::coverage::Params,
) -> ApiResult<Series> {
    let (year, as_of, only) = (p.year, p.as_of, p.establishment_type);
    let scope = resolve(c, actor, &p.unit)?;
    let row =
        crate::service::coverage::programme_for(db::programmes::list(c)?, year, as_of, "year")?;
    let programme = programme_in(&row, scope.province.as_deref())?;
    let (_, last) = year_window(year, as_of).ok_or_else(|| {
        invalid(
            "as_of",
            format!("as_of must not be before the start of {year}"),
        )
    })?;
    let types = types_for(&programme, only)?;
    let (from, to) = annual_window(&programme, year, as_of)
        .ok_or_else(|| invalid("as_of", "as_of is before the programme began"))?;
    let histories = db::reports::year_histories(c, &scope.area, &types, from, to)?;
    let target = programme.annual_min_share().as_fraction();
    let months = (1..=last.month())
        .map(|month| {
            let through = month_end(year, month).min(last);
            let tally = month_tally(&programme, &histories, year, through);
            let target_share = target * f64::from(month) / 12.0;
            let line = target_share * tally.in_scope as f64;
            SeriesMonth {
                month,
                through,
                in_scope: tally.in_scope,
                inspected: tally.inspected,
                share: tally.share(),
                target: line,
                target_share,
                on_track: tally.inspected as f64 >= line,
            }
        })
        .collect();
    Ok(Series {
        programme: report_programme(&row, &programme, scope.province.as_deref()),
        unit: scope.unit_id,
        name: scope.name,
        year,
        as_of,
        months,
    })
}

pub fn month_end(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
}

/// Annual coverage as of `through`, from the first inspection day of each establishment.
pub fn month_tally(
    programme: &Programme,
    histories: &[db::reports::YearHistory],
    year: i32,
    through: NaiveDate,
) -> Tally {
    let Some((from, to)) = annual_window(programme, year, through) else {
        return Tally::default();
    };
    histories
        .iter()
        .filter(|h| {
            Lifetime {
                opened_on: h.opened_on,
                closed_on: h.closed_on,
            }
            .operating_between(from, to)
        })
        .map(|h| Tally {
            in_scope: 1,
            inspected: u64::from(h.first_inspected.is_some_and(|d| from <= d && d <= to)),
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Never inspected
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NeverInspectedQuery {
    /// Unit id (`2025:46`), or `VN` for the whole country (administrators).
    pub unit: Option<String>,
    /// Only establishments of this type (e.g. `karaoke`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub establishment_type: Option<String>,
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NeverInspectedItem {
    pub id: String,
    pub name: String,
    pub establishment_type: String,
    pub unit_id: String,
    pub address: String,
    pub status: String,
    pub opened_on: Option<NaiveDate>,
    /// Last counted inspection ever (before the programme period), null if none.
    pub last_inspected_on: Option<NaiveDate>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NeverInspectedPage {
    pub unit: String,
    pub as_of: NaiveDate,
    /// Inspections since this day count (the programme start).
    pub since: NaiveDate,
    pub programme: ReportProgramme,
    /// Ordered by name then id.
    pub items: Vec<NeverInspectedItem>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Follow-ups
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FollowUpQuery {
    /// Unit id (`2025:46`), or `VN` for the whole country (administrators).
    pub unit: Option<String>,
    /// Overdue as of this day (`YYYY-MM-DD`, default: today in Vietnam).
    pub as_of: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowUpItem {
    pub visit_id: String,
    pub establishment_id: String,
    pub establishment_name: String,
    pub establishment_type: String,
    pub unit_id: String,
    pub address: String,
    pub team_id: String,
    /// Vietnamese day of the visit that asked for the follow-up.
    pub visited_on: NaiveDate,
    pub follow_up_on: NaiveDate,
    /// `as_of − follow_up_on` (0 on the day it is due).
    pub days_overdue: i64,
    pub violation_count: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowUps {
    pub unit: String,
    pub as_of: NaiveDate,
    pub total: usize,
    /// Most overdue first.
    pub items: Vec<FollowUpItem>,
}

// ---------------------------------------------------------------------------------------------
// Window summary
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// Unit id (`2025:46`), or `VN` for the whole country (administrators).
    pub unit: Option<String>,
    /// First Vietnamese day of the window (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Last Vietnamese day of the window (`YYYY-MM-DD`), included.
    pub to: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitSummary {
    /// Visits not rejected in review that started in the window.
    pub visits: i64,
    /// Counted inspections (not rejected, outcome counted by the programme).
    pub counted_inspections: i64,
    /// Distinct establishments with a counted inspection in the window.
    pub establishments_inspected: i64,
    /// Visits (not rejected) that found at least one violation.
    pub with_violations: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ViolationCode {
    pub code: String,
    /// What the violation is, as recorded with it (the reference text of its code).
    pub description: String,
    /// The legal provision it breaches, as recorded with it.
    pub legal_basis: String,
    pub count: i64,
    pub proposed_fines_vnd: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ViolationSummary {
    /// Violations recorded in visits (not rejected) of the window, by code.
    pub by_code: Vec<ViolationCode>,
    pub count: i64,
    pub proposed_fines_vnd: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowUpSummary {
    /// Visits (not rejected) whose follow-up date falls in the window.
    pub due: i64,
    /// Of those, the ones the establishment had a later visit (not rejected) after.
    pub done: i64,
    pub not_done: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TipSummary {
    /// Tips received in the window (by Vietnamese day).
    pub received: u64,
    pub handled: u64,
    /// Handled on or before the deadline (Vietnamese day of `handled_at` ≤ `deadline`).
    pub handled_on_time: u64,
    pub handled_late: u64,
    /// Not handled and past the deadline today.
    pub overdue: u64,
    /// Not handled, deadline not passed yet.
    pub pending: u64,
    /// `handled_on_time / (received − pending)`: null when nothing is due yet.
    pub on_time_share: Option<f64>,
    /// 1.0: every tip is to be handled on time.
    pub target_share: f64,
    pub meets_target: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub unit: String,
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub visits: VisitSummary,
    pub violations: ViolationSummary,
    pub follow_ups: FollowUpSummary,
    /// Null for inspectors, who see tips only through their assignments.
    pub tips: Option<TipSummary>,
}

/// The checks `GET /api/v1/coverage/summary` makes on its window (fields `from`, `to`).
pub fn check_window(from: NaiveDate, to: NaiveDate) -> ApiResult<()> {
    if to < from {
        return Err(invalid("to", "to must be on or after from"));
    }
    if from.year() < MIN_YEAR || to.year() > 9999 {
        return Err(invalid(
            "from",
            format!("from must be in {MIN_YEAR} or later"),
        ));
    }
    Ok(())
}

/// The totals of the window `from..=to` for `unit` as `actor` sees them: what
/// `GET /api/v1/coverage/summary` returns (also the dashboard's printable report and its XLSX).
/// `today` decides which unhandled tips are overdue.
pub fn compute_summary(
    c: &mut db::AnyConnection,
    actor: &Actor,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> ApiResult<Summary> {
    let scope = resolve(c, actor, unit)?;
    let facts = db::reports::window_facts(c, &scope.area, from, to)?;
    let by_code: Vec<ViolationCode> = facts
        .violations
        .into_iter()
        .map(|v| ViolationCode {
            code: v.code,
            description: v.description,
            legal_basis: v.legal_basis,
            count: v.count,
            proposed_fines_vnd: v.proposed_fines_vnd,
        })
        .collect();
    let tips = (actor.role != Role::Inspector).then(|| tip_summary(&facts.tips, today));
    Ok(Summary {
        unit: scope.unit_id,
        name: scope.name,
        from,
        to,
        visits: VisitSummary {
            visits: facts.visits.visits,
            counted_inspections: facts.counted.counted_visits,
            establishments_inspected: facts.counted.establishments,
            with_violations: facts.visits.with_violations,
        },
        violations: ViolationSummary {
            count: by_code.iter().map(|v| v.count).sum(),
            proposed_fines_vnd: by_code.iter().map(|v| v.proposed_fines_vnd).sum(),
            by_code,
        },
        follow_ups: FollowUpSummary {
            due: facts.follow_ups.due,
            done: facts.follow_ups.done,
            not_done: facts.follow_ups.due - facts.follow_ups.done,
        },
        tips,
    })
}

pub fn tip_summary(tips: &[db::reports::TipFactsRow], today: NaiveDate) -> TipSummary {
    let mut s = TipSummary {
        received: 0,
        handled: 0,
        handled_on_time: 0,
        handled_late: 0,
        overdue: 0,
        pending: 0,
        on_time_share: None,
        target_share: TIPS_ON_TIME_TARGET,
        meets_target: true,
    };
    for t in tips {
        s.received += 1;
        if t.status == TipStatus::Handled {
            s.handled += 1;
            let on_time = t
                .handled_at
                .is_some_and(|at| db::coverage::vietnam_day(at) <= t.deadline);
            if on_time {
                s.handled_on_time += 1;
            } else {
                s.handled_late += 1;
            }
        } else if t.deadline < today {
            s.overdue += 1;
        } else {
            s.pending += 1;
        }
    }
    let due = s.received - s.pending;
    s.on_time_share = (due > 0).then(|| s.handled_on_time as f64 / due as f64);
    s.meets_target = s.handled_on_time == due;
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;
    use db::reports::{TipFactsRow, YearHistory};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn row(overrides: &str) -> ProgrammeRow {
        ProgrammeRow {
            id: "p".into(),
            name: "Chương trình 2026–2035".into(),
            period_start: d("2026-01-01"),
            period_end: d("2035-12-31"),
            annual_min_share_bp: 2000,
            end_share_bp: 10_000,
            types_in_scope: r#"["karaoke","hotel"]"#.into(),
            counted_outcomes: "[]".into(),
            province_overrides: overrides.into(),
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        }
    }

    #[test]
    fn programme_targets_follow_the_province_override() {
        let r = row(r#"{"2025:46": {"annual_min_share_bp": 3000, "end_share_bp": 9000}}"#);
        let hue = programme_in(&r, Some("2025:46")).unwrap();
        assert_eq!(hue.annual_min_share().get(), 3000);
        assert_eq!(hue.end_share().get(), 9000);
        let other = programme_in(&r, Some("2025:44")).unwrap();
        assert_eq!(other.annual_min_share().get(), 2000);
    }

    #[test]
    fn month_ends() {
        assert_eq!(month_end(2024, 2), d("2024-02-29"));
        assert_eq!(month_end(2026, 12), d("2026-12-31"));
        assert_eq!(month_end(2026, 4), d("2026-04-30"));
    }

    #[test]
    fn month_tally_counts_the_lifetime_and_first_inspection() {
        let p = programme_in(&row("{}"), None).unwrap();
        let h = |o: Option<&str>, c: Option<&str>, f: Option<&str>| YearHistory {
            opened_on: o.map(d),
            closed_on: c.map(d),
            first_inspected: f.map(d),
        };
        let hs = [
            h(None, None, Some("2026-02-10")),
            h(Some("2026-03-15"), None, None),
            h(None, Some("2026-01-01"), None),
            h(Some("2026-05-01"), Some("2026-04-01"), Some("2026-01-05")),
        ];
        let t = |through| month_tally(&p, &hs, 2026, d(through));
        assert_eq!(
            t("2026-01-31"),
            Tally {
                in_scope: 1,
                inspected: 0
            }
        );
        assert_eq!(
            t("2026-02-28"),
            Tally {
                in_scope: 1,
                inspected: 1
            }
        );
        assert_eq!(
            t("2026-03-31"),
            Tally {
                in_scope: 2,
                inspected: 1
            }
        );
        assert_eq!(
            month_tally(&p, &hs, 2025, d("2025-12-31")),
            Tally::default()
        );
    }

    #[test]
    fn tips_on_time_share() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let tip = |deadline: &str, status: &str, handled: Option<&str>| TipFactsRow {
            deadline: d(deadline),
            status: status.parse().unwrap(),
            handled_at: handled.map(at),
        };
        let today = d("2026-06-10");
        let s = tip_summary(
            &[
                // Handled at 23:00 Vietnamese time on the deadline: on time.
                tip("2026-06-01", "handled", Some("2026-06-01 16:00:00")),
                // 00:30 Vietnamese time the day after: late.
                tip("2026-06-01", "handled", Some("2026-06-01 17:30:00")),
                tip("2026-06-05", "verifying", None),
                tip("2026-06-20", "received", None),
            ],
            today,
        );
        assert_eq!(
            (
                s.received,
                s.handled,
                s.handled_on_time,
                s.handled_late,
                s.overdue,
                s.pending
            ),
            (4, 2, 1, 1, 1, 1)
        );
        assert_eq!(s.on_time_share, Some(1.0 / 3.0));
        assert!(!s.meets_target);
        let none = tip_summary(&[tip("2026-06-20", "received", None)], today);
        assert_eq!(none.on_time_share, None);
        assert!(none.meets_target);
    }
}
