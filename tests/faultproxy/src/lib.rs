//! A fault-injecting TCP proxy for the field app's sync tests (test utility, not shipped).
//!
//! [`FaultProxy::start`] listens on `127.0.0.1:0` and forwards every connection to an upstream
//! address. Each accepted connection gets one [`Fault`] from the [`Policy`]: pass-through, close
//! after N bytes in one direction ([`Fault::Drop`]), reset after N bytes (RST through
//! `SO_LINGER 0`, [`Fault::Reset`]), stop forwarding after N bytes for a while or for good
//! ([`Fault::Stall`]), or a bandwidth limit ([`Fault::Slow`]). Counters per connection and in
//! total are read with [`FaultProxy::stats`].
//!
//! Plain std threads: two per connection (one per direction), which is plenty for tests.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Which way bytes flow through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client → upstream server (requests, uploads).
    Upstream,
    /// Upstream server → client (responses, downloads).
    Downstream,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Upstream => "up",
            Direction::Downstream => "down",
        }
    }
}

/// What happens to one proxied connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Forward everything unchanged.
    Pass,
    /// Forward exactly `after` bytes in direction `dir`, then close both sides (FIN): the
    /// receiving side sees those bytes and then end of stream.
    Drop { dir: Direction, after: u64 },
    /// Forward exactly `after` bytes in direction `dir`, then reset both sides (RST, through
    /// `SO_LINGER 0`): the client sees "connection reset by peer".
    Reset { dir: Direction, after: u64 },
    /// Forward `after` bytes in direction `dir`, then forward nothing more that way for
    /// `duration` (then carry on), or with `None` never again (until either side closes or the
    /// proxy stops; bytes sent that way meanwhile are read and thrown away, so the proxy notices
    /// when the sender gives up): the client runs into its timeout.
    Stall {
        dir: Direction,
        after: u64,
        duration: Option<Duration>,
    },
    /// Limit both directions, each on its own, to `bytes_per_sec`.
    Slow { bytes_per_sec: u64 },
}

impl Fault {
    /// The direction and byte offset a one-off fault triggers at.
    fn trigger(&self) -> Option<(Direction, u64)> {
        match *self {
            Fault::Drop { dir, after }
            | Fault::Reset { dir, after }
            | Fault::Stall { dir, after, .. } => Some((dir, after)),
            Fault::Pass | Fault::Slow { .. } => None,
        }
    }
}

impl std::fmt::Display for Fault {
    /// The same syntax [`Fault::from_str`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Pass => write!(f, "pass"),
            Fault::Drop { dir, after } => write!(f, "drop:{}:{after}", dir.as_str()),
            Fault::Reset { dir, after } => write!(f, "reset:{}:{after}", dir.as_str()),
            Fault::Stall {
                dir,
                after,
                duration: None,
            } => write!(f, "stall:{}:{after}", dir.as_str()),
            Fault::Stall {
                dir,
                after,
                duration: Some(d),
            } => write!(f, "stall:{}:{after}:{}ms", dir.as_str(), d.as_millis()),
            Fault::Slow { bytes_per_sec } => write!(f, "slow:{bytes_per_sec}"),
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    /// `pass`, `drop:up:1000`, `reset:down:0`, `stall:up:500` (for good), `stall:up:500:2s` or
    /// `…:1500ms`, `slow:125000` (bytes per second).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        let dir = |p: &str| match p {
            "up" | "upstream" => Ok(Direction::Upstream),
            "down" | "downstream" => Ok(Direction::Downstream),
            _ => Err(format!(
                "direction must be up or down, not {p:?} (in {s:?})"
            )),
        };
        let num = |p: &str| {
            p.parse::<u64>()
                .map_err(|_| format!("{p:?} is not a byte count (in {s:?})"))
        };
        let dur = |p: &str| -> Result<Duration, String> {
            let (n, scale) = if let Some(ms) = p.strip_suffix("ms") {
                (ms, 1)
            } else if let Some(secs) = p.strip_suffix('s') {
                (secs, 1000)
            } else {
                (p, 1)
            };
            n.parse::<u64>()
                .map(|n| Duration::from_millis(n * scale))
                .map_err(|_| format!("{p:?} is not a duration like 1500ms or 2s (in {s:?})"))
        };
        match parts.as_slice() {
            ["pass"] => Ok(Fault::Pass),
            ["drop", d, n] => Ok(Fault::Drop {
                dir: dir(d)?,
                after: num(n)?,
            }),
            ["reset", d, n] => Ok(Fault::Reset {
                dir: dir(d)?,
                after: num(n)?,
            }),
            ["stall", d, n] => Ok(Fault::Stall {
                dir: dir(d)?,
                after: num(n)?,
                duration: None,
            }),
            ["stall", d, n, t] => Ok(Fault::Stall {
                dir: dir(d)?,
                after: num(n)?,
                duration: Some(dur(t)?),
            }),
            ["slow", r] => {
                let bytes_per_sec = num(r)?;
                if bytes_per_sec == 0 {
                    return Err("slow:0 would never forward anything; use stall".into());
                }
                Ok(Fault::Slow { bytes_per_sec })
            }
            _ => Err(format!(
                "unknown fault {s:?}: use pass, drop:up|down:N, reset:up|down:N, \
                 stall:up|down:N[:DURATION], slow:BYTES_PER_SEC"
            )),
        }
    }
}

