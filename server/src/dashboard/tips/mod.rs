//! Dashboard area `tips`: intake of tips and complaints (tố giác, tin báo), the list with
//! deadlines and status (overdue highlighted), the step-by-step status changes, and a tip-driven
//! draft assignment made from a tip. Every write is the API's own function
//! (`service::tips::create_tip`, `set_tip_status`, `service::assignments::create_draft`); every
//! read is scoped by `db::tips` exactly as `GET /api/v1/tips`.

mod detail;
mod intake;
mod list;

use doi178_shared::tip::TipStatus;
use doi178_shared::Role;

use super::Web;
use crate::access::{get, post, roles, RouteSpec, STAFF_AND_LEADERS};
use crate::error::ApiError;

pub use self::detail::{change_status, detail, make_assignment};
pub use self::intake::{create, pick_establishment};
pub use self::list::{list, Choice, TipLine};

pub fn routes() -> Vec<RouteSpec> {
    let handlers = roles(STAFF_AND_LEADERS);
    vec![
        get("/tips", handlers, list),
        post("/tips", handlers, create),
        get("/tips/establishments", handlers, pick_establishment),
        get("/tips/{id}", handlers.scoped(), detail),
        post("/tips/{id}/status", handlers.scoped(), change_status),
        post("/tips/{id}/assignment", handlers.scoped(), make_assignment),
    ]
}

/// Tips are for provincial staff, administrators and team leaders (as in the API).
fn require_handler(web: &Web) -> Result<(), super::DashError> {
    if matches!(
        web.actor.role,
        Role::Admin | Role::ProvincialStaff | Role::TeamLeader
    ) {
        Ok(())
    } else {
        Err(ApiError::forbidden(web.t(
            "Tin báo do đội trưởng và cán bộ tỉnh xử lý; tài khoản của bạn không mở được trang này.",
            "Tips are handled by team leaders and provincial staff; your account cannot open this page.",
        ))
        .into())
    }
}

/// The one step forward from `status`, with the button's words.
fn next_step(status: TipStatus) -> Option<(TipStatus, &'static str, &'static str)> {
    match status {
        TipStatus::Received => Some((TipStatus::Verifying, "Bắt đầu xác minh", "Start verifying")),
        TipStatus::Verifying => Some((TipStatus::Classified, "Đã phân loại", "Mark classified")),
        TipStatus::Classified => Some((TipStatus::Handled, "Đã xử lý xong", "Mark handled")),
        TipStatus::Handled => None,
    }
}
