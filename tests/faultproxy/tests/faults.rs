//! Each fault as a client sees it, against small upstreams started in the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use faultproxy::{Direction, Fault, FaultProxy, Policy, RandomPolicy};

/// Starts `serve` for every connection to a fresh local listener.
fn upstream(serve: impl Fn(TcpStream) + Send + Sync + Clone + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(s));
        }
    });
    addr
}

fn echo() -> SocketAddr {
    upstream(|mut s| {
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Sends `len` bytes of `pattern` to each client, then closes.
fn source(len: usize) -> SocketAddr {
    upstream(move |mut s| {
        let _ = s.write_all(&pattern(len));
    })
}

/// Reads each connection to its end and reports how many bytes arrived.
fn sink() -> (SocketAddr, mpsc::Receiver<usize>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Arc::new(std::sync::Mutex::new(tx));
    let addr = upstream(move |mut s| {
        let mut total = 0;
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        let _ = tx.lock().unwrap().send(total);
    });
    (addr, rx)
}

fn connect(proxy: &FaultProxy) -> TcpStream {
    let s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn pass_through_forwards_everything_and_counts_it() {
    let proxy = FaultProxy::start(echo(), Policy::pass()).unwrap();
    let data = pattern(300_000);
    for _ in 0..2 {
        let mut s = connect(&proxy);
        let writer = {
            let mut w = s.try_clone().unwrap();
            let data = data.clone();
            std::thread::spawn(move || {
                w.write_all(&data).unwrap();
                w.shutdown(std::net::Shutdown::Write).unwrap();
            })
        };
        let mut back = Vec::new();
        s.read_to_end(&mut back).unwrap();
        writer.join().unwrap();
        assert_eq!(back, data);
    }
    assert!(proxy.wait_idle(Duration::from_secs(5)));
    let stats = proxy.stats();
    assert_eq!(stats.connections, 2);
    assert_eq!(stats.bytes_upstream, 600_000);
    assert_eq!(stats.bytes_downstream, 600_000);
    assert_eq!(stats.faults_injected, 0);
    for c in &stats.per_connection {
        assert_eq!((c.bytes_upstream, c.bytes_downstream), (300_000, 300_000));
        assert!(!c.open && !c.fault_injected && c.fault == Fault::Pass);
    }
}

#[test]
fn drop_downstream_delivers_exactly_n_bytes_then_eof() {
    let proxy = FaultProxy::start(
        source(100_000),
        Policy::Always(Fault::Drop {
            dir: Direction::Downstream,
            after: 12_345,
        }),
    )
    .unwrap();
    let mut got = Vec::new();
    connect(&proxy).read_to_end(&mut got).unwrap();
    assert_eq!(got, pattern(100_000)[..12_345].to_vec());
    assert!(proxy.wait_idle(Duration::from_secs(5)));
    let c = &proxy.stats().per_connection[0];
    assert_eq!(c.bytes_downstream, 12_345);
    assert!(c.fault_injected);
}

#[test]
fn drop_upstream_lets_exactly_n_bytes_reach_the_server() {
    let (addr, arrived) = sink();
    let proxy = FaultProxy::start(
        addr,
        Policy::Always(Fault::Drop {
            dir: Direction::Upstream,
            after: 50_000,
        }),
    )
    .unwrap();
    let mut s = connect(&proxy);
    // The client notices: writing the rest fails, or reading ends at once.
    let write = s.write_all(&pattern(2_000_000));
    let mut rest = Vec::new();
    let read = s.read_to_end(&mut rest);
    assert!(write.is_err() || matches!(read, Ok(0)) || read.is_err());
    assert!(rest.is_empty());
    assert_eq!(
        arrived.recv_timeout(Duration::from_secs(5)).unwrap(),
        50_000
    );
    assert!(proxy.wait_idle(Duration::from_secs(5)));
    let stats = proxy.stats();
    assert_eq!(stats.bytes_upstream, 50_000);
    assert_eq!(stats.faults_injected, 1);
}

#[test]
fn reset_is_a_connection_reset_for_the_client() {
    for dir in [Direction::Upstream, Direction::Downstream] {
        let proxy =
            FaultProxy::start(echo(), Policy::Always(Fault::Reset { dir, after: 10 })).unwrap();
        let mut s = connect(&proxy);
        s.write_all(b"0123456789abcdefghij").unwrap();
        let mut got = Vec::new();
        let err = s
            .read_to_end(&mut got)
            .expect_err("a reset connection must not end cleanly");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{dir:?}: {err}");
        assert!(got.len() <= 10, "{dir:?}: {} bytes", got.len());
        assert!(proxy.wait_idle(Duration::from_secs(5)));
        let stats = proxy.stats();
        assert_eq!(stats.faults_injected, 1);
        let c = &stats.per_connection[0];
        match dir {
            Direction::Upstream => assert_eq!(c.bytes_upstream, 10),
            Direction::Downstream => assert_eq!(c.bytes_downstream, 10),
        }
    }
}

#[test]
fn stall_for_good_runs_the_client_into_its_timeout() {
    let proxy = FaultProxy::start(
        echo(),
        Policy::Always(Fault::Stall {
            dir: Direction::Upstream,
            after: 5,
            duration: None,
        }),
    )
    .unwrap();
    let mut s = connect(&proxy);
    s.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    s.write_all(b"helloworld").unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    let started = Instant::now();
    let err = s.read(&mut buf).expect_err("nothing more may arrive");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    assert!(started.elapsed() >= Duration::from_millis(600));
    let stats = proxy.stats();
    assert_eq!(stats.faults_injected, 1);
    assert_eq!(stats.bytes_upstream, 5);
    assert!(stats.per_connection[0].open);
    // The client gives up: the proxy notices and lets go of the connection.
    drop(s);
    assert!(proxy.wait_idle(Duration::from_secs(5)));
}

#[test]
fn stall_for_a_while_then_carries_on() {
    let proxy = FaultProxy::start(
        source(1000),
        Policy::Always(Fault::Stall {
            dir: Direction::Downstream,
            after: 100,
            duration: Some(Duration::from_millis(800)),
        }),
    )
    .unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    connect(&proxy).read_to_end(&mut got).unwrap();
    let took = started.elapsed();
    assert_eq!(got, pattern(1000));
    assert!(took >= Duration::from_millis(800), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(proxy.wait_idle(Duration::from_secs(5)));
    assert_eq!(proxy.stats().faults_injected, 1);
}

#[test]
fn slow_limits_the_rate() {
    let rate = 100_000u64;
    let len = 150_000usize;
    for (name, addr) in [("download", source(len)), ("upload", sink().0)] {
        let proxy = FaultProxy::start(
            addr,
            Policy::Always(Fault::Slow {
                bytes_per_sec: rate,
            }),
        )
        .unwrap();
        let mut s = connect(&proxy);
        let started = Instant::now();
        if name == "download" {
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            assert_eq!(got.len(), len);
        } else {
            s.write_all(&pattern(len)).unwrap();
            s.shutdown(std::net::Shutdown::Write).unwrap();
            // Done once the proxy has forwarded everything and the sink closed.
            let mut rest = Vec::new();
            s.read_to_end(&mut rest).unwrap();
        }
        let took = started.elapsed().as_secs_f64();
        let measured = len as f64 / took;
        assert!(
            measured <= rate as f64 * 1.1 && measured >= rate as f64 * 0.7,
            "{name}: {measured:.0} B/s for a {rate} B/s limit ({took:.2} s)"
        );
        drop(s);
        assert!(proxy.wait_idle(Duration::from_secs(5)));
        assert_eq!(proxy.stats().faults_injected, 1);
    }
}

#[test]
fn schedule_applies_to_connections_in_order_and_set_policy_restarts_it() {
    let proxy = FaultProxy::start(
        source(1000),
        Policy::Schedule(vec![
            Fault::Drop {
                dir: Direction::Downstream,
                after: 3,
            },
            Fault::Pass,
            Fault::Drop {
                dir: Direction::Downstream,
                after: 7,
            },
        ]),
    )
    .unwrap();
    let mut lens = Vec::new();
    for _ in 0..4 {
        let mut got = Vec::new();
        connect(&proxy).read_to_end(&mut got).unwrap();
        lens.push(got.len());
    }
    assert_eq!(lens, [3, 1000, 7, 1000]);
    proxy.set_policy(Policy::Schedule(vec![Fault::Drop {
        dir: Direction::Downstream,
        after: 1,
    }]));
    let mut got = Vec::new();
    connect(&proxy).read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), 1);
    assert!(proxy.wait_idle(Duration::from_secs(5)));
    let stats = proxy.stats();
    assert_eq!(stats.connections, 5);
    assert_eq!(stats.faults_injected, 3);
    assert_eq!(stats.bytes_downstream, 3 + 1000 + 7 + 1000 + 1);
    let per: Vec<u64> = stats
        .per_connection
        .iter()
        .map(|c| c.bytes_downstream)
        .collect();
    assert_eq!(per, [3, 1000, 7, 1000, 1]);
}

#[test]
fn random_policy_is_reproducible_from_its_seed() {
    let policy = RandomPolicy {
        seed: 178,
        fault_probability: 0.6,
        max_after: 500,
        stall: Some(Duration::from_millis(300)),
        slow_bytes_per_sec: 1_000_000,
    };
    let a: Vec<Fault> = (0..200).map(|i| policy.fault_for(i)).collect();
    let b: Vec<Fault> = (0..200).map(|i| policy.clone().fault_for(i)).collect();
    assert_eq!(a, b);
    let other: Vec<Fault> = (0..200)
        .map(|i| {
            RandomPolicy {
                seed: 179,
                ..policy.clone()
            }
            .fault_for(i)
        })
        .collect();
    assert_ne!(a, other);
    // Every kind shows up, about as often as asked.
    let passes = a.iter().filter(|f| **f == Fault::Pass).count();
    assert!((50..110).contains(&passes), "{passes} passes of 200");
    for kind in ["drop:", "reset:", "stall:", "slow:"] {
        assert!(a.iter().any(|f| f.to_string().starts_with(kind)), "{kind}");
    }
    assert!(a.iter().all(|f| match f {
        Fault::Drop { after, .. } | Fault::Reset { after, .. } | Fault::Stall { after, .. } =>
            *after <= 500,
        _ => true,
    }));

    // Through the proxy, in two runs: the same faults at the same connections, and the client
    // sees what the fault says.
    let addr = source(2000);
    let mut runs = Vec::new();
    for _ in 0..2 {
        let proxy = FaultProxy::start(addr, Policy::Random(policy.clone())).unwrap();
        let mut seen = Vec::new();
        for i in 0..12 {
            let mut s = connect(&proxy);
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let mut got = Vec::new();
            let result = s.read_to_end(&mut got);
            match policy.fault_for(i) {
                Fault::Pass | Fault::Slow { .. } => assert_eq!(got.len(), 2000, "{i}"),
                Fault::Stall {
                    dir: Direction::Downstream,
                    ..
                } => assert_eq!(got.len(), 2000, "{i}: a stall of 300 ms is waited out"),
                Fault::Drop {
                    dir: Direction::Downstream,
                    after,
                } => assert_eq!(got.len() as u64, after, "{i}"),
                Fault::Reset {
                    dir: Direction::Downstream,
                    after,
                } => {
                    assert!(result.is_err() || after >= 2000, "{i}");
                    assert!(got.len() as u64 <= after, "{i}");
                }
                // The source sends without reading: faults on the way up never trigger.
                _ => assert_eq!(got.len(), 2000, "{i}"),
            }
            seen.push(got.len());
        }
        assert!(proxy.wait_idle(Duration::from_secs(5)));
        let stats = proxy.stats();
        let faults: Vec<Fault> = stats
            .per_connection
            .iter()
            .map(|c| c.fault.clone())
            .collect();
        assert_eq!(faults, a[..12].to_vec());
        runs.push((seen, stats.bytes_downstream));
    }
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn faults_parse_and_print_the_same_syntax() {
    for s in [
        "pass",
        "drop:up:1000",
        "drop:down:0",
        "reset:up:7",
        "stall:down:5",
        "stall:up:5:1500ms",
        "slow:125000",
    ] {
        let f: Fault = s.parse().unwrap();
        assert_eq!(f.to_string(), s);
    }
    assert_eq!(
        "stall:up:1:2s".parse::<Fault>().unwrap(),
        Fault::Stall {
            dir: Direction::Upstream,
            after: 1,
            duration: Some(Duration::from_secs(2))
        }
    );
    for bad in [
        "",
        "drop",
        "drop:sideways:1",
        "drop:up:x",
        "slow:0",
        "stall:up:1:soon",
    ] {
        assert!(bad.parse::<Fault>().is_err(), "{bad:?}");
    }
}

#[test]
fn an_unreachable_upstream_closes_the_client_and_is_recorded() {
    // A port nobody listens on: bind, note, close.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = FaultProxy::start(dead, Policy::pass()).unwrap();
    let mut got = Vec::new();
    let _ = connect(&proxy).read_to_end(&mut got);
    assert!(got.is_empty());
    assert!(proxy.wait_idle(Duration::from_secs(5)));
    let stats = proxy.stats();
    assert_eq!(stats.connections, 1);
    assert!(stats.per_connection[0].upstream_error.is_some());
}
