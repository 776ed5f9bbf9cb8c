//! The dashboard: server-rendered pages (askama templates + htmx + Leaflet) for team leaders and
//! provincial staff, served by the same binary as the API. The browser signs in with a cookie
//! session; every page goes through the same `Actor` and db-layer jurisdiction rules as the API.
//!
//! Each area owns one module and its templates under `server/templates/<area>/`:
//! `map` (coverage map), `coverage` (tables, chart, drill-down), `establishments` (search, detail,
//! import), `leader` (planner, assignments, review), `tips`, `reports` (printable + XLSX/CSV).

pub mod account;
pub mod admin;
pub mod assets;
pub mod badge;
pub mod coverage;
pub mod establishments;
pub mod leader;
pub mod map;
pub mod page;
pub mod reports;
pub mod session;
pub mod tips;

use crate::access::{get, post, RouteSpec, PUBLIC, SIGNED_IN};

pub use page::{Ctx, DashError, DashResult, Lang, Nav};
pub use session::Web;

/// Every dashboard route with its access rule (see `startup::rules`). Signed-in routes answer an
/// anonymous browser with a redirect to the sign-in form; every POST needs the anti-forgery token.
pub fn routes() -> Vec<RouteSpec> {
    let mut all = vec![
        get("/", PUBLIC, session::index),
        post("/login", PUBLIC, session::login),
        post("/logout", SIGNED_IN, session::logout),
        get("/lang/{lang}", PUBLIC, session::set_lang),
        get("/static/{path:.*}", PUBLIC, assets::serve),
    ];
    all.extend(account::routes());
    all.extend(admin::routes());
    all.extend(map::routes());
    all.extend(coverage::routes());
    all.extend(establishments::routes());
    all.extend(leader::routes());
    all.extend(tips::routes());
    all.extend(reports::routes());
    all
}
