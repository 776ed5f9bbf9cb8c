//! Logging set-up and the Prometheus metrics served at /metrics.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DOI178_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_web=warn"));
    // Logs go to stderr (stdout carries the commands' own output) and are coloured only on a terminal.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub visits_stored: IntCounterVec,
    pub photos_stored: IntCounterVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "doi178_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "doi178_http_request_duration_seconds",
                "HTTP request latency",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["method", "route"],
        )?;
        let visits_stored = IntCounterVec::new(
            Opts::new("doi178_visits_stored_total", "Visit submissions by result"),
            &["result"],
        )?;
        let photos_stored = IntCounterVec::new(
            Opts::new("doi178_photos_stored_total", "Photo uploads by result"),
            &["result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(visits_stored.clone()))?;
        registry.register(Box::new(photos_stored.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            visits_stored,
            photos_stored,
        })
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let encoder = TextEncoder::new();
        if encoder.encode(&self.registry.gather(), &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
