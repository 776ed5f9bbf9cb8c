//! Sign-in, token refresh with rotation and reuse detection, sign-out, and "who am I".

use actix_web::{web, HttpRequest, HttpResponse};
use doi178_shared::{ProblemCode, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::tokens::{random_token, refresh_expiry, refresh_hash};
use crate::auth::Actor;
use crate::clock::now;
use crate::db::{self, tokens::RefreshRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::service::accounts::authenticate;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

pub use doi178_shared::wire::TokenResponse;

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeTeam {
    pub team_id: Uuid,
    pub role: String,
    pub unit_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit_id: Option<String>,
    pub teams: Vec<MeTeam>,
    /// Signed in with a temporary password: change it (`POST /api/v1/auth/password`) before
    /// anything else.
    pub must_change_password: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters, not a common password, not the username.
    pub new_password: String,
}

/// Changes the signed-in user's own password. A wrong current password counts as a failed
/// sign-in (and is throttled like one); the user's other sessions are closed, this one stays.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 401, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    body: ApiJson<PasswordChange>,
) -> ApiResult<HttpResponse> {
    let client = state.settings.auth.client_addr(&req);
    let body = body.0;
    web::block(move || {
        crate::service::account_admin::change_own_password(
            &state,
            &actor,
            &body.current_password,
            &body.new_password,
            client,
        )
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// Signs in with username and password. Failed sign-ins are throttled per account and per client
/// address: past the limit the answer is 429 with `Retry-After`, even for the right password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem),
        (status = 429, body = crate::error::Problem,
            headers(("Retry-After" = u64, description = "seconds until another attempt is allowed")))))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let client = state.settings.auth.client_addr(&req);
    let st = state.clone();
    let tokens = web::block(move || -> ApiResult<TokenResponse> {
        let (user_id, role) = authenticate(&st, &body.username, &body.password, client)?;
        let family = Uuid::new_v4();
        st.db.write(|c| issue(c, &st, user_id, role, family))
    })
    .await??;
    Ok(HttpResponse::Ok().json(tokens))
}

/// A new token pair in `family`, its refresh token stored (hashed) on `c`.
fn issue(
    c: &mut AnyConnection,
    state: &AppState,
    user: Uuid,
    role: Role,
    family: Uuid,
) -> ApiResult<TokenResponse> {
    let refresh = random_token();
    let row = RefreshRow {
        id: Uuid::new_v4().to_string(),
        user_id: user.to_string(),
        family_id: family.to_string(),
        token_hash: refresh_hash(&refresh),
        created_at: now(),
        expires_at: refresh_expiry(),
        used_at: None,
        revoked_at: None,
    };
    db::tokens::insert(c, &row)?;
    let (access, ttl) = state
        .keys
        .issue_access(user, family, role.as_str())
        .map_err(|_| ApiError::internal())?;
    Ok(TokenResponse {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer".to_string(),
        expires_in: ttl,
    })
}

fn invalid_refresh() -> ApiError {
    ApiError::unauthorized("the refresh token is not valid; sign in again")
        .with_code(ProblemCode::InvalidRefreshToken)
}

fn reused_refresh() -> ApiError {
    ApiError::unauthorized(
        "this refresh token was already used; the session is closed for safety, sign in again",
    )
    .with_code(ProblemCode::RefreshTokenReused)
}

/// Exchanges a refresh token for a new pair. The old refresh token stops working; presenting it
/// again revokes the whole session (it was stolen or replayed), except within a short grace window
/// while its successor has never been used (the phone lost the answer): then a new pair in the
/// same session replaces the unused successor.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let token = body.0.refresh_token;
    let st = state.clone();
    let tokens = web::block(move || -> ApiResult<TokenResponse> {
        let hash = refresh_hash(&token);
        // Err inside the transaction rolls it back, so a refusal that revokes answers after it.
        enum Outcome {
            Issued(TokenResponse),
            Refused(ApiError),
        }
        let outcome = st.db.write(|c| -> ApiResult<Outcome> {
            let Some(mut row) = db::tokens::find_by_hash(c, &hash)? else {
                return Ok(Outcome::Refused(invalid_refresh()));
            };
            let user_id = Uuid::parse_str(&row.user_id).map_err(|_| ApiError::internal())?;
            let family = Uuid::parse_str(&row.family_id).map_err(|_| ApiError::internal())?;
            let at = now();
            if row.expires_at < at || !db::tokens::family_live(c, family, user_id)? {
                return Ok(Outcome::Refused(invalid_refresh()));
            }
            if row.revoked_at.is_some() {
                // A successor replaced in the grace window, presented after all: whoever holds
                // it is not the phone that asked again.
                db::tokens::revoke_family(c, &row.family_id)?;
                return Ok(Outcome::Refused(reused_refresh()));
            }
            if row.used_at.is_none() {
                if db::tokens::mark_used(c, &row.id)? {
                    return rotate(c, &st, user_id, family).map(Outcome::Issued);
                }
                // Used by a concurrent request in the meantime: judge it as a repeat.
                row = db::tokens::find_by_hash(c, &hash)?.ok_or_else(invalid_refresh)?;
            }
            let used_at = row.used_at.unwrap_or(at);
            let grace = chrono::Duration::seconds(
                i64::try_from(st.settings.auth.refresh_grace_seconds).unwrap_or(0),
            );
            if at - used_at <= grace
                && !db::tokens::used_since(c, &row.family_id, &row.id, used_at)?
            {
                if db::tokens::revoke_unused(c, &row.family_id)? == 0 {
                    // A concurrent repeat of the same request replaced the successor first.
                    return Ok(Outcome::Refused(
                        ApiError::unauthorized(
                            "this refresh token is being exchanged by another request; use the \
                             tokens that request received",
                        )
                        .with_code(ProblemCode::RefreshInProgress),
                    ));
                }
                return rotate(c, &st, user_id, family).map(Outcome::Issued);
            }
            db::tokens::revoke_family(c, &row.family_id)?;
            Ok(Outcome::Refused(reused_refresh()))
        })?;
        match outcome {
            Outcome::Issued(tokens) => Ok(tokens),
            Outcome::Refused(e) => Err(e),
        }
    })
    .await??;
    Ok(HttpResponse::Ok().json(tokens))
}

