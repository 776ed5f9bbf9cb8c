//! Establishments: list with filters and cursor pagination, diacritic-insensitive search, create,
//! read, update. Scoped to the caller's jurisdiction by the db layer.

use actix_web::{web, HttpResponse};
use doi178_shared::establishment::{EstablishmentDraft, EstablishmentInput};
use doi178_shared::unit::UnitLevel;
use doi178_shared::ProblemCode;
use doi178_shared::Role;
use uuid::Uuid;

use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{self, establishments::EstablishmentRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::extract::{ApiJson, ApiQuery};
use crate::service::establishments::{
    list_page, parse_list_query, EstablishmentPage, EstablishmentView, ListQuery,
};
use crate::state::AppState;

/// Establishments in the caller's jurisdiction, ordered by name.
#[utoipa::path(get, path = "/api/v1/establishments", tag = "establishments", params(ListQuery),
    security(("bearer" = [])),
    responses((status = 200, body = EstablishmentPage), (status = 400, body = crate::error::Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<ListQuery>,
) -> ApiResult<HttpResponse> {
    let params = parse_list_query(query.into_inner())?;
    let db = state.db.clone();
    let page = web::block(move || db.read(|c| list_page(c, &actor, &params))).await??;
    Ok(HttpResponse::Ok().json(page))
}

/// One establishment.
#[utoipa::path(get, path = "/api/v1/establishments/{id}", tag = "establishments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EstablishmentView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "establishment")?;
    let db = state.db.clone();
    let row = web::block(move || {
        db.read(|c| db::establishments::get(c, &actor, id).map_err(ApiError::from))
    })
    .await??
    .ok_or_else(|| ApiError::not_found("establishment"))?;
    Ok(HttpResponse::Ok().json(EstablishmentView::from(row)))
}

const EDITORS: &[Role] = &[Role::Admin, Role::ProvincialStaff, Role::TeamLeader];

/// Checks the unit exists, is a current commune-level unit, and is in the caller's jurisdiction.
fn check_unit(c: &mut db::AnyConnection, actor: &Actor, unit: &str) -> ApiResult<()> {
    let row = db::units::get(c, actor, unit)?.ok_or_else(|| {
        ApiError::unprocessable(
            ProblemCode::UnknownUnit,
            "unit",
            format!("unit {unit} does not exist or is outside your jurisdiction"),
        )
    })?;
    if row.level != UnitLevel::Commune || row.valid_to.is_some() {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "unit",
            "use a current commune-level unit (xã, phường, đặc khu)",
        ));
    }
    Ok(())
}

/// Registers an establishment (staff and team leaders, in their jurisdiction).
#[utoipa::path(post, path = "/api/v1/establishments", tag = "establishments", security(("bearer" = [])),
    request_body = doi178_shared::establishment::EstablishmentInput,
    responses((status = 201, body = EstablishmentView), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<EstablishmentInput>,
) -> ApiResult<HttpResponse> {
    actor.require(EDITORS, "register establishments")?;
    let mut input = body.0;
    let db = state.db.clone();
    let row = web::block(move || {
        db.write(|c| -> ApiResult<EstablishmentRow> {
            // A bare official code (`19753`) is that code in the list in force.
            input.unit = db::units::canonical_id(c, &input.unit)?;
            let draft = EstablishmentDraft::parse(input)?;
            check_unit(c, &actor, &draft.unit().to_string())?;
            let seq = db::next_seq(c)?;
            let row =
                EstablishmentRow::from_draft(&draft, Uuid::new_v4().to_string(), now(), now(), seq);
            db::establishments::insert(c, &Who::of(&actor), &row)?;
            db::coverage::refresh_rollup_groups(
                c,
                &std::collections::BTreeSet::from([(row.unit_id.clone(), row.establishment_type)]),
            )?;
            Ok(row)
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(EstablishmentView::from(row)))
}

/// Replaces an establishment's data (all fields, as for create).
#[utoipa::path(put, path = "/api/v1/establishments/{id}", tag = "establishments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = doi178_shared::establishment::EstablishmentInput,
    responses((status = 200, body = EstablishmentView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<EstablishmentInput>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "establishment")?;
    actor.require(EDITORS, "edit establishments")?;
    let mut input = body.0;
    let db = state.db.clone();
    let row = web::block(move || {
        db.write(|c| -> ApiResult<EstablishmentRow> {
            input.unit = db::units::canonical_id(c, &input.unit)?;
            let draft = EstablishmentDraft::parse(input)?;
            let existing = db::establishments::get(c, &actor, id)?
                .ok_or_else(|| ApiError::not_found("establishment"))?;
            check_unit(c, &actor, &draft.unit().to_string())?;
            let seq = db::next_seq(c)?;
            let row = EstablishmentRow::from_draft(
                &draft,
                existing.id.clone(),
                existing.created_at,
                now(),
                seq,
            );
            db::establishments::update(c, &Who::of(&actor), &row)?;
            // Coverage: the group it left and the one it is in now.
            db::coverage::refresh_rollup_groups(
                c,
                &std::collections::BTreeSet::from([
                    (existing.unit_id.clone(), existing.establishment_type),
                    (row.unit_id.clone(), row.establishment_type),
                ]),
            )?;
            Ok(row)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(EstablishmentView::from(row)))
}
