//! Assignments: a team leader drafts which establishments the team inspects in a window, then
//! releases it to the team. Inspectors never see drafts; unannounced work stays inside the team.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use doi178_shared::assignment::{AssignmentDraft, AssignmentInput, AssignmentStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::Who;
use crate::auth::Actor;
use crate::db::{self, assignments::AssignmentRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::routes::{now, page_of, parse_id, parse_time_cursor, time_cursor};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssignmentView {
    pub id: String,
    pub team_id: String,
    /// `planned`, `unannounced`, `follow_up` or `tip`.
    pub kind: String,
    /// `draft`, `released`, `done` or `cancelled`.
    pub status: String,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub note: Option<String>,
    pub tip_id: Option<String>,
    pub follow_up_of: Option<String>,
    pub establishment_ids: Vec<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub released_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub version: i64,
}

pub fn view(c: &mut db::AnyConnection, r: AssignmentRow) -> ApiResult<AssignmentView> {
    let establishment_ids = db::assignments::establishment_ids(c, &r.id)?;
    Ok(AssignmentView {
        id: r.id,
        team_id: r.team_id,
        kind: r.kind,
        status: r.status,
        window_start: r.window_start,
        window_end: r.window_end,
        note: r.note,
        tip_id: r.tip_id,
        follow_up_of: r.follow_up_of,
        establishment_ids,
        created_by: r.created_by,
        created_at: r.created_at,
        released_at: r.released_at,
        closed_at: r.closed_at,
        version: r.seq,
    })
}

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
        .map(|s| {
            s.parse::<AssignmentStatus>()
                .map(|s| s.as_str().to_string())
        })
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
#[utoipa::path(post, path = "/api/v1/assignments", tag = "assignments", security(("bearer" = [])), request_body = Object,
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

/// Moves an assignment of a team `actor` leads to `next` if its life cycle allows (release,
/// cancel, complete): shared by the API and the leader's page, in a write transaction.
pub fn change_status(
    c: &mut db::AnyConnection,
    actor: &Actor,
    id: Uuid,
    next: AssignmentStatus,
) -> ApiResult<AssignmentView> {
    let mut row =
        db::assignments::get(c, actor, id)?.ok_or_else(|| ApiError::not_found("assignment"))?;
    let team = Uuid::parse_str(&row.team_id).map_err(|_| ApiError::internal())?;
    if !actor.leads(team) {
        return Err(ApiError::forbidden(
            "only the leader or a deputy of the team may change its assignments",
        ));
    }
    let current: AssignmentStatus = row.status.parse().map_err(|_| ApiError::internal())?;
    let next = current.transition(next).map_err(|e| {
        ApiError::conflict("invalid_transition", format!("{}: {}", e.field, e.message))
            .field("status")
    })?;
    row.status = next.as_str().to_string();
    match next {
        AssignmentStatus::Released => row.released_at = Some(now()),
        AssignmentStatus::Done | AssignmentStatus::Cancelled => row.closed_at = Some(now()),
        AssignmentStatus::Draft => {}
    }
    row.updated_at = now();
    row.seq = db::next_seq(c)?;
    db::assignments::update(c, &Who::of(actor), &row)?;
    view(c, row)
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

/// Stores a validated draft for a team `actor` leads (the API handler and the leader's page both
/// call it, in a write transaction). A tip-driven draft is linked to its tip when the tip has no
/// assignment yet, so the tip shows the assignment that resulted from it.
pub fn create_draft(
    c: &mut db::AnyConnection,
    actor: &Actor,
    draft: &AssignmentDraft,
) -> ApiResult<AssignmentView> {
    if !actor.leads(draft.team_id()) {
        return Err(ApiError::forbidden(
            "only the leader or a deputy of the team may plan its assignments",
        )
        .field("team_id"));
    }
    let team = db::teams::get_unscoped(c, &draft.team_id().to_string())?
        .ok_or_else(|| ApiError::not_found("team"))?;
    let team_units = db::units::subtree_ids(c, std::slice::from_ref(&team.unit_id))?;
    let mut ids = Vec::new();
    for (i, e) in draft.establishment_ids().iter().enumerate() {
        let row = db::establishments::get_unscoped(c, &e.to_string())?;
        match row {
            Some(r) if team_units.contains(&r.unit_id) => ids.push(r.id),
            _ => {
                return Err(ApiError::unprocessable(
                    "unknown_establishment",
                    &format!("establishment_ids[{i}]"),
                    "establishment does not exist or is outside the team's jurisdiction",
                ))
            }
        }
    }
    let tip = match draft.tip_id() {
        Some(tip) => Some(
            db::tips::get(c, actor, tip)?
                .ok_or_else(|| ApiError::unprocessable("unknown_tip", "tip_id", "tip not found"))?,
        ),
        None => None,
    };
    if let Some(v) = draft.follow_up_of() {
        db::visits::get(c, actor, v)?.ok_or_else(|| {
            ApiError::unprocessable("unknown_visit", "follow_up_of", "visit not found")
        })?;
    }
    let seq = db::next_seq(c)?;
    let row = AssignmentRow {
        id: Uuid::new_v4().to_string(),
        team_id: team.id,
        kind: draft.kind().as_str().to_string(),
        status: AssignmentStatus::Draft.as_str().to_string(),
        window_start: draft.window_start(),
        window_end: draft.window_end(),
        note: draft.note().map(str::to_string),
        tip_id: draft.tip_id().map(|t| t.to_string()),
        follow_up_of: draft.follow_up_of().map(|v| v.to_string()),
        created_by: actor.user_id.to_string(),
        created_at: now(),
        released_at: None,
        closed_at: None,
        updated_at: now(),
        seq,
    };
    db::assignments::insert(c, &Who::of(actor), &row, &ids)?;
    if let Some(mut tip) = tip.filter(|t| t.assignment_id.is_none()) {
        tip.assignment_id = Some(row.id.clone());
        tip.updated_at = now();
        db::tips::update(c, &Who::of(actor), &tip)?;
    }
    view(c, row)
}
