//! Reference data every signed-in user may read: agencies, programmes and checklist templates.
//! Templates are created by administrators as new versions; old versions stay for old visits.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use doi178_shared::checklist::{ChecklistTemplate, ChecklistTemplateInput};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::programme::{Programme, ProgrammeInput};
use doi178_shared::ProblemCode;
use doi178_shared::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{self, agencies::AgencyRow, programmes::ProgrammeRow, templates::TemplateRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AgencyList {
    pub items: Vec<AgencyRow>,
}

/// Agencies that second members to teams.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "reference", security(("bearer" = [])), responses((status = 200, body = AgencyList)))]
pub async fn agencies(state: web::Data<AppState>, _actor: Actor) -> ApiResult<HttpResponse> {
    let db = state.db.clone();
    let items =
        web::block(move || db.read(|c| db::agencies::list(c).map_err(ApiError::from))).await??;
    Ok(HttpResponse::Ok().json(AgencyList { items }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgrammeView {
    pub id: String,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Share of establishments in scope to inspect each year (0.2 = 20 %).
    pub annual_min_share: f64,
    /// Share to have inspected at least once by the end of the period.
    pub end_share: f64,
    pub types_in_scope: Vec<String>,
    pub counted_outcomes: Vec<String>,
    /// Province unit id → its own targets in basis points, replacing the programme's there.
    #[schema(value_type = Object)]
    pub province_overrides: db::reports::ProvinceOverrides,
}

impl From<ProgrammeRow> for ProgrammeView {
    fn from(p: ProgrammeRow) -> Self {
        ProgrammeView {
            id: p.id,
            name: p.name,
            period_start: p.period_start,
            period_end: p.period_end,
            annual_min_share: f64::from(p.annual_min_share_bp) / 10_000.0,
            end_share: f64::from(p.end_share_bp) / 10_000.0,
            types_in_scope: serde_json::from_str(&p.types_in_scope).unwrap_or_default(),
            counted_outcomes: serde_json::from_str(&p.counted_outcomes).unwrap_or_default(),
            province_overrides: db::reports::parse_overrides(&p.province_overrides),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgrammeList {
    pub items: Vec<ProgrammeView>,
}

/// Programmes and their coverage targets.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "reference", security(("bearer" = [])), responses((status = 200, body = ProgrammeList)))]
pub async fn programmes(state: web::Data<AppState>, _actor: Actor) -> ApiResult<HttpResponse> {
    let db = state.db.clone();
    let items =
        web::block(move || db.read(|c| db::programmes::list(c).map_err(ApiError::from))).await??;
    Ok(HttpResponse::Ok().json(ProgrammeList {
        items: items.into_iter().map(ProgrammeView::from).collect(),
    }))
}

/// A programme as an administrator sends it: [`ProgrammeInput`] and, optionally, per-province
/// targets (`{"2025:46": {"annual_min_share_bp": 3000, "end_share_bp": 10000}}`; a missing share
/// keeps the programme's). On update, leaving `province_overrides` out keeps the stored ones.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "name": "Chương trình 2026-2030", "period_start": "2026-01-01", "period_end": "2030-12-31",
    "annual_min_share_bp": 2000, "end_share_bp": 10000, "types_in_scope": ["karaoke", "bar"]
}))]
#[serde(deny_unknown_fields)]
pub struct ProgrammeBody {
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub annual_min_share_bp: u32,
    pub end_share_bp: u32,
    pub types_in_scope: Vec<EstablishmentType>,
    #[serde(default)]
    pub province_overrides: Option<db::reports::ProvinceOverrides>,
}

impl ProgrammeBody {
    /// The validated programme and overrides (their JSON), each error naming its field.
    fn parse(self) -> ApiResult<(Programme, Option<db::reports::ProvinceOverrides>)> {
        let programme = Programme::parse(ProgrammeInput {
            name: self.name,
            period_start: self.period_start,
            period_end: self.period_end,
            annual_min_share_bp: self.annual_min_share_bp,
            end_share_bp: self.end_share_bp,
            types_in_scope: self.types_in_scope,
        })?;
        if let Some(o) = &self.province_overrides {
            db::reports::validate_overrides(o)?;
        }
        Ok((programme, self.province_overrides))
    }
}

/// The stored JSON of overrides, after checking that every key is a province.
fn overrides_json(
    c: &mut db::AnyConnection,
    overrides: &db::reports::ProvinceOverrides,
) -> ApiResult<String> {
    if let Some(unknown) = db::reports::unknown_provinces(c, overrides)?.first() {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            &format!("province_overrides.{unknown}"),
            format!("{unknown} is not a province; overrides are per province"),
        ));
    }
    serde_json::to_string(overrides).map_err(|_| ApiError::internal())
}

/// The stored row of a validated programme (counted outcomes and overrides are kept as given).
fn programme_row(
    id: String,
    p: &Programme,
    counted_outcomes: String,
    province_overrides: String,
    created_at: NaiveDateTime,
) -> ApiResult<ProgrammeRow> {
    let bp = |s: doi178_shared::programme::ShareBp| {
        i32::try_from(s.get()).map_err(|_| ApiError::internal())
    };
    Ok(ProgrammeRow {
        id,
        name: p.name().to_string(),
        period_start: p.period_start(),
        period_end: p.period_end(),
        annual_min_share_bp: bp(p.annual_min_share())?,
        end_share_bp: bp(p.end_share())?,
        types_in_scope: serde_json::to_string(
            &p.types_in_scope()
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        )
        .map_err(|_| ApiError::internal())?,
        counted_outcomes,
        province_overrides,
        created_at,
        updated_at: now(),
    })
}

/// Creates a programme (administrators). Its counted outcomes are the default ones; optional
/// `province_overrides` give provinces their own targets.
#[utoipa::path(post, path = "/api/v1/programmes", tag = "reference", security(("bearer" = [])), request_body = ProgrammeBody,
    responses((status = 201, body = ProgrammeView), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_programme(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<ProgrammeBody>,
) -> ApiResult<HttpResponse> {
    actor.require(&[Role::Admin], "configure programmes")?;
    let (programme, overrides) = body.0.parse()?;
    let counted = serde_json::to_string(&doi178_shared::coverage::DEFAULT_COUNTED_OUTCOMES)
        .map_err(|_| ApiError::internal())?;
    let db = state.db.clone();
    let row = web::block(move || {
        db.write(|c| -> ApiResult<ProgrammeRow> {
            let overrides = overrides_json(c, &overrides.unwrap_or_default())?;
            let row = programme_row(
                Uuid::new_v4().to_string(),
                &programme,
                counted,
                overrides,
                now(),
            )?;
            db::programmes::insert(c, &Who::of(&actor), &row)?;
            // The coverage rollup keeps the window starts of every programme.
            db::coverage::rebuild_rollup(c)?;
            Ok(row)
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(ProgrammeView::from(row)))
}

/// Replaces a programme's period, targets and types in scope (administrators), and its
/// `province_overrides` when given (left out: kept as they are).
#[utoipa::path(put, path = "/api/v1/programmes/{id}", tag = "reference", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ProgrammeBody,
    responses((status = 200, body = ProgrammeView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update_programme(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<ProgrammeBody>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "programme")?.to_string();
    actor.require(&[Role::Admin], "configure programmes")?;
    let (programme, overrides) = body.0.parse()?;
    let db = state.db.clone();
    let row = web::block(move || {
        db.write(|c| -> ApiResult<ProgrammeRow> {
            let existing =
                db::coverage::programme(c, &id)?.ok_or_else(|| ApiError::not_found("programme"))?;
            let overrides = match &overrides {
                Some(o) => overrides_json(c, o)?,
                None => existing.province_overrides,
            };
            let row = programme_row(
                existing.id,
                &programme,
                existing.counted_outcomes,
                overrides,
                existing.created_at,
            )?;
            db::coverage::update_programme(c, &Who::of(&actor), &row)?;
            // The coverage rollup keeps the window starts of every programme.
            db::coverage::rebuild_rollup(c)?;
            Ok(row)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(ProgrammeView::from(row)))
}

pub use doi178_shared::wire::TemplateView;

/// A stored template as the API and the phones read it. Its items were validated on the way in;
/// items that no longer read are a fault of the server, not an empty checklist.
pub fn template_view(t: TemplateRow) -> ApiResult<TemplateView> {
    let items = serde_json::from_str(&t.items).map_err(|e| {
        tracing::error!(template = %t.id, error = %e, "stored checklist items do not read");
        ApiError::internal()
    })?;
    Ok(TemplateView {
        id: t.id,
        establishment_type: t.establishment_type,
        version: t.version,
        title: t.title,
        items,
        valid_from: t.valid_from,
        created_at: t.created_at,
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateView>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TemplateQuery {
    /// Establishment type code, e.g. `karaoke`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub establishment_type: Option<String>,
}

/// Checklist templates, newest version first per type.
#[utoipa::path(get, path = "/api/v1/checklist-templates", tag = "reference", params(TemplateQuery), security(("bearer" = [])),
    responses((status = 200, body = TemplateList), (status = 400, body = crate::error::Problem)))]
pub async fn list_templates(
    state: web::Data<AppState>,
    _actor: Actor,
    query: ApiQuery<TemplateQuery>,
) -> ApiResult<HttpResponse> {
    let t = query
        .into_inner()
        .establishment_type
        .map(|t| t.parse::<EstablishmentType>())
        .transpose()
        .map_err(|e| ApiError::from(e).field("type"))?;
    let db = state.db.clone();
    let items = web::block(move || db.read(|c| db::templates::list(c, t).map_err(ApiError::from)))
        .await??;
    Ok(HttpResponse::Ok().json(TemplateList {
        items: items
            .into_iter()
            .map(template_view)
            .collect::<ApiResult<_>>()?,
    }))
}

/// One checklist template version.
#[utoipa::path(get, path = "/api/v1/checklist-templates/{id}", tag = "reference", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = TemplateView), (status = 404, body = crate::error::Problem)))]
pub async fn get_template(
    state: web::Data<AppState>,
    _actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "checklist template")?.to_string();
    let db = state.db.clone();
    let row = web::block(move || db.read(|c| db::templates::get(c, &id).map_err(ApiError::from)))
        .await??
        .ok_or_else(|| ApiError::not_found("checklist template"))?;
    Ok(HttpResponse::Ok().json(template_view(row)?))
}

/// Publishes a new version of the checklist for a type (administrators). The version number is
/// assigned by the server: one more than the latest.
#[utoipa::path(post, path = "/api/v1/checklist-templates", tag = "reference", security(("bearer" = [])), request_body = doi178_shared::checklist::ChecklistTemplateInput,
    responses((status = 201, body = TemplateView), (status = 422, body = crate::error::Problem)))]
pub async fn create_template(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<ChecklistTemplateInput>,
) -> ApiResult<HttpResponse> {
    actor.require(&[Role::Admin], "publish checklist templates")?;
    let mut input = body.0;
    let db = state.db.clone();
    let row = web::block(move || {
        db.write(|c| -> ApiResult<TemplateRow> {
            let latest = db::templates::latest_version(c, input.establishment_type)?.unwrap_or(0);
            input.id = Uuid::new_v4();
            input.version = u32::try_from(latest + 1).map_err(|_| ApiError::internal())?;
            let template = ChecklistTemplate::parse(input.clone())?;
            let seq = db::next_seq(c)?;
            let row = TemplateRow {
                id: template.id().to_string(),
                establishment_type: template.establishment_type(),
                version: i32::try_from(template.version()).map_err(|_| ApiError::internal())?,
                title: template.title().to_string(),
                items: serde_json::to_string(template.items()).map_err(|_| ApiError::internal())?,
                valid_from: template.valid_from(),
                created_at: now(),
                seq,
            };
            db::templates::insert(c, &Who::of(&actor), &row)?;
            Ok(row)
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(template_view(row)?))
}
