//! The writes of `/admin/users` (htmx forms): creating an account with a temporary password
//! shown once, editing one, deactivating and reactivating it, resetting its password, unlocking
//! it after failed sign-ins. Each answers with a fragment: the refusal named in the form, or the
//! account's page again.

use actix_web::{web, HttpResponse};
use doi178_shared::{ProblemCode, Role, Username};

use super::users::parse_user_id;
use crate::auth::passwords::hash_password;
use crate::dashboard::leader::{field, form_error, form_pairs, html_escape, hx_redirect};
use crate::dashboard::page::DashResult;
use crate::dashboard::session::Web;
use crate::db::audit_chain::Who;
use crate::db::{users::UserRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::account_admin as admin;
use crate::state::AppState;
use doi178_shared::lang::Lang;

fn optional(pairs: &[(String, String)], key: &str) -> Option<String> {
    field(pairs, key).map(str::to_string)
}

fn role_of(pairs: &[(String, String)]) -> ApiResult<Role> {
    match field(pairs, "role") {
        None => Err(ApiError::unprocessable(
            ProblemCode::Required,
            "role",
            "choose a role",
        )),
        Some(r) => Ok(r.parse::<Role>()?),
    }
}

/// A fragment showing a temporary password once, with what to do with it.
fn temporary_shown(l: Lang, username: &str, password: &str, link: &str) -> HttpResponse {
    let html = format!(
        "<div class=\"ok\" role=\"status\" data-testid=\"temporary-password\">\
         <p>{} <strong>{}</strong>: <code data-testid=\"temporary-value\">{}</code></p>\
         <p class=\"muted\">{}</p><p><a href=\"{}\">{}</a></p></div>",
        html_escape(l.t("Mật khẩu tạm của", "Temporary password of")),
        html_escape(username),
        html_escape(password),
        html_escape(l.t(
            "Mật khẩu chỉ hiện một lần: ghi lại và trao trực tiếp cho người dùng. Họ phải đổi mật khẩu ở lần đăng nhập đầu tiên.",
            "It is shown only once: note it and hand it to the person. They must change it at their first sign-in.",
        )),
        html_escape(link),
        html_escape(l.t("Mở trang tài khoản", "Open the account's page")),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html)
}

/// `POST /admin/users` (htmx): a new account with a temporary password.
pub async fn create(
    web: Web,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    let l = web.lang;
    let pairs = form_pairs(&body);
    let parsed = (|| -> ApiResult<_> {
        let username = Username::parse(field(&pairs, "username").unwrap_or_default())?;
        let display_name = doi178_shared::text::clean_line(
            "display_name",
            field(&pairs, "display_name").unwrap_or_default(),
            120,
        )?;
        let role = role_of(&pairs)?;
        if web.actor.role == Role::ProvincialStaff
            && !matches!(role, Role::TeamLeader | Role::Inspector)
        {
            return Err(ApiError::forbidden(
                "provincial staff may create team leaders and inspectors only",
            )
            .field("role"));
        }
        let unit_id = optional(&pairs, "unit_id");
        if role != Role::Admin && unit_id.is_none() {
            return Err(ApiError::unprocessable(
                ProblemCode::Required,
                "unit_id",
                "every account except an administrator's belongs to a unit",
            ));
        }
        Ok((username, display_name, role, unit_id))
    })();
    let (username, display_name, role, unit_id) = match parsed {
        Ok(p) => p,
        Err(e) => return form_error(l, e),
    };
    let temporary = admin::temporary_password();
    let plain = temporary.clone();
    let hash = web::block(move || hash_password(&plain))
        .await?
        .map_err(|_| ApiError::internal())?;
    let actor = web.actor.clone();
    let agency_id = optional(&pairs, "agency_id");
    let name = username.as_str().to_string();
    let db = state.db.clone();
    let made = web::block(move || {
        db.write(|c| {
            crate::service::accounts::insert_account(
                c,
                &actor,
                &Who::of(&actor),
                crate::service::accounts::NewAccount {
                    username: name,
                    display_name,
                    password_hash: hash,
                    role,
                    unit_id,
                    agency_id,
                    must_change_password: true,
                },
            )
        })
    })
    .await?;
    match made {
        Ok(user) => Ok(temporary_shown(
            l,
            &user.username,
            &temporary,
            &format!("/admin/users/{}", user.id),
        )),
        Err(e) => form_error(l, e),
    }
}

/// Runs one write for the account page and, when it worked, reloads the account's page at `to`;
/// a refused write is shown in the form.
async fn write_then(
    web: &Web,
    state: &AppState,
    to: String,
    f: impl FnOnce(&mut AnyConnection) -> ApiResult<UserRow> + Send + 'static,
) -> DashResult<HttpResponse> {
    let db = state.db.clone();
    match web::block(move || db.write(f)).await? {
        Ok(_) => Ok(hx_redirect(&to)),
        Err(e) => form_error(web.lang, e),
    }
}

/// `POST /admin/users/{id}` (htmx): name, role, unit, agency.
pub async fn edit(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    let l = web.lang;
    let id = parse_user_id(&path)?;
    let pairs = form_pairs(&body);
    let role = match role_of(&pairs) {
        Ok(r) => r,
        Err(e) => return form_error(l, e),
    };
    let change = admin::AccountEdit {
        display_name: field(&pairs, "display_name")
            .unwrap_or_default()
            .to_string(),
        role,
        unit_id: optional(&pairs, "unit_id"),
        agency_id: optional(&pairs, "agency_id"),
    };
    let actor = web.actor.clone();
    let to = format!("/admin/users/{id}?saved=1");
    write_then(&web, &state, to, move |c| {
        admin::edit(c, &actor, id, change)
    })
    .await
}

/// `POST /admin/users/{id}/active` (htmx): `active` (`true`/`false`) and `reason`.
pub async fn set_active(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    let id = parse_user_id(&path)?;
    let pairs = form_pairs(&body);
    let active = field(&pairs, "active") == Some("true");
    let reason = field(&pairs, "reason").unwrap_or_default().to_string();
    let actor = web.actor.clone();
    let to = format!("/admin/users/{id}");
    write_then(&web, &state, to, move |c| {
        admin::set_active(c, &actor, id, active, &reason)
    })
    .await
}

/// `POST /admin/users/{id}/password-reset` (htmx): `reason`.
pub async fn reset_password(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    let l = web.lang;
    let id = parse_user_id(&path)?;
    let pairs = form_pairs(&body);
    let reason = match admin::reason(field(&pairs, "reason").unwrap_or_default()) {
        Ok(r) => r,
        Err(e) => return form_error(l, e),
    };
    let temporary = admin::temporary_password();
    let plain = temporary.clone();
    let hash = web::block(move || hash_password(&plain))
        .await?
        .map_err(|_| ApiError::internal())?;
    let actor = web.actor.clone();
    let db = state.db.clone();
    match web::block(move || db.write(|c| admin::reset_password(c, &actor, id, &reason, hash)))
        .await?
    {
        Ok(user) => Ok(temporary_shown(
            l,
            &user.username,
            &temporary,
            &format!("/admin/users/{id}"),
        )),
        Err(e) => form_error(l, e),
    }
}

/// `POST /admin/users/{id}/unlock` (htmx).
pub async fn unlock(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> DashResult<HttpResponse> {
    let id = parse_user_id(&path)?;
    let actor = web.actor.clone();
    let to = format!("/admin/users/{id}");
    write_then(&web, &state, to, move |c| {
        admin::unlock(c, &actor, id)?;
        admin::administered(c, &actor, id)
    })
    .await
}
