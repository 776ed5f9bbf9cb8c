//! The plan's indicators: each figure the provincial plan asks for, with its target and whether
//! it is met.

use chrono::Datelike;
use doi178_shared::lang::Lang;

use super::Report;
use crate::service::export::Cell;

/// A value of an indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Count(i64),
    Vnd(i64),
    /// A fraction (0.2 = 20 %); `None` when there is nothing to divide by.
    Share(Option<f64>),
}

impl Value {
    fn count(n: u64) -> Value {
        Value::Count(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// As the page shows it.
    pub fn show(self, l: Lang) -> String {
        match self {
            Value::Count(n) => l.num(n),
            Value::Vnd(n) => l.vnd(n),
            Value::Share(Some(x)) => l.pct_bp((x * 10_000.0).round() as i64),
            Value::Share(None) => "—".to_string(),
        }
    }

    /// Machine-readable, for `data-v` (tests compare it with the API).
    pub fn raw(self) -> String {
        match self {
            Value::Count(n) | Value::Vnd(n) => n.to_string(),
            Value::Share(Some(x)) => format!("{x}"),
            Value::Share(None) => String::new(),
        }
    }

    pub fn cell(self) -> Cell {
        match self {
            Value::Count(n) => Cell::Int(n),
            Value::Vnd(n) => Cell::Vnd(n),
            Value::Share(s) => Cell::opt_share(s),
        }
    }
}

/// One line of the indicators table.
#[derive(Debug, Clone)]
pub struct Indicator {
    /// Stable key (`data-k` on the page).
    pub key: &'static str,
    /// Section heading it belongs to.
    pub group: &'static str,
    pub label: &'static str,
    pub value: Value,
    /// The plan's target for it, if it has one.
    pub target: Option<Value>,
    /// `Some(true)` when the target is met, `Some(false)` when not, `None` without a target.
    pub met: Option<bool>,
}

pub(super) fn meets(value: Option<f64>, target: f64) -> Option<bool> {
    Some(value.is_some_and(|v| v + 1e-9 >= target))
}

/// The plan's indicators, in the report's order.
pub fn indicators(r: &Report, l: Lang) -> Vec<Indicator> {
    let a = &r.coverage.total.annual;
    let cu = &r.coverage.total.cumulative;
    let p = &r.coverage.programme;
    let s = &r.summary;
    let g_cov = l.t("Kiểm tra cơ sở", "Inspection coverage");
    let g_work = l.t("Kết quả kiểm tra trong kỳ", "Inspections in the period");
    let g_fu = l.t("Hậu kiểm", "Follow-ups");
    let g_tips = l.t("Tin báo, tố giác", "Tips");
    let ind = |key, group, label, value, target: Option<Value>, met| Indicator {
        key,
        group,
        label,
        value,
        target,
        met,
    };
    let mut out = vec![
        ind(
            "in_scope",
            g_cov,
            l.t(
                "Cơ sở kinh doanh dịch vụ thuộc diện kiểm tra",
                "Establishments in scope",
            ),
            Value::count(a.in_scope),
            None,
            None,
        ),
        ind(
            "inspected",
            g_cov,
            l.t(
                "Cơ sở đã được kiểm tra trong năm",
                "Establishments inspected this year",
            ),
            Value::count(a.inspected),
            None,
            None,
        ),
        ind(
            "share",
            g_cov,
            l.t(
                "Tỷ lệ cơ sở đã kiểm tra so với chỉ tiêu năm",
                "Share inspected against the annual target",
            ),
            Value::Share(a.share),
            Some(Value::Share(Some(p.annual_min_share))),
            meets(a.share, p.annual_min_share),
        ),
        ind(
            "needed",
            g_cov,
            l.t(
                "Số cơ sở còn phải kiểm tra để đạt chỉ tiêu năm",
                "Still to inspect to reach the annual target",
            ),
            Value::count(a.needed),
            None,
            None,
        ),
        ind(
            "cumulative_inspected",
            g_cov,
            l.t(
                "Cơ sở đã được kiểm tra từ đầu giai đoạn",
                "Inspected since the programme began",
            ),
            Value::count(cu.inspected),
            None,
            None,
        ),
        ind(
            "cumulative_share",
            g_cov,
            l.t(
                "Tỷ lệ cơ sở đã kiểm tra ít nhất một lần trong giai đoạn",
                "Share inspected at least once in the programme",
            ),
            Value::Share(cu.share),
            Some(Value::Share(Some(p.end_share))),
            // The end target is judged in the programme's last year only.
            if p.period_end.year() <= r.request.year {
                meets(cu.share, p.end_share)
            } else {
                None
            },
        ),
        ind(
            "visits",
            g_work,
            l.t("Số cuộc kiểm tra", "Visits"),
            Value::Count(s.visits.visits),
            None,
            None,
        ),
        ind(
            "counted_inspections",
            g_work,
            l.t(
                "Trong đó: cuộc kiểm tra được tính chỉ tiêu",
                "Of which counted toward the target",
            ),
            Value::Count(s.visits.counted_inspections),
            None,
            None,
        ),
        ind(
            "establishments_inspected",
            g_work,
            l.t(
                "Số cơ sở được kiểm tra trong kỳ",
                "Establishments inspected in the period",
            ),
            Value::Count(s.visits.establishments_inspected),
            None,
            None,
        ),
        ind(
            "with_violations",
            g_work,
            l.t(
                "Cuộc kiểm tra phát hiện vi phạm",
                "Visits that found violations",
            ),
            Value::Count(s.visits.with_violations),
            None,
            None,
        ),
        ind(
            "violations",
            g_work,
            l.t("Số hành vi vi phạm", "Violations"),
            Value::Count(s.violations.count),
            None,
            None,
        ),
        ind(
            "fines",
            g_work,
            l.t("Tiền phạt đề xuất", "Proposed fines"),
            Value::Vnd(s.violations.proposed_fines_vnd),
            None,
            None,
        ),
        ind(
            "follow_ups_due",
            g_fu,
            l.t("Hậu kiểm đến hạn trong kỳ", "Follow-ups due"),
            Value::Count(s.follow_ups.due),
            None,
            None,
        ),
        ind(
            "follow_ups_done",
            g_fu,
            l.t("Đã hậu kiểm", "Done"),
            Value::Count(s.follow_ups.done),
            None,
            None,
        ),
        ind(
            "follow_ups_not_done",
            g_fu,
            l.t("Chưa hậu kiểm", "Not done"),
            Value::Count(s.follow_ups.not_done),
            None,
            None,
        ),
    ];
    if let Some(t) = &s.tips {
        let n = |x: u64| Value::count(x);
        out.extend([
            ind(
                "tips_received",
                g_tips,
                l.t("Tin báo tiếp nhận", "Tips received"),
                n(t.received),
                None,
                None,
            ),
            ind(
                "tips_handled",
                g_tips,
                l.t("Đã xử lý", "Handled"),
                n(t.handled),
                None,
                None,
            ),
            ind(
                "tips_handled_on_time",
                g_tips,
                l.t("Xử lý đúng hạn", "Handled on time"),
                n(t.handled_on_time),
                None,
                None,
            ),
            ind(
                "tips_handled_late",
                g_tips,
                l.t("Xử lý quá hạn", "Handled late"),
                n(t.handled_late),
                None,
                None,
            ),
            ind(
                "tips_overdue",
                g_tips,
                l.t("Quá hạn, chưa xử lý", "Overdue, not handled"),
                n(t.overdue),
                None,
                None,
            ),
            ind(
                "tips_pending",
                g_tips,
                l.t("Đang xử lý, chưa đến hạn", "Open, not yet due"),
                n(t.pending),
                None,
                None,
            ),
            ind(
                "tips_on_time_share",
                g_tips,
                l.t("Tỷ lệ tin báo xử lý đúng hạn", "Share handled on time"),
                Value::Share(t.on_time_share),
                Some(Value::Share(Some(t.target_share))),
                Some(t.meets_target),
            ),
        ]);
    }
    out
}
