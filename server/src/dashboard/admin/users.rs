//! `/admin/users`: the accounts of the caller's jurisdiction with search and filters, and one
//! account's page; the forms on them post to the handlers of `user_writes`.

use actix_web::{web, HttpResponse};
use askama::Template;
use doi178_shared::Role;
use serde::Deserialize;
use uuid::Uuid;

use super::super::leader::vn_datetime;
use super::super::page::{render, Ctx, DashResult};
use super::super::session::Web;
use super::user_writes as writes;
use crate::access::{get, post, roles, RouteSpec, STAFF};
use crate::auth::Actor;
use crate::db::{self, users::UserRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::account_admin as admin;
use crate::state::AppState;
use doi178_shared::lang::Lang;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/admin/users", roles(STAFF), list),
        post("/admin/users", roles(STAFF), writes::create),
        get("/admin/users/{id}", roles(STAFF).scoped(), detail),
        post("/admin/users/{id}", roles(STAFF).scoped(), writes::edit),
        post(
            "/admin/users/{id}/active",
            roles(STAFF).scoped(),
            writes::set_active,
        ),
        post(
            "/admin/users/{id}/password-reset",
            roles(STAFF).scoped(),
            writes::reset_password,
        ),
        post(
            "/admin/users/{id}/unlock",
            roles(STAFF).scoped(),
            writes::unlock,
        ),
    ]
}

/// A unit the caller may put an account in.
struct UnitChoice {
    id: String,
    name: String,
}

/// A role the caller may give.
struct RoleChoice {
    code: &'static str,
    label: &'static str,
}

struct Row {
    id: String,
    username: String,
    display_name: String,
    role: &'static str,
    unit: String,
    active: bool,
    locked: bool,
    must_change: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<Row>,
    q: String,
    role: String,
    active: String,
    roles: Vec<RoleChoice>,
    units: Vec<UnitChoice>,
    agencies: Vec<(String, String)>,
    is_admin: bool,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct DetailPage {
    ctx: Ctx,
    id: String,
    username: String,
    display_name: String,
    role_code: &'static str,
    role: &'static str,
    unit_id: String,
    unit: String,
    agency_id: String,
    active: bool,
    locked: bool,
    must_change: bool,
    created: String,
    roles: Vec<RoleChoice>,
    units: Vec<UnitChoice>,
    agencies: Vec<(String, String)>,
    is_self: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    role: Option<String>,
    active: Option<String>,
}

/// The roles `actor` may give: staff give team leader and inspector only.
fn role_choices(l: Lang, actor: &Actor) -> Vec<RoleChoice> {
    Role::ALL
        .iter()
        .filter(|r| actor.is_admin() || matches!(r, Role::TeamLeader | Role::Inspector))
        .map(|r| RoleChoice {
            code: r.as_str(),
            label: l.label(r),
        })
        .collect()
}

/// The units an account may be put in: the caller's top units (the provinces for an
/// administrator) and, for provincial staff, their communes.
fn unit_choices(c: &mut AnyConnection, actor: &Actor) -> ApiResult<Vec<UnitChoice>> {
    let mut out = Vec::new();
    for root in db::units::children(c, actor, None)? {
        let children = if actor.is_admin() {
            Vec::new()
        } else {
            db::units::children(c, actor, Some(&root.id))?
        };
        out.push(UnitChoice {
            id: root.id,
            name: root.full_name,
        });
        out.extend(children.into_iter().map(|u| UnitChoice {
            id: u.id,
            name: u.full_name,
        }));
    }
    Ok(out)
}

fn agency_choices(c: &mut AnyConnection, actor: &Actor) -> ApiResult<Vec<(String, String)>> {
    Ok(db::agencies::list(c)?
        .into_iter()
        .filter(|a| a.unit_id.as_deref().is_none_or(|u| actor.sees_unit(u)))
        .map(|a| (a.id, a.name))
        .collect())
}

fn unit_name(c: &mut AnyConnection, actor: &Actor, unit: Option<&str>) -> ApiResult<String> {
    Ok(match unit {
        None => String::new(),
        Some(u) => db::units::get(c, actor, u)?
            .map(|u| u.full_name)
            .unwrap_or_else(|| u.to_string()),
    })
}

/// `GET /admin/users`.
pub async fn list(
    web: Web,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> DashResult<HttpResponse> {
    let l = web.lang;
    let q = query.into_inner();
    let role: Option<Role> = q
        .role
        .as_deref()
        .filter(|r| !r.is_empty())
        .and_then(|r| r.parse().ok());
    let active = match q.active.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let actor = web.actor.clone();
    let st = state.clone();
    let search = q.q.clone();
    let (rows, units, agencies) = web::block(move || {
        st.db.read(|c| -> ApiResult<_> {
            let filter = db::users::Filter {
                q: search,
                role,
                active,
                units: None,
            };
            let users = db::users::list_filtered(c, &actor, &filter, None, None, Some(500))?;
            let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
            let locked = admin::locked(c, &st, &names)?;
            let mut rows = Vec::with_capacity(users.len());
            for (u, locked) in users.into_iter().zip(locked) {
                rows.push(Row {
                    unit: unit_name(c, &actor, u.unit_id.as_deref())?,
                    id: u.id,
                    username: u.username,
                    display_name: u.display_name,
                    role: l.label(&u.role),
                    active: u.active,
                    locked,
                    must_change: u.must_change_password,
                });
            }
            Ok((rows, unit_choices(c, &actor)?, agency_choices(c, &actor)?))
        })
    })
    .await??;
    let ctx = web.ctx(l.t("Tài khoản", "Accounts"), "/admin/users");
    render(&ListPage {
        roles: role_choices(l, &web.actor),
        is_admin: web.actor.is_admin(),
        ctx,
        rows,
        q: q.q.unwrap_or_default(),
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        active: q.active.unwrap_or_default(),
        units,
        agencies,
    })
}

pub(super) fn parse_user_id(raw: &str) -> DashResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("user").into())
}

/// `GET /admin/users/{id}`.
pub async fn detail(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> DashResult<HttpResponse> {
    let l = web.lang;
    let id = parse_user_id(&path)?;
    let actor = web.actor.clone();
    let st = state.clone();
    let (user, unit, locked, units, agencies): (UserRow, String, bool, _, _) =
        web::block(move || {
            st.db.read(|c| -> ApiResult<_> {
                let user = admin::administered(c, &actor, id)?;
                let unit = unit_name(c, &actor, user.unit_id.as_deref())?;
                let locked = admin::locked(c, &st, &[user.username.as_str()])?
                    .first()
                    .copied()
                    .unwrap_or(false);
                Ok((
                    user,
                    unit,
                    locked,
                    unit_choices(c, &actor)?,
                    agency_choices(c, &actor)?,
                ))
            })
        })
        .await??;
    let ctx = web.ctx(&user.display_name, "/admin/users");
    render(&DetailPage {
        ctx,
        is_self: user.id == web.actor.user_id.to_string(),
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role_code: user.role.as_str(),
        role: l.label(&user.role),
        unit_id: user.unit_id.unwrap_or_default(),
        unit,
        agency_id: user.agency_id.unwrap_or_default(),
        active: user.active,
        locked,
        must_change: user.must_change_password,
        created: vn_datetime(&user.created_at),
        roles: role_choices(l, &web.actor),
        units,
        agencies,
    })
}
