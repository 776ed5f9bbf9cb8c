//! The server under test: a fresh database filled by `doi178-server demo` (SQLite in a temporary
//! data directory, or a new database on a PostgreSQL cluster), and the real binary started on a
//! fixed port so that it can be killed with SIGKILL and restarted on the same data and address.
//! Starting, watching and killing the process is the test-support library's
//! ([`doi178_tests::ServerProcess`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use doi178_tests::{run_demo, TestDb};

pub use doi178_tests::{free_port, ServerProcess as Server};

/// Where the data lives: a data directory (photos, and the SQLite file) plus the database URL.
pub struct Target {
    pub bin: PathBuf,
    pub database_url: String,
    data_dir: PathBuf,
    tmp: Option<tempfile::TempDir>,
    db: TestDb,
    keep: bool,
}

impl Target {
    /// A fresh database with the demo data (`establishments`, `visits` of history).
    pub fn prepare(
        bin: &Path,
        postgres_admin: Option<&str>,
        establishments: u32,
        visits: u32,
        keep: bool,
    ) -> anyhow::Result<Target> {
        anyhow::ensure!(
            bin.is_file(),
            "server binary {} not found (build it: cargo build -p doi178-server [--release])",
            bin.display()
        );
        let tmp = tempfile::Builder::new().prefix("doi178-load-").tempdir()?;
        let data_dir = tmp.path().to_path_buf();
        let db =
            TestDb::create(&data_dir, postgres_admin, "doi178_load").map_err(anyhow::Error::msg)?;
        let target = Target {
            bin: bin.to_path_buf(),
            database_url: db.url.clone(),
            data_dir,
            tmp: Some(tmp),
            db,
            keep,
        };
        let started = Instant::now();
        run_demo(
            bin,
            &target.database_url,
            target.data_dir(),
            establishments,
            visits,
        )
        .map_err(anyhow::Error::msg)?;
        eprintln!(
            "[loadgen] demo data ({establishments} establishments, {visits} visits) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(target)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if self.keep {
            self.db.keep();
            if let Some(t) = self.tmp.take() {
                let _ = t.keep();
            }
            eprintln!(
                "[loadgen] kept: --data-dir {} --database-url {}",
                self.data_dir.display(),
                self.database_url
            );
        }
    }
}

/// Settings passed to `serve`: `port` (fixed, so that a restart keeps the address), `--workers`,
/// a TOML config file (e.g. `db_max_connections = 32`). The server keeps its own JWT secret (none
/// is set), may take 2 minutes to listen, and only the last 256 KiB of its output are kept.
pub fn serve_options(
    port: u16,
    workers: Option<usize>,
    config: Option<PathBuf>,
) -> doi178_tests::ServeOptions {
    doi178_tests::ServeOptions {
        port,
        workers,
        config,
        jwt_secret: None,
        ready_timeout: Duration::from_secs(120),
        log_limit: Some(256 * 1024),
        inherit_stderr: false,
    }
}

/// Starts the server on `target`'s data.
pub fn start(target: &Target, opts: &doi178_tests::ServeOptions) -> anyhow::Result<Server> {
    Server::start(
        &target.bin,
        &target.database_url,
        target.data_dir(),
        &[],
        opts,
    )
    .map_err(anyhow::Error::msg)
    .with_context(|| format!("start {}", target.bin.display()))
}
