//! `faultproxy`: the fault-injecting proxy as a command, for trying the app by hand or from
//! scripts. Prints `faultproxy listening on <addr>` once ready, then one line per connection
//! as it closes.

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use clap::Parser;
use faultproxy::{Fault, FaultProxy, Policy, RandomPolicy};

#[derive(Parser)]
#[command(about = "Fault-injecting TCP proxy (test utility)")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Address to forward to, e.g. 127.0.0.1:8080.
    #[arg(long)]
    upstream: String,
    /// Fault of every connection: pass, drop:up|down:N, reset:up|down:N,
    /// stall:up|down:N[:2s|1500ms], slow:BYTES_PER_SEC.
    #[arg(long, conflicts_with_all = ["schedule", "seed"])]
    fault: Option<Fault>,
    /// Faults of the first connections, in order (comma-separated); later connections pass.
    #[arg(long, value_delimiter = ',', conflicts_with = "seed")]
    schedule: Vec<Fault>,
    /// Seeded random faults.
    #[arg(long)]
    seed: Option<u64>,
    /// Random policy: chance that a connection gets a fault.
    #[arg(long, default_value_t = 0.5)]
    probability: f64,
    /// Random policy: drops, resets and stalls trigger after 0..=N bytes.
    #[arg(long, default_value_t = 65536)]
    max_after: u64,
    /// Random policy: stall length in milliseconds (0: for good).
    #[arg(long, default_value_t = 2000)]
    stall_ms: u64,
    /// Random policy: include slow links at this many bytes per second.
    #[arg(long, default_value_t = 0)]
    slow_bytes_per_sec: u64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let policy = if let Some(seed) = args.seed {
        Policy::Random(RandomPolicy {
            seed,
            fault_probability: args.probability,
            max_after: args.max_after,
            stall: (args.stall_ms > 0).then(|| Duration::from_millis(args.stall_ms)),
            slow_bytes_per_sec: args.slow_bytes_per_sec,
        })
    } else if !args.schedule.is_empty() {
        Policy::Schedule(args.schedule)
    } else {
        Policy::Always(args.fault.unwrap_or(Fault::Pass))
    };
    let proxy = FaultProxy::start_on(args.listen.as_str(), args.upstream.as_str(), policy)?;
    let mut out = std::io::stdout();
    writeln!(out, "faultproxy listening on {}", proxy.addr())?;
    out.flush()?;
    let mut reported = HashSet::new();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        for c in proxy.stats().per_connection {
            if !c.open && reported.insert(c.index) {
                writeln!(
                    out,
                    "connection {}: fault {} injected={} up={} down={}{}",
                    c.index,
                    c.fault,
                    c.fault_injected,
                    c.bytes_upstream,
                    c.bytes_downstream,
                    c.upstream_error
                        .map(|e| format!(" upstream error: {e}"))
                        .unwrap_or_default()
                )?;
                out.flush()?;
            }
        }
    }
}
