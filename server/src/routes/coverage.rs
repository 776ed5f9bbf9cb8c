//! `GET /api/v1/coverage`: the handler; the counting lives in `service::coverage`.

use actix_web::{web, HttpResponse};

use crate::auth::Actor;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::service::coverage::{compute, parse_params, Coverage, CoverageQuery};
use crate::state::AppState;

/// Coverage of a unit and each of its children (communes of a province, provinces of the
/// country; a commune has none) toward the programme's annual and end targets.
///
/// Definitions (the pure functions in `doi178_shared::coverage` are the reference):
/// - *counted inspection*: a visit not rejected in review whose outcome the programme counts
///   (by default `no_violation` and `violations_found`; `not_operating` and `refused` do not);
///   its day is the Vietnamese calendar date (UTC+7) of `started_at`.
/// - *annual coverage* for year Y at `as_of` D: establishments of a type in the programme's scope
///   that operated at some time from 1 January of Y to D (opened on or before D, not closed on or
///   before 1 January; `closed_on` is the first day without trading); of those, the share with at
///   least one counted inspection in that window.
/// - *cumulative coverage*: establishments in scope operating on D; of those, the share with at
///   least one counted inspection from the start of the programme period to D.
/// - Coverage follows establishments over the current tree of units: an establishment moved or
///   registered under a pre-2025 code counts where it is now. `needed` is how many more
///   establishments must be inspected to reach the target (rounded up); `projection` extrapolates
///   the average daily pace since the window start.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "coverage", params(CoverageQuery), security(("bearer" = [])),
    responses((status = 200, body = Coverage), (status = 400, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<CoverageQuery>,
) -> ApiResult<HttpResponse> {
    let today = crate::clock::today();
    let p = parse_params(query.into_inner(), today)?;
    let db = state.db.clone();
    let out = web::block(move || db.read(|c| compute(c, &actor, &p))).await??;
    Ok(HttpResponse::Ok().json(out))
}
