//! Teams (Đội kiểm tra liên ngành) and their members.

use actix_web::{web, HttpResponse};
use doi178_shared::team::TeamDraft;
use doi178_shared::ProblemCode;
use doi178_shared::{MemberRole, Role, TeamLevel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{
    self,
    teams::{MemberRow, TeamRow},
};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: MemberRole,
    pub agency_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub level: TeamLevel,
    pub unit_id: String,
    pub members: Vec<MemberView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TeamList {
    pub items: Vec<TeamView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TeamQuery {
    /// Page size, 1 to 500 (default 500).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: String,
    pub level: String,
    pub unit_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub user_id: Uuid,
    pub role: String,
}

fn view(c: &mut db::AnyConnection, t: TeamRow) -> ApiResult<TeamView> {
    let members = db::teams::members(c, &t.id)?
        .into_iter()
        .map(
            |(user_id, username, display_name, role, agency_id)| MemberView {
                user_id,
                username,
                display_name,
                role,
                agency_id,
            },
        )
        .collect();
    Ok(TeamView {
        id: t.id,
        name: t.name,
        level: t.level,
        unit_id: t.unit_id,
        members,
    })
}

/// Teams the caller may see, by name, a page at a time.
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", params(TeamQuery), security(("bearer" = [])),
    responses((status = 200, body = TeamList), (status = 400, body = crate::error::Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<TeamQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = crate::routes::users::list_limit(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .map(doi178_shared::pagination::PageCursor::decode)
        .transpose()?
        .map(|(name, id)| (name, id.to_string()));
    let db = state.db.clone();
    let page = web::block(move || {
        db.read(|c| -> ApiResult<TeamList> {
            let (rows, next_cursor) = crate::service::page::page_of(
                db::teams::list_page(c, &actor, after, Some(limit + 1))?,
                limit as usize,
                |t| crate::service::page::key_cursor(&t.name, &t.id),
            );
            let items = rows
                .into_iter()
                .map(|t| view(c, t))
                .collect::<ApiResult<_>>()?;
            Ok(TeamList { items, next_cursor })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(page))
}

/// One team with its members.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = TeamView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "team")?;
    let db = state.db.clone();
    let team = web::block(move || {
        db.read(|c| -> ApiResult<TeamView> {
            let t = db::teams::get(c, &actor, id)?.ok_or_else(|| ApiError::not_found("team"))?;
            view(c, t)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(team))
}

/// Creates a team (administrators and provincial staff, in their jurisdiction).
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", security(("bearer" = [])), request_body = TeamInput,
    responses((status = 201, body = TeamView), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<TeamInput>,
) -> ApiResult<HttpResponse> {
    actor.require(&[Role::Admin, Role::ProvincialStaff], "create teams")?;
    let input = body.0;
    let level = input.level.parse::<TeamLevel>()?;
    let db = state.db.clone();
    let team = web::block(move || {
        db.write(|c| -> ApiResult<TeamView> {
            // A bare official code (`46`) is that code in the list in force.
            let draft = TeamDraft::parse(doi178_shared::team::TeamInput {
                name: input.name,
                level,
                unit_id: db::units::canonical_id(c, &input.unit_id)?,
            })?;
            let Some(unit) = db::units::get(c, &actor, &draft.unit().to_string())? else {
                return Err(ApiError::unprocessable(
                    ProblemCode::UnknownUnit,
                    "unit_id",
                    "unit does not exist or is outside your jurisdiction",
                ));
            };
            let unit_id = unit.id;
            let row = TeamRow {
                id: Uuid::new_v4().to_string(),
                name: draft.name().to_string(),
                level: draft.level(),
                unit_id,
                created_at: now(),
                updated_at: now(),
            };
            db::teams::insert(c, &Who::of(&actor), &row)?;
            view(c, row)
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(team))
}

/// Adds a user to a team or changes their role in it.
#[utoipa::path(post, path = "/api/v1/teams/{id}/members", tag = "teams", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = MemberInput, responses((status = 200, body = TeamView), (status = 404, body = crate::error::Problem)))]
pub async fn add_member(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<MemberInput>,
) -> ApiResult<HttpResponse> {
    actor.require(&[Role::Admin, Role::ProvincialStaff], "change team members")?;
    let id = parse_id(&id, "team")?;
    let input = body.0;
    let role: MemberRole = input.role.parse()?;
    let db = state.db.clone();
    let team = web::block(move || {
        db.write(|c| -> ApiResult<TeamView> {
            let t = db::teams::get(c, &actor, id)?.ok_or_else(|| ApiError::not_found("team"))?;
            db::users::get_visible(c, &actor, input.user_id)?.ok_or_else(|| {
                ApiError::unprocessable(
                    ProblemCode::UnknownUser,
                    "user_id",
                    "user does not exist or is outside your jurisdiction",
                )
            })?;
            db::teams::upsert_member(
                c,
                &Who::of(&actor),
                &MemberRow {
                    team_id: t.id.clone(),
                    user_id: input.user_id.to_string(),
                    role,
                },
            )?;
            view(c, t)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(team))
}

/// Removes a user from a team.
#[utoipa::path(delete, path = "/api/v1/teams/{id}/members/{user_id}", tag = "teams", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn remove_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    actor.require(&[Role::Admin, Role::ProvincialStaff], "change team members")?;
    let (team, user) = path.into_inner();
    let team = parse_id(&team, "team")?;
    let user = parse_id(&user, "member")?;
    let db = state.db.clone();
    web::block(move || {
        db.write(|c| -> ApiResult<()> {
            let t = db::teams::get(c, &actor, team)?.ok_or_else(|| ApiError::not_found("team"))?;
            if db::teams::remove_member(c, &Who::of(&actor), &t.id, &user.to_string())? == 0 {
                return Err(ApiError::not_found("member"));
            }
            Ok(())
        })
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}
