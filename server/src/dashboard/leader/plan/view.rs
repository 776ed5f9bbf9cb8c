//! The planner's answer as the page shows it: the proposed outings with each establishment's
//! score broken into parts, and the gap to the team's target.

use crate::dashboard::Web;
use crate::service::planner::PlannerResponse;

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Part {
    pub label: String,
    pub points: String,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub type_label: String,
    pub address: String,
    pub risk: String,
    pub risk_class: &'static str,
    pub score: String,
    pub parts: Vec<Part>,
    pub last: String,
    pub never: bool,
    pub violations: i64,
    pub tips: i64,
}

pub struct OutingView {
    pub n: usize,
    pub rows: Vec<Row>,
}

pub struct Gap {
    pub label: String,
    pub in_scope: String,
    pub inspected: String,
    pub share: String,
    pub target: String,
    pub needed: i64,
    pub needed_text: String,
}

fn pct(l: crate::dashboard::Lang, share: f64) -> String {
    l.pct_bp((share * 10_000.0).round() as i64)
}

fn gap_of(
    l: crate::dashboard::Lang,
    label: String,
    m: &crate::service::coverage::Measure,
    target: f64,
) -> Gap {
    Gap {
        label,
        in_scope: l.num(m.in_scope as i64),
        inspected: l.num(m.inspected as i64),
        share: m.share.map(|s| pct(l, s)).unwrap_or_else(|| "—".into()),
        target: pct(l, target),
        needed: m.needed as i64,
        needed_text: l.num(m.needed as i64),
    }
}

pub(super) fn views(web: &Web, res: &PlannerResponse) -> (Vec<OutingView>, Vec<Gap>) {
    let l = web.lang;
    let outings = res
        .groups
        .iter()
        .enumerate()
        .map(|(i, o)| OutingView {
            n: i + 1,
            rows: o
                .establishments
                .iter()
                .map(|p| Row {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    type_label: l.label(&p.establishment_type).to_string(),
                    address: p.address.clone(),
                    risk: l.label(&p.risk).to_string(),
                    risk_class: crate::dashboard::badge::risk(p.risk),
                    score: l.num(p.score.total.round() as i64),
                    parts: p
                        .score
                        .parts
                        .iter()
                        .filter(|part| part.points > 0.0)
                        .map(|part| Part {
                            label: part_label(l, &part.factor, &part.label_vi),
                            points: l.num(part.points.round() as i64),
                        })
                        .collect(),
                    last: p
                        .last_inspected_on
                        .map(|d| l.date(&d))
                        .unwrap_or_else(|| l.t("Chưa từng", "Never").to_string()),
                    never: p.never_inspected_in_period,
                    violations: p.prior_violations,
                    tips: p.open_tips,
                })
                .collect(),
        })
        .collect();
    let mut gaps = Vec::new();
    if let Some(g) = &res.gap {
        gaps.push(gap_of(
            l,
            format!(
                "{} {}",
                l.t("Năm", "Year"),
                chrono::Datelike::year(&res.from)
            ),
            &g.annual,
            res.programme.annual_min_share,
        ));
        gaps.push(gap_of(
            l,
            l.t("Cả giai đoạn", "Whole period").to_string(),
            &g.cumulative,
            res.programme.end_share,
        ));
    }
    (outings, gaps)
}

fn part_label(l: crate::dashboard::Lang, factor: &str, vi: &str) -> String {
    let en = match factor {
        "never_inspected" => "Never inspected this period",
        "days_since_last" => "Days since the last inspection",
        "prior_violations" => "Earlier violations",
        "open_tips" => "Open tips",
        "risk" => "Risk",
        _ => factor,
    };
    l.t(vi, en).to_string()
}