/// The next pair of a session, for an account that is still active.
fn rotate(
    c: &mut AnyConnection,
    state: &AppState,
    user_id: Uuid,
    family: Uuid,
) -> ApiResult<TokenResponse> {
    let Some(user) = db::users::find_by_id(c, user_id)?.filter(|u| u.active) else {
        return Err(ApiError::unauthorized(
            "the account is disabled or no longer exists",
        ));
    };
    issue(c, state, user_id, user.role, family)
}

/// Signs out: revokes the session's refresh tokens; its access tokens stop working too.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::Problem)))]
pub async fn logout(state: web::Data<AppState>, actor: Actor) -> ApiResult<HttpResponse> {
    let family = actor.session.to_string();
    let db = state.db.clone();
    web::block(move || db.write(|c| db::tokens::revoke_family(c, &family).map_err(ApiError::from)))
        .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user, with role, teams and jurisdiction root.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::error::Problem)))]
pub async fn me(actor: Actor) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Me {
        id: actor.user_id,
        username: actor.username.clone(),
        display_name: actor.display_name.clone(),
        role: actor.role.as_str().to_string(),
        unit_id: actor.unit_id.clone(),
        teams: actor
            .teams
            .iter()
            .map(|m| MeTeam {
                team_id: m.team_id,
                role: m.role.as_str().to_string(),
                unit_id: m.unit_id.clone(),
            })
            .collect(),
        must_change_password: actor.must_change_password,
    }))
}
