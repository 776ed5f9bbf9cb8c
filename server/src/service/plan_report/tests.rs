//! The report's periods, indicators and sheets, on a report built by hand.

use super::indicators::meets;
use super::*;
use crate::service::export::Cell;

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
