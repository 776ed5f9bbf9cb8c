//! The route table with its access rules. Every route of the server (API and dashboard) is declared
//! through [`get`] / [`post`] / [`put`] / [`delete`], which take the access rule next to the path and
//! the handler; the actix configuration is built from those declarations, so a route cannot exist
//! without a rule. [`table`] lists every route with its rule (`doi178-server routes` prints it),
//! and the black-box authorisation matrix (`tests/tests/authz_matrix.rs`) checks each rule for
//! every role, inside and outside the caller's jurisdiction.
//!
//! The rule is enforced where it is declared: before the handler (and before its body is read),
//! the route checks who is asking — 401 (API) or the sign-in redirect (dashboard) for anonymous
//! callers, 403 for a role the rule does not admit. What a caller may see of a record stays in the
//! one authorisation layer: the `Actor` (its jurisdiction, `Actor::leads`) and the db layer's
//! filters, which answer "not found" for anything outside the jurisdiction.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, Handler, HttpMessage, Responder, Route};
use serde::Serialize;

use crate::access::{admits, RouteSpec, Surface, Who, PUBLIC};
use crate::auth::Actor;
use crate::error::ApiError;
use crate::openapi::ApiDoc;

use super::{api_routes, healthz, metrics, not_found, API_PREFIX};

fn refusal(who: Who, actor: &Actor) -> ApiError {
    let what = match who {
        Who::Leadership => "this is for the leader or a deputy of a team",
        Who::TeamMember => "this is for members of an inspection team",
        _ => "this is not open to your role",
    };
    ApiError::forbidden(format!("{what} (your role: {})", actor.role.as_str()))
}

async fn enforce_api(
    who: Who,
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let actor = req.extract::<Actor>().await?;
    if !admits(who, &actor) {
        return Err(refusal(who, &actor).into());
    }
    // The handler's `Actor` extractor takes it from here instead of loading it again.
    req.extensions_mut().insert(actor);
    next.call(req).await
}

async fn enforce_dashboard(
    who: Who,
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The session extractor answers anonymous callers (sign-in redirect) and forms without their
    // anti-forgery token (403) before the role is looked at.
    let web = req.extract::<crate::dashboard::Web>().await?;
    if !admits(who, &web.actor) {
        let e = ApiError::forbidden(web.t(
            "Trang này không dành cho vai trò của bạn.",
            "This page is not for your role.",
        ));
        let e = crate::dashboard::DashError::Api(e);
        return Err(e.into());
    }
    next.call(req).await
}

/// The actix route of `spec`, with its rule enforced before the handler.
fn guarded(spec: RouteSpec, surface: Surface) -> Route {
    let who = spec.rule.who;
    match (who, surface) {
        (Who::Anyone, _) => spec.route,
        // Every dashboard handler takes the session (`Web`) first; only role rules need a check
        // of their own.
        (Who::SignedIn, Surface::Dashboard) => spec.route,
        (_, Surface::Dashboard) => spec
            .route
            .wrap(from_fn(move |req, next| enforce_dashboard(who, req, next))),
        (_, Surface::Api) => spec
            .route
            .wrap(from_fn(move |req, next| enforce_api(who, req, next))),
    }
}

/// Registers routes on a service config (the app or a scope).
pub fn register(cfg: &mut web::ServiceConfig, surface: Surface, specs: Vec<RouteSpec>) {
    for s in specs {
        let path = s.path;
        cfg.route(path, guarded(s, surface));
    }
}

/// Registers routes in a scope under `prefix`, answering anything else under it with `fallback`.
pub fn register_scope<F, Args>(
    cfg: &mut web::ServiceConfig,
    prefix: &str,
    specs: Vec<RouteSpec>,
    fallback: F,
) where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let mut scope = web::scope(prefix);
    for s in specs {
        let path = s.path;
        scope = scope.route(path, guarded(s, Surface::Api));
    }
    cfg.service(scope.default_service(web::to(fallback)));
}

