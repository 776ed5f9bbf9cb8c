//! The monthly progress chart of the coverage page.

use super::format::{num, pct};
use crate::dashboard::page::Lang;
use crate::service::reports::Series;

/// The monthly progress chart: coordinates in a 640 × 280 viewBox, computed here so the SVG is
/// plain markup.
pub struct Chart {
    pub actual: String,
    pub target: String,
    pub points: Vec<ChartPoint>,
    pub y_ticks: Vec<(f64, String)>,
    pub x_ticks: Vec<(f64, String)>,
    pub goal_y: f64,
    pub goal_label: String,
    pub months: Vec<MonthRow>,
}

pub struct ChartPoint {
    pub x: f64,
    pub y: f64,
    pub title: String,
    pub on_track: bool,
}

pub struct MonthRow {
    pub month: u32,
    pub through: String,
    pub in_scope: String,
    pub inspected: String,
    pub share: String,
    pub target: String,
    pub target_share: String,
    pub on_track: bool,
}

const CHART_LEFT: f64 = 56.0;
const CHART_RIGHT: f64 = 624.0;
const CHART_TOP: f64 = 16.0;
const CHART_BOTTOM: f64 = 244.0;

/// A round vertical scale for shares up to `max`: the top and the number of steps (at most 8, of
/// 1, 2, 2.5, 5, 10, 20 or 25 %), never above 100 %.
pub fn y_scale(max: f64) -> (f64, u32) {
    for step in [0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25] {
        let fit = (1.0_f64 / step).round() as u32;
        let n = ((max * 1.05 / step - 1e-9).ceil().max(1.0) as u32).min(fit);
        if n <= 8 {
            return (step * f64::from(n), n);
        }
    }
    (1.0, 4)
}

pub fn chart(l: Lang, s: &Series) -> Chart {
    let goal = s.programme.annual_min_share;
    let best = s.months.iter().filter_map(|m| m.share).fold(goal, f64::max);
    let (top, steps) = y_scale(best);
    let x = |month: f64| CHART_LEFT + (CHART_RIGHT - CHART_LEFT) * month / 12.0;
    let y = |share: f64| CHART_BOTTOM - (CHART_BOTTOM - CHART_TOP) * (share / top).min(1.0);
    let mut actual = String::new();
    let mut points = Vec::new();
    for m in &s.months {
        let share = m.share.unwrap_or(0.0);
        let (px, py) = (x(f64::from(m.month)), y(share));
        actual.push_str(&format!(
            "{}{px:.1},{py:.1}",
            if actual.is_empty() { "" } else { " " }
        ));
        points.push(ChartPoint {
            x: px,
            y: py,
            title: format!(
                "{} {}: {} ({}/{}) · {} {}",
                l.t("Tháng", "Month"),
                m.month,
                pct(l, m.share),
                num(l, m.inspected),
                num(l, m.in_scope),
                l.t("mốc", "target"),
                pct(l, Some(m.target_share)),
            ),
            on_track: m.on_track,
        });
    }
    let target = format!("{:.1},{:.1} {:.1},{:.1}", x(0.0), y(0.0), x(12.0), y(goal));
    let y_ticks = (0..=steps)
        .map(|i| {
            let v = top * f64::from(i) / f64::from(steps);
            (y(v), pct(l, Some(v)))
        })
        .collect();
    let x_ticks = (1..=12u32)
        .map(|m| (x(f64::from(m)), format!("{}{m}", l.t("T", "M"))))
        .collect();
    Chart {
        actual,
        target,
        points,
        y_ticks,
        x_ticks,
        goal_y: y(goal),
        goal_label: format!(
            "{} {}",
            l.t("Chỉ tiêu năm", "Annual target"),
            pct(l, Some(goal))
        ),
        months: s
            .months
            .iter()
            .map(|m| MonthRow {
                month: m.month,
                through: l.date(&m.through),
                in_scope: num(l, m.in_scope),
                inspected: num(l, m.inspected),
                share: pct(l, m.share),
                target: l.num(m.target.ceil() as i64),
                target_share: pct(l, Some(m.target_share)),
                on_track: m.on_track,
            })
            .collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_scale_is_round() {
        let close = |(top, n): (f64, u32), want: (f64, u32)| {
            assert!((top - want.0).abs() < 1e-9 && n == want.1, "{top} {n}");
        };
        close(y_scale(0.584), (0.7, 7));
        close(y_scale(0.2), (0.25, 5));
        close(y_scale(0.03), (0.04, 4));
        close(y_scale(1.0), (1.0, 5));
        close(y_scale(0.0), (0.01, 1));
    }
}
