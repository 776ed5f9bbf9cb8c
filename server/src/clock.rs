//! The server's clock: the current time at the precision both databases store.

use chrono::SubsecRound;

/// The current UTC time at the precision both databases store (microseconds), so that what an
/// answer shows equals what a later read returns.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// Today in Vietnam (UTC+7): the calendar day of deadlines, coverage years and reports.
pub fn today() -> chrono::NaiveDate {
    doi178_shared::time::vietnam_date(chrono::Utc::now())
}
