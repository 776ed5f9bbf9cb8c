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
    /// Signed in with a temporary password that has not been changed yet.
    pub must_change_password: bool,
    /// Failed sign-ins reached the account's limit: it cannot sign in until the window passes or
    /// an administrator unlocks it (`POST /api/v1/users/{id}/unlock`). Only in lists and reads
    /// by administrators and provincial staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
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
            must_change_password: u.must_change_password,
            locked: None,
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
    /// Part of the username or the name, case and diacritics ignored ("nguyen van").
    pub q: Option<String>,
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (`true`) or deactivated (`false`) accounts.
    pub active: Option<bool>,
    /// Only accounts of this unit and the units under it (`2025:46` or `46`).
    pub unit: Option<String>,
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
    let st = state.clone();
    let (items, next_cursor) = web::block(move || {
        st.db.read(|c| -> ApiResult<_> {
            let units = match q.unit.as_deref() {
                None => None,
                Some(u) => {
                    let unit = db::units::get(c, &actor, u)?
                        .ok_or_else(|| ApiError::not_found("unit").field("unit"))?;
                    Some(
                        db::units::subtree_ids(c, std::slice::from_ref(&unit.id))?
                            .into_iter()
                            .collect(),
                    )
                }
            };
            let filter = db::users::Filter {
                q: q.q.clone(),
                role: q.role,
                active: q.active,
                units,
            };
            let rows = db::users::list_filtered(
                c,
                &actor,
                &filter,
                None,
                after.as_deref(),
                Some(limit + 1),
            )?;
            let (rows, next) = crate::service::page::page_of(rows, limit as usize, |u| {
                crate::service::page::key_cursor(&u.username, &u.id)
            });
            let mut views: Vec<UserView> = rows.into_iter().map(UserView::from).collect();
            if actor.is_staff() {
                let names: Vec<&str> = views.iter().map(|v| v.username.as_str()).collect();
                let locked = crate::service::account_admin::locked(c, &st, &names)?;
                for (v, l) in views.iter_mut().zip(locked) {
                    v.locked = Some(l);
                }
            }
            Ok((views, next))
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(UserList { items, next_cursor }))
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
                must_change_password: false,
            };
            insert_account(c, &actor, &Who::of(&actor), account)
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserEdit {
    pub display_name: String,
    /// `admin`, `provincial_staff`, `team_leader` or `inspector`.
    pub role: Role,
    pub unit_id: Option<String>,
    pub agency_id: Option<String>,
}

/// Edits an account's name, role, unit and agency. Administrators edit any account; provincial
/// staff the team leaders and inspectors of their jurisdiction, with those roles only.
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UserEdit,
    responses((status = 200, body = UserView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<UserEdit>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "user")?;
    let body = body.0;
    let edit = crate::service::account_admin::AccountEdit {
        display_name: body.display_name,
        role: body.role,
        unit_id: body.unit_id,
        agency_id: body.agency_id,
    };
    write_user(&state, move |c| {
        crate::service::account_admin::edit(c, &actor, id, edit)
    })
    .await
}

/// Runs one account write in a transaction and answers with the account as it is after it.
async fn write_user(
    state: &AppState,
    f: impl FnOnce(&mut db::AnyConnection) -> ApiResult<UserRow> + Send + 'static,
) -> ApiResult<HttpResponse> {
    let db = state.db.clone();
    let user = web::block(move || db.write(f)).await??;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveChange {
    /// `false` deactivates the account (its sessions close at once), `true` reactivates it.
    pub active: bool,
    /// Why, kept in the audit log (required, at most 500 characters).
    pub reason: String,
}

/// Deactivates or reactivates an account. Deactivation closes its sessions at once: its tokens
/// stop working at the next request. Nobody deactivates their own account.
#[utoipa::path(put, path = "/api/v1/users/{id}/active", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ActiveChange,
    responses((status = 200, body = UserView), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn set_active(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<ActiveChange>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "user")?;
    let body = body.0;
    write_user(&state, move |c| {
        crate::service::account_admin::set_active(c, &actor, id, body.active, &body.reason)
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// Why, kept in the audit log (required, at most 500 characters).
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemporaryPassword {
    pub user: UserView,
    /// Shown once: give it to the person, who must choose their own at the next sign-in.
    pub temporary_password: String,
}

/// Resets an account's password to a temporary one (in the answer, once), which must be changed
/// at the next sign-in; the account's sessions close and its failed sign-ins are forgotten.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PasswordReset,
    responses((status = 200, body = TemporaryPassword), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn reset_password(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<PasswordReset>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "user")?;
    let why = crate::service::account_admin::reason(&body.0.reason)?;
    let temporary = crate::service::account_admin::temporary_password();
    let plain = temporary.clone();
    let hash = web::block(move || hash_password(&plain))
        .await?
        .map_err(|_| ApiError::internal())?;
    let db = state.db.clone();
    let user = web::block(move || {
        db.write(|c| crate::service::account_admin::reset_password(c, &actor, id, &why, hash))
    })
    .await??;
    Ok(HttpResponse::Ok().json(TemporaryPassword {
        user: UserView::from(user),
        temporary_password: temporary,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Unlocked {
    /// Failed sign-ins forgotten.
    pub forgotten: usize,
}

/// Unlocks an account locked by failed sign-ins: forgets them, so it can sign in again at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Unlocked), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)))]
pub async fn unlock(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "user")?;
    let db = state.db.clone();
    let forgotten =
        web::block(move || db.write(|c| crate::service::account_admin::unlock(c, &actor, id)))
            .await??;
    Ok(HttpResponse::Ok().json(Unlocked { forgotten }))
}
