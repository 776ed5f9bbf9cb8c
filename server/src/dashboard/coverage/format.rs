//! Formatting shared by the coverage page and the map: shares, counts, projections, the
//! colour buckets and their legend.

use doi178_shared::coverage::Projection;

use crate::dashboard::page::Lang;
use crate::service::coverage::Measure;

/// A share as a percentage with one decimal (`23,4 %`), `—` when nothing is in scope.
pub fn pct(l: Lang, share: Option<f64>) -> String {
    match share {
        Some(s) => l.pct_bp((s * 10_000.0).round() as i64),
        None => "—".to_string(),
    }
}

pub fn num(l: Lang, n: u64) -> String {
    l.num(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The projection in words.
pub fn projection_text(l: Lang, p: &Projection) -> String {
    match p {
        Projection::Met => l.t("Đã đạt chỉ tiêu", "Target met").to_string(),
        Projection::OnPace { date } => format!(
            "{} {}",
            l.t("Dự kiến đạt ngày", "On pace to meet it on"),
            l.date(date)
        ),
        Projection::NotInTime => l
            .t(
                "Không kịp hạn với tốc độ hiện tại",
                "Not in time at the current pace",
            )
            .to_string(),
        Projection::NoActivity => l
            .t("Chưa có kiểm tra nào", "No inspections yet")
            .to_string(),
    }
}

/// Colour class of a share against its target, on a scale that breaks at the target: below it
/// `u0`–`u3` (quarters of the target, `u3` closest), at or above it `m0`–`m3` (quarters of the way
/// from the target to 100 %, `m3` best; a target of 100 % met is `m3`), `none` when nothing is in
/// scope. `map.js` applies the same rule.
pub fn bucket(share: Option<f64>, target: f64) -> &'static str {
    const UNDER: [&str; 4] = ["u0", "u1", "u2", "u3"];
    const MET: [&str; 4] = ["m0", "m1", "m2", "m3"];
    let Some(share) = share else { return "none" };
    let quarter = |x: f64| ((x + 1e-9).floor().clamp(0.0, 3.0)) as usize;
    if share + 1e-9 >= target {
        if target >= 1.0 {
            "m3"
        } else {
            MET[quarter((share - target) / ((1.0 - target) / 4.0))]
        }
    } else {
        UNDER[quarter(share / target * 4.0)]
    }
}

/// One line of the colour legend.
pub struct LegendItem {
    pub class: &'static str,
    pub label: String,
}

/// The legend of the colour scale for `target` (a fraction): the classes that meet it (best
/// first), the classes below it, and "no establishments in scope".
pub struct Legend {
    pub met: Vec<LegendItem>,
    pub under: Vec<LegendItem>,
    pub none: String,
}

pub fn legend(l: Lang, target: f64) -> Legend {
    let p = |f: f64| pct(l, Some(f));
    let met = if target >= 1.0 {
        vec![LegendItem {
            class: "m3",
            label: p(1.0),
        }]
    } else {
        let step = (1.0 - target) / 4.0;
        let at = |k: f64| target + step * k;
        vec![
            LegendItem {
                class: "m3",
                label: format!("≥ {}", p(at(3.0))),
            },
            LegendItem {
                class: "m2",
                label: format!("{} – {}", p(at(2.0)), p(at(3.0))),
            },
            LegendItem {
                class: "m1",
                label: format!("{} – {}", p(at(1.0)), p(at(2.0))),
            },
            LegendItem {
                class: "m0",
                label: format!("{} – {}", p(target), p(at(1.0))),
            },
        ]
    };
    let q = |k: f64| p(target * k / 4.0);
    let under = vec![
        LegendItem {
            class: "u3",
            label: format!("{} – {}", q(3.0), q(4.0)),
        },
        LegendItem {
            class: "u2",
            label: format!("{} – {}", q(2.0), q(3.0)),
        },
        LegendItem {
            class: "u1",
            label: format!("{} – {}", q(1.0), q(2.0)),
        },
        LegendItem {
            class: "u0",
            label: format!("< {}", q(1.0)),
        },
    ];
    Legend {
        met,
        under,
        none: l
            .t("Không có cơ sở trong diện", "No establishments in scope")
            .to_string(),
    }
}

/// A measure as the tables show it.
pub struct MeasureView {
    pub in_scope: String,
    pub inspected: String,
    pub share: String,
    pub needed: String,
    pub projection: String,
    pub bucket: &'static str,
}

pub fn measure_view(l: Lang, m: &Measure, target: f64) -> MeasureView {
    MeasureView {
        in_scope: num(l, m.in_scope),
        inspected: num(l, m.inspected),
        share: pct(l, m.share),
        needed: num(l, m.needed),
        projection: projection_text(l, &m.projection),
        bucket: bucket(m.share, target),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn buckets_break_at_the_target() {
        assert_eq!(bucket(None, 0.2), "none");
        assert_eq!(bucket(Some(0.0), 0.2), "u0");
        assert_eq!(bucket(Some(0.05), 0.2), "u1");
        assert_eq!(bucket(Some(0.149), 0.2), "u2");
        assert_eq!(bucket(Some(0.15), 0.2), "u3");
        assert_eq!(bucket(Some(0.2), 0.2), "m0");
        assert_eq!(bucket(Some(0.4), 0.2), "m1");
        assert_eq!(bucket(Some(0.59), 0.2), "m1");
        assert_eq!(bucket(Some(0.8), 0.2), "m3");
        assert_eq!(bucket(Some(1.0), 0.2), "m3");
        assert_eq!(bucket(Some(0.6), 1.0), "u2");
        assert_eq!(bucket(Some(1.0), 1.0), "m3");
        assert_eq!(bucket(Some(0.0), 0.0), "m0");
    }

    #[test]
    fn the_legend_names_the_share_ranges_around_the_target() {
        let lg = legend(Lang::Vi, 0.2);
        let labels = |v: &[LegendItem]| v.iter().map(|i| i.label.clone()).collect::<Vec<_>>();
        assert_eq!(
            labels(&lg.met),
            [
                "≥ 80,0 %",
                "60,0 % – 80,0 %",
                "40,0 % – 60,0 %",
                "20,0 % – 40,0 %"
            ]
        );
        assert_eq!(
            labels(&lg.under),
            [
                "15,0 % – 20,0 %",
                "10,0 % – 15,0 %",
                "5,0 % – 10,0 %",
                "< 5,0 %"
            ]
        );
        let full = legend(Lang::En, 1.0);
        assert_eq!(labels(&full.met), ["100.0%"]);
        assert_eq!(full.under[3].label, "< 25.0%");
    }

    #[test]
    fn shares_read_as_percentages() {
        assert_eq!(pct(Lang::Vi, Some(0.2345)), "23,4 %");
        assert_eq!(pct(Lang::En, Some(1.0)), "100.0%");
        assert_eq!(pct(Lang::Vi, None), "—");
    }
}
