//! Every route of the server, declared in one place. Handlers live one resource per module.

pub mod assignments;
pub mod auth;
pub mod coverage;
pub mod establishments;
pub mod photos;
pub mod planner;
pub mod reference;
pub mod reports;
pub mod sync;
pub mod teams;
pub mod tips;
pub mod units;
pub mod users;
pub mod visits;

use actix_web::{web, HttpRequest, HttpResponse};
use doi178_shared::ProblemCode;
use serde::Serialize;

use crate::access::{
    delete, get, post, put, roles, RouteSpec, ADMIN, FIELD, LEADERSHIP, PUBLIC, SIGNED_IN, STAFF,
    STAFF_AND_LEADERS,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Prefix of the JSON API.
pub const API_PREFIX: &str = "/api/v1";

/// The JSON API under [`API_PREFIX`], each route with its access rule (see `startup::rules`).
pub fn api_routes() -> Vec<RouteSpec> {
    vec![
        post("/auth/login", PUBLIC, auth::login),
        post("/auth/refresh", PUBLIC, auth::refresh),
        post("/auth/logout", SIGNED_IN, auth::logout),
        post("/auth/password", SIGNED_IN, auth::change_password),
        get("/me", SIGNED_IN, auth::me),
        get("/units", SIGNED_IN, units::list),
        get("/units/{id}", SIGNED_IN.scoped(), units::get),
        get("/establishments", SIGNED_IN, establishments::list),
        post(
            "/establishments",
            roles(STAFF_AND_LEADERS),
            establishments::create,
        ),
        get(
            "/establishments/{id}",
            SIGNED_IN.scoped(),
            establishments::get,
        ),
        put(
            "/establishments/{id}",
            roles(STAFF_AND_LEADERS).scoped(),
            establishments::update,
        ),
        get("/teams", SIGNED_IN, teams::list),
        post("/teams", roles(STAFF), teams::create),
        get("/teams/{id}", SIGNED_IN.scoped(), teams::get),
        post(
            "/teams/{id}/members",
            roles(STAFF).scoped(),
            teams::add_member,
        ),
        delete(
            "/teams/{id}/members/{user_id}",
            roles(STAFF).scoped(),
            teams::remove_member,
        ),
        get("/users", SIGNED_IN, users::list),
        post("/users", roles(STAFF), users::create),
        get("/users/{id}", SIGNED_IN.scoped(), users::get),
        put("/users/{id}", roles(STAFF).scoped(), users::update),
        put(
            "/users/{id}/active",
            roles(STAFF).scoped(),
            users::set_active,
        ),
        post(
            "/users/{id}/password-reset",
            roles(STAFF).scoped(),
            users::reset_password,
        ),
        post("/users/{id}/unlock", roles(STAFF).scoped(), users::unlock),
        get("/agencies", SIGNED_IN, reference::agencies),
        get("/programmes", SIGNED_IN, reference::programmes),
        post("/programmes", roles(ADMIN), reference::create_programme),
        put(
            "/programmes/{id}",
            roles(ADMIN),
            reference::update_programme,
        ),
        get("/coverage", SIGNED_IN, coverage::get),
        get("/coverage/series", SIGNED_IN, reports::series),
        get(
            "/coverage/never-inspected",
            SIGNED_IN,
            reports::never_inspected,
        ),
        get("/coverage/follow-ups", SIGNED_IN, reports::follow_ups),
        get("/coverage/summary", SIGNED_IN, reports::summary),
        get("/planner", LEADERSHIP, planner::propose),
        get("/checklist-templates", SIGNED_IN, reference::list_templates),
        post(
            "/checklist-templates",
            roles(ADMIN),
            reference::create_template,
        ),
        get(
            "/checklist-templates/{id}",
            SIGNED_IN,
            reference::get_template,
        ),
        get("/tips", SIGNED_IN, tips::list),
        post("/tips", roles(STAFF_AND_LEADERS), tips::create),
        get("/tips/{id}", SIGNED_IN.scoped(), tips::get),
        post(
            "/tips/{id}/status",
            roles(STAFF_AND_LEADERS).scoped(),
            tips::set_status,
        ),
        get("/assignments", SIGNED_IN, assignments::list),
        post("/assignments", LEADERSHIP, assignments::create),
        get("/assignments/{id}", SIGNED_IN.scoped(), assignments::get),
        post(
            "/assignments/{id}/release",
            LEADERSHIP.scoped(),
            assignments::release,
        ),
        post(
            "/assignments/{id}/cancel",
            LEADERSHIP.scoped(),
            assignments::cancel,
        ),
        post(
            "/assignments/{id}/complete",
            LEADERSHIP.scoped(),
            assignments::complete,
        ),
        get("/visits", SIGNED_IN, visits::list),
        put("/visits/{id}", roles(FIELD), visits::put),
        get("/visits/{id}", SIGNED_IN.scoped(), visits::get),
        post(
            "/visits/{id}/revisions",
            roles(FIELD).scoped(),
            visits::revise,
        ),
        post("/visits/{id}/review", LEADERSHIP.scoped(), visits::review),
        put("/photos/{id}", roles(FIELD), photos::put),
        get("/photos/{id}", SIGNED_IN.scoped(), photos::get),
        get(
            "/photos/{id}/thumbnail",
            SIGNED_IN.scoped(),
            photos::thumbnail,
        ),
        get("/sync", SIGNED_IN, sync::pull),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
}

/// Liveness and database check.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let ok = web::block(move || db.ping())
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    if ok {
        HttpResponse::Ok().json(Health {
            status: "ok",
            database: "ok",
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Health {
            status: "degraded",
            database: "unreachable",
        })
    }
}

/// Prometheus metrics in the text exposition format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        ProblemCode::NoSuchRoute,
        format!(
            "no route {} {}; see /api/openapi.json",
            req.method(),
            req.path()
        ),
    ))
}

pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(
        ProblemCode::InvalidPath,
        "path",
        format!("invalid path parameter: {err}"),
    )
    .into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let msg = err.to_string();
    let field = msg
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| "query".to_string());
    ApiError::bad_request(
        ProblemCode::InvalidQuery,
        &field,
        format!("invalid query string: {msg}"),
    )
    .into()
}
