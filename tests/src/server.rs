//! The real `doi178-server` process: where its binary is, a free port, starting it with the tests'
//! settings, waiting until it listens, its output, and killing it when dropped.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Secret the test servers sign access tokens with (tests forge tokens with it).
pub const JWT_SECRET: &str = "doi178-black-box-tests-secret-0123456789abcdef";
/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "doi178-demo";

/// The server binary: `DOI178_SERVER_BIN`, or `doi178-server` in the target directory the tests
/// were built into (`target/<profile>/deps/<test>` → `target/<profile>/doi178-server`).
pub fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("DOI178_SERVER_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "DOI178_SERVER_BIN={} does not exist",
            p.display()
        );
        return p;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("doi178-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the server binary {} is missing: run `cargo build -p doi178-server` first (with the same \
         CARGO_TARGET_DIR and profile as the tests), or set DOI178_SERVER_BIN",
        bin.display()
    );
    bin
}

/// A free TCP port on the loopback interface (for a server that must be restarted on the same
/// address).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How `serve` is started.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `--port` (0: the system picks one; the server prints where it listens).
    pub port: u16,
    /// `--workers` (none: the server's default).
    pub workers: Option<usize>,
    /// `--config`: a TOML config file.
    pub config: Option<PathBuf>,
    /// `DOI178_JWT_SECRET` (none: left as the caller's environment has it).
    pub jwt_secret: Option<String>,
    /// How long the server may take to print `doi178-server listening on …`.
    pub ready_timeout: Duration,
    /// Keep only about this many bytes of the newest output (long runs); none: everything.
    pub log_limit: Option<usize>,
    /// The server's stderr goes to the caller's stderr instead of the captured output.
    pub inherit_stderr: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            port: 0,
            workers: Some(2),
            config: None,
            jwt_secret: Some(JWT_SECRET.to_string()),
            ready_timeout: Duration::from_secs(90),
            log_limit: None,
            inherit_stderr: false,
        }
    }
}

/// A running `doi178-server … serve`; killed (SIGKILL) when dropped.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`, as the server printed it.
    pub base: String,
    log: Arc<Mutex<String>>,
}

fn push_log(log: &Mutex<String>, text: &str, limit: Option<usize>) {
    let Ok(mut l) = log.lock() else { return };
    l.push_str(text);
    if let Some(keep) = limit {
        if l.len() > 2 * keep {
            let mut cut = l.len() - keep;
            while !l.is_char_boundary(cut) {
                cut += 1;
            }
            l.drain(..cut);
        }
    }
}

impl ServerProcess {
    /// Starts `doi178-server --database-url URL --data-dir DIR serve` with `opts` and `env`.
    pub fn start(
        bin: &Path,
        database_url: &str,
        data_dir: &Path,
        env: &[(&str, &str)],
        opts: &ServeOptions,
    ) -> Result<ServerProcess, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["--database-url", database_url, "--data-dir"])
            .arg(data_dir)
            .envs(env.iter().copied());
        Self::spawn(cmd, opts)
    }

    /// Starts `cmd serve …` (the command already names its database and data directory, and may
    /// carry extra settings, which win over the defaults here: the tests' secret, quiet logs,
    /// nothing from the caller's configuration), captures its output and waits until it listens.
    pub fn spawn(mut cmd: Command, opts: &ServeOptions) -> Result<ServerProcess, String> {
        let given: Vec<std::ffi::OsString> =
            cmd.get_envs().map(|(k, _)| k.to_os_string()).collect();
        let defaults: [(&str, Option<&str>); 6] = [
            ("DOI178_JWT_SECRET", opts.jwt_secret.as_deref()),
            ("DOI178_LOG", Some("warn")),
            ("DOI178_CONFIG", None),
            ("DOI178_DEMO", None),
            ("DOI178_BIND", None),
            ("DOI178_PORT", None),
        ];
        for (key, value) in defaults {
            if given.iter().any(|k| k == key) {
                continue;
            }
            match value {
                Some(v) => cmd.env(key, v),
                None if key == "DOI178_JWT_SECRET" => &mut cmd,
                None => cmd.env_remove(key),
            };
        }
        if let Some(c) = &opts.config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(["serve", "--port"]).arg(opts.port.to_string());
        if let Some(w) = opts.workers {
            cmd.arg("--workers").arg(w.to_string());
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        if opts.inherit_stderr {
            cmd.stderr(Stdio::inherit());
        } else {
            cmd.stderr(Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        let log = Arc::new(Mutex::new(String::new()));
        let limit = opts.log_limit;
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let out_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                push_log(&out_log, &format!("[stdout] {line}\n"), limit);
                let _ = tx.send(line);
            }
        });
        if let Some(mut stderr) = child.stderr.take() {
            let err_log = log.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match stderr.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => push_log(&err_log, &String::from_utf8_lossy(&buf[..n]), limit),
                    }
                }
            });
        }
        let deadline = Instant::now() + opts.ready_timeout;
        let prefix = "doi178-server listening on ";
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.trim().strip_prefix(prefix) {
                        return Ok(ServerProcess {
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
                    return Err(format!(
                        "server did not report `{prefix}…` ({e:?}; exit status {status:?}); its output:\n{}",
                        log.lock().map(|l| l.clone()).unwrap_or_default()
                    ));
                }
            }
        }
    }

    /// `base` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the base URL")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server printed so far.
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

    /// SIGKILL: no shutdown handler runs, nothing is flushed by the server.
    pub fn kill9(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
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

    /// Whether the process has exited on its own.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
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
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// [`ServerProcess::spawn`] with the tests' defaults (any port, 2 workers); panics with the
/// server's output when it does not start.
pub fn spawn_server(cmd: Command) -> ServerProcess {
    ServerProcess::spawn(cmd, &ServeOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `doi178-server --database-url URL --data-dir DIR demo …` and fails with its output when
/// it does not succeed.
pub fn run_demo(
    bin: &Path,
    database_url: &str,
    data_dir: &Path,
    establishments: u32,
    visits: u32,
) -> Result<(), String> {
    let out = Command::new(bin)
        .args(["--database-url", database_url, "--data-dir"])
        .arg(data_dir)
        .args(["demo", "--establishments"])
        .arg(establishments.to_string())
        .arg("--visits")
        .arg(visits.to_string())
        .env("DOI178_LOG", "warn")
        .env_remove("DOI178_CONFIG")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run doi178-server demo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`doi178-server demo` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// One line of `doi178-server routes`: a route with its access rule.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RouteRule {
    pub method: String,
    pub path: String,
    pub surface: String,
    pub who: String,
    pub roles: Vec<String>,
    pub scoped: bool,
}

/// The route table, from the server binary (`doi178-server routes`).
pub fn route_table() -> Vec<RouteRule> {
    let out = Command::new(server_bin())
        .arg("routes")
        .env_remove("DOI178_CONFIG")
        .output()
        .expect("run doi178-server routes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the route table is JSON")
}
