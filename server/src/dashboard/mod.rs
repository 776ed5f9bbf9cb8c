//! The dashboard: server-rendered pages (askama templates + htmx + Leaflet) for team leaders and
//! provincial staff, served by the same binary as the API. The browser signs in with a cookie
//! session; every page goes through the same `Actor` and db-layer jurisdiction rules as the API.
//!
//! Each area owns one module and its templates under `server/templates/<area>/`:
//! `map` (coverage map), `coverage` (tables, chart, drill-down), `establishments` (search, detail,
//! import), `leader` (planner, assignments, review), `tips`, `reports` (printable + XLSX/CSV).

pub mod assets;
pub mod coverage;
pub mod establishments;
pub mod leader;
pub mod map;
pub mod page;
pub mod reports;
pub mod session;
pub mod tips;

use actix_web::web;

pub use page::{Ctx, DashError, DashResult, Lang, Nav};
pub use session::Web;

/// Registers every dashboard route. Called after the API routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(session::index))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::post().to(session::logout))
        .route("/lang/{lang}", web::get().to(session::set_lang))
        .route("/static/{path:.*}", web::get().to(assets::serve));
    map::configure(cfg);
    coverage::configure(cfg);
    establishments::configure(cfg);
    leader::configure(cfg);
    tips::configure(cfg);
    reports::configure(cfg);
}
