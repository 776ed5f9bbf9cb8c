//! The test-support library of doi178: everything that starts the real `doi178-server` binary and
//! talks to it, shared by the black-box tests (`tests/tests`), the load generator
//! (`tests/loadgen`), the fault proxy's tests and the field app's tests.
//!
//! - [`server`]: the binary's path ([`server_bin`]), a free port, starting `serve` with the tests'
//!   settings ([`ServerProcess`], [`ServeOptions`]), its output, kill on drop; `demo`, `routes`.
//! - [`database`]: the database a server runs on: SQLite, or PostgreSQL when
//!   `DOI178_TEST_DATABASE_URL` is set; cached demo-data templates ([`Database`]), an empty
//!   database per data directory ([`TestDb`]).
//! - [`test_server`]: [`TestServer`] (a server on a fresh copy of the demo data plus an HTTP client
//!   that fails on a 500), [`Resp`], [`Session`], [`Browser`] and small HTTP helpers.
//! - [`raw`]: direct database access ([`Raw`], [`all_rows`], [`photo_rows`]).
//! - [`fixtures`]: photos to upload ([`jpeg`] and friends).
//! - [`storage`]: servers on a data directory the test controls, the command line, visits with
//!   photos (the backup and S3 tests).
//! - [`http_client`]: every HTTP client of the tests starts here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod database;
pub mod fixtures;
pub mod raw;
pub mod server;
pub mod storage;
pub mod test_server;

pub use database::{admin_url, backend_name, with_database, Backend, Database, Demo, TestDb};
pub use fixtures::*;
pub use raw::{all_rows, photo_rows, Raw, Text};
pub use server::{
    free_port, route_table, run_demo, server_bin, spawn_server, RouteRule, ServeOptions,
    ServerProcess, DEMO_PASSWORD, JWT_SECRET,
};
pub use test_server::*;

/// Installs the process's TLS crypto provider, ring (the workspace builds reqwest with rustls but
/// no provider of its own, and a client cannot be built before one is installed). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A blocking HTTP client builder, after [`install_tls_provider`].
pub fn http_client() -> reqwest::blocking::ClientBuilder {
    install_tls_provider();
    reqwest::blocking::Client::builder()
}
