//! What every dashboard page shares: the language, the signed-in user and navigation (`Ctx`),
//! formatting in Vietnamese conventions (dd/mm/yyyy, 1.234.567 ₫), rendering and HTML errors.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use doi178_shared::ProblemCode;
use doi178_shared::Role;

pub use doi178_shared::lang::{Labelled, Lang};

use crate::error::ApiError;

/// One entry of the top navigation.
#[derive(Debug, Clone)]
pub struct Nav {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The signed-in user as the page header shows them.
#[derive(Debug, Clone)]
pub struct UserBadge {
    pub display_name: String,
    pub username: String,
    pub role: &'static str,
}

/// Context every full page template receives as `ctx` (the base layout reads it).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub l: Lang,
    pub title: String,
    pub user: Option<UserBadge>,
    /// Anti-forgery token: sent by htmx on every request (`hx-headers` on `<body>`).
    pub csrf: String,
    pub nav: Vec<Nav>,
    /// Path and query of this page, to come back to after switching language.
    pub here: String,
}

impl Ctx {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.l.t(vi, en)
    }

    /// The other language, for the switch in the header.
    pub fn other_lang(&self) -> (&'static str, &'static str) {
        match self.l {
            Lang::Vi => ("en", "English"),
            Lang::En => ("vi", "Tiếng Việt"),
        }
    }

    /// `here`, percent-encoded for a query parameter.
    pub fn here_encoded(&self) -> String {
        form_urlencoded::byte_serialize(self.here.as_bytes()).collect()
    }
}

/// Where each role starts after signing in.
pub fn home_for(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::ProvincialStaff => "/map",
        Role::TeamLeader => "/leader",
        Role::Inspector => "/inspector",
    }
}

/// The navigation a role sees (pages it may open; the pages check again).
pub fn nav_for(role: Role, l: Lang, active: &str) -> Vec<Nav> {
    let mut items: Vec<(&'static str, &'static str)> = Vec::new();
    match role {
        Role::Inspector => items.push(("/inspector", l.t("Việc của tôi", "My work"))),
        Role::TeamLeader => items.push(("/leader", l.t("Kế hoạch", "Planning"))),
        Role::Admin | Role::ProvincialStaff => {}
    }
    if role != Role::Inspector {
        items.push(("/map", l.t("Bản đồ", "Map")));
        items.push(("/coverage", l.t("Tiến độ", "Coverage")));
    }
    items.push(("/establishments", l.t("Cơ sở", "Establishments")));
    if role != Role::Inspector {
        items.push(("/tips", l.t("Tin báo", "Tips")));
        items.push(("/reports", l.t("Báo cáo", "Reports")));
    }
    if matches!(role, Role::Admin | Role::ProvincialStaff) {
        items.push(("/admin/users", l.t("Tài khoản", "Accounts")));
    }
    items
        .into_iter()
        .map(|(href, label)| Nav {
            href,
            label,
            active: href == active,
        })
        .collect()
}

/// Renders a template into a 200 HTML response.
pub fn render(tpl: &impl Template) -> DashResult<HttpResponse> {
    render_status(StatusCode::OK, tpl)
}

pub fn render_status(status: StatusCode, tpl: &impl Template) -> DashResult<HttpResponse> {
    let body = tpl.render().map_err(|e| {
        tracing::error!(error = %e, "template rendering failed");
        DashError::Api(ApiError::internal())
    })?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CSP))
        .body(body))
}

/// Scripts and styles only from this server (no inline scripts); images also from https map tile
/// servers when base tiles are configured.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob: https:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'self'; form-action 'self'";

/// Any path no route matches: an HTML 404 (the API scope answers its own with a problem body).
pub async fn not_found(req: actix_web::HttpRequest) -> DashResult<HttpResponse> {
    Err(DashError::Api(ApiError::new(
        StatusCode::NOT_FOUND,
        ProblemCode::NoSuchPage,
        format!("there is no page {}", req.path()),
    )))
}

/// Why a dashboard request did not produce its page.
#[derive(Debug)]
pub enum DashError {
    /// Not signed in (or the session ended): back to the sign-in form, then to `next`.
    SignIn { next: String, htmx: bool },
    /// Somewhere else first (a temporary password to change): a redirect (htmx: a full load).
    Redirect { to: String, htmx: bool },
    /// Anything the API would answer with a problem: shown as an HTML error page (or, for an
    /// htmx request, a fragment the page puts in its message area).
    Api(ApiError),
}

pub type DashResult<T> = Result<T, DashError>;

impl From<ApiError> for DashError {
    fn from(e: ApiError) -> DashError {
        DashError::Api(e)
    }
}

impl From<actix_web::error::BlockingError> for DashError {
    fn from(e: actix_web::error::BlockingError) -> DashError {
        DashError::Api(e.into())
    }
}

impl From<crate::db::DbError> for DashError {
    fn from(e: crate::db::DbError) -> DashError {
        DashError::Api(e.into())
    }
}

impl From<diesel::result::Error> for DashError {
    fn from(e: diesel::result::Error) -> DashError {
        DashError::Api(e.into())
    }
}

impl std::fmt::Display for DashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DashError::SignIn { .. } => f.write_str("sign in first"),
            DashError::Redirect { to, .. } => write!(f, "go to {to} first"),
            DashError::Api(e) => write!(f, "{e}"),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title_vi: &'a str,
    title_en: &'a str,
    detail: &'a str,
}

impl ResponseError for DashError {
    fn status_code(&self) -> StatusCode {
        match self {
            DashError::SignIn { .. } | DashError::Redirect { .. } => StatusCode::SEE_OTHER,
            DashError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            DashError::SignIn { next, htmx } => {
                let to = format!(
                    "/?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                if *htmx {
                    // htmx follows this header with a full page load.
                    HttpResponse::Unauthorized()
                        .insert_header(("HX-Redirect", to))
                        .finish()
                } else {
                    HttpResponse::SeeOther()
                        .insert_header((header::LOCATION, to))
                        .finish()
                }
            }
            DashError::Redirect { to, htmx } => {
                if *htmx {
                    HttpResponse::Ok()
                        .insert_header(("HX-Redirect", to.clone()))
                        .finish()
                } else {
                    HttpResponse::SeeOther()
                        .insert_header((header::LOCATION, to.clone()))
                        .finish()
                }
            }
            DashError::Api(e) => {
                let status = e.status_code();
                let problem = e.problem();
                let (title_vi, title_en) = match status.as_u16() {
                    400 | 422 => ("Dữ liệu chưa hợp lệ", "The input is not valid"),
                    401 => ("Cần đăng nhập", "Please sign in"),
                    403 => ("Không có quyền", "Not allowed"),
                    404 => ("Không tìm thấy", "Not found"),
                    409 => ("Xung đột dữ liệu", "Conflict"),
                    _ => ("Có lỗi xảy ra", "Something went wrong"),
                };
                let page = ErrorPage {
                    status: status.as_u16(),
                    title_vi,
                    title_en,
                    detail: &problem.detail,
                };
                let body = page.render().unwrap_or_else(|_| problem.detail.clone());
                HttpResponse::build(status)
                    .content_type("text/html; charset=utf-8")
                    .body(body)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_home_in_its_navigation_or_its_own_page() {
        for role in [
            Role::Admin,
            Role::ProvincialStaff,
            Role::TeamLeader,
            Role::Inspector,
        ] {
            let nav = nav_for(role, Lang::Vi, home_for(role));
            assert!(nav.iter().any(|n| n.active), "{role:?}");
        }
    }
}
