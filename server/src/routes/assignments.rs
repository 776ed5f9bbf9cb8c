//! Assignments: a team leader drafts which establishments the team inspects in a window, then
//! releases it to the team. Inspectors never see drafts; unannounced work stays inside the team.

use actix_web::{web, HttpResponse};
use doi178_shared::assignment::{AssignmentDraft, AssignmentInput, AssignmentStatus};
use doi178_shared::ProblemCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::extract::{ApiJson, ApiQuery};
use crate::service::assignments::{change_status, create_draft, view, AssignmentView};
use crate::service::page::{page_of, parse_time_cursor, time_cursor};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssignmentList {
    pub items: Vec<AssignmentView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssignmentQuery {
    pub team: Option<Uuid>,
    pub status: Option<String>,
    /// Page size, 1 to 1000 (default 200).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Assignments the caller may see, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/assignments", tag = "assignments", params(AssignmentQuery), security(("bearer" = [])),
    responses((status = 200, body = AssignmentList)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<AssignmentQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let status = q
        .status
        .map(|s| s.parse::<AssignmentStatus>())
        .transpose()?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            ProblemCode::OutOfRange,
            "limit",
            "limit must be between 1 and 1000",
        ));
    }
    let before = q.cursor.as_deref().map(parse_time_cursor).transpose()?;
    let db = state.db.clone();
    let page = web::block(move || {
        db.read(|c| -> ApiResult<AssignmentList> {
            let filter = db::assignments::Filter {
                team_id: q.team.map(|t| t.to_string()),
                status,
                before,
                limit: limit + 1,
            };
            let (rows, next_cursor) = page_of(
                db::assignments::list(c, &actor, &filter)?,
                limit as usize,
                |r| time_cursor(r.created_at, &r.id),
            );
            let items = rows
                .into_iter()
                .map(|r| view(c, r))
                .collect::<ApiResult<_>>()?;
            Ok(AssignmentList { items, next_cursor })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(page))
}

/// One assignment.
#[utoipa::path(get, path = "/api/v1/assignments/{id}", tag = "assignments", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = AssignmentView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "assignment")?;
    let db = state.db.clone();
    let a = web::block(move || {
        db.read(|c| -> ApiResult<AssignmentView> {
            let r = db::assignments::get(c, &actor, id)?
                .ok_or_else(|| ApiError::not_found("assignment"))?;
            view(c, r)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(a))
}

/// Drafts an assignment for a team the caller leads. Every establishment must be in the team's
/// jurisdiction. With `tip_id`, the tip records this draft as its assignment if it has none yet.
#[utoipa::path(post, path = "/api/v1/assignments", tag = "assignments", security(("bearer" = [])), request_body = doi178_shared::assignment::AssignmentInput,
    responses((status = 201, body = AssignmentView), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<AssignmentInput>,
) -> ApiResult<HttpResponse> {
    let draft = AssignmentDraft::parse(body.0)?;
    let db = state.db.clone();
    let a = web::block(move || db.write(|c| create_draft(c, &actor, &draft))).await??;
    Ok(HttpResponse::Created().json(a))
}

async fn transition(
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    next: AssignmentStatus,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "assignment")?;
    let db = state.db.clone();
    let a = web::block(move || db.write(|c| change_status(c, &actor, id, next))).await??;
    Ok(HttpResponse::Ok().json(a))
}

/// Releases a draft to the team: from now on its members see it on their phones.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/release", tag = "assignments", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = AssignmentView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn release(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    transition(state, actor, id.into_inner(), AssignmentStatus::Released).await
}

/// Cancels a draft or released assignment; phones drop it at their next sync.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/cancel", tag = "assignments", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = AssignmentView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn cancel(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    transition(state, actor, id.into_inner(), AssignmentStatus::Cancelled).await
}

/// Marks a released assignment done.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/complete", tag = "assignments", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = AssignmentView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn complete(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    transition(state, actor, id.into_inner(), AssignmentStatus::Done).await
}
