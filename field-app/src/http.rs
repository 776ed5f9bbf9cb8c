//! The transport: one request, read to the end, with bounded retries. Any failure to connect, a
//! connection cut at any byte (request or response), a timeout, a 5xx, 408 or 429 is a transient
//! error retried with backoff; other answers are returned to the caller.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use doi178_shared::wire::Problem;
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::Value;

use crate::error::{code, FieldError, FieldResult};
use crate::retry::RetryPolicy;

pub struct Request<'a> {
    pub method: Method,
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> FieldResult<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            FieldError::new(
                code::SERVER,
                format!("the server's answer is not JSON ({e})"),
            )
        })
    }

    /// The problem body of an error answer, if it is one.
    pub fn problem(&self) -> Option<Problem> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `code` of a problem body, if any.
    pub fn problem_code(&self) -> Option<String> {
        self.problem().map(|p| p.code.as_str().to_string())
    }

    /// A one-line reason for the UI: status, code, message and field of a problem body.
    pub fn reason(&self) -> String {
        match self.problem() {
            Some(p) => {
                let mut out = format!("HTTP {} code={}", self.status, p.code);
                if let Some(f) = p.field.filter(|f| !f.is_empty()) {
                    out.push_str(&format!(" field={f}"));
                }
                for (k, v) in [("detail", p.detail), ("title", p.title)] {
                    if !v.is_empty() {
                        out.push_str(&format!(" {k}={v}"));
                    }
                }
                out
            }
            None => format!(
                "HTTP {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            ),
        }
    }
}

pub struct Transport {
    client: Client,
    pub retry: RetryPolicy,
    requests: AtomicU32,
}

fn transient_status(s: u16) -> bool {
    s >= 500 || s == 408 || s == 429
}

impl Transport {
    pub fn new(retry: RetryPolicy, timeout: Duration) -> FieldResult<Self> {
        // The TLS crypto provider of the process (reqwest is built without one): ring. An error
        // only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Mozilla's root certificates, shipped in the app: the same on every phone, and no
        // platform verifier to set up on Android.
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok());
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(15)))
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_rustls()
            .tls_certs_only(roots)
            .build()
            .map_err(|e| FieldError::new(code::SERVER, format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            retry,
            requests: AtomicU32::new(0),
        })
    }

    /// Requests made so far by this transport (retries included).
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    fn once(&self, base: &str, r: &Request<'_>) -> Result<Response, String> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self
            .client
            .request(r.method.clone(), format!("{base}{}", r.path));
        if let Some(t) = r.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in &r.headers {
            req = req.header(*k, v);
        }
        if let Some(b) = &r.body {
            req = req.body(b.clone());
        }
        let res = req.send().map_err(|e| format!("{e}"))?;
        let status = res.status().as_u16();
        // Read the whole body: a connection cut mid-answer is an error, never half an answer.
        let body = res
            .bytes()
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok(Response {
            status,
            body: body.to_vec(),
        })
    }

    /// One attempt, no retry (for what must not keep the user waiting, like signing out).
    pub fn send_once(&self, base: &str, r: &Request<'_>) -> FieldResult<Response> {
        self.once(base, r)
            .map_err(|e| FieldError::new(code::OFFLINE, format!("{} {}: {e}", r.method, r.path)))
    }

    /// Sends with bounded retries. `Err(offline)` when every attempt failed transiently.
    pub fn send(&self, base: &str, r: &Request<'_>) -> FieldResult<Response> {
        if base.is_empty() {
            return Err(FieldError::new(
                code::NOT_CONFIGURED,
                "no server URL is set (settings_set server_url)",
            ));
        }
        let mut rng = rand::thread_rng();
        let mut attempt = 0u32;
        loop {
            let last = match self.once(base, r) {
                Ok(resp) if !transient_status(resp.status) => return Ok(resp),
                Ok(resp) => resp.reason(),
                Err(e) => e,
            };
            if !self.retry.may_retry(attempt) {
                return Err(FieldError::new(
                    code::OFFLINE,
                    format!(
                        "{} {} failed {} time(s); last: {last}",
                        r.method,
                        r.path,
                        attempt + 1
                    ),
                ));
            }
            std::thread::sleep(self.retry.delay(attempt, &mut rng));
            attempt += 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A server that answers `answer` (then closes) to every connection, for `n` connections.
    fn fake(answer: &'static [u8], n: usize) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming().take(n) {
                let mut s = s.unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(answer);
            }
        });
        format!("http://{addr}")
    }

    fn transport() -> Transport {
        Transport::new(
            RetryPolicy {
                max_attempts: 3,
                base_ms: 1,
                cap_ms: 5,
            },
            Duration::from_secs(5),
        )
        .unwrap()
    }

    fn get(path: &str) -> Request<'_> {
        Request {
            method: Method::GET,
            path,
            token: None,
            headers: vec![],
            body: None,
        }
    }

    #[test]
    fn an_answer_cut_short_is_retried_then_offline() {
        // Promises 1000 bytes, sends 12, closes.
        let base = fake(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"cursor\":\"1",
            3,
        );
        let t = transport();
        let e = t.send(&base, &get("/api/v1/sync")).unwrap_err();
        assert_eq!(e.code, code::OFFLINE, "{e:?}");
        assert_eq!(t.requests(), 3, "bounded: max_attempts requests");
    }

    #[test]
    fn a_connection_closed_before_any_byte_and_5xx_are_transient() {
        let base = fake(b"", 3);
        let t = transport();
        assert_eq!(t.send(&base, &get("/x")).unwrap_err().code, code::OFFLINE);
        let base = fake(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
            3,
        );
        let t = transport();
        assert_eq!(t.send(&base, &get("/x")).unwrap_err().code, code::OFFLINE);
        assert_eq!(t.requests(), 3);
    }

    #[test]
    fn a_4xx_is_returned_at_once() {
        let base = fake(
            b"HTTP/1.1 422 Unprocessable Entity\r\nContent-Type: application/problem+json\r\nContent-Length: 102\r\n\r\n{\"type\":\"/problems/invalid\",\"title\":\"Invalid\",\"status\":422,\"detail\":\"no\",\"code\":\"invalid\",\"field\":\"x\"}",
            1,
        );
        let t = transport();
        let r = t.send(&base, &get("/x")).unwrap();
        assert_eq!(r.status, 422);
        assert_eq!(r.problem_code().as_deref(), Some("invalid"));
        assert_eq!(
            r.reason(),
            "HTTP 422 code=invalid field=x detail=no title=Invalid"
        );
        assert_eq!(t.requests(), 1);
    }
}
