//! The planner: which establishments a team should inspect next so its unit meets the programme's
//! targets in time. Each proposal shows its score and the parts it is made of; nearby proposals
//! are grouped into outings, and each group comes with the body that turns it into a draft
//! assignment in one call (`POST /api/v1/assignments`).

use chrono::{NaiveDate, TimeDelta};
use doi178_shared::assignment::AssignmentKind;
use doi178_shared::coverage::{group_nearby, plan_score, PlanFactors, PlanScore};
use doi178_shared::establishment::{EstablishmentType, RiskLevel};
use doi178_shared::ProblemCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, ApiResult};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;
const DEFAULT_RADIUS_M: f64 = 1000.0;
const DEFAULT_GROUP_SIZE: u32 = 6;
const DEFAULT_WINDOW_DAYS: i64 = 14;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlannerQuery {
    /// The team to plan for; the caller must be its leader or a deputy.
    pub team: Uuid,
    /// First day of the window (default: today in Vietnam).
    pub from: Option<NaiveDate>,
    /// Last day of the window (default: 14 days after `from`).
    pub to: Option<NaiveDate>,
    /// Only this establishment type (code, e.g. `karaoke`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub establishment_type: Option<String>,
    /// Most proposals (1–500, default 50).
    pub limit: Option<u32>,
    /// Establishments within this distance of a group's first one share an outing (50–20000 m, default 1000).
    pub radius_m: Option<f64>,
    /// Most establishments in one outing (1–20, default 6).
    pub group_size: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub id: String,
    pub name: String,
    pub establishment_type: EstablishmentType,
    pub unit_id: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub risk: RiskLevel,
    pub last_inspected_on: Option<NaiveDate>,
    pub never_inspected_in_period: bool,
    pub prior_violations: i64,
    pub open_tips: i64,
    /// The score with its parts (never inspected, days since last, violations, tips, risk).
    #[schema(value_type = Object)]
    pub score: PlanScore,
}

