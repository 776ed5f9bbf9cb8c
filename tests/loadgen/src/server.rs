//! The server under test: a fresh database filled by `doi178-server demo` (SQLite in a temporary
//! data directory, or a new database on a PostgreSQL cluster), and the real binary started on a
//! fixed port so that it can be killed with SIGKILL and restarted on the same data and address.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::Connection;

/// Where the data lives: a data directory (photos, and the SQLite file) plus the database URL.
pub struct Target {
    pub bin: PathBuf,
    pub database_url: String,
    data_dir: PathBuf,
    tmp: Option<tempfile::TempDir>,
    /// PostgreSQL: (admin URL, database name), dropped at the end unless kept.
    pg: Option<(String, String)>,
    keep: bool,
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
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
        let (database_url, pg) = match postgres_admin {
            None => (data_dir.join("doi178.sqlite").display().to_string(), None),
            Some(admin) => {
                let name = format!(
                    "doi178_load_{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                );
                let mut conn = diesel::PgConnection::establish(admin)
                    .with_context(|| format!("connect to PostgreSQL at {admin}"))?;
                conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
                (with_database(admin, &name), Some((admin.to_string(), name)))
            }
        };
        let target = Target {
            bin: bin.to_path_buf(),
            database_url,
            data_dir,
            tmp: Some(tmp),
            pg,
            keep,
        };
        let started = Instant::now();
        let out = Command::new(bin)
            .args(["--database-url", &target.database_url, "--data-dir"])
            .arg(target.data_dir())
            .args(["demo", "--establishments"])
            .arg(establishments.to_string())
            .arg("--visits")
            .arg(visits.to_string())
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .stdin(Stdio::null())
            .output()
            .context("run doi178-server demo")?;
        if !out.status.success() {
            bail!(
                "`doi178-server demo` failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
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
        self.pg.is_some()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if self.keep {
            if let Some(t) = self.tmp.take() {
                let _ = t.keep();
            }
            eprintln!(
                "[loadgen] kept: --data-dir {} --database-url {}",
                self.data_dir.display(),
                self.database_url
            );
            return;
        }
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A free TCP port on the loopback interface (the server is then started on it, and restarted on
/// the same one after a crash).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Settings passed to `serve`.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub port: u16,
    pub workers: Option<usize>,
    /// A TOML config file (e.g. `db_max_connections = 32`).
    pub config: Option<PathBuf>,
}

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(target: &Target, opts: &ServeOptions) -> anyhow::Result<Server> {
        let mut cmd = Command::new(&target.bin);
        if let Some(c) = &opts.config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(["--database-url", &target.database_url, "--data-dir"])
            .arg(target.data_dir())
            .args(["serve", "--port"])
            .arg(opts.port.to_string());
        if let Some(w) = opts.workers {
            cmd.arg("--workers").arg(w.to_string());
        }
        let mut child = cmd
            .env("DOI178_LOG", "warn")
            .env_remove("DOI178_CONFIG")
            .env_remove("DOI178_DEMO")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {}", target.bin.display()))?;
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().context("stdout")?;
        let out_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                push_log(&out_log, &format!("[stdout] {line}\n"));
                let _ = tx.send(line);
            }
        });
        let mut stderr = child.stderr.take().context("stderr")?;
        let err_log = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match stderr.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => push_log(&err_log, &String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let prefix = "doi178-server listening on ";
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.trim().strip_prefix(prefix) {
                        return Ok(Server {
                            child,
                            base: addr.trim().trim_end_matches('/').to_string(),
                            log,
                        });
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    std::thread::sleep(Duration::from_millis(100));
                    bail!(
                        "server did not report `{prefix}…` ({e:?}; exit status {status:?}); its output:\n{}",
                        log.lock().map(|l| l.clone()).unwrap_or_default()
                    );
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown handler runs, nothing is flushed by the server.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        self.child.kill().context("kill -9 the server")?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM (a clean shutdown), then SIGKILL if it is still running after 10 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// CPU seconds (user + system) the server process has used so far (Linux: /proc; clock ticks
    /// of 1/100 s, the kernel's USER_HZ), or `None` elsewhere.
    pub fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = f.get(11)?.parse().ok()?;
        let stime: f64 = f.get(12)?.parse().ok()?;
        Some((utime + stime) / 100.0)
    }

    /// Whether the process has exited (crashed) on its own.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// What the server printed so far (the last 256 KiB).
    pub fn output(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Lines the server logged at ERROR level or as a panic.
    pub fn error_lines(&self) -> Vec<String> {
        self.output()
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("panicked"))
            .map(str::to_string)
            .collect()
    }
}

fn push_log(log: &Mutex<String>, text: &str) {
    const KEEP: usize = 256 * 1024;
    if let Ok(mut l) = log.lock() {
        l.push_str(text);
        if l.len() > 2 * KEEP {
            let mut cut = l.len() - KEEP;
            while !l.is_char_boundary(cut) {
                cut += 1;
            }
            l.drain(..cut);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
