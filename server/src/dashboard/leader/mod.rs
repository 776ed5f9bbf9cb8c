//! Dashboard area `leader`: the team leader's workspace (the planner's proposals → a draft
//! assignment → released to the team; assignments by status; review of submitted visits) and the
//! inspector's read-only home. Every read and write goes through the same typed functions and
//! db-layer scoping as the API (`routes::planner::plan`, `service::assignments::create_draft`,
//! `change_status`, `service::visits::apply_review`).

mod assignments;
mod inspector;
mod plan;
mod review;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::NaiveDate;
use doi178_shared::ProblemCode;
use doi178_shared::Role;
use uuid::Uuid;

use super::page::{DashError, Lang};
use super::Web;
use crate::access::{get, post, RouteSpec, LEADERSHIP, TEAM_MEMBER};
use crate::error::ApiError;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/leader", LEADERSHIP, plan::page),
        get("/leader/assignments", LEADERSHIP, assignments::list),
        post("/leader/assignments", LEADERSHIP, plan::create),
        get(
            "/leader/assignments/{id}",
            LEADERSHIP.scoped(),
            assignments::detail,
        ),
        post(
            "/leader/assignments/{id}/{action}",
            LEADERSHIP.scoped(),
            assignments::act,
        ),
        get("/leader/reviews", LEADERSHIP, review::list),
        get("/leader/visits/{id}", LEADERSHIP.scoped(), review::detail),
        post(
            "/leader/visits/{id}/review",
            LEADERSHIP.scoped(),
            review::submit,
        ),
        get("/inspector", TEAM_MEMBER, inspector::page),
    ]
}

/// The leader's pages are for team leaders (leader or deputy of at least one team).
pub(crate) fn require_leader(web: &Web) -> Result<(), DashError> {
    if web.actor.role == Role::TeamLeader && !web.actor.led_team_ids().is_empty() {
        Ok(())
    } else {
        Err(ApiError::forbidden(web.t(
            "Trang này dành cho đội trưởng, đội phó. Về trang chủ để mở trang của vai trò bạn.",
            "This page is for team leaders and deputies. Go home to open your role's pages.",
        ))
        .into())
    }
}

/// The key/value pairs of an urlencoded form body (repeated keys kept, e.g. checkboxes).
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first non-empty value of `key`.
pub(crate) fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

/// A date from an `<input type=date>` (yyyy-mm-dd) or typed dd/mm/yyyy.
pub(crate) fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

pub(crate) fn date_field(
    pairs: &[(String, String)],
    key: &str,
) -> Result<Option<NaiveDate>, ApiError> {
    match field(pairs, key) {
        None => Ok(None),
        Some(raw) => parse_date(raw).map(Some).ok_or_else(|| {
            ApiError::unprocessable(ProblemCode::Invalid, key, "not a date (dd/mm/yyyy)")
        }),
    }
}

pub(crate) fn uuid_field(pairs: &[(String, String)], key: &str) -> Result<Option<Uuid>, ApiError> {
    match field(pairs, key) {
        None => Ok(None),
        Some(raw) => Uuid::parse_str(raw)
            .map(Some)
            .map_err(|_| ApiError::unprocessable(ProblemCode::Invalid, key, "not a valid id")),
    }
}

pub(crate) fn parse_path_id(raw: &str, what: &str) -> Result<Uuid, DashError> {
    // An id that cannot exist is "not found", like an id outside the jurisdiction.
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what).into())
}

