//! The 6-monthly and yearly report: its period, and its figures taken from the same functions as
//! `GET /api/v1/coverage` ([`coverage::compute`]) and `GET /api/v1/coverage/summary`
//! ([`reports::compute_summary`]), laid out once for the page and the spreadsheet.
//!
//! Reporting periods follow the provincial plan in the seeds (Kon Tum, programme 2021–2025): the
//! 6-monthly report is due *before 10 June* and the yearly one *before 10 December*, so the
//! figures close at the end of the month before: **01/01–31/05** (6 tháng) and **01/01–30/11**
//! (năm). A period not over yet counts up to today.

use chrono::{Datelike, NaiveDate};

use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::{self, Coverage, CoverageRow, Params};
use crate::service::export::{Cell, Column, Kind, Table};
use crate::service::reports::{self as api_reports, Summary};

use super::super::page::Lang;

/// A reporting period of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// 6 tháng đầu năm: 01/01–31/05, due before 10/06.
    H1,
    /// Cả năm: 01/01–30/11, due before 10/12.
    Year,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s.trim() {
            "h1" | "H1" => Some(Period::H1),
            "year" | "nam" => Some(Period::Year),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Period::H1 => "h1",
            Period::Year => "year",
        }
    }

    /// The period the user most likely wants on `today`: the 6-monthly report until it is due,
    /// then the yearly one.
    pub fn default_for(today: NaiveDate) -> Period {
        if today.month() <= 6 {
            Period::H1
        } else {
            Period::Year
        }
    }

    /// First and last day of the figures.
    pub fn window(self, year: i32) -> (NaiveDate, NaiveDate) {
        let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).unwrap_or(NaiveDate::MIN);
        match self {
            Period::H1 => (d(1, 1), d(5, 31)),
            Period::Year => (d(1, 1), d(11, 30)),
        }
    }

    /// The report is to be sent before this day.
    pub fn deadline(self, year: i32) -> NaiveDate {
        let m = match self {
            Period::H1 => 6,
            Period::Year => 12,
        };
        NaiveDate::from_ymd_opt(year, m, 10).unwrap_or(NaiveDate::MIN)
    }

    pub fn label(self, l: Lang) -> &'static str {
        match self {
            Period::H1 => l.t("6 tháng đầu năm", "First half-year"),
            Period::Year => l.t("Cả năm", "Full year"),
        }
    }

    /// Part of the file name: `2026-H1`, `2026-nam`.
    pub fn file_part(self) -> &'static str {
        match self {
            Period::H1 => "H1",
            Period::Year => "nam",
        }
    }
}

/// A checked report request.
#[derive(Debug, Clone)]
pub struct Request {
    pub unit: String,
    pub year: i32,
    pub period: Period,
}

/// One commune (or province, for the country) of the breakdown.
pub struct ChildLine {
    pub coverage: CoverageRow,
    pub summary: Summary,
}

/// Everything the report shows.
pub struct Report {
    pub request: Request,
    pub unit_name: String,
    /// First and last day of the figures (`to` is today while the period is not over).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Last day of the period as the plan sets it.
    pub period_end: NaiveDate,
    pub deadline: NaiveDate,
    pub issued_on: NaiveDate,
    /// The coverage answer; its children are moved into `children`.
    pub coverage: Coverage,
    pub summary: Summary,
    pub children: Vec<ChildLine>,
}

impl Report {
    pub fn in_progress(&self) -> bool {
        self.to < self.period_end
    }
}

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid", field, detail)
}

/// Builds the report as `actor` sees it (a unit outside the jurisdiction is 404, as in the API).
pub fn build(
    c: &mut db::AnyConnection,
    actor: &Actor,
    req: &Request,
    today: NaiveDate,
) -> ApiResult<Report> {
    let (from, period_end) = req.period.window(req.year);
    if from > today {
        return Err(invalid(
            "year",
            format!(
                "{} has not begun yet; choose this year or an earlier one",
                req.year
            ),
        ));
    }
    let to = period_end.min(today);
    let params = Params {
        unit: req.unit.clone(),
        year: req.year,
        as_of: to,
        establishment_type: None,
    };
    let mut coverage = coverage::compute(c, actor, &params)?;
    let summary = api_reports::compute_summary(c, actor, &req.unit, from, to, today)?;
    let mut children = Vec::with_capacity(coverage.children.len());
    for row in std::mem::take(&mut coverage.children) {
        let summary = api_reports::compute_summary(c, actor, &row.unit_id, from, to, today)?;
        children.push(ChildLine {
            coverage: row,
            summary,
        });
    }
    Ok(Report {
        unit_name: summary.name.clone(),
        request: req.clone(),
        from,
        to,
        period_end,
        deadline: req.period.deadline(req.year),
        issued_on: today,
        coverage,
        summary,
        children,
    })
}

