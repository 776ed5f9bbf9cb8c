//! How a route and its access rule are declared: every route of the server (API and dashboard)
//! is declared through [`get`] / [`post`] / [`put`] / [`delete`], which take the access rule next
//! to the path and the handler, so a route cannot exist without a rule. `startup::rules` builds
//! the actix configuration from these declarations, enforces each rule before its handler and
//! lists the route table.

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder, Route};
use doi178_shared::Role;

use crate::auth::Actor;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Any signed-in user (what they see is still limited to their jurisdiction).
    SignedIn,
    /// Signed-in users with one of these roles; other roles get 403.
    Roles(&'static [Role]),
    /// A team leader who leads (leader or deputy) a team; everyone else gets 403 (and a leader
    /// gets 403 for a team they do not lead).
    Leadership,
    /// A signed-in member of at least one team (any role); others get 403.
    TeamMember,
}

/// The access rule of one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub who: Who,
    /// The `{id}` in the path names a record scoped by jurisdiction: a record outside the caller's
    /// jurisdiction answers exactly like an id that does not exist (404).
    pub scoped: bool,
}

pub const PUBLIC: Rule = Rule {
    who: Who::Anyone,
    scoped: false,
};
pub const SIGNED_IN: Rule = Rule {
    who: Who::SignedIn,
    scoped: false,
};
pub const LEADERSHIP: Rule = Rule {
    who: Who::Leadership,
    scoped: false,
};
pub const TEAM_MEMBER: Rule = Rule {
    who: Who::TeamMember,
    scoped: false,
};

pub const fn roles(roles: &'static [Role]) -> Rule {
    Rule {
        who: Who::Roles(roles),
        scoped: false,
    }
}

impl Rule {
    /// The same rule for a record addressed by id and scoped by jurisdiction.
    pub const fn scoped(self) -> Rule {
        Rule {
            who: self.who,
            scoped: true,
        }
    }
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const STAFF: &[Role] = &[Role::Admin, Role::ProvincialStaff];
/// Staff and team leaders: register establishments, handle tips, read reports.
pub const STAFF_AND_LEADERS: &[Role] = &[Role::Admin, Role::ProvincialStaff, Role::TeamLeader];
/// Those who record visits and photos in the field.
pub const FIELD: &[Role] = &[Role::Inspector, Role::TeamLeader];

/// One route: method, path (relative to its scope), rule and the actix route built from the
/// handler.
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub rule: Rule,
    pub(crate) route: Route,
}

fn spec<F, Args>(method: Method, path: &'static str, rule: Rule, handler: F) -> RouteSpec
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    RouteSpec {
        route: web::route().method(method.clone()).to(handler),
        method,
        path,
        rule,
    }
}

pub fn get<F, Args>(path: &'static str, rule: Rule, handler: F) -> RouteSpec
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    spec(Method::GET, path, rule, handler)
}

pub fn post<F, Args>(path: &'static str, rule: Rule, handler: F) -> RouteSpec
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    spec(Method::POST, path, rule, handler)
}

pub fn put<F, Args>(path: &'static str, rule: Rule, handler: F) -> RouteSpec
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    spec(Method::PUT, path, rule, handler)
}

pub fn delete<F, Args>(path: &'static str, rule: Rule, handler: F) -> RouteSpec
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    spec(Method::DELETE, path, rule, handler)
}

/// Where a route is served, which decides how its rule is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// JSON with a bearer token: anonymous → 401, wrong role → 403 (problem bodies).
    Api,
    /// HTML with a cookie session: anonymous → sign-in redirect, wrong role → 403 page.
    Dashboard,
}

/// Whether `actor` passes `who` (signed in is given).
pub fn admits(who: Who, actor: &Actor) -> bool {
    match who {
        Who::Anyone | Who::SignedIn => true,
        Who::Roles(roles) => roles.contains(&actor.role),
        Who::Leadership => !actor.led_team_ids().is_empty(),
        Who::TeamMember => !actor.teams.is_empty(),
    }
}
