//! Browser sessions: sign-in with a form, an HttpOnly cookie, anti-forgery tokens, sign-out and the
//! language switch. A session is a refresh-token family stored hashed like the phone's (so signing
//! out, disabling an account or revoking a family ends it the same way), under a hash distinct from
//! any refresh token's, so a stolen cookie value cannot be swapped for API tokens.

use doi178_shared::ProblemCode;
use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::page::{home_for, nav_for, render_status, Ctx, DashError, DashResult, Lang, UserBadge};
use crate::auth::tokens::{random_token, refresh_hash};
use crate::auth::Actor;
use crate::clock::now;
use crate::db::{self, tokens::RefreshRow};
use crate::error::ApiError;
use crate::service::accounts::authenticate;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "doi178_session";
pub const LANG_COOKIE: &str = "lang";
/// A browser session lasts a working day; then the user signs in again.
pub const SESSION_HOURS: i64 = 12;
/// Header htmx sends on every request with the page's anti-forgery token.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// A signed-in browser user: the same `Actor` the API uses, plus the page language and the
/// anti-forgery token. Extracting it from a request that changes something (anything but GET/HEAD)
/// also checks that token, so no handler can forget to.
pub struct Web {
    pub actor: Actor,
    pub lang: Lang,
    pub csrf: String,
    /// Path and query of the request.
    pub here: String,
    /// The request came from htmx (answer with a fragment, not a page).
    pub htmx: bool,
}

impl Web {
    /// The context of a full page with `title`, highlighting the navigation entry `active`.
    pub fn ctx(&self, title: &str, active: &str) -> Ctx {
        Ctx {
            l: self.lang,
            title: title.to_string(),
            user: Some(UserBadge {
                display_name: self.actor.display_name.clone(),
                username: self.actor.username.clone(),
                role: self.lang.label(&self.actor.role),
            }),
            csrf: self.csrf.clone(),
            nav: nav_for(self.actor.role, self.lang, active),
            here: self.here.clone(),
        }
    }

    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.lang.t(vi, en)
    }
}

fn session_hash(token: &str) -> String {
    refresh_hash(&format!("web-session:{token}"))
}

fn csrf_for(token: &str) -> String {
    hex::encode(Sha256::digest(format!("doi178-csrf:{token}").as_bytes()))
}

pub fn lang_of(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_default()
}

fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}

fn here_of(req: &HttpRequest) -> String {
    let uri = req.uri();
    uri.path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string())
}

/// Finds the user behind a session cookie value; `None` when it is unknown, expired or revoked.
fn resolve_session(state: &AppState, token: &str) -> Result<Option<Actor>, ApiError> {
    let hash = session_hash(token);
    let row = state
        .db
        .read(|c| db::tokens::find_by_hash(c, &hash).map_err(ApiError::from))?;
    let Some(row) = row else { return Ok(None) };
    if row.revoked_at.is_some() || row.expires_at < now() {
        return Ok(None);
    }
    let (Ok(user), Ok(family)) = (
        Uuid::parse_str(&row.user_id),
        Uuid::parse_str(&row.family_id),
    ) else {
        return Ok(None);
    };
    match state.actors.load(&state.db, user, family) {
        Ok(actor) => Ok(Some(actor)),
        Err(e) if e.status_code() == StatusCode::UNAUTHORIZED => Ok(None),
        Err(e) => Err(e),
    }
}

impl FromRequest for Web {
    type Error = DashError;
    type Future = Pin<Box<dyn Future<Output = Result<Web, DashError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let lang = lang_of(req);
        let htmx = is_htmx(req);
        let here = here_of(req);
        let path = req.path().to_string();
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD);
        let sent_csrf = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| DashError::Api(ApiError::internal()))?;
            // A page the user was not on (an htmx fragment) is no place to come back to.
            let next = if htmx || unsafe_method {
                "/".to_string()
            } else {
                here.clone()
            };
            let sign_in = || DashError::SignIn {
                next: next.clone(),
                htmx,
            };
            let Some(token) = token else {
                return Err(sign_in());
            };
            let st = state.clone();
            let tok = token.clone();
            let actor = web::block(move || resolve_session(&st, &tok)).await??;
            let Some(actor) = actor else {
                return Err(sign_in());
            };
            let csrf = csrf_for(&token);
            if unsafe_method && sent_csrf.as_deref() != Some(csrf.as_str()) {
                return Err(DashError::Api(
                    ApiError::forbidden(
                        "this form is out of date or did not come from this site; reload the page and try again",
                    )
                    .with_code(ProblemCode::Csrf),
                ));
            }
            super::account::require_fresh_password(&actor, &path, htmx)?;
            Ok(Web {
                actor,
                lang,
                csrf,
                here,
                htmx,
            })
        })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    next: String,
    username: String,
    error: Option<&'static str>,
    /// Seconds before another attempt, when `error` is `throttled`.
    retry_after: u64,
}

