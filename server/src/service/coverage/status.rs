//! How each establishment of an area stands for the coverage measures: in scope of the annual
//! or the cumulative measure, and its most urgent status (the map's markers, the commune table).

use doi178_shared::coverage::Lifetime;

use super::{Params, Resolved};
use crate::auth::Actor;
use crate::db::{self, coverage_status::StatusRow, AnyConnection};
use crate::error::ApiResult;

/// How an establishment stands, for the map's markers and the commune table, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstStatus {
    /// A follow-up check was due and has not been made.
    FollowUp,
    /// The last visit found violations.
    Violation,
    /// Inspected (counted) in the year.
    Inspected,
    /// Not inspected in the year, but earlier in the programme period.
    NotThisYear,
    /// No counted inspection in the programme period.
    Never,
}

impl EstStatus {
    pub const ALL: [EstStatus; 5] = [
        EstStatus::Never,
        EstStatus::NotThisYear,
        EstStatus::Inspected,
        EstStatus::Violation,
        EstStatus::FollowUp,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EstStatus::FollowUp => "follow_up",
            EstStatus::Violation => "violation",
            EstStatus::Inspected => "inspected",
            EstStatus::NotThisYear => "not_this_year",
            EstStatus::Never => "never",
        }
    }

    /// The badge class in tables.
    pub fn badge(self) -> &'static str {
        match self {
            EstStatus::FollowUp | EstStatus::Violation => "bad",
            EstStatus::Inspected => "ok",
            EstStatus::NotThisYear | EstStatus::Never => "warn",
        }
    }
}

/// The status of one establishment: an overdue follow-up first, then violations at the last
/// visit, then whether it was inspected in the year, earlier in the period, or never.
pub fn status_of(row: &StatusRow) -> EstStatus {
    if row.follow_up_due > 0 {
        EstStatus::FollowUp
    } else if row.last_violations.is_some_and(|v| v > 0) {
        EstStatus::Violation
    } else if row.annual_last.is_some() {
        EstStatus::Inspected
    } else if row.period_last.is_some() {
        EstStatus::NotThisYear
    } else {
        EstStatus::Never
    }
}

/// One establishment with where it counts: in the annual and cumulative measures of the
/// coverage API (summing these flags over a unit gives its tallies).
pub struct EstablishmentCoverage {
    pub row: StatusRow,
    pub annual_in_scope: bool,
    pub cumulative_in_scope: bool,
    pub status: EstStatus,
}

/// The establishments of the resolved area in scope of the annual or the cumulative measure.
pub fn establishments(
    c: &mut AnyConnection,
    actor: &Actor,
    p: &Params,
    r: &Resolved,
) -> ApiResult<Vec<EstablishmentCoverage>> {
    let (a_from, a_to) = r.annual;
    let (_, cum_to) = r.cumulative;
    let rows = db::coverage_status::list(
        c,
        actor,
        &db::coverage_status::StatusQuery {
            area: &r.area,
            types: &r.types,
            operating_from: a_from.min(cum_to),
            operating_to: a_to.max(cum_to),
            annual: r.annual,
            cumulative: r.cumulative,
            as_of: p.as_of,
        },
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let life = Lifetime {
                opened_on: row.opened_on,
                closed_on: row.closed_on,
            };
            let annual_in_scope = life.operating_between(a_from, a_to);
            let cumulative_in_scope = life.operating_on(cum_to);
            (annual_in_scope || cumulative_in_scope).then(|| EstablishmentCoverage {
                status: status_of(&row),
                row,
                annual_in_scope,
                cumulative_in_scope,
            })
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn row(follow: i64, viol: Option<i64>, annual: bool, period: bool) -> StatusRow {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1);
        StatusRow {
            id: "x".into(),
            name: "x".into(),
            establishment_type: doi178_shared::establishment::EstablishmentType::Karaoke,
            unit_id: "2025:19753".into(),
            address: String::new(),
            lat: None,
            lon: None,
            opened_on: None,
            closed_on: None,
            annual_last: if annual { d } else { None },
            period_last: if period { d } else { None },
            last_violations: viol,
            follow_up_due: follow,
        }
    }

    #[test]
    fn the_most_urgent_status_wins() {
        assert_eq!(status_of(&row(1, Some(2), true, true)), EstStatus::FollowUp);
        assert_eq!(
            status_of(&row(0, Some(2), true, true)),
            EstStatus::Violation
        );
        assert_eq!(
            status_of(&row(0, Some(0), true, true)),
            EstStatus::Inspected
        );
        assert_eq!(
            status_of(&row(0, None, false, true)),
            EstStatus::NotThisYear
        );
        assert_eq!(status_of(&row(0, None, false, false)), EstStatus::Never);
    }
}