/// Health, metrics and the API description.
pub fn ops_routes() -> Vec<RouteSpec> {
    vec![
        crate::access::get("/healthz", PUBLIC, healthz),
        crate::access::get("/metrics", PUBLIC, metrics),
        crate::access::get("/api/openapi.json", PUBLIC, crate::openapi::openapi_json),
    ]
}

/// Registers every route: health, metrics and the API description, the JSON API under
/// [`API_PREFIX`], then the dashboard.
pub fn configure(cfg: &mut web::ServiceConfig) {
    register(cfg, Surface::Api, ops_routes());
    let swagger = utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}").url(
        "/api/docs/openapi.json",
        <ApiDoc as utoipa::OpenApi>::openapi(),
    );
    cfg.service(swagger);
    register_scope(cfg, API_PREFIX, api_routes(), not_found);
    register(cfg, Surface::Dashboard, crate::dashboard::routes());
}

/// One line of the route table as printed by `doi178-server routes`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RouteRule {
    pub method: String,
    pub path: String,
    /// `api` (JSON, bearer token), `dashboard` (HTML, cookie session and anti-forgery token) or
    /// `ops` (health, metrics, API description).
    pub surface: &'static str,
    /// `anyone`, `signed_in`, `roles`, `leadership` or `team_member`.
    pub who: &'static str,
    /// For `roles`: the roles allowed.
    pub roles: Vec<&'static str>,
    pub scoped: bool,
}

fn rows(surface: &'static str, prefix: &str, specs: Vec<RouteSpec>) -> Vec<RouteRule> {
    specs
        .into_iter()
        .map(|s| {
            let (who, roles) = match s.rule.who {
                Who::Anyone => ("anyone", Vec::new()),
                Who::SignedIn => ("signed_in", Vec::new()),
                Who::Roles(r) => ("roles", r.iter().map(|r| r.as_str()).collect()),
                Who::Leadership => ("leadership", Vec::new()),
                Who::TeamMember => ("team_member", Vec::new()),
            };
            RouteRule {
                method: s.method.to_string(),
                path: format!("{prefix}{}", s.path),
                surface,
                who,
                roles,
                scoped: s.rule.scoped,
            }
        })
        .collect()
}

/// Every route of the server with its rule, in registration order.
pub fn table() -> Vec<RouteRule> {
    let mut all = rows("ops", "", ops_routes());
    all.extend(rows("api", API_PREFIX, api_routes()));
    all.extend(rows("dashboard", "", crate::dashboard::routes()));
    all
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Every route is declared through this module: no `.route(`, `web::resource(` or
    /// `#[get(...)]`-style registration anywhere else in the server's sources.
    #[test]
    fn no_route_is_registered_outside_the_rule_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().and_then(|e| e.to_str()) != Some("rs")
                    || path.ends_with("startup/rules.rs")
                    || path.ends_with("src/access.rs")
                {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    let bad = [
                        ".route(",
                        "web::resource(",
                        "web::scope(",
                        "#[get(",
                        "#[post(",
                        "#[put(",
                        "#[delete(",
                        "#[route(",
                        ".service(",
                    ]
                    .iter()
                    .any(|p| code.contains(p));
                    // The Swagger UI is the one service mounted as a whole (it serves the static
                    // files of the API description, public like /api/openapi.json).
                    let allowed = code.contains("SwaggerUi") || code.contains(".service(swagger");
                    if bad && !allowed {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "routes must be declared with their access rule through access and rules:\n{}",
            offenders.join("\n")
        );
    }

    #[test]
    fn the_table_has_no_duplicate_routes_and_every_scoped_route_has_an_id() {
        let t = table();
        let mut seen = std::collections::BTreeSet::new();
        for r in &t {
            assert!(
                seen.insert((r.method.clone(), r.path.clone())),
                "{} {} is declared twice",
                r.method,
                r.path
            );
            if r.scoped {
                assert!(
                    r.path.contains('{'),
                    "{} {} is scoped but has no id",
                    r.method,
                    r.path
                );
            }
            if r.who == "roles" {
                assert!(!r.roles.is_empty());
            }
        }
        assert!(t.iter().any(|r| r.surface == "api"));
        assert!(t.iter().any(|r| r.surface == "dashboard"));
    }
}
