//! The 6-monthly and yearly report: its period, and its figures taken from the same functions as
//! `GET /api/v1/coverage` ([`coverage::compute`]) and `GET /api/v1/coverage/summary`
//! ([`reports::compute_summary`]), laid out once for the page and the spreadsheet.
//!
//! Reporting periods follow the provincial plan in the seeds (Kon Tum, programme 2021–2025): the
//! 6-monthly report is due *before 10 June* and the yearly one *before 10 December*, so the
//! figures close at the end of the month before: **01/01–31/05** (6 tháng) and **01/01–30/11**
//! (năm). A period not over yet counts up to today.

mod indicators;
mod tables;

use chrono::{Datelike, NaiveDate};
use doi178_shared::lang::Lang;
use doi178_shared::ProblemCode;

use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::{self, Coverage, CoverageRow, Params};
use crate::service::reports::{self as api_reports, Summary};

pub use self::indicators::{indicators, Indicator, Value};
pub use self::tables::tables;

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
    ApiError::unprocessable(ProblemCode::Invalid, field, detail)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
