//! The phone's sync cursor: the global change number it has seen everything up to.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};

/// A non-negative change number, sent as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SyncCursor(i64);

impl SyncCursor {
    /// `n` below zero is clamped to zero (a first sync).
    pub fn new(n: i64) -> Self {
        Self(n.max(0))
    }

    /// Errors name the field `cursor`.
    pub fn parse(s: &str) -> DomainResult<Self> {
        let s = s.trim();
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(
                "cursor",
                "must be the cursor of a previous sync (a number); omit it for a first sync",
            ));
        }
        s.parse::<i64>()
            .map(Self)
            .map_err(|_| DomainError::out_of_range("cursor", "is too large"))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for SyncCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_only() {
        assert_eq!(SyncCursor::parse("0").unwrap().get(), 0);
        assert_eq!(SyncCursor::parse(" 1234 ").unwrap().get(), 1234);
        assert_eq!(SyncCursor::new(-5).get(), 0);
        assert_eq!(SyncCursor::new(42).to_string(), "42");
        for bad in ["", "-1", "1e3", "abc", "99999999999999999999"] {
            assert_eq!(SyncCursor::parse(bad).unwrap_err().field, "cursor", "{bad}");
        }
        assert_eq!(
            SyncCursor::parse("9999999999999999999").unwrap_err().code,
            "out_of_range"
        );
    }
}