/// What the user reads for a form field the API names.
pub(crate) fn field_label(l: Lang, field: &str) -> &'static str {
    let base = field.split('[').next().unwrap_or(field);
    match base {
        "establishment_ids" => l.t("Cơ sở được chọn", "Selected establishments"),
        "window_start" => l.t("Từ ngày", "From"),
        "window_end" => l.t("Đến ngày", "To"),
        "kind" => l.t("Hình thức", "Kind"),
        "team_id" | "team" => l.t("Đội", "Team"),
        "note" => l.t("Ghi chú", "Note"),
        "tip_id" => l.t("Tin báo", "Tip"),
        "follow_up_of" => l.t("Lần kiểm tra cần hậu kiểm", "Visit to follow up"),
        "comment" => l.t("Nhận xét", "Comment"),
        "decision" => l.t("Kết luận", "Decision"),
        "status" => l.t("Trạng thái", "Status"),
        "from" => l.t("Từ ngày", "From"),
        "to" => l.t("Đến ngày", "To"),
        "type" => l.t("Loại hình", "Type"),
        "received_at" => l.t("Ngày tiếp nhận", "Received on"),
        "channel" => l.t("Hình thức tiếp nhận", "Channel"),
        "content" => l.t("Nội dung", "Content"),
        "unit" => l.t("Địa bàn", "Area"),
        "establishment_id" => l.t("Cơ sở", "Establishment"),
        "reporter_contact" => l.t("Liên hệ người báo", "Reporter contact"),
        "deadline" => l.t("Hạn xử lý", "Deadline"),
        "assignment_id" => l.t("Phân công", "Assignment"),
        "current_password" => l.t("Mật khẩu hiện tại", "Current password"),
        "new_password" => l.t("Mật khẩu mới", "New password"),
        "repeat_password" => l.t("Nhập lại mật khẩu mới", "Repeat the new password"),
        "reason" => l.t("Lý do", "Reason"),
        "display_name" => l.t("Họ và tên", "Name"),
        "username" => l.t("Tên đăng nhập", "Username"),
        "role" => l.t("Vai trò", "Role"),
        "unit_id" => l.t("Đơn vị", "Unit"),
        "agency_id" => l.t("Cơ quan", "Agency"),
        "password" => l.t("Mật khẩu", "Password"),
        _ => "",
    }
}

/// A plain explanation, in the page's language, of the errors the forms of this area can meet.
fn explain(l: Lang, e: &ApiError) -> String {
    let field = e.field.as_deref().unwrap_or("");
    let base = field.split('[').next().unwrap_or(field);
    let vi_en = match (base, e.code.as_str()) {
        ("establishment_ids", "required") => Some((
            "Chọn ít nhất một cơ sở trong danh sách đề xuất.",
            "Select at least one establishment from the proposals.",
        )),
        ("establishment_ids", "unknown_establishment") => Some((
            "Có cơ sở không thuộc địa bàn của đội. Tải lại trang và chọn lại.",
            "An establishment is outside the team's area. Reload the page and select again.",
        )),
        ("window_end", _) => Some((
            "Ngày kết thúc phải từ ngày bắt đầu trở đi và cách không quá 366 ngày.",
            "The end date must be on or after the start date and at most 366 days later.",
        )),
        ("window_start", "required") => Some(("Nhập ngày bắt đầu.", "Enter the start date.")),
        ("tip_id", "required") => Some((
            "Kiểm tra theo tin báo cần chọn tin báo.",
            "A tip-driven inspection needs the tip it answers.",
        )),
        ("tip_id", "inconsistent") => Some((
            "Kiểm tra theo kế hoạch không gắn với tin báo: chọn hình thức \"Theo tin báo\" hoặc bỏ chọn tin báo.",
            "A planned inspection is not on a tip: choose the kind \"Tip\" or clear the tip.",
        )),
        ("follow_up_of", "required") => Some((
            "Hậu kiểm cần chọn lần kiểm tra trước đó.",
            "A follow-up needs the earlier visit it follows up.",
        )),
        ("comment", "required") => Some((
            "Ghi rõ nội dung cần bổ sung, sửa chữa để kiểm tra viên thấy trên điện thoại.",
            "Say what must be corrected: the inspector sees it on the phone.",
        )),
        ("unit", "required") => Some((
            "Chọn địa bàn hoặc cơ sở mà tin báo phản ánh.",
            "Choose the area or the establishment the tip is about.",
        )),
        ("content", "required") => Some(("Nhập nội dung tin báo.", "Enter what the tip says.")),
        ("received_at", "out_of_range") => Some((
            "Thời điểm tiếp nhận không được ở tương lai.",
            "The time received cannot be in the future.",
        )),
        ("current_password", "required") => {
            Some(("Nhập mật khẩu hiện tại.", "Enter your current password."))
        }
        ("current_password", "wrong_password") => Some((
            "Mật khẩu hiện tại không đúng. Nhập lại; sai nhiều lần sẽ bị tạm khóa đăng nhập.",
            "The current password is wrong. Try again; repeated failures lock signing in for a while.",
        )),
        ("new_password" | "password", "too_short") => Some((
            "Mật khẩu mới cần ít nhất 12 ký tự (một cụm vài từ dễ nhớ là lựa chọn tốt).",
            "The new password needs at least 12 characters (a few words you remember make a good one).",
        )),
        ("new_password" | "password", "contains_username") => Some((
            "Mật khẩu mới không được chứa tên đăng nhập.",
            "The new password must not contain the username.",
        )),
        ("new_password" | "password", "common_password") => Some((
            "Mật khẩu này quá phổ biến, dễ bị đoán. Chọn mật khẩu khác.",
            "This password is too common and easy to guess. Choose another.",
        )),
        ("new_password", "invalid") => Some((
            "Chọn mật khẩu mới khác mật khẩu hiện tại, không chỉ gồm chữ số hay một ký tự lặp lại.",
            "Choose a new password different from the current one, not only digits or one repeated character.",
        )),
        ("repeat_password", _) => Some((
            "Hai lần nhập mật khẩu mới không khớp nhau.",
            "The two new passwords differ.",
        )),
        ("reason", "required") => Some((
            "Ghi lý do (được lưu vào nhật ký kiểm toán).",
            "Give the reason (it is kept in the audit log).",
        )),
        ("status", "invalid_transition") => Some((
            "Trạng thái đã thay đổi ở nơi khác. Tải lại trang để xem trạng thái hiện tại.",
            "The status changed elsewhere. Reload the page to see the current status.",
        )),
        _ => None,
    };
    match vi_en {
        Some((vi, en)) => l.t(vi, en).to_string(),
        None => {
            let label = field_label(l, field);
            if label.is_empty() {
                e.detail.clone()
            } else {
                format!("{label}: {}", e.detail)
            }
        }
    }
}

