//! Dashboard area `map` (see `dashboard/mod.rs`).

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
