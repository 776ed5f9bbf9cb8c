//! Dashboard area `admin`: the administration pages of administrators (the whole country) and
//! provincial staff (their province), on the same service functions and scoping as the API.

mod user_writes;
mod users;

use crate::access::RouteSpec;

pub fn routes() -> Vec<RouteSpec> {
    users::routes()
}