/// The body for `POST /api/v1/assignments` that makes a draft of these proposals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AssignmentBody {
    pub team_id: Uuid,
    pub kind: AssignmentKind,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub establishment_ids: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Outing {
    pub establishments: Vec<Proposal>,
    pub assignment: AssignmentBody,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgrammeRef {
    pub id: String,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The annual target in the team's province (its override, if any; 0.2 = 20 %).
    pub annual_min_share: f64,
    /// The end-of-period target in the team's province.
    pub end_share: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlannerResponse {
    pub team_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub programme: ProgrammeRef,
    /// How far the team's unit is from the targets (coverage of its unit in the year of `from`,
    /// as of `from` or today, whichever is earlier): `needed` says how many to plan for.
    pub gap: Option<crate::service::coverage::CoverageRow>,
    /// Operating establishments in scope that are not already in an open assignment of the team.
    pub candidates_considered: usize,
    /// Highest score first; each group is one outing.
    pub groups: Vec<Outing>,
    /// All proposals as one draft assignment.
    pub assignment: AssignmentBody,
}

fn bad(field: &str, detail: &str) -> ApiError {
    ApiError::unprocessable(ProblemCode::Invalid, field, detail)
}

/// The planner's answer for `q` as `actor` (the API handler and the leader's page both call it).
pub fn plan(
    c: &mut db::AnyConnection,
    actor: &Actor,
    q: &PlannerQuery,
) -> ApiResult<PlannerResponse> {
    let from = q.from.unwrap_or_else(crate::clock::today);
    let to = q.to.unwrap_or(from + TimeDelta::days(DEFAULT_WINDOW_DAYS));
    if to < from || to - from > TimeDelta::days(366) {
        return Err(bad(
            "to",
            "must be on or after `from` and at most a year later",
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 500"));
    }
    let radius_m = q.radius_m.unwrap_or(DEFAULT_RADIUS_M);
    if !radius_m.is_finite() || !(50.0..=20_000.0).contains(&radius_m) {
        return Err(bad("radius_m", "must be between 50 and 20000 metres"));
    }
    let group_size = q.group_size.unwrap_or(DEFAULT_GROUP_SIZE);
    if !(1..=20).contains(&group_size) {
        return Err(bad("group_size", "must be between 1 and 20"));
    }
    let only_type = q
        .establishment_type
        .as_deref()
        .map(EstablishmentType::parse)
        .transpose()
        .map_err(|e| ApiError::from(e).field("type"))?;
    let team_id = q.team;
    let team = db::teams::get(c, actor, team_id)?.ok_or_else(|| ApiError::not_found("team"))?;
    if !actor.leads(team_id) {
        return Err(ApiError::forbidden(
            "only the leader or a deputy of the team plans its inspections",
        )
        .field("team"));
    }
    let programme = db::programmes::list(c)?
        .into_iter()
        .find(|p| p.period_start <= from && from <= p.period_end)
        .ok_or_else(|| {
            bad(
                "from",
                "no programme covers this date; ask an administrator to configure one",
            )
        })?;
    let team_unit = db::units::get(c, actor, &team.unit_id)?;
    let targets = crate::service::reports::programme_in(
        &programme,
        team_unit
            .as_ref()
            .and_then(crate::service::reports::province_of),
    )?;
    let mut types: Vec<String> =
        serde_json::from_str(&programme.types_in_scope).map_err(|_| ApiError::internal())?;
    if let Some(t) = only_type {
        types.retain(|x| x == t.as_str());
    }
    let units: Vec<String> = db::units::subtree_ids(c, std::slice::from_ref(&team.unit_id))?
        .into_iter()
        .filter(|u| actor.sees_unit(u))
        .collect();
    let candidates = db::planner::candidates(c, &units, &types, &team.id)?;
    let considered = candidates.len();
    let mut scored: Vec<Proposal> = candidates
        .into_iter()
        .map(|cand| {
            let e = cand.establishment;
            let factors = PlanFactors {
                never_inspected_in_period: cand
                    .last_inspected_on
                    .is_none_or(|d| d < programme.period_start),
                days_since_last: cand.last_inspected_on.map(|d| (from - d).num_days()),
                prior_violations: u32::try_from(cand.prior_violations).unwrap_or(u32::MAX),
                open_tips: u32::try_from(cand.open_tips).unwrap_or(u32::MAX),
                risk: e.risk,
            };
            Proposal {
                score: plan_score(&factors),
                never_inspected_in_period: factors.never_inspected_in_period,
                last_inspected_on: cand.last_inspected_on,
                prior_violations: cand.prior_violations,
                open_tips: cand.open_tips,
                id: e.id,
                name: e.name,
                establishment_type: e.establishment_type,
                unit_id: e.unit_id,
                address: e.address,
                lat: e.lat,
                lon: e.lon,
                risk: e.risk,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total
            .total_cmp(&a.score.total)
            .then_with(|| a.name.cmp(&b.name))
    });
    scored.truncate(limit as usize);
    let points: Vec<(usize, f64, f64)> = scored
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.lat.unwrap_or(f64::NAN), p.lon.unwrap_or(f64::NAN)))
        .collect();
    let body = |ids: Vec<String>| AssignmentBody {
        team_id,
        kind: AssignmentKind::Planned,
        window_start: from,
        window_end: to,
        establishment_ids: ids,
    };
    let all_ids: Vec<String> = scored.iter().map(|p| p.id.clone()).collect();
    let mut slots: Vec<Option<Proposal>> = scored.into_iter().map(Some).collect();
    let groups = group_nearby(&points, radius_m, group_size as usize)
        .into_iter()
        .map(|members| {
            let establishments: Vec<Proposal> = members
                .into_iter()
                .filter_map(|i| slots[i].take())
                .collect();
            let ids = establishments.iter().map(|p| p.id.clone()).collect();
            Outing {
                establishments,
                assignment: body(ids),
            }
        })
        .filter(|o| !o.establishments.is_empty())
        .collect();
    let today = crate::clock::today();
    let params = crate::service::coverage::Params {
        unit: team.unit_id.clone(),
        year: chrono::Datelike::year(&from),
        as_of: from.min(today),
        establishment_type: only_type,
    };
    let gap = crate::service::coverage::compute(c, actor, &params)
        .ok()
        .map(|cov| cov.total);
    Ok(PlannerResponse {
        team_id,
        from,
        to,
        gap,
        programme: ProgrammeRef {
            id: programme.id,
            name: programme.name,
            period_start: programme.period_start,
            period_end: programme.period_end,
            annual_min_share: targets.annual_min_share().as_fraction(),
            end_share: targets.end_share().as_fraction(),
        },
        candidates_considered: considered,
        groups,
        assignment: body(all_ids),
    })
}
