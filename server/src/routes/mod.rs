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
use serde::Serialize;

use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    use utoipa::OpenApi;
    cfg.route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .route("/api/openapi.json", web::get().to(openapi_json))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}")
                .url("/api/docs/openapi.json", ApiDoc::openapi()),
        )
        .service(
            web::scope("/api/v1")
                .route("/auth/login", web::post().to(auth::login))
                .route("/auth/refresh", web::post().to(auth::refresh))
                .route("/auth/logout", web::post().to(auth::logout))
                .route("/me", web::get().to(auth::me))
                .route("/units", web::get().to(units::list))
                .route("/units/{id}", web::get().to(units::get))
                .route("/establishments", web::get().to(establishments::list))
                .route("/establishments", web::post().to(establishments::create))
                .route("/establishments/{id}", web::get().to(establishments::get))
                .route(
                    "/establishments/{id}",
                    web::put().to(establishments::update),
                )
                .route("/teams", web::get().to(teams::list))
                .route("/teams", web::post().to(teams::create))
                .route("/teams/{id}", web::get().to(teams::get))
                .route("/teams/{id}/members", web::post().to(teams::add_member))
                .route(
                    "/teams/{id}/members/{user_id}",
                    web::delete().to(teams::remove_member),
                )
                .route("/users", web::get().to(users::list))
                .route("/users", web::post().to(users::create))
                .route("/users/{id}", web::get().to(users::get))
                .route("/agencies", web::get().to(reference::agencies))
                .route("/programmes", web::get().to(reference::programmes))
                .route("/programmes", web::post().to(reference::create_programme))
                .route(
                    "/programmes/{id}",
                    web::put().to(reference::update_programme),
                )
                .route("/coverage", web::get().to(coverage::get))
                .route("/coverage/series", web::get().to(reports::series))
                .route(
                    "/coverage/never-inspected",
                    web::get().to(reports::never_inspected),
                )
                .route("/coverage/follow-ups", web::get().to(reports::follow_ups))
                .route("/coverage/summary", web::get().to(reports::summary))
                .route("/planner", web::get().to(planner::propose))
                .route(
                    "/checklist-templates",
                    web::get().to(reference::list_templates),
                )
                .route(
                    "/checklist-templates",
                    web::post().to(reference::create_template),
                )
                .route(
                    "/checklist-templates/{id}",
                    web::get().to(reference::get_template),
                )
                .route("/tips", web::get().to(tips::list))
                .route("/tips", web::post().to(tips::create))
                .route("/tips/{id}", web::get().to(tips::get))
                .route("/tips/{id}/status", web::post().to(tips::set_status))
                .route("/assignments", web::get().to(assignments::list))
                .route("/assignments", web::post().to(assignments::create))
                .route("/assignments/{id}", web::get().to(assignments::get))
                .route(
                    "/assignments/{id}/release",
                    web::post().to(assignments::release),
                )
                .route(
                    "/assignments/{id}/cancel",
                    web::post().to(assignments::cancel),
                )
                .route(
                    "/assignments/{id}/complete",
                    web::post().to(assignments::complete),
                )
                .route("/visits", web::get().to(visits::list))
                .route("/visits/{id}", web::put().to(visits::put))
                .route("/visits/{id}", web::get().to(visits::get))
                .route("/visits/{id}/revisions", web::post().to(visits::revise))
                .route("/visits/{id}/review", web::post().to(visits::review))
                .route("/photos/{id}", web::put().to(photos::put))
                .route("/photos/{id}", web::get().to(photos::get))
                .route("/photos/{id}/thumbnail", web::get().to(photos::thumbnail))
                .route("/sync", web::get().to(sync::pull))
                .default_service(web::to(not_found)),
        );
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

pub async fn openapi_json() -> HttpResponse {
    use utoipa::OpenApi;
    HttpResponse::Ok().json(ApiDoc::openapi())
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "no_such_route",
        format!(
            "no route {} {}; see /api/openapi.json",
            req.method(),
            req.path()
        ),
    ))
}

pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(
        "invalid_path",
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
        "invalid_query",
        &field,
        format!("invalid query string: {msg}"),
    )
    .into()
}

/// Parses a UUID path segment; a malformed id is a 404 like any unknown id.
pub fn parse_id(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what))
}

/// The current UTC time at the precision both databases store (microseconds), so that what an
/// answer shows equals what a later read returns.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}
