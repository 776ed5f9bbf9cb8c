//! Tips and complaints (tố giác, tin báo): intake, list with deadlines, status changes.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use doi178_shared::tip::{TipDraft, TipInput, TipStatus};
use doi178_shared::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::Who;
use crate::auth::Actor;
use crate::db::{self, tips::TipRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::routes::{now, page_of, parse_id, parse_time_cursor, time_cursor};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct TipView {
    pub id: String,
    pub channel: String,
    pub received_at: NaiveDateTime,
    pub content: String,
    pub unit_id: String,
    pub establishment_id: Option<String>,
    pub reporter_contact: Option<String>,
    pub deadline: NaiveDate,
    pub status: String,
    pub handled_at: Option<NaiveDateTime>,
    /// Handled by the deadline (null while open).
    pub handled_on_time: Option<bool>,
    pub overdue: bool,
    pub assignment_id: Option<String>,
}

impl From<TipRow> for TipView {
    fn from(t: TipRow) -> Self {
        // Deadlines are Vietnamese calendar days.
        let vn = doi178_shared::time::vietnam_date;
        let today = vn(Utc::now());
        TipView {
            handled_on_time: t.handled_at.map(|h| vn(h.and_utc()) <= t.deadline),
            overdue: t.handled_at.is_none() && today > t.deadline,
            id: t.id,
            channel: t.channel,
            received_at: t.received_at,
            content: t.content,
            unit_id: t.unit_id,
            establishment_id: t.establishment_id,
            reporter_contact: t.reporter_contact,
            deadline: t.deadline,
            status: t.status,
            handled_at: t.handled_at,
            assignment_id: t.assignment_id,
        }
    }
}

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

const HANDLERS: &[Role] = &[Role::Admin, Role::ProvincialStaff, Role::TeamLeader];

/// Tips concerning units in the caller's jurisdiction, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/tips", tag = "tips", params(TipQuery), security(("bearer" = [])), responses((status = 200, body = TipList)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<TipQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let status = q
        .status
        .map(|s| s.parse::<TipStatus>().map(|s| s.as_str().to_string()))
        .transpose()?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "out_of_range",
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
#[utoipa::path(post, path = "/api/v1/tips", tag = "tips", security(("bearer" = [])), request_body = Object,
    responses((status = 201, body = TipView), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<TipInput>,
) -> ApiResult<HttpResponse> {
    actor.require(HANDLERS, "record tips")?;
    let draft = TipDraft::parse(body.0, Utc::now())?;
    let db = state.db.clone();
    let row = web::block(move || db.write(|c| create_tip(c, &actor, &draft))).await??;
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

/// Records a validated tip (the API handler and the tips page both call it).
pub fn create_tip(c: &mut db::AnyConnection, actor: &Actor, draft: &TipDraft) -> ApiResult<TipRow> {
    actor.require(HANDLERS, "record tips")?;
    let unit = draft.unit().to_string();
    if db::units::get(c, actor, &unit)?.is_none() {
        return Err(ApiError::unprocessable(
            "unknown_unit",
            "unit",
            "unit does not exist or is outside your jurisdiction",
        ));
    }
    if let Some(e) = draft.establishment_id() {
        if db::establishments::get(c, actor, e)?.is_none() {
            return Err(ApiError::unprocessable(
                "unknown_establishment",
                "establishment_id",
                "establishment does not exist or is outside your jurisdiction",
            ));
        }
    }
    let row = TipRow {
        id: Uuid::new_v4().to_string(),
        channel: draft.channel().as_str().to_string(),
        received_at: draft.received_at().naive_utc(),
        content: draft.content().to_string(),
        unit_id: unit,
        establishment_id: draft.establishment_id().map(|e| e.to_string()),
        reporter_contact: draft.reporter_contact().map(str::to_string),
        deadline: draft.deadline(),
        status: TipStatus::Received.as_str().to_string(),
        handled_at: None,
        assignment_id: None,
        created_by: actor.user_id.to_string(),
        created_at: now(),
        updated_at: now(),
    };
    db::tips::insert(c, &Who::of(actor), &row)?;
    Ok(row)
}

/// Moves a tip one step forward, optionally linking an assignment (API and tips page).
pub fn set_tip_status(
    c: &mut db::AnyConnection,
    actor: &Actor,
    id: Uuid,
    next: TipStatus,
    assignment_id: Option<Uuid>,
) -> ApiResult<TipRow> {
    actor.require(HANDLERS, "handle tips")?;
    let mut row = db::tips::get(c, actor, id)?.ok_or_else(|| ApiError::not_found("tip"))?;
    let current: TipStatus = row.status.parse().map_err(|_| ApiError::internal())?;
    let next = current.transition(next)?;
    if let Some(a) = assignment_id {
        db::assignments::get(c, actor, a)?.ok_or_else(|| {
            ApiError::unprocessable(
                "unknown_assignment",
                "assignment_id",
                "assignment not found",
            )
        })?;
        row.assignment_id = Some(a.to_string());
    }
    row.status = next.as_str().to_string();
    if next == TipStatus::Handled {
        row.handled_at = Some(now());
    }
    row.updated_at = now();
    db::tips::update(c, &Who::of(actor), &row)?;
    Ok(row)
}
