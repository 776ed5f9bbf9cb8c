//! Bounded retries with exponential backoff and full jitter: attempt `n` (from 0) waits a uniformly
//! random time in `[0, min(cap, base · 2ⁿ)]`, and at most `max_attempts` requests are made.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Requests made at most for one step (the first try included); at least 1.
    pub max_attempts: u32,
    /// Ceiling of the first wait.
    pub base_ms: u64,
    /// No wait is longer than this.
    pub cap_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_ms: 500,
            cap_ms: 30_000,
        }
    }
}

impl RetryPolicy {
    /// The longest wait after failed attempt `attempt` (0-based): `min(cap, base · 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u64.checked_shl(attempt.min(62)).unwrap_or(u64::MAX);
        Duration::from_millis(self.base_ms.saturating_mul(factor).min(self.cap_ms))
    }

    /// A wait drawn uniformly from `[0, ceiling(attempt)]` (full jitter).
    pub fn delay<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(rng.gen_range(0..=ceiling))
    }

    /// Whether another attempt may follow failed attempt `attempt` (0-based).
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt + 1 < self.max_attempts.max(1)
    }

    /// The longest total time spent waiting between the attempts of one step.
    pub fn max_total_wait(&self) -> Duration {
        (0..self.max_attempts.max(1) - 1)
            .map(|a| self.ceiling(a))
            .sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ceilings_double_then_stop_at_the_cap() {
        let p = RetryPolicy {
            max_attempts: 40,
            base_ms: 100,
            cap_ms: 5_000,
        };
        let c: Vec<u64> = (0..8).map(|a| p.ceiling(a).as_millis() as u64).collect();
        assert_eq!(c, vec![100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        // No overflow for absurd attempt numbers.
        assert_eq!(p.ceiling(1000), Duration::from_millis(5_000));
        let huge = RetryPolicy {
            base_ms: u64::MAX / 2,
            ..p
        };
        assert_eq!(huge.ceiling(10), Duration::from_millis(5_000));
    }

    #[test]
    fn full_jitter_stays_within_bounds_and_spreads() {
        let p = RetryPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(178);
        for attempt in 0..10 {
            let ceiling = p.ceiling(attempt);
            let draws: Vec<Duration> = (0..2000).map(|_| p.delay(attempt, &mut rng)).collect();
            assert!(draws.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            let min = draws.iter().min().unwrap();
            let max = draws.iter().max().unwrap();
            // Full jitter: draws cover the whole range, near 0 and near the ceiling.
            assert!(*min <= ceiling / 10, "attempt {attempt}: min {min:?}");
            assert!(*max >= ceiling * 9 / 10, "attempt {attempt}: max {max:?}");
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy {
            max_attempts: 3,
            base_ms: 10,
            cap_ms: 1000,
        };
        assert!(p.may_retry(0));
        assert!(p.may_retry(1));
        assert!(!p.may_retry(2));
        assert_eq!(p.max_total_wait(), Duration::from_millis(30));
        let once = RetryPolicy {
            max_attempts: 0,
            ..p
        };
        assert!(!once.may_retry(0), "0 means one try, no retry");
        assert_eq!(once.max_total_wait(), Duration::ZERO);
    }
}
