//! Coverage maths: which visits count, which establishments are in scope, annual and cumulative
//! coverage of a [`Programme`], the pace projection, and the planner's score and grouping.
//!
//! Everything here is a pure function of its arguments. [`annual_coverage`] and
//! [`cumulative_coverage`] are the *reference* definitions: written for clarity, not speed, so that
//! the server's database queries can be checked against them.
//!
//! # Definitions
//!
//! - **Counted inspection**: a visit that was submitted and not rejected (review status
//!   `submitted`, `accepted` or `correction_requested`) whose outcome is an actual inspection — by
//!   default `no_violation` or `violations_found` ([`DEFAULT_COUNTED_OUTCOMES`]); `not_operating`
//!   and `refused` do not count unless the programme is configured otherwise. See [`is_counted`].
//! - **Operating**: an establishment operates from its `opened_on` day (inclusive) until its
//!   `closed_on` day (exclusive: `closed_on` is the first day it no longer trades). An unknown
//!   opening date means "operating since before any date we ask about"; no closing date means
//!   "still operating". See [`Lifetime`].
//! - **In scope**: the establishment's *current* type is one of the programme's types in scope. An
//!   establishment that changed type is judged by its current type for the whole history; coverage
//!   follows the establishment, never its administrative unit, so unit mergers change nothing here.
//! - **Annual coverage** for year *Y* at date *D* ([`annual_coverage`]): the window is 1 January of
//!   *Y* to the earlier of 31 December of *Y* and *D*, further clipped to the programme period.
//!   Establishments in scope that operated on at least one day of that window; of those, the ones
//!   with at least one counted inspection inside the window.
//! - **Cumulative coverage** at date *D* ([`cumulative_coverage`]): the window is the programme's
//!   start to the earlier of *D* and the programme's end. Establishments in scope operating on the
//!   last day of that window; of those, the ones with at least one counted inspection inside it.
//! - An establishment inspected several times counts once. Inspections before the window (before
//!   the year or before the programme began) or after it (after *D*) never count. The day of an
//!   inspection need not fall inside the establishment's recorded lifetime: the outcome already says
//!   whether it was trading.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::establishment::{EstablishmentType, RiskLevel};
use crate::geo::haversine_m;
use crate::programme::{Programme, ShareBp};
use crate::visit::{Outcome, ReviewStatus};

// ---------------------------------------------------------------------------------------------
// Counted inspections
// ---------------------------------------------------------------------------------------------

/// Outcomes that count as an actual inspection unless a programme says otherwise: the team got in
/// and checked (with or without finding violations).
pub const DEFAULT_COUNTED_OUTCOMES: &[Outcome] = &[Outcome::NoViolation, Outcome::ViolationsFound];

/// Whether a visit is a *counted inspection*: its review status is anything but `rejected`
/// (submitted, accepted, or sent back for correction) and its outcome is one of `counted`
/// (usually [`DEFAULT_COUNTED_OUTCOMES`]). A rejected visit never counts, whatever `counted` says.
pub fn is_counted(outcome: Outcome, review: ReviewStatus, counted: &[Outcome]) -> bool {
    review != ReviewStatus::Rejected && counted.contains(&outcome)
}

// ---------------------------------------------------------------------------------------------
// Lifetimes and windows
// ---------------------------------------------------------------------------------------------

/// When an establishment traded. It operates on every day `d` with `opened_on ≤ d < closed_on`:
/// the opening day is included, the closing day is not (it is the first day without trading; an
/// establishment with `closed_on = 2026-03-01` operated through 28 February). `None` means unknown
/// or open-ended: no `opened_on` is "open since before any date asked about", no `closed_on` is
/// "still open". An establishment with `closed_on ≤ opened_on` never operated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Lifetime {
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
}

impl Lifetime {
    /// Whether the establishment traded on `day` (`opened_on ≤ day < closed_on`).
    pub fn operating_on(&self, day: NaiveDate) -> bool {
        self.opened_on.is_none_or(|o| o <= day) && self.closed_on.is_none_or(|c| day < c)
    }

    /// Whether the establishment traded on at least one day of `from..=to` (both inclusive).
    /// False when `from > to`.
    pub fn operating_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        if from > to {
            return false;
        }
        if let (Some(o), Some(c)) = (self.opened_on, self.closed_on) {
            if c <= o {
                return false;
            }
        }
        self.opened_on.is_none_or(|o| o <= to) && self.closed_on.is_none_or(|c| c > from)
    }
}

/// Jan 1 of `year` .. min(Dec 31 of `year`, as_of); None when as_of is before Jan 1 of year.
///
/// Both ends inclusive. Not clipped to any programme period (see [`annual_window`]).
pub fn year_window(year: i32, as_of: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31)?;
    if as_of < first {
        return None;
    }
    Some((first, last.min(as_of)))
}

/// The window of [`annual_coverage`]: [`year_window`] intersected with the programme period.
/// None when they do not overlap (the year is outside the period, or `as_of` is before the year or
/// before the programme began).
pub fn annual_window(
    programme: &Programme,
    year: i32,
    as_of: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let (from, to) = year_window(year, as_of)?;
    let from = from.max(programme.period_start());
    let to = to.min(programme.period_end());
    (from <= to).then_some((from, to))
}

/// The window of [`cumulative_coverage`]: the programme start to the earlier of `as_of` and the
/// programme end. None when `as_of` is before the programme began.
pub fn cumulative_window(
    programme: &Programme,
    as_of: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let from = programme.period_start();
    let to = as_of.min(programme.period_end());
    (from <= to).then_some((from, to))
}

// ---------------------------------------------------------------------------------------------
// Tallies
// ---------------------------------------------------------------------------------------------

/// A coverage count: establishments in scope, and how many of them have at least one counted
/// inspection in the window. Tallies add up (per commune → per province, per type → all types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub in_scope: u64,
    pub inspected: u64,
}

impl Tally {
    /// `inspected / in_scope` as a fraction in `0.0..=1.0`; None when nothing is in scope.
    pub fn share(&self) -> Option<f64> {
        (self.in_scope > 0).then(|| self.inspected as f64 / self.in_scope as f64)
    }

    /// How many more establishments must be inspected to reach `target`, 0 when it is met. The
    /// required count is rounded up ([`ShareBp::required_of`]: 20 % of 11 is 3).
    pub fn needed(&self, target: ShareBp) -> u64 {
        target
            .required_of(self.in_scope)
            .saturating_sub(self.inspected)
    }

    /// Whether `target` is met. Always true when nothing is in scope.
    pub fn meets(&self, target: ShareBp) -> bool {
        self.needed(target) == 0
    }
}

impl std::ops::Add for Tally {
    type Output = Tally;
    fn add(self, rhs: Tally) -> Tally {
        Tally {
            in_scope: self.in_scope + rhs.in_scope,
            inspected: self.inspected + rhs.inspected,
        }
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(iter: I) -> Tally {
        iter.fold(Tally::default(), |a, b| a + b)
    }
}

// ---------------------------------------------------------------------------------------------
// Reference coverage
// ---------------------------------------------------------------------------------------------

/// One establishment as the reference computation sees it: its type, lifetime, and the days of its counted inspections.
///
/// `establishment_type` is the current type (it decides scope for the whole history);
/// `counted_days` holds only days of counted inspections ([`is_counted`]), in any order, repeats
/// allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstablishmentHistory<'a> {
    pub establishment_type: EstablishmentType,
    pub lifetime: Lifetime,
    pub counted_days: &'a [NaiveDate],
}

