//! User accounts: scoped list, read, and creation by administrators and provincial staff.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use doi178_shared::ProblemCode;
use doi178_shared::{Role, Username};
use serde::{Deserialize, Serialize};

use crate::auth::passwords::hash_password;
use crate::auth::Actor;
use crate::db::audit_chain::Who;
use crate::db::{self, users::UserRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::extract::{ApiJson, ApiQuery};
use crate::service::accounts::{insert_account, NewAccount};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub agency_id: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            unit_id: u.unit_id,
            agency_id: u.agency_id,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Page size, 1 to 500 (default 500).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// `admin`, `provincial_staff`, `team_leader` or `inspector`.
    pub role: String,
    pub unit_id: Option<String>,
    pub agency_id: Option<String>,
}

/// Users the caller may see, by username, a page at a time.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery), security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 400, body = crate::error::Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<UserQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = list_limit(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .map(doi178_shared::pagination::PageCursor::decode)
        .transpose()?
        .map(|(username, _)| username);
    let db = state.db.clone();
    let items = web::block(move || {
        db.read(|c| {
            db::users::list(c, &actor, after.as_deref(), Some(limit + 1)).map_err(ApiError::from)
        })
    })
    .await??;
    let (items, next_cursor) = crate::service::page::page_of(items, limit as usize, |u| {
        crate::service::page::key_cursor(&u.username, &u.id)
    });
    Ok(HttpResponse::Ok().json(UserList {
        items: items.into_iter().map(UserView::from).collect(),
        next_cursor,
    }))
}

/// The page size of the user and team lists: 1 to 500, 500 by default (a province's accounts
/// and teams usually fit one page).
pub fn list_limit(limit: Option<u32>) -> ApiResult<i64> {
    match limit {
        None => Ok(500),
        Some(n) if (1..=500).contains(&n) => Ok(i64::from(n)),
        Some(_) => Err(ApiError::bad_request(
            ProblemCode::OutOfRange,
            "limit",
            "limit must be between 1 and 500",
        )),
    }
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = UserView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "user")?;
    let db = state.db.clone();
    let user = web::block(move || {
        db.read(|c| db::users::get_visible(c, &actor, id).map_err(ApiError::from))
    })
    .await??
    .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// Creates an account. Administrators create any; provincial staff create team leaders and
/// inspectors inside their jurisdiction. The password must meet the policy.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = UserInput,
    responses((status = 201, body = UserView), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: ApiJson<UserInput>,
) -> ApiResult<HttpResponse> {
    actor.require(&[Role::Admin, Role::ProvincialStaff], "create accounts")?;
    let input = body.0;
    let username = Username::parse(&input.username)?;
    let display_name = doi178_shared::text::clean_text("display_name", &input.display_name, 120)?;
    let role: Role = input.role.parse()?;
    crate::auth::password_policy::check(username.as_str(), &input.password)?;
    if actor.role == Role::ProvincialStaff && !matches!(role, Role::TeamLeader | Role::Inspector) {
        return Err(ApiError::forbidden(
            "provincial staff may create team leaders and inspectors only",
        )
        .field("role"));
    }
    if role != Role::Admin && input.unit_id.is_none() {
        return Err(ApiError::unprocessable(
            ProblemCode::Required,
            "unit_id",
            "every account except an administrator's belongs to a unit",
        ));
    }
    let hash = web::block(move || hash_password(&input.password))
        .await?
        .map_err(|_| ApiError::internal())?;
    let db = state.db.clone();
    let user = web::block(move || {
        db.write(|c| {
            let account = NewAccount {
                username: username.as_str().to_string(),
                display_name,
                password_hash: hash,
                role,
                unit_id: input.unit_id,
                agency_id: input.agency_id,
            };
            insert_account(c, &actor, &Who::of(&actor), account)
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}
