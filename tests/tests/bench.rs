//! `doi178-server bench` on the small test dataset: a smoke run, so the benchmark of
//! BENCHMARKS.md keeps working; it also checks that the coverage rollup, the exact count and the
//! straightforward GROUP BY over the visits agree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use doi178_tests::TestServer;

#[test]
fn bench_runs_on_the_test_data_and_the_fast_path_agrees_with_the_baseline() {
    let s = TestServer::start();
    let mut cmd = Command::new(doi178_tests::server_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("DOI178_") {
            cmd.env_remove(k);
        }
    }
    let o = cmd
        .args([
            "--database-url",
            s.database_url(),
            "bench",
            "--iterations",
            "3",
            "--slow-iterations",
            "1",
        ])
        .output()
        .expect("run doi178-server bench");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "bench failed:\n{out}");
    for line in [
        "coverage (API function)",
        "series (12 months)",
        "planner candidates",
        "baseline GROUP BY visits",
        "ratio: baseline p50",
        "check: annual: baseline GROUP BY visits = rollup: identical",
        "check: annual: exact = rollup: identical",
        "check: cumulative: exact = rollup: identical",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    assert!(!out.contains("MISMATCH"), "{out}");
}
