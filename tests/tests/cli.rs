//! The command line as an operator meets it: help, migrations, configuration layering (flags, then
//! `DOI178_*` environment, then the TOML file) and clear messages instead of panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

/// Runs the server binary with a clean environment (no `DOI178_*` from the caller).
fn run(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    let mut cmd = Command::new(doi178_tests::server_bin());
    cmd.args(args).current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("DOI178_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run doi178-server")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_no_panic(o: &Output) {
    let t = text(o);
    assert!(!t.contains("panicked"), "the binary panicked:\n{t}");
    assert_ne!(o.status.code(), Some(101), "exit code 101 is a panic:\n{t}");
}

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--help"], &[], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for cmd in ["serve", "migrate", "import", "demo"] {
        assert!(t.contains(cmd), "help does not mention {cmd}:\n{t}");
    }
}

#[test]
fn migrate_creates_the_database_under_the_data_dir_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let o = run(
        &["--data-dir", data.to_str().unwrap(), "migrate"],
        &[],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("applied"),
        "{}",
        text(&o)
    );
    assert!(data.join("doi178.sqlite").is_file());
    // A new database starts with the standard programmes (20 % a year, 100 % by the end).
    {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct P {
            #[diesel(sql_type = diesel::sql_types::Text)]
            period_start: String,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            annual_min_share_bp: i32,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            end_share_bp: i32,
        }
        let path = data.join("doi178.sqlite");
        let mut c = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        let rows: Vec<P> = diesel::sql_query(
            "SELECT period_start, annual_min_share_bp, end_share_bp FROM programmes ORDER BY period_start",
        )
        .load(&mut c)
        .unwrap();
        let got: Vec<(&str, i32, i32)> = rows
            .iter()
            .map(|p| {
                (
                    p.period_start.as_str(),
                    p.annual_min_share_bp,
                    p.end_share_bp,
                )
            })
            .collect();
        assert_eq!(
            got,
            [("2021-01-01", 2000, 10000), ("2026-01-01", 2000, 10000)]
        );
    }
    let again = run(
        &["--data-dir", data.to_str().unwrap(), "migrate"],
        &[],
        dir.path(),
    );
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("up to date"),
        "{}",
        text(&again)
    );
}

#[test]
fn configuration_layers_flag_over_environment_over_file() {
    let dir = tempfile::tempdir().unwrap();
    let (from_file, from_env, from_flag) = (
        dir.path().join("file"),
        dir.path().join("env"),
        dir.path().join("flag"),
    );
    let config = dir.path().join("doi178.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", from_file.to_str().unwrap()),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();

    let o = run(&["--config", cfg, "migrate"], &[], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        from_file.join("doi178.sqlite").is_file(),
        "the file's data_dir is used"
    );

    let o = run(
        &["--config", cfg, "migrate"],
        &[("DOI178_DATA_DIR", from_env.to_str().unwrap())],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        from_env.join("doi178.sqlite").is_file(),
        "the environment beats the file"
    );

    let o = run(
        &[
            "--config",
            cfg,
            "--data-dir",
            from_flag.to_str().unwrap(),
            "migrate",
        ],
        &[("DOI178_DATA_DIR", from_env.to_str().unwrap())],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        from_flag.join("doi178.sqlite").is_file(),
        "the flag beats the environment"
    );

    // The config file may also come from DOI178_CONFIG.
    let other = dir.path().join("other");
    let config2 = dir.path().join("other.toml");
    std::fs::write(
        &config2,
        format!("data_dir = {:?}\n", other.to_str().unwrap()),
    )
    .unwrap();
    let o = run(
        &["migrate"],
        &[("DOI178_CONFIG", config2.to_str().unwrap())],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(other.join("doi178.sqlite").is_file());
}

#[test]
fn bad_configuration_gets_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "prot = 8178\n").unwrap();
    let o = run(
        &["--config", bad.to_str().unwrap(), "migrate"],
        &[],
        dir.path(),
    );
    assert_no_panic(&o);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("prot") && t.contains("bad.toml"),
        "names the key and the file:\n{t}"
    );

    let o = run(
        &[
            "--config",
            dir.path().join("missing.toml").to_str().unwrap(),
            "migrate",
        ],
        &[],
        dir.path(),
    );
    assert_no_panic(&o);
    assert!(!o.status.success());
    assert!(text(&o).contains("missing.toml"), "{}", text(&o));

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "port = \"eighty\"\n").unwrap();
    let o = run(
        &["--config", broken.to_str().unwrap(), "migrate"],
        &[],
        dir.path(),
    );
    assert_no_panic(&o);
    assert!(!o.status.success());
    assert!(text(&o).contains("broken.toml"), "{}", text(&o));
}

#[test]
fn unusable_database_or_port_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port: the PostgreSQL URL cannot connect.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://nobody@127.0.0.1:{port}/nothing");
    let o = run(&["--database-url", &url, "migrate"], &[], dir.path());
    assert_no_panic(&o);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).to_lowercase().contains("database"), "{}", text(&o));

    // A port already taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let data = dir.path().join("d");
    let o = run(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "serve",
            "--port",
            &port,
        ],
        &[],
        dir.path(),
    );
    assert_no_panic(&o);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&port), "names the port:\n{}", text(&o));

    // An import of a file that does not exist.
    let o = run(
        &["--data-dir", data.to_str().unwrap(), "import", "nope.csv"],
        &[],
        dir.path(),
    );
    assert_no_panic(&o);
    assert!(!o.status.success());
    assert!(text(&o).contains("nope.csv"), "{}", text(&o));
}
