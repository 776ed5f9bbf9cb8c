//! Dashboard area `establishments` (see `dashboard/mod.rs`): the searchable list, the detail page
//! (licence data, a small map, visits with violations and photos, follow-ups, tips) and the import
//! of business-registration lists with a preview.
//!
//! Every read goes through the API's own functions (`routes::establishments::list_page`,
//! `service::photos::read_photo`, the `db` layer scoped by the `Actor`, the importer's preview), so
//! the pages show exactly what the API would answer to the same user.

mod detail;
mod import;
mod list;

use crate::access::{get, post, roles, RouteSpec, SIGNED_IN, STAFF};
use crate::db::units::UnitRow;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/establishments", SIGNED_IN, list::page),
        get("/establishments/import", roles(STAFF), import::page),
        post(
            "/establishments/import/preview",
            roles(STAFF),
            import::preview,
        ),
        post(
            "/establishments/import/confirm",
            roles(STAFF),
            import::confirm,
        ),
        get(
            "/establishments/photos/{id}",
            SIGNED_IN.scoped(),
            detail::photo,
        ),
        get(
            "/establishments/photos/{id}/thumbnail",
            SIGNED_IN.scoped(),
            detail::thumbnail,
        ),
        get("/establishments/{id}", SIGNED_IN.scoped(), detail::page),
    ]
}

/// A unit's name in the page language.
fn unit_name(l: crate::dashboard::Lang, u: &UnitRow) -> String {
    match l {
        crate::dashboard::Lang::Vi => u.name.clone(),
        crate::dashboard::Lang::En => {
            if u.name_en.is_empty() {
                u.name.clone()
            } else {
                u.name_en.clone()
            }
        }
    }
}
