//! Tips and complaints (tố giác, tin báo): intake, list with deadlines, status changes.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use doi178_shared::tip::{TipDraft, TipInput, TipStatus};
use doi178_shared::ProblemCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::extract::{ApiJson, ApiQuery};
use crate::service::page::{page_of, parse_time_cursor, time_cursor};
use crate::service::tips::{create_tip, set_tip_status, TipView, HANDLERS};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct TipList {
    pub items: Vec<TipView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TipQuery {
    pub status: Option<String>,
    /// Page size, 1 to 1000 (default 200).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Tips concerning units in the caller's jurisdiction, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/tips", tag = "tips", params(TipQuery), security(("bearer" = [])), responses((status = 200, body = TipList)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<TipQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let status = q.status.map(|s| s.parse::<TipStatus>()).transpose()?;
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
    let filter = db::tips::Filter {
        status,
        before,
        limit: Some(limit + 1),
        ..Default::default()
    };
    let rows =
        web::block(move || db.read(|c| db::tips::list(c, &actor, &filter).map_err(ApiError::from)))
            .await??;
    let (rows, next_cursor) = page_of(rows, limit as usize, |t| time_cursor(t.received_at, &t.id));
    Ok(HttpResponse::Ok().json(TipList {
        items: rows.into_iter().map(TipView::from).collect(),
        next_cursor,
    }))
}

/// One tip.
#[utoipa::path(get, path = "/api/v1/tips/{id}", tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = TipView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "tip")?;
    let db = state.db.clone();
    let tip = web::block(move || db.read(|c| db::tips::get(c, &actor, id).map_err(ApiError::from)))
        .await??
        .ok_or_else(|| ApiError::not_found("tip"))?;
    Ok(HttpResponse::Ok().json(TipView::from(tip)))
}

/// Records a tip received (staff and team leaders).
#[utoipa::path(post, path = "/api/v1/tips", tag = "tips", security(("bearer" = [])), request_body = doi178_shared::tip::TipInput,
    responses((status = 201, body = TipView), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<TipInput>,
) -> ApiResult<HttpResponse> {
    actor.require(HANDLERS, "record tips")?;
    let mut input = body.0;
    let db = state.db.clone();
    let row = web::block(move || {
        db.write(|c| {
            // A bare official code (`19753`) is that code in the list in force.
            input.unit = db::units::canonical_id(c, &input.unit)?;
            let draft = TipDraft::parse(input, Utc::now())?;
            create_tip(c, &actor, &draft)
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(TipView::from(row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipStatusInput {
    /// `verifying`, `classified` or `handled`; one step forward at a time.
    pub status: String,
    /// Link the assignment created for this tip.
    pub assignment_id: Option<Uuid>,
}

/// Moves a tip forward: received → verifying → classified → handled.
#[utoipa::path(post, path = "/api/v1/tips/{id}/status", tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = TipStatusInput, responses((status = 200, body = TipView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn set_status(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<TipStatusInput>,
) -> ApiResult<HttpResponse> {
    actor.require(HANDLERS, "handle tips")?;
    let id = parse_id(&id, "tip")?;
    let input = body.0;
    let next: TipStatus = input.status.parse()?;
    let db = state.db.clone();
    let row =
        web::block(move || db.write(|c| set_tip_status(c, &actor, id, next, input.assignment_id)))
            .await??;
    Ok(HttpResponse::Ok().json(TipView::from(row)))
}
