//! Counting: per operation a latency histogram (microseconds, hdrhistogram) of the successful
//! calls, and errors by kind. Each phone keeps its own and they are merged at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Login,
    Pull,
    Visit,
    Photo,
    /// Any other read (set-up, verification).
    Read,
}

impl Op {
    pub const ALL: [Op; 5] = [Op::Visit, Op::Photo, Op::Pull, Op::Login, Op::Read];

    pub fn name(self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::Pull => "pull",
            Op::Visit => "visit",
            Op::Photo => "photo",
            Op::Read => "read",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

pub struct Stats {
    hist: Vec<Histogram<u64>>,
    pub errors: BTreeMap<String, u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        Stats {
            hist: (0..Op::ALL.len())
                .map(|_| {
                    // 1 µs … 10 min, 3 significant digits.
                    Histogram::new_with_bounds(1, 600_000_000, 3)
                        .unwrap_or_else(|e| panic!("histogram bounds are valid: {e}"))
                })
                .collect(),
            errors: BTreeMap::new(),
        }
    }

    pub fn ok(&mut self, op: Op, latency: Duration) {
        let us = (latency.as_micros() as u64).clamp(1, 600_000_000);
        self.hist[op.index()].saturating_record(us);
    }

    pub fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }

    pub fn count(&self, op: Op) -> u64 {
        self.hist[op.index()].len()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Latency at `q` (0..1) in milliseconds.
    pub fn quantile_ms(&self, op: Op, q: f64) -> f64 {
        self.hist[op.index()].value_at_quantile(q) as f64 / 1000.0
    }

    pub fn merge(&mut self, other: &Stats) {
        for (a, b) in self.hist.iter_mut().zip(&other.hist) {
            a.add(b)
                .unwrap_or_else(|e| panic!("histograms share bounds: {e}"));
        }
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
    }

    /// `{op: {count, per_s, p50_ms, p99_ms, max_ms}}` over `secs`.
    pub fn ops_json(&self, secs: f64) -> Value {
        let mut m = serde_json::Map::new();
        for op in Op::ALL {
            let n = self.count(op);
            if n == 0 {
                continue;
            }
            m.insert(
                op.name().to_string(),
                json!({
                    "count": n,
                    "per_s": round(n as f64 / secs, 1),
                    "p50_ms": round(self.quantile_ms(op, 0.5), 2),
                    "p99_ms": round(self.quantile_ms(op, 0.99), 2),
                    "max_ms": round(self.hist[op.index()].max() as f64 / 1000.0, 2),
                }),
            );
        }
        Value::Object(m)
    }

    /// The table printed at the end of a run.
    pub fn table(&self, secs: f64) -> String {
        let mut out = format!(
            "{:<8} {:>9} {:>10} {:>9} {:>9} {:>9}\n",
            "op", "count", "per s", "p50 ms", "p99 ms", "max ms"
        );
        for op in Op::ALL {
            let n = self.count(op);
            if n == 0 {
                continue;
            }
            out.push_str(&format!(
                "{:<8} {:>9} {:>10.1} {:>9.2} {:>9.2} {:>9.2}\n",
                op.name(),
                n,
                n as f64 / secs,
                self.quantile_ms(op, 0.5),
                self.quantile_ms(op, 0.99),
                self.hist[op.index()].max() as f64 / 1000.0
            ));
        }
        if self.errors.is_empty() {
            out.push_str("errors: none\n");
        } else {
            out.push_str("errors:\n");
            for (k, v) in &self.errors {
                out.push_str(&format!("  {v:>7}  {k}\n"));
            }
        }
        out
    }
}

pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}
