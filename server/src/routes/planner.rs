//! `GET /api/v1/planner`: the handler; the proposals come from `service::planner`.

use actix_web::{web, HttpResponse};

use crate::auth::Actor;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::service::planner::{plan, PlannerQuery, PlannerResponse};
use crate::state::AppState;

/// Proposes what the team should inspect next, best first, grouped into outings.
#[utoipa::path(get, path = "/api/v1/planner", tag = "planner", params(PlannerQuery), security(("bearer" = [])),
    responses((status = 200, body = PlannerResponse), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn propose(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<PlannerQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let db = state.db.clone();
    let res = web::block(move || db.read(|c| plan(c, &actor, &q))).await??;
    Ok(HttpResponse::Ok().json(res))
}