/// An htmx answer to a form that could not be saved: a small fragment naming the field, with the
/// error's status (4xx), which `leader.js` puts in the form's message area.
pub(crate) fn form_error(l: Lang, e: ApiError) -> Result<HttpResponse, DashError> {
    if e.status.is_server_error() {
        return Err(e.into());
    }
    let field = e.field.clone().unwrap_or_default();
    let text = explain(l, &e);
    let html = format!(
        "<p class=\"error\" role=\"alert\" data-field=\"{}\">{}</p>",
        html_escape(&field),
        html_escape(&text)
    );
    Ok(HttpResponse::build(e.status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// After a successful htmx action: go to `to` (full page load).
pub(crate) fn hx_redirect(to: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::OK)
        .insert_header(("HX-Redirect", to.to_string()))
        .finish()
}

/// After a successful htmx action: reload the current page.
pub(crate) fn hx_refresh() -> HttpResponse {
    HttpResponse::build(StatusCode::OK)
        .insert_header(("HX-Refresh", "true"))
        .finish()
}

/// `dd/mm/yyyy hh:mm` in Vietnam's time (UTC+7) for a stored UTC timestamp.
pub(crate) fn vn_datetime(at: &chrono::NaiveDateTime) -> String {
    (*at + chrono::TimeDelta::hours(7))
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// Fewer members present than this makes a visit irregular (an interagency team goes at least
/// three strong).
pub const MIN_MEMBERS_PRESENT: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_keep_repeated_keys_and_dates_read_both_ways() {
        let pairs = form_pairs(b"establishment_ids=a&establishment_ids=b&note=+&kind=planned");
        let ids: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == "establishment_ids")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(field(&pairs, "note"), None);
        assert_eq!(field(&pairs, "kind"), Some("planned"));
        let d = NaiveDate::from_ymd_opt(2026, 12, 1);
        assert_eq!(parse_date("2026-12-01"), d);
        assert_eq!(parse_date("01/12/2026"), d);
        assert_eq!(parse_date("2026-13-01"), None);
    }

    #[test]
    fn form_errors_name_the_field_in_the_page_language() {
        let e = ApiError::unprocessable(
            ProblemCode::Required,
            "comment",
            "say what must be corrected",
        );
        assert!(explain(Lang::Vi, &e).contains("kiểm tra viên"));
        let e = ApiError::unprocessable(ProblemCode::TooLong, "note", "at most 2000 characters");
        assert_eq!(explain(Lang::En, &e), "Note: at most 2000 characters");
        assert_eq!(
            html_escape("<a href=\"x\">"),
            "&lt;a href=&quot;x&quot;&gt;"
        );
    }
}
