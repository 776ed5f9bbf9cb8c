//! Reports over coverage: the monthly series, establishments never inspected, overdue
//! follow-ups and the 6-monthly summary — the API's handlers; the figures come from
//! `service::reports`.

use actix_web::{web, HttpResponse};
use chrono::Datelike;
use doi178_shared::coverage::cumulative_window;
use doi178_shared::pagination::{PageCursor, PageLimit};
use doi178_shared::ProblemCode;

use crate::auth::Actor;
use crate::clock::today;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::service::reports::{
    check_window, compute_series, compute_summary, invalid, parse_date, parse_type, programme_in,
    report_programme, required_unit, resolve, types_for, FollowUpItem, FollowUpQuery, FollowUps,
    NeverInspectedItem, NeverInspectedPage, NeverInspectedQuery, Series, Summary, SummaryQuery,
};
use crate::state::AppState;

/// Month by month through the year: establishments in scope inspected at least once since
/// 1 January, against a straight line to the annual target on 31 December. Each month's numbers
/// equal `GET /api/v1/coverage` with `as_of` at the end of that month.
#[utoipa::path(get, path = "/api/v1/coverage/series", tag = "coverage", params(crate::service::coverage::CoverageQuery), security(("bearer" = [])),
    responses((status = 200, body = Series), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn series(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<crate::service::coverage::CoverageQuery>,
) -> ApiResult<HttpResponse> {
    // The same parameters, defaults and checks as `GET /api/v1/coverage`.
    let p = crate::service::coverage::parse_params(query.into_inner(), today())?;
    let db = state.db.clone();
    let out = web::block(move || db.read(|c| compute_series(c, &actor, &p))).await??;
    Ok(HttpResponse::Ok().json(out))
}

/// Establishments in scope operating today with no counted inspection since the programme period
/// began (the complement of `cumulative.inspected` in `GET /api/v1/coverage`), by name.
#[utoipa::path(get, path = "/api/v1/coverage/never-inspected", tag = "coverage", params(NeverInspectedQuery), security(("bearer" = [])),
    responses((status = 200, body = NeverInspectedPage), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn never_inspected(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<NeverInspectedQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let unit = required_unit(q.unit)?;
    let only = parse_type(q.establishment_type.as_deref())?;
    let limit = PageLimit::parse(q.limit)?;
    let after = q.cursor.as_deref().map(PageCursor::decode).transpose()?;
    let as_of = today();
    let db = state.db.clone();
    let page = web::block(move || {
        db.read(|c| -> ApiResult<NeverInspectedPage> {
            let scope = resolve(c, &actor, &unit)?;
            let row = crate::service::coverage::programme_for(
                db::programmes::list(c)?,
                as_of.year(),
                as_of,
                "unit",
            )?;
            let programme = programme_in(&row, scope.province.as_deref())?;
            let types = types_for(&programme, only)?;
            let (since, on) = cumulative_window(&programme, as_of)
                .ok_or_else(|| invalid("unit", "the current programme has not begun yet"))?;
            let rows = db::reports::never_inspected(
                c,
                &scope.area,
                &types,
                since,
                on,
                after.map(|(name, id)| (name, id.to_string())),
                i64::from(limit.get()) + 1,
            )?;
            let (rows, next_cursor) =
                crate::service::page::page_of(rows, limit.get() as usize, |r| {
                    crate::service::page::key_cursor(&r.name, &r.id)
                });
            Ok(NeverInspectedPage {
                programme: report_programme(&row, &programme, scope.province.as_deref()),
                unit: scope.unit_id,
                as_of,
                since,
                items: rows
                    .into_iter()
                    .map(|r| NeverInspectedItem {
                        id: r.id,
                        name: r.name,
                        establishment_type: r.establishment_type,
                        unit_id: r.unit_id,
                        address: r.address,
                        status: r.status,
                        opened_on: r.opened_on,
                        last_inspected_on: r.last_inspected_on,
                    })
                    .collect(),
                next_cursor,
            })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(page))
}

/// Follow-up checks not done: visits (not rejected) whose `follow_up_on` is on or before `as_of`
/// and after which the establishment had no other visit (not rejected). Most overdue first.
#[utoipa::path(get, path = "/api/v1/coverage/follow-ups", tag = "coverage", params(FollowUpQuery), security(("bearer" = [])),
    responses((status = 200, body = FollowUps), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)))]
pub async fn follow_ups(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<FollowUpQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let unit = required_unit(q.unit)?;
    let as_of = parse_date("as_of", q.as_of.as_deref())?.unwrap_or_else(today);
    let db = state.db.clone();
    let out = web::block(move || {
        db.read(|c| -> ApiResult<FollowUps> {
            let scope = resolve(c, &actor, &unit)?;
            let rows = db::reports::overdue_follow_ups(c, &scope.area, as_of)?;
            let items: Vec<FollowUpItem> = rows
                .into_iter()
                .map(|r| FollowUpItem {
                    days_overdue: (as_of - r.follow_up_on).num_days(),
                    visited_on: db::coverage::vietnam_day(r.started_at),
                    visit_id: r.visit_id,
                    establishment_id: r.establishment_id,
                    establishment_name: r.establishment_name,
                    establishment_type: r.establishment_type,
                    unit_id: r.unit_id,
                    address: r.address,
                    team_id: r.team_id,
                    follow_up_on: r.follow_up_on,
                    violation_count: r.violation_count,
                })
                .collect();
            Ok(FollowUps {
                unit: scope.unit_id,
                as_of,
                total: items.len(),
                items,
            })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(out))
}

/// Totals of a reporting window (the 6-monthly and yearly reports): visits, violations and
/// proposed fines by code, follow-ups due and done, tips received and handled on time.
#[utoipa::path(get, path = "/api/v1/coverage/summary", tag = "coverage", params(SummaryQuery), security(("bearer" = [])),
    responses((status = 200, body = Summary), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn summary(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<SummaryQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let unit = required_unit(q.unit)?;
    let from = parse_date("from", q.from.as_deref())?.ok_or_else(|| {
        ApiError::bad_request(
            ProblemCode::Required,
            "from",
            "give the first day: from=YYYY-MM-DD",
        )
    })?;
    let to = parse_date("to", q.to.as_deref())?.ok_or_else(|| {
        ApiError::bad_request(
            ProblemCode::Required,
            "to",
            "give the last day: to=YYYY-MM-DD",
        )
    })?;
    check_window(from, to)?;
    let today = today();
    let db = state.db.clone();
    let out = web::block(move || db.read(|c| compute_summary(c, &actor, &unit, from, to, today)))
        .await??;
    Ok(HttpResponse::Ok().json(out))
}
