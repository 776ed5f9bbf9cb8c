//! The report as the page shows it: indicators, violations and one line per commune.

use chrono::{Datelike, NaiveDate};
use doi178_shared::lang::Lang;

use crate::service::coverage::NATIONAL;
use crate::service::plan_report::{self as model, Indicator, Report, Request};

/// An indicator as the page shows it.
pub struct IndicatorView {
    pub key: &'static str,
    pub group: &'static str,
    /// First line of its group (the group heading is shown above it).
    pub starts_group: bool,
    pub label: &'static str,
    pub value: String,
    pub raw: String,
    pub target: String,
    /// `ok`, `bad` or empty.
    pub status: &'static str,
}

pub struct ViolationView {
    pub code: String,
    pub description: String,
    pub legal_basis: String,
    pub count: String,
    pub raw_count: i64,
    pub fines: String,
    pub raw_fines: i64,
}

pub struct ChildView {
    pub unit_id: String,
    pub name: String,
    pub in_scope: String,
    pub raw_in_scope: u64,
    pub inspected: String,
    pub raw_inspected: u64,
    pub share: String,
    pub needed: String,
    pub visits: String,
    pub violations: String,
    pub fines: String,
    pub follow_ups: String,
    pub tips: String,
}

pub struct ReportView {
    pub unit: String,
    pub unit_name: String,
    pub level_child: &'static str,
    pub period_label: &'static str,
    pub year: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub period_end: NaiveDate,
    pub deadline: NaiveDate,
    pub issued_on: NaiveDate,
    /// `Huế, ngày 25 tháng 11 năm 2026` (place and date of an official document).
    pub issued_line: String,
    pub in_progress: bool,
    pub programme: String,
    pub indicators: Vec<IndicatorView>,
    pub violations: Vec<ViolationView>,
    pub violations_total: String,
    pub fines_total: String,
    pub children: Vec<ChildView>,
    pub total: Option<ChildView>,
    pub xlsx_href: String,
}

fn count(l: Lang, n: u64) -> String {
    l.num(i64::try_from(n).unwrap_or(i64::MAX))
}

fn share(l: Lang, s: Option<f64>) -> String {
    model::Value::Share(s).show(l)
}

fn child_view(
    l: Lang,
    c: &crate::service::coverage::CoverageRow,
    s: &crate::service::reports::Summary,
) -> ChildView {
    ChildView {
        unit_id: c.unit_id.clone(),
        name: c.name.clone(),
        in_scope: count(l, c.annual.in_scope),
        raw_in_scope: c.annual.in_scope,
        inspected: count(l, c.annual.inspected),
        raw_inspected: c.annual.inspected,
        share: share(l, c.annual.share),
        needed: count(l, c.annual.needed),
        visits: l.num(s.visits.visits),
        violations: l.num(s.violations.count),
        fines: l.vnd(s.violations.proposed_fines_vnd),
        follow_ups: format!("{}/{}", l.num(s.follow_ups.done), l.num(s.follow_ups.due)),
        tips: s.tips.as_ref().map_or_else(String::new, |t| {
            format!("{}/{}", count(l, t.handled_on_time), count(l, t.received))
        }),
    }
}

fn query_string(req: &Request) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("unit", &req.unit)
        .append_pair("period", req.period.code())
        .append_pair("year", &req.year.to_string())
        .finish()
}

pub(super) fn report_view(r: &Report, l: Lang) -> ReportView {
    let mut last_group = "";
    let indicators = model::indicators(r, l)
        .into_iter()
        .map(|i: Indicator| {
            let starts_group = i.group != last_group;
            last_group = i.group;
            IndicatorView {
                key: i.key,
                group: i.group,
                starts_group,
                label: i.label,
                value: i.value.show(l),
                raw: i.value.raw(),
                target: i.target.map(|t| t.show(l)).unwrap_or_default(),
                status: match i.met {
                    Some(true) => "ok",
                    Some(false) => "bad",
                    None => "",
                },
            }
        })
        .collect();
    let v = &r.summary.violations;
    let national = r.request.unit == NATIONAL;
    ReportView {
        unit: r.request.unit.clone(),
        unit_name: r.unit_name.clone(),
        level_child: if national {
            l.t("Tỉnh, thành phố", "Province")
        } else {
            l.t("Xã, phường", "Commune")
        },
        period_label: r.request.period.label(l),
        year: r.request.year,
        from: r.from,
        to: r.to,
        period_end: r.period_end,
        deadline: r.deadline,
        issued_on: r.issued_on,
        issued_line: match l {
            Lang::Vi => format!(
                "{}, ngày {:02} tháng {:02} năm {}",
                r.unit_name,
                r.issued_on.day(),
                r.issued_on.month(),
                r.issued_on.year()
            ),
            Lang::En => format!("{}, {}", r.unit_name, l.date(&r.issued_on)),
        },
        in_progress: r.in_progress(),
        programme: r.coverage.programme.name.clone(),
        indicators,
        violations: v
            .by_code
            .iter()
            .map(|x| ViolationView {
                code: x.code.clone(),
                description: x.description.clone(),
                legal_basis: x.legal_basis.clone(),
                count: l.num(x.count),
                raw_count: x.count,
                fines: l.vnd(x.proposed_fines_vnd),
                raw_fines: x.proposed_fines_vnd,
            })
            .collect(),
        violations_total: l.num(v.count),
        fines_total: l.vnd(v.proposed_fines_vnd),
        children: r
            .children
            .iter()
            .map(|c| child_view(l, &c.coverage, &c.summary))
            .collect(),
        total: (!r.children.is_empty()).then(|| child_view(l, &r.coverage.total, &r.summary)),
        xlsx_href: format!("/reports/report.xlsx?{}", query_string(&r.request)),
    }
}