impl EstablishmentHistory<'_> {
    fn inspected_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.counted_days.iter().any(|d| (from..=to).contains(d))
    }
}

/// **Annual coverage** of `programme` for calendar year `year` as known on `as_of` — the reference
/// (brute-force) definition.
///
/// Window: 1 January of `year` to the earlier of 31 December of `year` and `as_of`, clipped to the
/// programme period ([`annual_window`]). `in_scope`: establishments whose type is in the
/// programme's scope and that operated on at least one day of the window (one that opened on
/// 1 July counts only once `as_of` reaches 1 July; one that closed on 1 March counts for the whole
/// year, having operated January–February). `inspected`: those of them with at least one counted
/// inspection inside the window, counted once however many. An empty window (as_of before the
/// year, or the year outside the programme) gives a zero tally.
pub fn annual_coverage(
    programme: &Programme,
    items: &[EstablishmentHistory<'_>],
    year: i32,
    as_of: NaiveDate,
) -> Tally {
    match annual_window(programme, year, as_of) {
        Some((from, to)) => tally_window(programme, items, from, to, |h| {
            h.lifetime.operating_between(from, to)
        }),
        None => Tally::default(),
    }
}

/// **Cumulative coverage** of `programme` as known on `as_of` — the reference (brute-force)
/// definition.
///
/// Window: the programme start to the earlier of `as_of` and the programme end
/// ([`cumulative_window`]). `in_scope`: establishments whose type is in the programme's scope and
/// that operate on the last day of the window (one that has closed is no longer in scope, even if
/// it was inspected). `inspected`: those of them with at least one counted inspection inside the
/// window, counted once however many; an inspection in any earlier year of the programme counts,
/// one before the programme began does not. `as_of` before the programme began gives a zero tally.
pub fn cumulative_coverage(
    programme: &Programme,
    items: &[EstablishmentHistory<'_>],
    as_of: NaiveDate,
) -> Tally {
    match cumulative_window(programme, as_of) {
        Some((from, to)) => {
            tally_window(programme, items, from, to, |h| h.lifetime.operating_on(to))
        }
        None => Tally::default(),
    }
}

fn tally_window(
    programme: &Programme,
    items: &[EstablishmentHistory<'_>],
    from: NaiveDate,
    to: NaiveDate,
    operating: impl Fn(&EstablishmentHistory<'_>) -> bool,
) -> Tally {
    items
        .iter()
        .filter(|h| programme.covers_type(h.establishment_type) && operating(h))
        .map(|h| Tally {
            in_scope: 1,
            inspected: u64::from(h.inspected_between(from, to)),
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Pace projection
// ---------------------------------------------------------------------------------------------

/// When a coverage target will be met at the current pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Projection {
    /// The target is already met.
    Met,
    /// At the current pace the target is met on `date` (on or before the deadline).
    OnPace { date: NaiveDate },
    /// At the current pace the target is met only after the deadline ("not this year").
    NotInTime,
    /// Nothing inspected yet and the target not met: no pace to project from.
    NoActivity,
}

/// At the average daily rate of inspections since `window_start` up to `as_of`, when `tally` reaches `target`; NotInTime when that date is after `deadline`; NoActivity when nothing inspected yet and target not met.
///
/// The rate is `tally.inspected / days`, where `days` counts `window_start..=as_of` inclusively
/// (at least 1). The projected date is `as_of + ⌈needed × days / inspected⌉` days, `needed` being
/// [`Tally::needed`]; the number in scope is assumed to stay as it is. Order of checks: met →
/// [`Projection::Met`]; nothing inspected → [`Projection::NoActivity`]; projected date after
/// `deadline` (or beyond the calendar) → [`Projection::NotInTime`]; else
/// [`Projection::OnPace`].
pub fn project(
    tally: Tally,
    target: ShareBp,
    window_start: NaiveDate,
    as_of: NaiveDate,
    deadline: NaiveDate,
) -> Projection {
    let needed = tally.needed(target);
    if needed == 0 {
        return Projection::Met;
    }
    if tally.inspected == 0 {
        return Projection::NoActivity;
    }
    let days = u128::try_from((as_of - window_start).num_days() + 1)
        .unwrap_or(0)
        .max(1);
    let more = (u128::from(needed) * days).div_ceil(u128::from(tally.inspected));
    let date = i64::try_from(more)
        .ok()
        .and_then(Duration::try_days)
        .and_then(|d| as_of.checked_add_signed(d));
    match date {
        Some(date) if date <= deadline => Projection::OnPace { date },
        _ => Projection::NotInTime,
    }
}

// ---------------------------------------------------------------------------------------------
// Planner
// ---------------------------------------------------------------------------------------------

/// Points for an establishment not yet inspected in the programme period. Larger than the most
/// all other parts together can give (365 + 200 + 150 + 100 = 815), so never-inspected always
/// comes first.
pub const NEVER_INSPECTED_POINTS: f64 = 1000.0;
/// Points per day since the last counted inspection…
pub const POINTS_PER_DAY_SINCE_LAST: f64 = 1.0;
/// …counted up to this many days (a year). An establishment never inspected at all gets the cap.
pub const DAYS_SINCE_LAST_CAP: i64 = 365;
/// Points per prior violation (visits with violations found)…
pub const POINTS_PER_PRIOR_VIOLATION: f64 = 40.0;
/// …counted up to this many violations (at most 200 points).
pub const PRIOR_VIOLATIONS_CAP: u32 = 5;
/// Points per open tip about the establishment…
pub const POINTS_PER_OPEN_TIP: f64 = 50.0;
/// …counted up to this many tips (at most 150 points).
pub const OPEN_TIPS_CAP: u32 = 3;
/// Points for a medium risk level.
pub const RISK_MEDIUM_POINTS: f64 = 50.0;
/// Points for a high risk level (low risk gives 0).
pub const RISK_HIGH_POINTS: f64 = 100.0;

/// What the planner knows about one establishment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanFactors {
    /// No counted inspection since the programme period began.
    pub never_inspected_in_period: bool,
    /// Days since the last counted inspection (ever); None when never inspected.
    pub days_since_last: Option<i64>,
    pub prior_violations: u32,
    pub open_tips: u32,
    pub risk: RiskLevel,
}

/// One named, weighted part of a [`PlanScore`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    /// Stable code: `never_inspected`, `days_since_last`, `prior_violations`, `open_tips`, `risk`.
    pub factor: String,
    /// Vietnamese label for the leader.
    pub label_vi: String,
    pub points: f64,
}

/// A planner score: `total` is the sum of `parts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanScore {
    pub total: f64,
    pub parts: Vec<ScorePart>,
}

/// Planner score with its parts (each part named, weighted, summed) — transparent to the leader.
///
/// Always five parts, in this order, each possibly 0 points:
///
/// | factor | points |
/// | --- | --- |
/// | `never_inspected` | [`NEVER_INSPECTED_POINTS`] (1000) when not inspected in the period |
/// | `days_since_last` | [`POINTS_PER_DAY_SINCE_LAST`] (1) × days, capped at [`DAYS_SINCE_LAST_CAP`] (365); never inspected = the cap; negative = 0 |
/// | `prior_violations` | [`POINTS_PER_PRIOR_VIOLATION`] (40) × violations, up to [`PRIOR_VIOLATIONS_CAP`] (5) |
/// | `open_tips` | [`POINTS_PER_OPEN_TIP`] (50) × tips, up to [`OPEN_TIPS_CAP`] (3) |
/// | `risk` | low 0, medium [`RISK_MEDIUM_POINTS`] (50), high [`RISK_HIGH_POINTS`] (100) |
///
/// Never-inspected dominates (1000 > 815, the most the rest can give), then time since last (up to
/// 365), violations (up to 200), tips (up to 150), risk (up to 100).
pub fn plan_score(f: &PlanFactors) -> PlanScore {
    let never = if f.never_inspected_in_period {
        NEVER_INSPECTED_POINTS
    } else {
        0.0
    };
    let days = f
        .days_since_last
        .map_or(DAYS_SINCE_LAST_CAP, |d| d.clamp(0, DAYS_SINCE_LAST_CAP));
    let risk = match f.risk {
        RiskLevel::Low => 0.0,
        RiskLevel::Medium => RISK_MEDIUM_POINTS,
        RiskLevel::High => RISK_HIGH_POINTS,
    };
    let part = |factor: &str, label_vi: &str, points: f64| ScorePart {
        factor: factor.to_owned(),
        label_vi: label_vi.to_owned(),
        points,
    };
    let parts = vec![
        part("never_inspected", "Chưa kiểm tra trong kỳ", never),
        part(
            "days_since_last",
            "Thời gian từ lần kiểm tra gần nhất",
            days as f64 * POINTS_PER_DAY_SINCE_LAST,
        ),
        part(
            "prior_violations",
            "Vi phạm trước đây",
            f64::from(f.prior_violations.min(PRIOR_VIOLATIONS_CAP)) * POINTS_PER_PRIOR_VIOLATION,
        ),
        part(
            "open_tips",
            "Tin báo, tố giác chưa xử lý",
            f64::from(f.open_tips.min(OPEN_TIPS_CAP)) * POINTS_PER_OPEN_TIP,
        ),
        part("risk", "Mức độ rủi ro", risk),
    ];
    PlanScore {
        total: parts.iter().map(|p| p.points).sum(),
        parts,
    }
}

/// Greedy grouping of points within `radius_m` of a group's first member (deterministic: input order), for one outing.
///
/// Walks `points` in order; each point not yet grouped starts a new group and pulls in the later
/// ungrouped points whose great-circle distance to it ([`haversine_m`]) is at most `radius_m`,
/// in input order, until the group has `max_group` members (`0` is treated as 1). Distance is to
/// the group's first member, never chained. Groups come out in the order of their first members.
/// Points with non-finite coordinates end up alone.
pub fn group_nearby<T: Copy>(
    points: &[(T, f64, f64)],
    radius_m: f64,
    max_group: usize,
) -> Vec<Vec<T>> {
    let max_group = max_group.max(1);
    let mut taken = vec![false; points.len()];
    let mut groups = Vec::new();
    for (i, &(id, lat, lon)) in points.iter().enumerate() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let mut group = vec![id];
        for (j, &(other, lat2, lon2)) in points.iter().enumerate().skip(i + 1) {
            if group.len() >= max_group {
                break;
            }
            let finite = [lat, lon, lat2, lon2].iter().all(|c| c.is_finite());
            if !taken[j] && finite && haversine_m(lat, lon, lat2, lon2) <= radius_m {
                taken[j] = true;
                group.push(other);
            }
        }
        groups.push(group);
    }
    groups
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::programme::ProgrammeInput;
    use chrono::Datelike;
    use EstablishmentType::{Bar, Hotel, Karaoke};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn bp(n: u32) -> ShareBp {
        ShareBp::new(n).unwrap()
    }

    /// 2021–2025, 20 % a year, 100 % by the end, karaoke and hotels.
    fn programme() -> Programme {
        programme_between("2021-01-01", "2025-12-31")
    }

    fn programme_between(start: &str, end: &str) -> Programme {
        Programme::parse(ProgrammeInput {
            name: "Kế hoạch 2021–2025".into(),
            period_start: d(start),
            period_end: d(end),
            annual_min_share_bp: 2000,
            end_share_bp: 10_000,
            types_in_scope: vec![Karaoke, Hotel],
        })
        .unwrap()
    }

    fn life(opened: Option<&str>, closed: Option<&str>) -> Lifetime {
        Lifetime {
            opened_on: opened.map(d),
            closed_on: closed.map(d),
        }
    }

    fn hist(
        t: EstablishmentType,
        lifetime: Lifetime,
        days: &[NaiveDate],
    ) -> EstablishmentHistory<'_> {
        EstablishmentHistory {
            establishment_type: t,
            lifetime,
            counted_days: days,
        }
    }

    fn tally(in_scope: u64, inspected: u64) -> Tally {
        Tally {
            in_scope,
            inspected,
        }
    }

    /// Annual 2024 tally of a single establishment.
    fn one_annual(t: EstablishmentType, l: Lifetime, days: &[&str], as_of: &str) -> Tally {
        let days: Vec<NaiveDate> = days.iter().map(|s| d(s)).collect();
        annual_coverage(&programme(), &[hist(t, l, &days)], 2024, d(as_of))
    }

    fn one_cumulative(t: EstablishmentType, l: Lifetime, days: &[&str], as_of: &str) -> Tally {
        let days: Vec<NaiveDate> = days.iter().map(|s| d(s)).collect();
        cumulative_coverage(&programme(), &[hist(t, l, &days)], d(as_of))
    }

    const OPEN: Lifetime = Lifetime {
        opened_on: None,
        closed_on: None,
    };

    // ----- counted inspections -----

    #[test]
    fn counted_by_default_only_actual_inspections_not_rejected() {
        for &review in ReviewStatus::ALL {
            for &outcome in Outcome::ALL {
                let expected = review != ReviewStatus::Rejected
                    && matches!(outcome, Outcome::NoViolation | Outcome::ViolationsFound);
                assert_eq!(
                    is_counted(outcome, review, DEFAULT_COUNTED_OUTCOMES),
                    expected,
                    "{outcome:?} {review:?}"
                );
            }
        }
        assert!(is_counted(
            Outcome::ViolationsFound,
            ReviewStatus::Submitted,
            DEFAULT_COUNTED_OUTCOMES
        ));
        assert!(is_counted(
            Outcome::NoViolation,
            ReviewStatus::CorrectionRequested,
            DEFAULT_COUNTED_OUTCOMES
        ));
        assert!(!is_counted(
            Outcome::NotOperating,
            ReviewStatus::Accepted,
            DEFAULT_COUNTED_OUTCOMES
        ));
        assert!(!is_counted(
            Outcome::Refused,
            ReviewStatus::Accepted,
            DEFAULT_COUNTED_OUTCOMES
        ));
    }

    #[test]
    fn counted_outcomes_are_configurable_but_rejected_never_counts() {
        let all = Outcome::ALL;
        assert!(is_counted(Outcome::Refused, ReviewStatus::Accepted, all));
        assert!(is_counted(
            Outcome::NotOperating,
            ReviewStatus::Submitted,
            all
        ));
        for &o in all {
            assert!(!is_counted(o, ReviewStatus::Rejected, all));
        }
        let only_violations = &[Outcome::ViolationsFound];
        assert!(!is_counted(
            Outcome::NoViolation,
            ReviewStatus::Accepted,
            only_violations
        ));
        for &o in all {
            assert!(!is_counted(o, ReviewStatus::Accepted, &[]));
        }
    }

    // ----- lifetimes -----

    #[test]
    fn operating_on_includes_opening_day_and_excludes_closing_day() {
        let l = life(Some("2024-07-01"), Some("2024-09-01"));
        assert!(!l.operating_on(d("2024-06-30")));
        assert!(l.operating_on(d("2024-07-01")));
        assert!(l.operating_on(d("2024-08-31")));
        assert!(!l.operating_on(d("2024-09-01")));
        assert!(!l.operating_on(d("2025-01-01")));
    }

    #[test]
    fn unknown_dates_are_open_ended() {
        assert!(OPEN.operating_on(d("1990-01-01")));
        assert!(OPEN.operating_on(d("2099-12-31")));
        assert_eq!(Lifetime::default(), OPEN);
        let only_closed = life(None, Some("2024-03-01"));
        assert!(only_closed.operating_on(d("2000-01-01")));
        assert!(only_closed.operating_on(d("2024-02-29")));
        assert!(!only_closed.operating_on(d("2024-03-01")));
        let only_opened = life(Some("2024-03-01"), None);
        assert!(!only_opened.operating_on(d("2024-02-29")));
        assert!(only_opened.operating_on(d("2099-01-01")));
        assert!(OPEN.operating_between(d("2024-01-01"), d("2024-01-01")));
    }

    #[test]
    fn operating_between_is_inclusive_any_overlap() {
        let l = life(Some("2024-07-01"), Some("2024-09-01"));
        let between = |a: &str, b: &str| l.operating_between(d(a), d(b));
        assert!(between("2024-01-01", "2024-12-31"));
        assert!(between("2024-01-01", "2024-07-01"), "ends on opening day");
        assert!(!between("2024-01-01", "2024-06-30"), "ends the day before");
        assert!(
            between("2024-08-31", "2024-12-31"),
            "starts on the last day"
        );
        assert!(
            !between("2024-09-01", "2024-12-31"),
            "starts on closing day"
        );
        assert!(between("2024-07-15", "2024-07-15"));
        assert!(
            between("2024-07-10", "2024-07-20"),
            "window inside lifetime"
        );
        assert!(!between("2024-12-31", "2024-01-01"), "empty window");
    }

    #[test]
    fn closed_on_or_before_opening_never_operated() {
        let same_day = life(Some("2024-05-01"), Some("2024-05-01"));
        assert!(!same_day.operating_on(d("2024-05-01")));
        assert!(!same_day.operating_between(d("2024-01-01"), d("2024-12-31")));
        assert!(!same_day.operating_between(d("2024-04-30"), d("2024-05-02")));
        let inverted = life(Some("2024-06-01"), Some("2024-05-01"));
        assert!(!inverted.operating_between(d("2024-01-01"), d("2024-12-31")));
        let one_day = life(Some("2024-05-01"), Some("2024-05-02"));
        assert!(one_day.operating_on(d("2024-05-01")));
        assert!(one_day.operating_between(d("2024-05-01"), d("2024-05-01")));
        assert!(!one_day.operating_between(d("2024-05-02"), d("2024-12-31")));
    }

    #[test]
    fn lifetime_serde() {
        let l = life(Some("2024-07-01"), None);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(json, r#"{"opened_on":"2024-07-01","closed_on":null}"#);
        assert_eq!(serde_json::from_str::<Lifetime>(&json).unwrap(), l);
    }

    // ----- windows -----

    #[test]
    fn year_window_edges() {
        assert_eq!(year_window(2024, d("2023-12-31")), None);
        assert_eq!(
            year_window(2024, d("2024-01-01")),
            Some((d("2024-01-01"), d("2024-01-01")))
        );
        assert_eq!(
            year_window(2024, d("2024-06-15")),
            Some((d("2024-01-01"), d("2024-06-15")))
        );
        assert_eq!(
            year_window(2024, d("2024-12-31")),
            Some((d("2024-01-01"), d("2024-12-31")))
        );
        assert_eq!(
            year_window(2024, d("2030-05-05")),
            Some((d("2024-01-01"), d("2024-12-31")))
        );
        assert_eq!(year_window(i32::MAX, d("2024-01-01")), None);
    }

    #[test]
    fn annual_window_is_clipped_to_the_period() {
        let p = programme_between("2024-07-01", "2026-06-30");
        assert_eq!(annual_window(&p, 2023, d("2030-01-01")), None);
        assert_eq!(annual_window(&p, 2024, d("2024-06-30")), None);
        assert_eq!(
            annual_window(&p, 2024, d("2024-07-01")),
            Some((d("2024-07-01"), d("2024-07-01")))
        );
        assert_eq!(
            annual_window(&p, 2024, d("2025-03-01")),
            Some((d("2024-07-01"), d("2024-12-31")))
        );
        assert_eq!(
            annual_window(&p, 2025, d("2025-03-01")),
            Some((d("2025-01-01"), d("2025-03-01")))
        );
        assert_eq!(
            annual_window(&p, 2026, d("2027-01-01")),
            Some((d("2026-01-01"), d("2026-06-30")))
        );
        assert_eq!(annual_window(&p, 2027, d("2027-06-01")), None);
    }

    #[test]
    fn cumulative_window_edges() {
        let p = programme();
        assert_eq!(cumulative_window(&p, d("2020-12-31")), None);
        assert_eq!(
            cumulative_window(&p, d("2021-01-01")),
            Some((d("2021-01-01"), d("2021-01-01")))
        );
        assert_eq!(
            cumulative_window(&p, d("2024-05-05")),
            Some((d("2021-01-01"), d("2024-05-05")))
        );
        assert_eq!(
            cumulative_window(&p, d("2027-01-01")),
            Some((d("2021-01-01"), d("2025-12-31")))
        );
    }

    // ----- annual coverage -----

    #[test]
    fn annual_counts_in_scope_and_inspected() {
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-03-05"], "2024-12-31"),
            tally(1, 1)
        );
        assert_eq!(one_annual(Hotel, OPEN, &[], "2024-12-31"), tally(1, 0));
    }

    #[test]
    fn annual_year_boundaries() {
        // Dec 31 of the previous year does not count, Jan 1 does.
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2023-12-31"], "2024-12-31"),
            tally(1, 0)
        );
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-01-01"], "2024-12-31"),
            tally(1, 1)
        );
        // Dec 31 of the year counts, Jan 1 of the next does not, even with as_of later.
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-12-31"], "2025-06-01"),
            tally(1, 1)
        );
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2025-01-01"], "2025-06-01"),
            tally(1, 0)
        );
        // as_of on Jan 1 with an inspection that day.
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-01-01"], "2024-01-01"),
            tally(1, 1)
        );
    }

    #[test]
    fn annual_as_of_before_the_year_is_empty() {
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-01-01"], "2023-12-31"),
            Tally::default()
        );
    }

    #[test]
    fn annual_inspections_after_as_of_do_not_count() {
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-06-02"], "2024-06-01"),
            tally(1, 0)
        );
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-06-01"], "2024-06-01"),
            tally(1, 1)
        );
    }

    #[test]
    fn annual_opened_mid_year_is_in_scope_from_its_opening_day() {
        let l = life(Some("2024-07-01"), None);
        assert_eq!(one_annual(Karaoke, l, &[], "2024-06-30"), tally(0, 0));
        assert_eq!(one_annual(Karaoke, l, &[], "2024-07-01"), tally(1, 0));
        assert_eq!(
            one_annual(Karaoke, l, &["2024-08-01"], "2024-12-31"),
            tally(1, 1)
        );
        // Opened next year: never in this year's scope.
        let next = life(Some("2025-01-01"), None);
        assert_eq!(one_annual(Karaoke, next, &[], "2025-06-01"), tally(0, 0));
    }

    #[test]
    fn annual_closed_mid_year_stays_in_that_years_scope() {
        let l = life(None, Some("2024-03-01"));
        assert_eq!(one_annual(Karaoke, l, &[], "2024-12-31"), tally(1, 0));
        assert_eq!(
            one_annual(Karaoke, l, &["2024-02-10"], "2024-12-31"),
            tally(1, 1)
        );
        assert_eq!(
            one_annual(Karaoke, l, &["2024-02-10"], "2025-06-01"),
            tally(1, 1)
        );
        // Opened and closed within the year.
        let short = life(Some("2024-04-01"), Some("2024-05-01"));
        assert_eq!(
            one_annual(Hotel, short, &["2024-04-15"], "2024-12-31"),
            tally(1, 1)
        );
        assert_eq!(one_annual(Hotel, short, &[], "2024-03-31"), tally(0, 0));
    }

    #[test]
    fn annual_closed_before_the_year_is_out_of_scope() {
        let l = life(None, Some("2023-11-01"));
        assert_eq!(
            one_annual(Karaoke, l, &["2023-10-01"], "2024-12-31"),
            tally(0, 0)
        );
        // Closing on Jan 1: no day of trading in the year.
        let jan1 = life(None, Some("2024-01-01"));
        assert_eq!(one_annual(Karaoke, jan1, &[], "2024-12-31"), tally(0, 0));
        // Closing on Jan 2: traded on Jan 1.
        let jan2 = life(None, Some("2024-01-02"));
        assert_eq!(one_annual(Karaoke, jan2, &[], "2024-12-31"), tally(1, 0));
    }

    #[test]
    fn annual_inspected_only_last_year_is_in_scope_not_inspected() {
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2023-03-01", "2023-11-20"], "2024-12-31"),
            tally(1, 0)
        );
    }

    #[test]
    fn annual_inspected_twice_counts_once() {
        assert_eq!(
            one_annual(
                Karaoke,
                OPEN,
                &["2024-03-01", "2024-03-01", "2024-09-09"],
                "2024-12-31"
            ),
            tally(1, 1)
        );
    }

    #[test]
    fn annual_type_out_of_scope_never_counts() {
        assert_eq!(
            one_annual(Bar, OPEN, &["2024-03-01"], "2024-12-31"),
            tally(0, 0)
        );
    }

    #[test]
    fn annual_zero_in_scope() {
        let t = annual_coverage(&programme(), &[], 2024, d("2024-12-31"));
        assert_eq!(t, Tally::default());
        assert_eq!(t.share(), None);
        assert!(t.meets(bp(2000)));
    }

    #[test]
    fn annual_outside_the_programme_period() {
        assert_eq!(
            one_annual(Karaoke, OPEN, &["2024-03-01"], "2024-12-31"),
            tally(1, 1)
        );
        let days = [d("2026-03-01")];
        let items = [hist(Karaoke, OPEN, &days)];
        assert_eq!(
            annual_coverage(&programme(), &items, 2026, d("2026-12-31")),
            tally(0, 0)
        );
        let days = [d("2020-03-01")];
        let items = [hist(Karaoke, OPEN, &days)];
        assert_eq!(
            annual_coverage(&programme(), &items, 2020, d("2020-12-31")),
            tally(0, 0)
        );
    }

    #[test]
    fn annual_programme_starting_mid_year_ignores_earlier_days() {
        let p = programme_between("2024-07-01", "2026-06-30");
        let before = [d("2024-06-30")];
        let after = [d("2024-07-01")];
        let closed_june = life(None, Some("2024-07-01"));
        let items = [
            hist(Karaoke, OPEN, &before),
            hist(Karaoke, OPEN, &after),
            hist(Karaoke, closed_june, &before),
        ];
        assert_eq!(
            annual_coverage(&p, &items, 2024, d("2024-12-31")),
            tally(2, 1)
        );
        assert_eq!(
            annual_coverage(&p, &items, 2024, d("2024-06-30")),
            tally(0, 0)
        );
    }

    #[test]
    fn annual_mixed_population() {
        let p = programme();
        let insp = [d("2024-02-01")];
        let last_year = [d("2023-05-01")];
        let twice = [d("2024-02-01"), d("2024-10-01")];
        let late = [d("2024-11-01")];
        let items = [
            hist(Karaoke, OPEN, &insp),                                // in, inspected
            hist(Hotel, OPEN, &[]),                                    // in
            hist(Hotel, OPEN, &last_year),                             // in
            hist(Karaoke, OPEN, &twice),                               // in, inspected once
            hist(Bar, OPEN, &insp),                                    // out: type
            hist(Karaoke, life(None, Some("2023-12-31")), &last_year), // out: closed
            hist(Karaoke, life(Some("2024-07-01"), None), &late),      // in after July
            hist(Hotel, life(None, Some("2024-03-01")), &insp),        // in, inspected
        ];
        assert_eq!(
            annual_coverage(&p, &items, 2024, d("2024-06-30")),
            tally(5, 3)
        );
        assert_eq!(
            annual_coverage(&p, &items, 2024, d("2024-09-30")),
            tally(6, 3)
        );
        assert_eq!(
            annual_coverage(&p, &items, 2024, d("2024-12-31")),
            tally(6, 4)
        );
        assert_eq!(
            annual_coverage(&p, &items, 2023, d("2024-12-31")),
            tally(6, 2)
        );
    }

    // ----- cumulative coverage -----

    #[test]
    fn cumulative_counts_any_inspection_since_the_period_began() {
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2021-01-01"], "2024-06-01"),
            tally(1, 1)
        );
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2022-05-05"], "2024-06-01"),
            tally(1, 1)
        );
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2020-12-31"], "2024-06-01"),
            tally(1, 0)
        );
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &[], "2024-06-01"),
            tally(1, 0)
        );
    }

    #[test]
    fn cumulative_inspections_after_as_of_do_not_count() {
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2024-06-02"], "2024-06-01"),
            tally(1, 0)
        );
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2024-06-01"], "2024-06-01"),
            tally(1, 1)
        );
    }

    #[test]
    fn cumulative_only_establishments_operating_at_as_of() {
        let closed = life(None, Some("2024-03-01"));
        assert_eq!(
            one_cumulative(Karaoke, closed, &["2023-01-01"], "2024-02-29"),
            tally(1, 1)
        );
        assert_eq!(
            one_cumulative(Karaoke, closed, &["2023-01-01"], "2024-03-01"),
            tally(0, 0)
        );
        assert_eq!(
            one_cumulative(Karaoke, closed, &["2023-01-01"], "2024-12-31"),
            tally(0, 0)
        );
        let opens = life(Some("2024-07-01"), None);
        assert_eq!(
            one_cumulative(Karaoke, opens, &[], "2024-06-30"),
            tally(0, 0)
        );
        assert_eq!(
            one_cumulative(Karaoke, opens, &[], "2024-07-01"),
            tally(1, 0)
        );
    }

    #[test]
    fn cumulative_type_out_of_scope_and_twice_inspected() {
        assert_eq!(
            one_cumulative(Bar, OPEN, &["2022-01-01"], "2024-06-01"),
            tally(0, 0)
        );
        assert_eq!(
            one_cumulative(
                Hotel,
                OPEN,
                &["2022-01-01", "2023-01-01", "2023-01-01"],
                "2024-06-01"
            ),
            tally(1, 1)
        );
    }

    #[test]
    fn cumulative_before_and_after_the_period() {
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2020-06-01"], "2020-12-31"),
            Tally::default()
        );
        // After the end: frozen at the period end.
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2026-01-05"], "2026-06-01"),
            tally(1, 0)
        );
        assert_eq!(
            one_cumulative(Karaoke, OPEN, &["2025-12-31"], "2026-06-01"),
            tally(1, 1)
        );
        let closed_2026 = life(None, Some("2026-02-01"));
        assert_eq!(
            one_cumulative(Karaoke, closed_2026, &[], "2026-06-01"),
            tally(1, 0)
        );
        assert!(cumulative_coverage(&programme(), &[], d("2024-01-01"))
            .share()
            .is_none());
    }

    // ----- tallies -----

    #[test]
    fn tally_share_needed_meets() {
        let t = tally(11, 0);
        assert_eq!(t.needed(bp(2000)), 3, "20 % of 11 rounds up to 3");
        assert!(!t.meets(bp(2000)));
        assert_eq!(tally(11, 2).needed(bp(2000)), 1);
        assert!(!tally(11, 2).meets(bp(2000)));
        assert_eq!(tally(11, 3).needed(bp(2000)), 0);
        assert!(tally(11, 3).meets(bp(2000)));
        assert_eq!(tally(11, 9).needed(bp(2000)), 0);
        assert_eq!(tally(10, 0).needed(bp(2000)), 2);
        assert_eq!(tally(7, 6).needed(ShareBp::FULL), 1);
        assert!(tally(7, 7).meets(ShareBp::FULL));
        assert!(tally(0, 0).meets(ShareBp::FULL));
        assert!(tally(5, 0).meets(bp(0)));
        assert_eq!(tally(0, 0).share(), None);
        assert_eq!(tally(4, 1).share(), Some(0.25));
        assert_eq!(tally(4, 4).share(), Some(1.0));
        assert_eq!(tally(3, 0).share(), Some(0.0));
    }

    #[test]
    fn tally_add_and_sum() {
        assert_eq!(tally(3, 1) + tally(4, 2), tally(7, 3));
        let total: Tally = [tally(1, 0), tally(2, 2), tally(3, 1)].into_iter().sum();
        assert_eq!(total, tally(6, 3));
        let none: Tally = std::iter::empty().sum();
        assert_eq!(none, Tally::default());
        assert_eq!(
            serde_json::to_string(&tally(6, 3)).unwrap(),
            r#"{"in_scope":6,"inspected":3}"#
        );
    }

    #[test]
    fn tallies_by_part_add_up_to_the_whole() {
        let p = programme();
        let a = [d("2024-02-01")];
        let items = [
            hist(Karaoke, OPEN, &a),
            hist(Hotel, OPEN, &[]),
            hist(Hotel, OPEN, &a),
        ];
        let whole = annual_coverage(&p, &items, 2024, d("2024-12-31"));
        let parts: Tally = items
            .chunks(1)
            .map(|c| annual_coverage(&p, c, 2024, d("2024-12-31")))
            .sum();
        assert_eq!(whole, parts);
        assert_eq!(whole, tally(3, 2));
    }

    // ----- projection -----

    #[test]
    fn projection_met() {
        let t = tally(100, 20);
        assert_eq!(
            project(
                t,
                bp(2000),
                d("2024-01-01"),
                d("2024-01-10"),
                d("2024-12-31")
            ),
            Projection::Met
        );
        assert_eq!(
            project(
                tally(0, 0),
                bp(2000),
                d("2024-01-01"),
                d("2024-01-10"),
                d("2024-12-31")
            ),
            Projection::Met
        );
        // Met wins even past the deadline.
        assert_eq!(
            project(
                t,
                bp(2000),
                d("2024-01-01"),
                d("2025-03-01"),
                d("2024-12-31")
            ),
            Projection::Met
        );
    }

    #[test]
    fn projection_no_activity() {
        assert_eq!(
            project(
                tally(100, 0),
                bp(2000),
                d("2024-01-01"),
                d("2024-06-01"),
                d("2024-12-31")
            ),
            Projection::NoActivity
        );
    }

    #[test]
    fn projection_on_pace_date() {
        // 10 days (Jan 1..=Jan 10), 5 inspected: 0.5 a day. 20 % of 100 = 20, 15 more: 30 days.
        assert_eq!(
            project(
                tally(100, 5),
                bp(2000),
                d("2024-01-01"),
                d("2024-01-10"),
                d("2024-12-31")
            ),
            Projection::OnPace {
                date: d("2024-02-09")
            }
        );
        // Rounded up: 3 days, 2 inspected, 1 more needed → 1.5 days → 2.
        assert_eq!(
            project(
                tally(10, 1),
                bp(2000),
                d("2024-01-01"),
                d("2024-01-03"),
                d("2024-12-31")
            ),
            Projection::OnPace {
                date: d("2024-01-06")
            }
        );
        assert_eq!(
            project(
                tally(10, 2),
                bp(3000),
                d("2024-01-01"),
                d("2024-01-03"),
                d("2024-12-31")
            ),
            Projection::OnPace {
                date: d("2024-01-05")
            }
        );
        // Same day as the window start: one day elapsed.
        assert_eq!(
            project(
                tally(10, 1),
                bp(2000),
                d("2024-05-01"),
                d("2024-05-01"),
                d("2024-12-31")
            ),
            Projection::OnPace {
                date: d("2024-05-02")
            }
        );
        // Date exactly on the deadline is in time.
        assert_eq!(
            project(
                tally(100, 5),
                bp(2000),
                d("2024-01-01"),
                d("2024-01-10"),
                d("2024-02-09")
            ),
            Projection::OnPace {
                date: d("2024-02-09")
            }
        );
    }

    #[test]
    fn projection_not_in_time() {
        assert_eq!(
            project(
                tally(100, 5),
                bp(2000),
                d("2024-01-01"),
                d("2024-01-10"),
                d("2024-02-08")
            ),
            Projection::NotInTime
        );
        // Slow pace: 1 inspection in 300 days, 19 more needed.
        assert_eq!(
            project(
                tally(100, 1),
                bp(2000),
                d("2024-01-01"),
                d("2024-10-26"),
                d("2024-12-31")
            ),
            Projection::NotInTime
        );
        // Already past the deadline and not met.
        assert_eq!(
            project(
                tally(100, 5),
                bp(2000),
                d("2024-01-01"),
                d("2025-01-05"),
                d("2024-12-31")
            ),
            Projection::NotInTime
        );
        // Beyond the calendar: not in time rather than a panic.
        assert_eq!(
            project(
                tally(u64::MAX / 20_000, 1),
                ShareBp::FULL,
                d("1000-01-01"),
                d("2024-01-01"),
                d("2024-12-31")
            ),
            Projection::NotInTime
        );
    }

    #[test]
    fn projection_with_as_of_before_window_start_uses_one_day() {
        assert_eq!(
            project(
                tally(10, 1),
                bp(2000),
                d("2024-05-10"),
                d("2024-05-01"),
                d("2024-12-31")
            ),
            Projection::OnPace {
                date: d("2024-05-02")
            }
        );
    }

    #[test]
    fn projection_serde() {
        let json = |p: Projection| serde_json::to_string(&p).unwrap();
        assert_eq!(json(Projection::Met), r#"{"status":"met"}"#);
        assert_eq!(
            json(Projection::OnPace {
                date: d("2024-02-09")
            }),
            r#"{"status":"on_pace","date":"2024-02-09"}"#
        );
        assert_eq!(json(Projection::NotInTime), r#"{"status":"not_in_time"}"#);
        assert_eq!(json(Projection::NoActivity), r#"{"status":"no_activity"}"#);
        let back: Projection =
            serde_json::from_str(r#"{"status":"on_pace","date":"2024-02-09"}"#).unwrap();
        assert_eq!(
            back,
            Projection::OnPace {
                date: d("2024-02-09")
            }
        );
    }

    // ----- planner score -----

    fn factors(
        never: bool,
        days: Option<i64>,
        viol: u32,
        tips: u32,
        risk: RiskLevel,
    ) -> PlanFactors {
        PlanFactors {
            never_inspected_in_period: never,
            days_since_last: days,
            prior_violations: viol,
            open_tips: tips,
            risk,
        }
    }

    fn total(f: PlanFactors) -> f64 {
        plan_score(&f).total
    }

    #[test]
    fn score_parts_are_named_in_order_and_sum_to_the_total() {
        let s = plan_score(&factors(true, Some(100), 2, 1, RiskLevel::High));
        let names: Vec<&str> = s.parts.iter().map(|p| p.factor.as_str()).collect();
        assert_eq!(
            names,
            [
                "never_inspected",
                "days_since_last",
                "prior_violations",
                "open_tips",
                "risk"
            ]
        );
        let points: Vec<f64> = s.parts.iter().map(|p| p.points).collect();
        assert_eq!(points, [1000.0, 100.0, 80.0, 50.0, 100.0]);
        assert_eq!(s.total, 1330.0);
        assert!(s.parts.iter().all(|p| !p.label_vi.is_empty()));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["parts"][0]["factor"], "never_inspected");
        assert_eq!(json["total"], 1330.0);
    }

    #[test]
    fn score_caps_and_clamps() {
        let low = |days| factors(false, days, 0, 0, RiskLevel::Low);
        assert_eq!(total(low(Some(0))), 0.0);
        assert_eq!(total(low(Some(-5))), 0.0, "future date clamps to 0");
        assert_eq!(total(low(Some(365))), 365.0);
        assert_eq!(total(low(Some(5000))), 365.0);
        assert_eq!(
            total(low(None)),
            365.0,
            "never inspected at all gets the cap"
        );
        assert_eq!(total(factors(false, Some(0), 99, 0, RiskLevel::Low)), 200.0);
        assert_eq!(total(factors(false, Some(0), 0, 99, RiskLevel::Low)), 150.0);
        assert_eq!(
            total(factors(false, Some(0), 0, 0, RiskLevel::Medium)),
            50.0
        );
        assert_eq!(total(factors(false, Some(0), 0, 0, RiskLevel::High)), 100.0);
    }

    #[test]
    fn score_never_inspected_dominates() {
        let best_inspected = factors(false, Some(10_000), u32::MAX, u32::MAX, RiskLevel::High);
        let worst_never = factors(true, Some(0), 0, 0, RiskLevel::Low);
        assert_eq!(total(best_inspected), 815.0);
        assert!(total(worst_never) > total(best_inspected));
        assert!(NEVER_INSPECTED_POINTS > total(best_inspected));
    }

    #[test]
    fn score_orders_never_then_long_ago_then_recent() {
        let never = factors(true, None, 0, 0, RiskLevel::Low);
        let long_ago = factors(false, Some(300), 0, 0, RiskLevel::Low);
        let recent = factors(false, Some(20), 0, 0, RiskLevel::Low);
        assert!(total(never) > total(long_ago));
        assert!(total(long_ago) > total(recent));
        // Then violations, tips, risk at their maxima, in that order of weight.
        let max = |v, t, r| total(factors(false, Some(0), v, t, r));
        let viol = max(u32::MAX, 0, RiskLevel::Low);
        let tips = max(0, u32::MAX, RiskLevel::Low);
        let risk = max(0, 0, RiskLevel::High);
        assert!(total(factors(false, Some(1000), 0, 0, RiskLevel::Low)) > viol);
        assert!(viol > tips);
        assert!(tips > risk);
        // Each factor raises the score.
        let base = factors(false, Some(30), 0, 0, RiskLevel::Low);
        assert!(
            total(PlanFactors {
                prior_violations: 1,
                ..base
            }) > total(base)
        );
        assert!(
            total(PlanFactors {
                open_tips: 1,
                ..base
            }) > total(base)
        );
        assert!(
            total(PlanFactors {
                risk: RiskLevel::Medium,
                ..base
            }) > total(base)
        );
        // Sorting by total puts them in the expected order.
        let mut list = [recent, never, long_ago];
        list.sort_by(|a, b| total(*b).total_cmp(&total(*a)));
        assert_eq!(list, [never, long_ago, recent]);
    }

    // ----- grouping -----

    /// A point `north_m` metres north of a reference point in Huế.
    fn north(id: u32, north_m: f64) -> (u32, f64, f64) {
        const LAT: f64 = 16.4637;
        const LON: f64 = 107.5909;
        (id, LAT + north_m / 111_195.0, LON)
    }

    #[test]
    fn grouping_by_radius_from_the_first_member() {
        let pts = [
            north(1, 0.0),
            north(2, 400.0),
            north(3, 900.0),
            north(4, 5000.0),
        ];
        assert_eq!(
            group_nearby(&pts, 500.0, 10),
            vec![vec![1, 2], vec![3], vec![4]]
        );
        assert_eq!(group_nearby(&pts, 1000.0, 10), vec![vec![1, 2, 3], vec![4]]);
        assert_eq!(
            group_nearby(&pts, 10.0, 10),
            vec![vec![1], vec![2], vec![3], vec![4]]
        );
        // Not chained: 2 is within 500 m of 1 and 3 of 2, but 3 is 900 m from 1.
        let groups = group_nearby(&pts, 500.0, 10);
        assert!(!groups[0].contains(&3));
    }

    #[test]
    fn grouping_radius_is_inclusive() {
        let a = north(1, 0.0);
        let b = north(2, 300.0);
        let dist = haversine_m(a.1, a.2, b.1, b.2);
        assert_eq!(group_nearby(&[a, b], dist, 5), vec![vec![1, 2]]);
        assert_eq!(
            group_nearby(&[a, b], dist - 0.01, 5),
            vec![vec![1], vec![2]]
        );
    }

    #[test]
    fn grouping_respects_max_group() {
        let pts: Vec<_> = (0..7).map(|i| north(i, f64::from(i) * 10.0)).collect();
        assert_eq!(
            group_nearby(&pts, 1000.0, 3),
            vec![vec![0, 1, 2], vec![3, 4, 5], vec![6]]
        );
        assert_eq!(group_nearby(&pts, 1000.0, 1).len(), 7);
        assert_eq!(group_nearby(&pts, 1000.0, 0).len(), 7, "0 is treated as 1");
        assert_eq!(
            group_nearby(&pts, 1000.0, 100),
            vec![(0..7).collect::<Vec<_>>()]
        );
    }

    #[test]
    fn grouping_is_deterministic_in_input_order() {
        let pts = [
            north(1, 0.0),
            north(2, 5000.0),
            north(3, 100.0),
            north(4, 5100.0),
        ];
        let first = group_nearby(&pts, 500.0, 10);
        assert_eq!(first, vec![vec![1, 3], vec![2, 4]]);
        for _ in 0..5 {
            assert_eq!(group_nearby(&pts, 500.0, 10), first);
        }
        // Another order gives groups led by the new first members.
        let reversed: Vec<_> = pts.iter().rev().copied().collect();
        assert_eq!(
            group_nearby(&reversed, 500.0, 10),
            vec![vec![4, 2], vec![3, 1]]
        );
        // Every point appears exactly once.
        let mut all: Vec<u32> = first.into_iter().flatten().collect();
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3, 4]);
    }

    #[test]
    fn grouping_edge_inputs() {
        let empty: [(u32, f64, f64); 0] = [];
        assert!(group_nearby(&empty, 500.0, 3).is_empty());
        assert_eq!(group_nearby(&[north(9, 0.0)], 500.0, 3), vec![vec![9]]);
        let nan = (2u32, f64::NAN, 107.0);
        assert_eq!(
            group_nearby(&[north(1, 0.0), nan], 1e9, 3),
            vec![vec![1], vec![2]]
        );
        // Same place twice.
        assert_eq!(
            group_nearby(&[north(1, 0.0), north(2, 0.0)], 0.0, 3),
            vec![vec![1, 2]]
        );
    }

    // ----- property-style check against a day-by-day count -----

    /// Numerical Recipes LCG: deterministic, no dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn day(&mut self) -> NaiveDate {
            // 2019-10-01 .. about 2027-03: around the edges of the 2021–2025 period and of years.
            d("2019-10-01") + Duration::days(i64::try_from(self.below(2_740)).unwrap())
        }
    }

    struct Owned {
        t: EstablishmentType,
        l: Lifetime,
        days: Vec<NaiveDate>,
    }

    fn random_population(rng: &mut Lcg, n: usize) -> Vec<Owned> {
        let types = EstablishmentType::ALL;
        (0..n)
            .map(|_| {
                let t = types[usize::try_from(rng.below(types.len() as u64)).unwrap()];
                let opened = (rng.below(3) > 0).then(|| rng.day());
                let closed = (rng.below(3) == 0).then(|| rng.day());
                let k = rng.below(4);
                let days = (0..k).map(|_| rng.day()).collect();
                Owned {
                    t,
                    l: Lifetime {
                        opened_on: opened,
                        closed_on: closed,
                    },
                    days,
                }
            })
            .collect()
    }

    /// The definition spelled out day by day, independent of the helpers above.
    fn straightforward_annual(p: &Programme, pop: &[Owned], year: i32, as_of: NaiveDate) -> Tally {
        let mut t = Tally::default();
        for e in pop {
            if !p.types_in_scope().contains(&e.t) {
                continue;
            }
            let mut in_scope = false;
            let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            while day.year() == year && day <= as_of {
                let trading =
                    e.l.opened_on.is_none_or(|o| o <= day) && e.l.closed_on.is_none_or(|c| day < c);
                if trading && p.covers_day(day) {
                    in_scope = true;
                    break;
                }
                day = day.succ_opt().unwrap();
            }
            if !in_scope {
                continue;
            }
            t.in_scope += 1;
            if e.days
                .iter()
                .any(|x| x.year() == year && *x <= as_of && p.covers_day(*x))
            {
                t.inspected += 1;
            }
        }
        t
    }

    fn straightforward_cumulative(p: &Programme, pop: &[Owned], as_of: NaiveDate) -> Tally {
        let at = as_of.min(p.period_end());
        if at < p.period_start() {
            return Tally::default();
        }
        let mut t = Tally::default();
        for e in pop {
            let trading =
                e.l.opened_on.is_none_or(|o| o <= at) && e.l.closed_on.is_none_or(|c| at < c);
            if !p.types_in_scope().contains(&e.t) || !trading {
                continue;
            }
            t.in_scope += 1;
            if e.days.iter().any(|x| p.covers_day(*x) && *x <= at) {
                t.inspected += 1;
            }
        }
        t
    }

    #[test]
    fn reference_matches_straightforward_count_on_random_data() {
        let p = programme();
        let mut rng = Lcg(178);
        let mut nonzero = 0;
        for _round in 0..40 {
            let pop = random_population(&mut rng, 30);
            let items: Vec<EstablishmentHistory<'_>> =
                pop.iter().map(|o| hist(o.t, o.l, &o.days)).collect();
            for _ in 0..6 {
                let as_of = rng.day();
                for year in 2019..=2027 {
                    let expected = straightforward_annual(&p, &pop, year, as_of);
                    assert_eq!(
                        annual_coverage(&p, &items, year, as_of),
                        expected,
                        "year {year} as_of {as_of}"
                    );
                    if expected.inspected > 0 {
                        nonzero += 1;
                    }
                }
                assert_eq!(
                    cumulative_coverage(&p, &items, as_of),
                    straightforward_cumulative(&p, &pop, as_of),
                    "cumulative as_of {as_of}"
                );
                // Annual never exceeds its own in-scope count.
                let year_tally = annual_coverage(&p, &items, as_of.year(), as_of);
                assert!(year_tally.inspected <= year_tally.in_scope);
            }
        }
        assert!(
            nonzero > 50,
            "the random data exercises inspected cases: {nonzero}"
        );
    }
}
