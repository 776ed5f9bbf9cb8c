//! Photos in an S3-compatible object store (AWS S3, MinIO, Ceph, …) through `object_store`.
//!
//! `PhotoStore` is synchronous and the server calls it from blocking threads (`web::block`), while
//! `object_store` is async: the store owns a small dedicated tokio runtime, spawns each operation
//! on it and waits for the answer on a channel. Nothing blocks an actix worker, and the blocking
//! thread never enters a runtime of its own (no nested `block_on`). Every operation is bounded by
//! the configured timeout (retries included), so a store that has gone away turns into an error
//! (the API answers 503 with `Retry-After`) instead of a request that hangs.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, Checksum};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use uuid::Uuid;

use super::{relative_key, PhotoStore, Variant};
use crate::config::S3Settings;

pub struct S3Store {
    store: Arc<AmazonS3>,
    prefix: String,
    bucket: String,
    timeout: Duration,
    /// Always Some until drop (a runtime must not be dropped on an async thread: it is shut down
    /// in the background instead).
    runtime: Option<tokio::runtime::Runtime>,
}

impl S3Store {
    pub fn new(s: &S3Settings) -> anyhow::Result<S3Store> {
        // The TLS crypto provider of the process (reqwest is built without one): ring. An error
        // only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_virtual_hosted_style_request(s.virtual_hosted_style)
            // The store checks the SHA-256 of every body it receives.
            .with_checksum_algorithm(Checksum::SHA256)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(1),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: s.timeout,
            })
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(s.timeout)
                    .with_connect_timeout(s.timeout.min(Duration::from_secs(5)))
                    .with_allow_http(
                        s.endpoint
                            .as_deref()
                            .is_some_and(|e| e.starts_with("http://")),
                    ),
            );
        if let Some(endpoint) = &s.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(k) = &s.access_key_id {
            builder = builder.with_access_key_id(k);
        }
        if let Some(k) = &s.secret_access_key {
            builder = builder.with_secret_access_key(k);
        }
        if let Some(t) = &s.session_token {
            builder = builder.with_token(t);
        }
        let store = builder
            .build()
            .map_err(|e| anyhow::anyhow!("S3 photo store: {e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("doi178-s3")
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("S3 photo store: cannot start its runtime: {e}"))?;
        Ok(S3Store {
            store: Arc::new(store),
            prefix: s.prefix.clone(),
            bucket: s.bucket.clone(),
            timeout: s.timeout,
            runtime: Some(runtime),
        })
    }

    fn key(&self, id: Uuid, variant: Variant) -> ObjectPath {
        ObjectPath::from(format!(
            "{}photos/{}",
            self.prefix,
            relative_key(id, variant)
        ))
    }

    /// Runs `fut` on the store's runtime and waits for it (at most the timeout plus a margin).
    fn run<T, F>(&self, fut: F) -> std::io::Result<T>
    where
        T: Send + 'static,
        F: std::future::Future<Output = std::io::Result<T>> + Send + 'static,
    {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| std::io::Error::other("S3 photo store is shut down"))?;
        let (tx, rx) = mpsc::sync_channel(1);
        let limit = self.timeout;
        runtime.spawn(async move {
            let result = match tokio::time::timeout(limit, fut).await {
                Ok(r) => r,
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("S3 operation took longer than {} s", limit.as_secs()),
                )),
            };
            let _ = tx.send(result);
        });
        rx.recv_timeout(limit + Duration::from_secs(5))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "S3 operation lost"))?
    }

    /// Whether the bucket answers (any answer but a transport error or an authorisation failure).
    pub fn check(&self) -> std::io::Result<()> {
        let store = self.store.clone();
        let probe = ObjectPath::from(format!("{}photos/.probe", self.prefix));
        self.run(async move {
            match store.head(&probe).await {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        })
    }
}

impl PhotoStore for S3Store {
    fn put(&self, id: Uuid, variant: Variant, bytes: &[u8]) -> std::io::Result<()> {
        let store = self.store.clone();
        let key = self.key(id, variant);
        let payload = PutPayload::from(bytes.to_vec());
        // S3 answers a PUT only once the object is stored durably; the upload is acknowledged
        // to the phone only after this returns.
        self.run(async move {
            store
                .put(&key, payload)
                .await
                .map(|_| ())
                .map_err(|e| std::io::Error::other(format!("S3 put {key}: {e}")))
        })
    }

    fn get(&self, id: Uuid, variant: Variant) -> std::io::Result<Option<Vec<u8>>> {
        let store = self.store.clone();
        let key = self.key(id, variant);
        self.run(async move {
            match store.get(&key).await {
                Ok(r) => r
                    .bytes()
                    .await
                    .map(|b| Some(b.to_vec()))
                    .map_err(|e| std::io::Error::other(format!("S3 get {key}: {e}"))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(std::io::Error::other(format!("S3 get {key}: {e}"))),
            }
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}photos", self.bucket, self.prefix)
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
