//! The OpenAPI 3 document served at /api/openapi.json (and browsed at /api/docs/).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "doi178 API", description = "Planning, running and proving the inspections of the interagency teams (Đội 178). All errors are RFC 9457 problem bodies (`application/problem+json`) with a stable `code` and the offending `field`."),
    paths(
        routes::healthz,
        routes::auth::login, routes::auth::refresh, routes::auth::logout, routes::auth::me,
        routes::units::list, routes::units::get,
        routes::establishments::list, routes::establishments::create, routes::establishments::get, routes::establishments::update,
        routes::teams::list, routes::teams::create, routes::teams::get, routes::teams::add_member, routes::teams::remove_member,
        routes::users::list, routes::users::create, routes::users::get,
        routes::reference::agencies, routes::reference::programmes,
        routes::reference::create_programme, routes::reference::update_programme,
        routes::coverage::get,
        routes::reports::series, routes::reports::never_inspected, routes::reports::follow_ups, routes::reports::summary,
        routes::planner::propose,
        routes::reference::list_templates,
        routes::reference::create_template, routes::reference::get_template,
        routes::tips::list, routes::tips::create, routes::tips::get, routes::tips::set_status,
        routes::assignments::list, routes::assignments::create, routes::assignments::get,
        routes::assignments::release, routes::assignments::cancel, routes::assignments::complete,
        routes::visits::put, routes::visits::list, routes::visits::get, routes::visits::revise, routes::visits::review,
        routes::photos::put, routes::photos::get, routes::photos::thumbnail,
        routes::sync::pull,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
