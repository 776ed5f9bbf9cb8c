//! Sign-in, token refresh with rotation and reuse detection, sign-out, and "who am I".

use actix_web::{web, HttpResponse};
use doi178_shared::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::passwords::{dummy_hash, verify_password};
use crate::auth::tokens::{random_token, refresh_expiry, refresh_hash};
use crate::auth::Actor;
use crate::db::{self, tokens::RefreshRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::routes::now;
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
}

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
}

/// Signs in with username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::error::Problem)))]
pub async fn login(
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let st = state.clone();
    let tokens = web::block(move || -> ApiResult<TokenResponse> {
        let (user_id, role) = authenticate(&st, &req.username, &req.password)?;
        issue(&st, user_id, role.as_str(), Uuid::new_v4())
    })
    .await??;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Checks a username and password (the same rules for the API and the dashboard's form): the
/// account's id and role, or 401 without saying which of the two was wrong.
pub fn authenticate(state: &AppState, username: &str, password: &str) -> ApiResult<(Uuid, Role)> {
    let wrong =
        || ApiError::unauthorized("wrong username or password").with_code("invalid_credentials");
    if username.len() > 64 || password.len() > 256 {
        return Err(wrong());
    }
    let user = state.db.read(|c| {
        db::users::find_by_username(c, &username.trim().to_lowercase()).map_err(ApiError::from)
    })?;
    // Verify against a dummy hash for unknown users so timing does not reveal who exists.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or(dummy_hash());
    let ok = verify_password(password, hash);
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => return Err(wrong()),
    };
    let user_id = Uuid::parse_str(&user.id).map_err(|_| ApiError::internal())?;
    let role = user
        .role
        .parse::<Role>()
        .map_err(|_| ApiError::internal())?;
    Ok((user_id, role))
}

fn issue(state: &AppState, user: Uuid, role: &str, family: Uuid) -> ApiResult<TokenResponse> {
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
    state
        .db
        .write(|c| db::tokens::insert(c, &row).map_err(ApiError::from))?;
    let (access, ttl) = state
        .keys
        .issue_access(user, family, role)
        .map_err(|_| ApiError::internal())?;
    Ok(TokenResponse {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: ttl,
    })
}

/// Exchanges a refresh token for a new pair. The old refresh token stops working; presenting it
/// again revokes the whole session (it was stolen or replayed).
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
        enum Outcome {
            Rotate(String, String),
            Reused,
            Invalid,
        }
        let outcome = st.db.write(|c| -> ApiResult<Outcome> {
            let Some(row) = db::tokens::find_by_hash(c, &hash)? else {
                return Ok(Outcome::Invalid);
            };
            if row.revoked_at.is_some() || row.expires_at < now() {
                return Ok(Outcome::Invalid);
            }
            if row.used_at.is_some() || !db::tokens::mark_used(c, &row.id)? {
                db::tokens::revoke_family(c, &row.family_id)?;
                return Ok(Outcome::Reused);
            }
            Ok(Outcome::Rotate(row.user_id, row.family_id))
        })?;
        match outcome {
            Outcome::Invalid => Err(ApiError::unauthorized("the refresh token is not valid; sign in again").with_code("invalid_refresh_token")),
            Outcome::Reused => Err(ApiError::unauthorized("this refresh token was already used; the session is closed for safety, sign in again").with_code("refresh_token_reused")),
            Outcome::Rotate(user, family) => {
                let user_id = Uuid::parse_str(&user).map_err(|_| ApiError::internal())?;
                let family = Uuid::parse_str(&family).map_err(|_| ApiError::internal())?;
                let row = st.db.read(|c| db::users::find_by_id(c, user_id).map_err(ApiError::from))?
                    .filter(|u| u.active)
                    .ok_or_else(|| ApiError::unauthorized("the account is disabled"))?;
                issue(&st, user_id, &row.role, family)
            }
        }
    })
    .await??;
    Ok(HttpResponse::Ok().json(tokens))
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
    }))
}