// ---------------------------------------------------------------------------------------------
// The plan's indicators
// ---------------------------------------------------------------------------------------------

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

fn meets(value: Option<f64>, target: f64) -> Option<bool> {
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

// ---------------------------------------------------------------------------------------------
// The spreadsheet
// ---------------------------------------------------------------------------------------------

fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The report's three sheets, in Vietnamese: Tổng hợp (indicators), Vi phạm, Theo xã.
pub fn tables(r: &Report) -> Vec<Table> {
    let l = Lang::Vi;
    let mut summary = Table::new(
        "Tổng hợp",
        vec![
            Column::new("Nhóm chỉ tiêu", Kind::Text, 26.0),
            Column::new("Chỉ tiêu", Kind::Text, 58.0),
            Column::new("Kết quả", Kind::Count, 16.0),
            Column::new("Chỉ tiêu kế hoạch", Kind::Share, 18.0),
            Column::new("Đánh giá", Kind::Text, 14.0),
        ],
    );
    summary.preamble = preamble(r);
    for i in indicators(r, l) {
        summary.rows.push(vec![
            Cell::text(i.group),
            Cell::text(i.label),
            i.value.cell(),
            i.target.map_or(Cell::Empty, Value::cell),
            match i.met {
                Some(true) => Cell::text("Đạt"),
                Some(false) => Cell::text("Chưa đạt"),
                None => Cell::Empty,
            },
        ]);
    }

    let mut violations = Table::new(
        "Vi phạm",
        vec![
            Column::new("Mã vi phạm", Kind::Text, 16.0),
            Column::new("Hành vi vi phạm", Kind::Text, 60.0),
            Column::new("Căn cứ pháp lý", Kind::Text, 40.0),
            Column::new("Số vụ", Kind::Count, 10.0),
            Column::new("Tiền phạt đề xuất (đồng)", Kind::Vnd, 22.0),
        ],
    );
    for v in &r.summary.violations.by_code {
        violations.rows.push(vec![
            Cell::text(&v.code),
            Cell::opt_text(Some(&v.description)),
            Cell::opt_text(Some(&v.legal_basis)),
            Cell::Int(v.count),
            Cell::Vnd(v.proposed_fines_vnd),
        ]);
    }
    violations.rows.push(vec![
        Cell::text("Tổng cộng"),
        Cell::Empty,
        Cell::Empty,
        Cell::Int(r.summary.violations.count),
        Cell::Vnd(r.summary.violations.proposed_fines_vnd),
    ]);

    let mut by_child = Table::new("Theo xã", child_columns());
    for ch in &r.children {
        by_child.rows.push(child_cells(&ch.coverage, &ch.summary));
    }
    by_child
        .rows
        .push(child_cells(&r.coverage.total, &r.summary));
    if let Some(first) = by_child.rows.last_mut().and_then(|row| row.first_mut()) {
        *first = Cell::text(format!("Tổng cộng: {}", r.unit_name));
    }
    vec![summary, violations, by_child]
}

fn preamble(r: &Report) -> Vec<(String, String)> {
    let p = &r.coverage.programme;
    let mut lines = vec![
        (
            "Báo cáo".to_string(),
            format!(
                "Kết quả kiểm tra cơ sở kinh doanh dịch vụ dễ phát sinh tệ nạn mại dâm — {} {}",
                r.request.period.label(Lang::Vi).to_lowercase(),
                r.request.year
            ),
        ),
        (
            "Đơn vị".to_string(),
            format!("{} ({})", r.unit_name, r.request.unit),
        ),
        (
            "Kỳ báo cáo".to_string(),
            format!(
                "Số liệu từ {} đến {}; gửi trước {}",
                date(r.from),
                date(r.to),
                date(r.deadline)
            ),
        ),
        ("Chương trình".to_string(), p.name.clone()),
        ("Ngày lập".to_string(), date(r.issued_on)),
    ];
    if r.in_progress() {
        lines.push((
            "Ghi chú".to_string(),
            format!(
                "Kỳ báo cáo chưa kết thúc (đến {}); số liệu tính đến ngày lập.",
                date(r.period_end)
            ),
        ));
    }
    lines
}

fn child_columns() -> Vec<Column> {
    vec![
        Column::new("Xã, phường", Kind::Text, 30.0),
        Column::new("Cơ sở thuộc diện", Kind::Count, 12.0),
        Column::new("Đã kiểm tra trong năm", Kind::Count, 12.0),
        Column::new("Tỷ lệ", Kind::Share, 10.0),
        Column::new("Còn phải kiểm tra", Kind::Count, 12.0),
        Column::new("Cuộc kiểm tra", Kind::Count, 12.0),
        Column::new("Vi phạm", Kind::Count, 10.0),
        Column::new("Tiền phạt đề xuất (đồng)", Kind::Vnd, 20.0),
        Column::new("Hậu kiểm đến hạn", Kind::Count, 12.0),
        Column::new("Đã hậu kiểm", Kind::Count, 12.0),
        Column::new("Tin báo tiếp nhận", Kind::Count, 12.0),
        Column::new("Tin báo xử lý đúng hạn", Kind::Count, 14.0),
    ]
}

fn child_cells(c: &CoverageRow, s: &Summary) -> Vec<Cell> {
    vec![
        Cell::text(&c.name),
        Cell::count(c.annual.in_scope),
        Cell::count(c.annual.inspected),
        Cell::opt_share(c.annual.share),
        Cell::count(c.annual.needed),
        Cell::Int(s.visits.visits),
        Cell::Int(s.violations.count),
        Cell::Vnd(s.violations.proposed_fines_vnd),
        Cell::Int(s.follow_ups.due),
        Cell::Int(s.follow_ups.done),
        s.tips
            .as_ref()
            .map_or(Cell::Empty, |t| Cell::count(t.received)),
        s.tips
            .as_ref()
            .map_or(Cell::Empty, |t| Cell::count(t.handled_on_time)),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_close_before_the_plan_s_deadlines() {
        assert_eq!(Period::H1.window(2026), (d("2026-01-01"), d("2026-05-31")));
        assert_eq!(
            Period::Year.window(2026),
            (d("2026-01-01"), d("2026-11-30"))
        );
        for p in [Period::H1, Period::Year] {
            assert!(p.window(2026).1 < p.deadline(2026));
            assert_eq!(Period::parse(p.code()), Some(p));
        }
        assert_eq!(Period::parse("q3"), None);
        assert_eq!(Period::default_for(d("2026-06-09")), Period::H1);
        assert_eq!(Period::default_for(d("2026-11-25")), Period::Year);
    }

    use crate::service::coverage::{CoverageProgramme, Measure};
    use crate::service::reports::{
        FollowUpSummary, TipSummary, ViolationCode, ViolationSummary, VisitSummary,
    };
    use doi178_shared::coverage::Projection;

    fn measure(in_scope: u64, inspected: u64) -> Measure {
        Measure {
            in_scope,
            inspected,
            share: (in_scope > 0).then(|| inspected as f64 / in_scope as f64),
            needed: 0,
            projection: Projection::Met,
        }
    }

    fn row(id: &str, name: &str, in_scope: u64, inspected: u64) -> CoverageRow {
        CoverageRow {
            unit_id: id.into(),
            name: name.into(),
            annual: measure(in_scope, inspected),
            cumulative: measure(in_scope, inspected),
        }
    }

    fn summary(name: &str, violations: &[(&str, i64, i64)], tips: bool) -> Summary {
        let by_code: Vec<ViolationCode> = violations
            .iter()
            .map(|(code, count, fines)| ViolationCode {
                code: (*code).into(),
                description: "Phòng hát có diện tích sử dụng dưới 20 m²".into(),
                legal_basis: "Nghị định 38/2021/NĐ-CP Điều 15".into(),
                count: *count,
                proposed_fines_vnd: *fines,
            })
            .collect();
        Summary {
            unit: "x".into(),
            name: name.into(),
            from: d("2026-01-01"),
            to: d("2026-05-31"),
            visits: VisitSummary {
                visits: 9,
                counted_inspections: 8,
                establishments_inspected: 7,
                with_violations: 2,
            },
            violations: ViolationSummary {
                count: by_code.iter().map(|v| v.count).sum(),
                proposed_fines_vnd: by_code.iter().map(|v| v.proposed_fines_vnd).sum(),
                by_code,
            },
            follow_ups: FollowUpSummary {
                due: 3,
                done: 2,
                not_done: 1,
            },
            tips: tips.then_some(TipSummary {
                received: 4,
                handled: 3,
                handled_on_time: 3,
                handled_late: 0,
                overdue: 0,
                pending: 1,
                on_time_share: Some(1.0),
                target_share: 1.0,
                meets_target: true,
            }),
        }
    }

    fn report() -> Report {
        Report {
            request: Request {
                unit: "2025:46".into(),
                year: 2026,
                period: Period::H1,
            },
            unit_name: "Huế".into(),
            from: d("2026-01-01"),
            to: d("2026-05-31"),
            period_end: d("2026-05-31"),
            deadline: d("2026-06-10"),
            issued_on: d("2026-06-05"),
            coverage: Coverage {
                unit: "2025:46".into(),
                year: 2026,
                as_of: d("2026-05-31"),
                programme: CoverageProgramme {
                    id: "p".into(),
                    name: "Chương trình 2026–2035".into(),
                    annual_min_share: 0.2,
                    end_share: 1.0,
                    period_start: d("2026-01-01"),
                    period_end: d("2035-12-31"),
                },
                total: row("2025:46", "Huế", 30, 9),
                children: Vec::new(),
            },
            summary: summary(
                "Huế",
                &[("ND282-15.4.a", 2, 30_000_000), ("ND38-15", 1, 5_000_000)],
                true,
            ),
            children: vec![
                ChildLine {
                    coverage: row("2025:1", "Phường Thuận Hóa", 10, 4),
                    summary: summary("Phường Thuận Hóa", &[("ND38-15", 1, 5_000_000)], true),
                },
                ChildLine {
                    coverage: row("2025:2", "Xã Phú Vang", 20, 5),
                    summary: summary("Xã Phú Vang", &[], true),
                },
            ],
        }
    }

    #[test]
    fn the_sheets_carry_the_indicators_violations_and_communes() {
        let r = report();
        assert!(!r.in_progress());
        let t = tables(&r);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Tổng hợp", "Vi phạm", "Theo xã"]);

        let s = &t[0];
        assert_eq!(s.preamble[1].1, "Huế (2025:46)");
        assert!(s.preamble[2].1.contains("01/01/2026 đến 31/05/2026"));
        let line = |key_label: &str| {
            s.rows
                .iter()
                .find(|row| row[1] == Cell::text(key_label))
                .cloned()
                .unwrap()
        };
        let share = line("Tỷ lệ cơ sở đã kiểm tra so với chỉ tiêu năm");
        assert_eq!(share[2], Cell::Share(0.3));
        assert_eq!(share[3], Cell::Share(0.2));
        assert_eq!(share[4], Cell::text("Đạt"));
        // The end target is not judged before the programme's last year.
        assert_eq!(
            line("Tỷ lệ cơ sở đã kiểm tra ít nhất một lần trong giai đoạn")[4],
            Cell::Empty
        );
        assert_eq!(line("Tiền phạt đề xuất")[2], Cell::Vnd(35_000_000));
        assert_eq!(line("Tin báo tiếp nhận")[2], Cell::Int(4));

        let v = &t[1];
        assert_eq!(v.rows.len(), 3, "two codes and the total");
        assert_eq!(v.rows[2][3], Cell::Int(3));
        assert_eq!(v.rows[2][4], Cell::Vnd(35_000_000));
        assert_eq!(v.rows[0][2], Cell::text("Nghị định 38/2021/NĐ-CP Điều 15"));

        let c = &t[2];
        assert_eq!(c.rows.len(), 3, "two communes and the total");
        assert_eq!(c.rows[0][0], Cell::text("Phường Thuận Hóa"));
        assert_eq!(c.rows[2][0], Cell::text("Tổng cộng: Huế"));
        assert_eq!(c.rows[2][1], Cell::Int(30));

        // And the whole report writes and reads back.
        let bytes = crate::service::export::xlsx(&t).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }

    #[test]
    fn a_summary_without_tips_leaves_the_tip_indicators_out() {
        let mut r = report();
        r.summary.tips = None;
        let keys: Vec<&str> = indicators(&r, Lang::Vi).iter().map(|i| i.key).collect();
        assert!(keys.contains(&"fines"));
        assert!(!keys.iter().any(|k| k.starts_with("tips_")));
    }

    #[test]
    fn values_show_in_vietnamese() {
        assert_eq!(Value::Share(Some(0.2)).show(Lang::Vi), "20,0 %");
        assert_eq!(Value::Share(None).show(Lang::Vi), "—");
        assert_eq!(Value::Vnd(1_500_000).show(Lang::Vi), "1.500.000 ₫");
        assert_eq!(Value::Count(1234).raw(), "1234");
        assert_eq!(meets(Some(0.2), 0.2), Some(true));
        assert_eq!(meets(None, 0.2), Some(false));
    }
}
