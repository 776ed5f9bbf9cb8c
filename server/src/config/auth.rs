//! Settings of the sign-in defences: throttling of failed sign-ins, the refresh grace window and
//! the reverse proxies whose `X-Forwarded-For` is believed. From `DOI178_*` environment variables,
//! then the `[auth]` table of the config file, then defaults.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;
use serde::Deserialize;

/// The `[auth]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFileSettings {
    pub max_failures_per_account: Option<u32>,
    pub max_failures_per_address: Option<u32>,
    pub failure_window_seconds: Option<u64>,
    pub refresh_grace_seconds: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// Failed sign-ins on one username within the window before it answers 429.
    pub max_failures_per_account: u32,
    /// Failed sign-ins from one client address within the window before it answers 429.
    pub max_failures_per_address: u32,
    pub failure_window_seconds: u64,
    /// How long a just-rotated refresh token may be presented again (its answer was lost) while
    /// its successor has not been used.
    pub refresh_grace_seconds: u64,
    /// Peers whose `X-Forwarded-For` names the client; empty: the peer address is the client.
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            failure_window_seconds: 15 * 60,
            refresh_grace_seconds: 30,
            trusted_proxies: Vec::new(),
        }
    }
}

fn env_parse<T: FromStr>(name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not valid: {e}")),
        _ => Ok(None),
    }
}

impl AuthSettings {
    /// Environment first (`DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT`,
    /// `DOI178_LOGIN_MAX_FAILURES_PER_ADDRESS`, `DOI178_LOGIN_FAILURE_WINDOW_SECONDS`,
    /// `DOI178_REFRESH_GRACE_SECONDS`, `DOI178_TRUSTED_PROXIES` comma-separated), then the file.
    pub fn resolve(file: Option<AuthFileSettings>) -> anyhow::Result<AuthSettings> {
        let file = file.unwrap_or_default();
        let d = AuthSettings::default();
        let proxies: Vec<String> = match std::env::var("DOI178_TRUSTED_PROXIES") {
            Ok(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            Err(_) => file.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies = proxies
            .iter()
            .map(|p| {
                p.parse::<IpNet>()
                    .map_err(|e| anyhow::anyhow!("trusted proxy {p:?} is not valid: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let s = AuthSettings {
            max_failures_per_account: env_parse("DOI178_LOGIN_MAX_FAILURES_PER_ACCOUNT")?
                .or(file.max_failures_per_account)
                .unwrap_or(d.max_failures_per_account),
            max_failures_per_address: env_parse("DOI178_LOGIN_MAX_FAILURES_PER_ADDRESS")?
                .or(file.max_failures_per_address)
                .unwrap_or(d.max_failures_per_address),
            failure_window_seconds: env_parse("DOI178_LOGIN_FAILURE_WINDOW_SECONDS")?
                .or(file.failure_window_seconds)
                .unwrap_or(d.failure_window_seconds),
            refresh_grace_seconds: env_parse("DOI178_REFRESH_GRACE_SECONDS")?
                .or(file.refresh_grace_seconds)
                .unwrap_or(d.refresh_grace_seconds),
            trusted_proxies,
        };
        anyhow::ensure!(
            s.max_failures_per_account >= 1 && s.max_failures_per_address >= 1,
            "the sign-in failure limits must be at least 1"
        );
        anyhow::ensure!(
            (1..=7 * 24 * 3600).contains(&s.failure_window_seconds),
            "the sign-in failure window must be between 1 second and 7 days"
        );
        anyhow::ensure!(
            s.refresh_grace_seconds <= 600,
            "the refresh grace window must be at most 600 seconds"
        );
        Ok(s)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the TCP peer, or, when the peer is a trusted proxy, the right-most
    /// address in `X-Forwarded-For` that is not itself a trusted proxy (everything left of it
    /// was written by the client and proves nothing).
    pub fn client_addr(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr().map(|a| canonical(a.ip()))?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                // Garbage: the last address we could believe is the client.
                None => break,
            }
        }
        Some(client)
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) count as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    None
}

/// An address block, `10.0.0.0/8` or `::1/128`; a bare address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<IpNet, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr = canonical(
            addr.parse::<IpAddr>()
                .map_err(|_| "expected an IP address or a block such as 10.0.0.0/8".to_string())?,
        );
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn address_blocks() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.9.9.9")));
        let one: IpNet = "192.168.1.7".parse().unwrap();
        assert!(one.contains(ip("192.168.1.7")));
        assert!(!one.contains(ip("192.168.1.8")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("proxy.local".parse::<IpNet>().is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let plain = AuthSettings::default();
        let req = TestRequest::default()
            .peer_addr("10.0.0.5:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "203.0.113.9"))
            .to_http_request();
        assert_eq!(plain.client_addr(&req), Some(ip("10.0.0.5")));

        let behind = AuthSettings {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..AuthSettings::default()
        };
        assert_eq!(behind.client_addr(&req), Some(ip("203.0.113.9")));
        // The client cannot choose its address by prepending one: the right-most untrusted hop.
        let spoofed = TestRequest::default()
            .peer_addr("10.0.0.5:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "1.1.1.1, 198.51.100.4, 10.0.0.9"))
            .to_http_request();
        assert_eq!(behind.client_addr(&spoofed), Some(ip("198.51.100.4")));
        // Garbage stops the walk at the last believable address.
        let garbage = TestRequest::default()
            .peer_addr("10.0.0.5:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "1.1.1.1, nonsense"))
            .to_http_request();
        assert_eq!(behind.client_addr(&garbage), Some(ip("10.0.0.5")));
        // A peer outside the trusted blocks is the client, whatever it claims.
        let direct = TestRequest::default()
            .peer_addr("203.0.113.50:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "1.1.1.1"))
            .to_http_request();
        assert_eq!(behind.client_addr(&direct), Some(ip("203.0.113.50")));
    }
}
