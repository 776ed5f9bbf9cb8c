//! The report as spreadsheet tables: the indicators, the violations and one line per commune.

use chrono::NaiveDate;
use doi178_shared::lang::Lang;

use super::{indicators, Report, Value};
use crate::service::coverage::CoverageRow;
use crate::service::export::{Cell, Column, Kind, Table};
use crate::service::reports::Summary;

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
