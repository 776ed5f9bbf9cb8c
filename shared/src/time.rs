//! Civil dates in Vietnam (UTC+7 all year, no daylight saving) and the allowance for phone clocks
//! that run a little fast.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::error::{DomainError, DomainResult};

/// Vietnam's offset from UTC in seconds (Indochina Time, no daylight saving).
pub const VIETNAM_UTC_OFFSET_SECS: i64 = 7 * 3600;

/// How far in the future a timestamp from a device may be before it is rejected. Phones set their
/// clock from the network but not always precisely, and a visit is recorded on the phone.
pub const CLOCK_SKEW_ALLOWANCE_SECS: i64 = 10 * 60;

/// The calendar date in Vietnam at an instant. A visit at 06:00 in Huế is 23:00 UTC the day
/// before, so dates for deadlines and reports must come from here, not from `date_naive()`.
pub fn vietnam_date(at: DateTime<Utc>) -> NaiveDate {
    (at + TimeDelta::seconds(VIETNAM_UTC_OFFSET_SECS)).date_naive()
}

/// Rejects `at` if it lies more than [`CLOCK_SKEW_ALLOWANCE_SECS`] after `now`.
pub fn not_in_future(field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> DomainResult<()> {
    if at > now + TimeDelta::seconds(CLOCK_SKEW_ALLOWANCE_SECS) {
        return Err(DomainError::out_of_range(
            field,
            "is in the future (check the device clock)",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn vietnam_date_is_utc_plus_seven() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(vietnam_date(at("2025-03-01T16:59:59Z")), d("2025-03-01"));
        assert_eq!(vietnam_date(at("2025-03-01T17:00:00Z")), d("2025-03-02"));
        assert_eq!(vietnam_date(at("2025-03-01T23:00:00Z")), d("2025-03-02"));
    }

    #[test]
    fn not_in_future_allows_ten_minutes_of_skew() {
        let now = at("2025-03-01T10:00:00Z");
        assert!(not_in_future("started_at", at("2025-03-01T10:10:00Z"), now).is_ok());
        assert!(not_in_future("started_at", at("2025-02-01T10:00:00Z"), now).is_ok());
        let e = not_in_future("started_at", at("2025-03-01T10:10:01Z"), now).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("started_at", "out_of_range")
        );
    }
}
