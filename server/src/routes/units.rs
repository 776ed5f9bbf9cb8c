//! Administrative units: the tree (children of a unit, or the top of the caller's jurisdiction)
//! and search by name without diacritics.

use actix_web::{web, HttpResponse};
use doi178_shared::ProblemCode;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::db::{self, units::UnitRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UnitQuery {
    /// List the children of this unit id (e.g. `2025:46`).
    pub parent: Option<String>,
    /// Search by name; case and diacritics are ignored ("hue" finds "Huế").
    pub q: Option<String>,
    /// Page size of a search (1–200, default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page of a search.
    pub cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitList {
    pub items: Vec<UnitRow>,
    /// More matches of a search: pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitDetail {
    #[serde(flatten)]
    pub unit: UnitRow,
    pub children: Vec<UnitRow>,
}

/// Units in the caller's jurisdiction: the top of it, the children of `parent`, or a search.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(UnitQuery), security(("bearer" = [])),
    responses((status = 200, body = UnitList), (status = 401, body = crate::error::Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<UnitQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            ProblemCode::OutOfRange,
            "limit",
            "limit must be between 1 and 200",
        ));
    }
    // A search is ranked (level, then name): its cursor is the number of matches already sent.
    let offset = match q.cursor.as_deref() {
        None => 0,
        Some(c) => doi178_shared::pagination::PageCursor::decode(c)?
            .0
            .parse::<i64>()
            .map_err(|_| {
                ApiError::bad_request(
                    ProblemCode::Invalid,
                    "cursor",
                    "cursor is not valid; start again without it",
                )
            })?,
    };
    let db = state.db.clone();
    let list = web::block(move || {
        db.read(|c| -> ApiResult<UnitList> {
            if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
                let mut items = db::units::search(c, &actor, text, offset, limit + 1)?;
                let more = items.len() > limit as usize;
                items.truncate(limit as usize);
                let next_cursor = more.then(|| {
                    doi178_shared::pagination::PageCursor::encode(
                        &(offset + limit).to_string(),
                        uuid::Uuid::nil(),
                    )
                });
                return Ok(UnitList { items, next_cursor });
            }
            Ok(UnitList {
                items: db::units::children(c, &actor, q.parent.as_deref())?,
                next_cursor: None,
            })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(list))
}

/// One unit with its children.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "units", security(("bearer" = [])),
    params(("id" = String, Path, description = "unit id, e.g. 2025:46")),
    responses((status = 200, body = UnitDetail), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let db = state.db.clone();
    let detail = web::block(move || {
        db.read(|c| -> ApiResult<UnitDetail> {
            let unit =
                db::units::get(c, &actor, &id)?.ok_or_else(|| ApiError::not_found("unit"))?;
            let children = db::units::children(c, &actor, Some(&unit.id))?;
            Ok(UnitDetail { unit, children })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(detail))
}