/// A seeded random fault policy: connection `n` always gets the same fault for the same
/// settings, however the connections interleave in time.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomPolicy {
    pub seed: u64,
    /// Chance (0..=1) that a connection gets a fault at all; otherwise it passes.
    pub fault_probability: f64,
    /// Drops, resets and stalls trigger after 0..=max_after bytes.
    pub max_after: u64,
    /// How long stalls last (`None`: for good).
    pub stall: Option<Duration>,
    /// Rate of the `Slow` fault; 0 leaves slow links out of the mix.
    pub slow_bytes_per_sec: u64,
}

impl RandomPolicy {
    pub fn new(seed: u64) -> RandomPolicy {
        RandomPolicy {
            seed,
            fault_probability: 0.5,
            max_after: 64 * 1024,
            stall: Some(Duration::from_secs(2)),
            slow_bytes_per_sec: 0,
        }
    }

    /// The fault of connection `index` (0-based, counted from when the policy was set).
    pub fn fault_for(&self, index: u64) -> Fault {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index);
        if !rng.gen_bool(self.fault_probability.clamp(0.0, 1.0)) {
            return Fault::Pass;
        }
        let kinds = if self.slow_bytes_per_sec > 0 { 4 } else { 3 };
        let dir = if rng.gen_bool(0.5) {
            Direction::Upstream
        } else {
            Direction::Downstream
        };
        let after = rng.gen_range(0..=self.max_after);
        match rng.gen_range(0..kinds) {
            0 => Fault::Drop { dir, after },
            1 => Fault::Reset { dir, after },
            2 => Fault::Stall {
                dir,
                after,
                duration: self.stall,
            },
            _ => Fault::Slow {
                bytes_per_sec: self.slow_bytes_per_sec,
            },
        }
    }
}

/// Which fault each new connection gets.
#[derive(Clone, Debug, PartialEq)]
pub enum Policy {
    /// Every connection gets this fault.
    Always(Fault),
    /// The n-th connection (counted from when the policy was set) gets the n-th fault; once the
    /// list is used up, connections pass.
    Schedule(Vec<Fault>),
    /// Seeded random faults.
    Random(RandomPolicy),
}

impl Policy {
    /// Every connection passes.
    pub fn pass() -> Policy {
        Policy::Always(Fault::Pass)
    }

    /// The fault of connection `index` (0-based, counted from when the policy was set).
    pub fn fault_for(&self, index: u64) -> Fault {
        match self {
            Policy::Always(f) => f.clone(),
            Policy::Schedule(list) => usize::try_from(index)
                .ok()
                .and_then(|i| list.get(i))
                .cloned()
                .unwrap_or(Fault::Pass),
            Policy::Random(r) => r.fault_for(index),
        }
    }
}

/// Counters of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionStats {
    /// 0-based, in the order the proxy accepted the connections.
    pub index: u64,
    pub fault: Fault,
    /// Bytes forwarded client → upstream.
    pub bytes_upstream: u64,
    /// Bytes forwarded upstream → client.
    pub bytes_downstream: u64,
    /// Whether the fault actually happened (a connection may end before its trigger point).
    pub fault_injected: bool,
    /// Still being forwarded.
    pub open: bool,
    /// Connecting to the upstream failed (the client's connection was closed at once).
    pub upstream_error: Option<String>,
}