fn login_ctx(req: &HttpRequest) -> Ctx {
    let l = lang_of(req);
    Ctx {
        l,
        title: l.t("Đăng nhập", "Sign in").to_string(),
        user: None,
        csrf: String::new(),
        nav: Vec::new(),
        here: here_of(req),
    }
}

/// Only same-site paths: `/map`, never `//evil.example` or `https://…`.
fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    (next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'))
        .then(|| next.to_string())
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `/`: the sign-in form, or the role's home for a signed-in user.
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> DashResult<HttpResponse> {
    if let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) {
        let st = state.clone();
        if let Some(actor) = web::block(move || resolve_session(&st, &token)).await?? {
            let to = safe_next(query.next.as_deref()).unwrap_or(home_for(actor.role).into());
            return Ok(redirect(&to));
        }
    }
    render_status(
        StatusCode::OK,
        &LoginPage {
            ctx: login_ctx(&req),
            next: safe_next(query.next.as_deref()).unwrap_or_default(),
            username: String::new(),
            error: None,
            retry_after: 0,
        },
    )
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// Signs in from the form: sets the session cookie and goes to `next` or the role's home.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> DashResult<HttpResponse> {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_string();
    let failed = |error: &'static str, status: StatusCode, retry_after: u64| {
        render_status(
            status,
            &LoginPage {
                ctx: login_ctx(&req),
                next: next.clone().unwrap_or_default(),
                username: username.clone(),
                error: Some(error),
                retry_after,
            },
        )
    };
    if username.is_empty() || form.password.is_empty() {
        return failed("missing", StatusCode::UNPROCESSABLE_ENTITY, 0);
    }
    let st = state.clone();
    let (user, pass) = (username.clone(), form.password);
    let client = state.settings.auth.client_addr(&req);
    let outcome = web::block(move || -> Result<(String, Role), ApiError> {
        let (user_id, role) = authenticate(&st, &user, &pass, client)?;
        let token = random_token();
        let row = RefreshRow {
            id: Uuid::new_v4().to_string(),
            user_id: user_id.to_string(),
            family_id: Uuid::new_v4().to_string(),
            token_hash: session_hash(&token),
            created_at: now(),
            expires_at: now() + Duration::hours(SESSION_HOURS),
            used_at: None,
            revoked_at: None,
        };
        st.db
            .write(|c| db::tokens::insert(c, &row).map_err(ApiError::from))?;
        Ok((token, role))
    })
    .await?;
    let (token, role) = match outcome {
        Ok(v) => v,
        Err(e) if e.status_code() == StatusCode::UNAUTHORIZED => {
            return failed("credentials", StatusCode::UNAUTHORIZED, 0)
        }
        Err(e) if e.status_code() == StatusCode::TOO_MANY_REQUESTS => {
            let secs = e.retry_after.unwrap_or(1);
            let mut page = failed("throttled", StatusCode::TOO_MANY_REQUESTS, secs)?;
            page.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            return Ok(page);
        }
        Err(e) => return Err(e.into()),
    };
    let secure = state
        .settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let cookie = Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish();
    let to = next.unwrap_or_else(|| home_for(role).to_string());
    Ok(HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, to))
        .finish())
}

use doi178_shared::Role;

/// Signs out: ends the session everywhere (its family is revoked) and clears the cookie.
pub async fn logout(web_user: Web, state: web::Data<AppState>) -> DashResult<HttpResponse> {
    let family = web_user.actor.session.to_string();
    let st = state.clone();
    web::block(move || {
        st.db
            .write(|c| db::tokens::revoke_family(c, &family).map_err(ApiError::from))
    })
    .await??;
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    let mut res = if web_user.htmx {
        HttpResponse::Ok()
            .insert_header(("HX-Redirect", "/"))
            .finish()
    } else {
        redirect("/")
    };
    res.add_cookie(&gone).map_err(|_| ApiError::internal())?;
    Ok(res)
}

/// `/lang/en?next=/map`: remembers the language for a year and goes back.
pub async fn set_lang(
    path: web::Path<String>,
    query: web::Query<NextQuery>,
) -> DashResult<HttpResponse> {
    let lang = Lang::parse(&path).ok_or_else(|| {
        ApiError::bad_request(
            ProblemCode::Invalid,
            "lang",
            "the language must be vi or en",
        )
    })?;
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(365))
        .finish();
    let to = safe_next(query.next.as_deref()).unwrap_or_else(|| "/".to_string());
    Ok(HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, to))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/map?year=2026")).as_deref(),
            Some("/map?year=2026")
        );
        assert_eq!(safe_next(Some("//evil.example/")), None);
        assert_eq!(safe_next(Some("https://evil.example/")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn the_session_hash_differs_from_a_refresh_token_hash() {
        assert_ne!(session_hash("abc"), refresh_hash("abc"));
        assert_ne!(csrf_for("abc"), csrf_for("abd"));
    }
}
