//! Dashboard area `account`: every user changes their own password here; an account signed in
//! with a temporary password is sent here before anything else.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::leader::{field, form_error, form_pairs, html_escape};
use super::page::{render, Ctx, DashResult};
use super::session::Web;
use crate::access::{get, post, RouteSpec, SIGNED_IN};
use crate::error::ApiError;
use crate::state::AppState;
use doi178_shared::ProblemCode;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/account", SIGNED_IN, account),
        get("/account/password", SIGNED_IN, page),
        post("/account/password", SIGNED_IN, change),
    ]
}

/// A temporary password is changed before anything else: every other page sends its account to
/// the password form.
pub fn require_fresh_password(
    actor: &crate::auth::Actor,
    path: &str,
    htmx: bool,
) -> Result<(), super::DashError> {
    crate::auth::check_password_fresh(actor, path).map_err(|_| super::DashError::Redirect {
        to: "/account/password".to_string(),
        htmx,
    })
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    ctx: Ctx,
    must_change: bool,
}

/// `GET /account`: the account's page is its password form (for now the one thing to do there).
pub async fn account(_web: Web) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, "/account/password"))
        .finish()
}

/// `GET /account/password`.
pub async fn page(web: Web) -> DashResult<HttpResponse> {
    let ctx = web.ctx(web.t("Đổi mật khẩu", "Change password"), "/account");
    render(&PasswordPage {
        ctx,
        must_change: web.actor.must_change_password,
    })
}

/// `POST /account/password` (htmx): `current_password`, `new_password`, `repeat_password`.
pub async fn change(
    web: Web,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    let pairs = form_pairs(&body);
    let current = field(&pairs, "current_password")
        .unwrap_or_default()
        .to_string();
    let new = field(&pairs, "new_password")
        .unwrap_or_default()
        .to_string();
    let repeat = field(&pairs, "repeat_password")
        .unwrap_or_default()
        .to_string();
    if new != repeat {
        return form_error(
            web.lang,
            ApiError::unprocessable(
                ProblemCode::Inconsistent,
                "repeat_password",
                "the two new passwords differ",
            ),
        );
    }
    let client = state.settings.auth.client_addr(&req);
    let actor = web.actor.clone();
    let st = state.clone();
    let done = web::block(move || {
        crate::service::account_admin::change_own_password(&st, &actor, &current, &new, client)
    })
    .await?;
    match done {
        Ok(()) => {
            let html = format!(
                "<p class=\"ok\" role=\"status\" data-testid=\"password-changed\">{} <a href=\"/\">{}</a></p>",
                html_escape(web.t(
                    "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.",
                    "Your password is changed. Your other sessions have ended."
                )),
                html_escape(web.t("Về trang chủ", "Go to the home page")),
            );
            Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(html))
        }
        Err(e) => form_error(web.lang, e),
    }
}