/// Counters of the whole proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    pub connections: u64,
    pub bytes_upstream: u64,
    pub bytes_downstream: u64,
    pub faults_injected: u64,
    pub per_connection: Vec<ConnectionStats>,
    /// The most requests in flight at the same time: connections that had forwarded request
    /// bytes and no answer byte yet (HTTP/1.1 sends one request at a time per connection), all
    /// at once. Shows whether a client really overlaps its requests.
    pub max_in_flight: u64,
}

struct Conn {
    index: u64,
    fault: Fault,
    bytes: [AtomicU64; 2],
    injected: AtomicBool,
    /// Set when a fault ended the connection: the pumps stop without a word (no FIN).
    killed: AtomicBool,
    open: AtomicBool,
    /// Per direction (up, down): its pump has finished.
    ended: [AtomicBool; 2],
    upstream_error: Mutex<Option<String>>,
    /// A request is in flight: bytes went up since the last bytes came down.
    awaiting: AtomicBool,
    /// Both sockets while the connection is open (for stopping the proxy).
    sockets: Mutex<Option<(Arc<TcpStream>, Arc<TcpStream>)>>,
}

fn slot(dir: Direction) -> usize {
    match dir {
        Direction::Upstream => 0,
        Direction::Downstream => 1,
    }
}

impl Conn {
    fn counter(&self, dir: Direction) -> &AtomicU64 {
        &self.bytes[slot(dir)]
    }

    fn ended(&self, dir: Direction) -> &AtomicBool {
        &self.ended[slot(dir)]
    }

    fn snapshot(&self) -> ConnectionStats {
        ConnectionStats {
            index: self.index,
            fault: self.fault.clone(),
            bytes_upstream: self.bytes[0].load(Ordering::SeqCst),
            bytes_downstream: self.bytes[1].load(Ordering::SeqCst),
            fault_injected: self.injected.load(Ordering::SeqCst),
            open: self.open.load(Ordering::SeqCst),
            upstream_error: lock(&self.upstream_error).clone(),
        }
    }
}

