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

/// Most changes of one kind in one sync page, and the default.
pub const MAX_SYNC_PAGE: u32 = 500;

/// The page size a phone asked for (`limit`), 1 to [`MAX_SYNC_PAGE`]; the default is the most.
pub fn sync_page_limit(limit: Option<u32>) -> DomainResult<u32> {
    match limit {
        None => Ok(MAX_SYNC_PAGE),
        Some(n) if (1..=MAX_SYNC_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(DomainError::out_of_range(
            "limit",
            format!("must be between 1 and {MAX_SYNC_PAGE}"),
        )),
    }
}

/// What one kind's scan of a sync page read: the rows of changes after the cursor, in change
/// order, at most the page's limit, before any rule that drops some of them from the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindScan {
    /// Rows read.
    pub read: usize,
    /// Change number of the last row read.
    pub last_seq: Option<i64>,
}

impl KindScan {
    pub fn of(seqs: impl IntoIterator<Item = i64>) -> Self {
        let mut scan = KindScan {
            read: 0,
            last_seq: None,
        };
        for s in seqs {
            scan.read += 1;
            scan.last_seq = Some(s);
        }
        scan
    }
}

/// Where a sync page ends. Every kind is scanned from the same cursor up to `high` (the newest
/// change), at most `limit` rows each. A kind that read `limit` rows may have more after its last
/// one, so the page ends at the lowest such last change: the page carries every change of every
/// kind up to that point and none after it (those come with the next page), so each change is
/// delivered exactly once whatever the page size and the mix of kinds. Change numbers are unique.
pub fn page_end(high: i64, limit: usize, scans: &[KindScan]) -> i64 {
    scans
        .iter()
        .filter(|s| s.read >= limit)
        .filter_map(|s| s.last_seq)
        .min()
        .unwrap_or(high)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A change: its number, its kind and whether the caller may see it (a scan reads it either
    /// way; the answer drops what the caller may not see).
    #[derive(Debug, Clone, Copy)]
    struct Change {
        seq: i64,
        kind: usize,
        visible: bool,
    }

    /// Pulls every page from cursor 0 as the server does and returns the visible changes
    /// delivered, in order of delivery.
    fn pull_all(changes: &[Change], kinds: usize, limit: usize) -> Vec<i64> {
        let high = changes.iter().map(|c| c.seq).max().unwrap_or(0);
        let mut cursor = 0;
        let mut delivered = Vec::new();
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages <= changes.len() + 2, "the cursor does not advance");
            let scans: Vec<Vec<Change>> = (0..kinds)
                .map(|k| {
                    changes
                        .iter()
                        .filter(|c| c.kind == k && c.seq > cursor && c.seq <= high)
                        .take(limit)
                        .copied()
                        .collect()
                })
                .collect();
            let summary: Vec<KindScan> = scans
                .iter()
                .map(|s| KindScan::of(s.iter().map(|c| c.seq)))
                .collect();
            let end = page_end(high, limit, &summary);
            assert!(
                end > cursor || end == high,
                "page from {cursor} ends at {end}"
            );
            for scan in &scans {
                delivered.extend(
                    scan.iter()
                        .filter(|c| c.visible && c.seq <= end)
                        .map(|c| c.seq),
                );
            }
            cursor = end;
            if end >= high {
                return delivered;
            }
        }
    }

    #[test]
    fn every_visible_change_is_delivered_exactly_once_whatever_the_page_size() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(178);
        for round in 0..400 {
            let kinds = rng.gen_range(1..=4);
            let n = rng.gen_range(0..300);
            // Kinds arrive in runs and mixes: some rounds favour one kind heavily.
            let bias = rng.gen_range(0..kinds);
            let mut seq = 0;
            let changes: Vec<Change> = (0..n)
                .map(|_| {
                    seq += rng.gen_range(1..4);
                    let kind = if rng.gen_bool(0.6) {
                        bias
                    } else {
                        rng.gen_range(0..kinds)
                    };
                    Change {
                        seq,
                        kind,
                        visible: rng.gen_bool(0.7),
                    }
                })
                .collect();
            let limit = rng.gen_range(1..=40);
            let mut got = pull_all(&changes, kinds, limit);
            let want: Vec<i64> = changes
                .iter()
                .filter(|c| c.visible)
                .map(|c| c.seq)
                .collect();
            got.sort_unstable();
            assert_eq!(got, want, "round {round}: {kinds} kinds, limit {limit}");
        }
    }

    #[test]
    fn a_full_kind_ends_the_page_at_its_last_change() {
        let full = KindScan::of([3, 5, 9]);
        let short = KindScan::of([4]);
        assert_eq!(page_end(20, 3, &[full, short]), 9);
        assert_eq!(page_end(20, 4, &[full, short]), 20);
        assert_eq!(page_end(20, 1, &[full, short]), 4);
        assert_eq!(page_end(20, 3, &[]), 20);
        assert_eq!(sync_page_limit(None).unwrap(), MAX_SYNC_PAGE);
        assert_eq!(sync_page_limit(Some(0)).unwrap_err().field, "limit");
        assert_eq!(
            sync_page_limit(Some(MAX_SYNC_PAGE + 1)).unwrap_err().code,
            "out_of_range"
        );
    }

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