struct Inner {
    upstream: SocketAddr,
    /// The policy and the index of the first connection it applies to.
    policy: Mutex<(Policy, u64)>,
    conns: Mutex<Vec<Arc<Conn>>>,
    stopping: AtomicBool,
    /// Signalled whenever a connection closes.
    idle: Condvar,
    /// Requests in flight now, and the most at once (see [`Stats::max_in_flight`]).
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

impl Inner {
    /// Marks the connection's request as in flight (`true`) or answered / over (`false`).
    fn set_awaiting(&self, conn: &Conn, awaiting: bool) {
        if conn.awaiting.swap(awaiting, Ordering::SeqCst) == awaiting {
            return;
        }
        if awaiting {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        } else {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running proxy; stops (closing every connection) when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    inner: Arc<Inner>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream`.
    pub fn start(upstream: impl ToSocketAddrs, policy: Policy) -> io::Result<FaultProxy> {
        FaultProxy::start_on("127.0.0.1:0", upstream, policy)
    }

    /// Listens on `listen` and forwards to `upstream`.
    pub fn start_on(
        listen: impl ToSocketAddrs,
        upstream: impl ToSocketAddrs,
        policy: Policy,
    ) -> io::Result<FaultProxy> {
        let upstream = upstream.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "upstream has no address")
        })?;
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            upstream,
            policy: Mutex::new((policy, 0)),
            conns: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            idle: Condvar::new(),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
        });
        let acceptor = inner.clone();
        let accept = std::thread::Builder::new()
            .name("faultproxy-accept".into())
            .spawn(move || accept_loop(listener, acceptor))?;
        Ok(FaultProxy {
            addr,
            inner,
            accept: Some(accept),
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the policy for connections accepted from now on; schedules and random
    /// policies count connections from this point.
    pub fn set_policy(&self, policy: Policy) {
        let next = lock(&self.inner.conns).len() as u64;
        *lock(&self.inner.policy) = (policy, next);
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        let per_connection: Vec<ConnectionStats> = lock(&self.inner.conns)
            .iter()
            .map(|c| c.snapshot())
            .collect();
        Stats {
            connections: per_connection.len() as u64,
            bytes_upstream: per_connection.iter().map(|c| c.bytes_upstream).sum(),
            bytes_downstream: per_connection.iter().map(|c| c.bytes_downstream).sum(),
            faults_injected: per_connection.iter().filter(|c| c.fault_injected).count() as u64,
            per_connection,
            max_in_flight: self.inner.max_in_flight.load(Ordering::SeqCst),
        }
    }

    /// Waits until no connection is open any more (counters are final then); false on timeout.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut conns = lock(&self.inner.conns);
        loop {
            if conns.iter().all(|c| !c.open.load(Ordering::SeqCst)) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = (deadline - now).min(Duration::from_millis(50));
            conns = match self.inner.idle.wait_timeout(conns, wait) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Closes every open connection (FIN both ways) but keeps listening.
    pub fn close_all(&self) {
        for c in lock(&self.inner.conns).iter() {
            c.killed.store(true, Ordering::SeqCst);
            if let Some((a, b)) = lock(&c.sockets).as_ref() {
                let _ = a.shutdown(Shutdown::Both);
                let _ = b.shutdown(Shutdown::Both);
            }
        }
    }

    /// Stops listening and closes every connection.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        self.close_all();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if self.accept.is_some() {
            self.stop_inner();
        }
    }
}

fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    for stream in listener.incoming() {
        if inner.stopping.load(Ordering::SeqCst) {
            return;
        }
        let client = match stream {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let conn = {
            let mut conns = lock(&inner.conns);
            let index = conns.len() as u64;
            let fault = {
                let p = lock(&inner.policy);
                p.0.fault_for(index.saturating_sub(p.1))
            };
            let conn = Arc::new(Conn {
                index,
                fault,
                bytes: [AtomicU64::new(0), AtomicU64::new(0)],
                injected: AtomicBool::new(false),
                killed: AtomicBool::new(false),
                open: AtomicBool::new(true),
                ended: [AtomicBool::new(false), AtomicBool::new(false)],
                upstream_error: Mutex::new(None),
                awaiting: AtomicBool::new(false),
                sockets: Mutex::new(None),
            });
            conns.push(conn.clone());
            conn
        };
        let handler = inner.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("faultproxy-conn-{}", conn.index))
            .spawn({
                let conn = conn.clone();
                move || handle(client, conn, handler)
            });
        if spawned.is_err() {
            finish(&conn, &inner);
        }
    }
}

fn finish(conn: &Conn, inner: &Inner) {
    *lock(&conn.sockets) = None;
    // Take the lock so a waiter cannot miss the notification between its check and its wait.
    inner.set_awaiting(conn, false);
    let _conns = lock(&inner.conns);
    conn.open.store(false, Ordering::SeqCst);
    inner.idle.notify_all();
}

fn handle(client: TcpStream, conn: Arc<Conn>, inner: Arc<Inner>) {
    let upstream = match TcpStream::connect_timeout(&inner.upstream, Duration::from_secs(10)) {
        Ok(u) => u,
        Err(e) => {
            *lock(&conn.upstream_error) = Some(e.to_string());
            let _ = client.shutdown(Shutdown::Both);
            finish(&conn, &inner);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let client = Arc::new(client);
    let upstream = Arc::new(upstream);
    *lock(&conn.sockets) = Some((client.clone(), upstream.clone()));
    if inner.stopping.load(Ordering::SeqCst) {
        conn.killed.store(true, Ordering::SeqCst);
        let _ = client.shutdown(Shutdown::Both);
        let _ = upstream.shutdown(Shutdown::Both);
    }
    if matches!(conn.fault, Fault::Slow { .. }) {
        conn.injected.store(true, Ordering::SeqCst);
    }
    let down = {
        let (c, u, k, i) = (
            client.clone(),
            upstream.clone(),
            conn.clone(),
            inner.clone(),
        );
        std::thread::Builder::new()
            .name(format!("faultproxy-down-{}", conn.index))
            .spawn(move || {
                pump(&u, &c, Direction::Downstream, &k, &i);
                k.ended(Direction::Downstream).store(true, Ordering::SeqCst);
            })
    };
    pump(&client, &upstream, Direction::Upstream, &conn, &inner);
    conn.ended(Direction::Upstream)
        .store(true, Ordering::SeqCst);
    match down {
        Ok(h) => {
            let _ = h.join();
        }
        Err(_) => {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }
    // The last references to the sockets go here: with SO_LINGER 0 set, closing sends RST.
    drop(client);
    drop(upstream);
    finish(&conn, &inner);
}

/// Ends the connection on a fault: with `reset`, both sockets will send RST when closed.
fn kill(conn: &Conn, from: &TcpStream, to: &TcpStream, reset: bool) {
    conn.killed.store(true, Ordering::SeqCst);
    conn.injected.store(true, Ordering::SeqCst);
    if reset {
        for s in [from, to] {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
            // Wake the other pump without sending anything: on Linux a blocked read returns 0.
            let _ = s.shutdown(Shutdown::Read);
        }
    } else {
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    }
}

/// Forwards `from` → `to` in direction `dir`, applying the connection's fault.
fn pump(from: &TcpStream, to: &TcpStream, dir: Direction, conn: &Conn, inner: &Inner) {
    let rate = match conn.fault {
        Fault::Slow { bytes_per_sec } => Some(bytes_per_sec.max(1)),
        _ => None,
    };
    // Small reads keep a rate limit smooth (about 20 writes a second).
    let buf_len = match rate {
        Some(r) => usize::try_from(r / 20)
            .unwrap_or(16 * 1024)
            .clamp(1, 16 * 1024),
        None => 16 * 1024,
    };
    let mut buf = vec![0u8; buf_len];
    let mut trigger = conn.fault.trigger().filter(|(d, _)| *d == dir);
    let started = Instant::now();
    let mut forwarded: u64 = 0;
    loop {
        if conn.killed.load(Ordering::SeqCst) {
            return;
        }
        // A pending one-off fault: read no further than its trigger point.
        let mut want = buf.len();
        if let Some((_, after)) = trigger {
            if forwarded >= after {
                trigger = None;
                match conn.fault {
                    Fault::Drop { .. } => return kill(conn, from, to, false),
                    Fault::Reset { .. } => return kill(conn, from, to, true),
                    Fault::Stall { duration, .. } => {
                        conn.injected.store(true, Ordering::SeqCst);
                        if !stall(from, dir, duration, conn, inner) {
                            let _ = from.shutdown(Shutdown::Both);
                            let _ = to.shutdown(Shutdown::Both);
                            return;
                        }
                        continue;
                    }
                    Fault::Pass | Fault::Slow { .. } => {}
                }
            } else {
                want = want.min(usize::try_from(after - forwarded).unwrap_or(want));
            }
        }
        let n = match (&*from).read(&mut buf[..want]) {
            Ok(0) => {
                if !conn.killed.load(Ordering::SeqCst) {
                    // Pass the half-close on.
                    let _ = to.shutdown(Shutdown::Write);
                }
                return;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                if !conn.killed.load(Ordering::SeqCst) {
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                }
                return;
            }
        };
        if conn.killed.load(Ordering::SeqCst) {
            return;
        }
        if (&*to).write_all(&buf[..n]).is_err() {
            if !conn.killed.load(Ordering::SeqCst) {
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
            }
            return;
        }
        forwarded += n as u64;
        conn.counter(dir).fetch_add(n as u64, Ordering::SeqCst);
        inner.set_awaiting(conn, dir == Direction::Upstream);
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64(forwarded as f64 / rate as f64);
            let elapsed = started.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
}

/// Holds a direction still. Returns true to carry on forwarding, false when the connection is
/// over (the sending side closed, a fault elsewhere ended it, or the proxy stops).
fn stall(
    from: &TcpStream,
    dir: Direction,
    duration: Option<Duration>,
    conn: &Conn,
    inner: &Inner,
) -> bool {
    let other = match dir {
        Direction::Upstream => Direction::Downstream,
        Direction::Downstream => Direction::Upstream,
    };
    let until = duration.map(|d| Instant::now() + d);
    // Only this thread reads `from`, so a read timeout on it bothers nobody.
    let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
    let mut sink = [0u8; 4096];
    let carry_on = loop {
        if conn.killed.load(Ordering::SeqCst) || inner.stopping.load(Ordering::SeqCst) {
            break false;
        }
        if let Some(until) = until {
            if Instant::now() >= until {
                break true;
            }
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        // For good, until the other direction ends or the sender closes (EOF or reset). What
        // the sender sends meanwhile is read and thrown away: the only way to notice its FIN
        // behind unread data without poll(2).
        if conn.ended(other).load(Ordering::SeqCst) {
            break false;
        }
        match (&*from).read(&mut sink) {
            Ok(0) => break false,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => break false,
        }
    };
    let _ = from.set_read_timeout(None);
    carry_on
}
