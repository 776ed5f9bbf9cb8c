//! Typed settings for the server, layered: command-line flags, then `DOI178_*` environment
//! variables (both handled by clap), then a TOML config file, then built-in defaults.

pub mod auth;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_PORT: u16 = 8178;

/// Values that may come from the config file. Every field is optional; absent means "default".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub jwt_secret: Option<String>,
    pub workers: Option<usize>,
    pub db_max_connections: Option<u32>,
    pub public_url: Option<String>,
    pub map_tiles_url: Option<String>,
    /// `local` (the default: `<data_dir>/photos`) or `s3`.
    pub photo_store: Option<String>,
    /// The S3-compatible store, when `photo_store = "s3"`.
    pub s3: Option<S3FileSettings>,
    /// `[auth]`: sign-in throttling, refresh grace window, trusted proxies.
    pub auth: Option<auth::AuthFileSettings>,
}

impl FileSettings {
    pub fn load(path: Option<&Path>) -> anyhow::Result<FileSettings> {
        let Some(path) = path else {
            return Ok(FileSettings::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("config file {} is not valid: {e}", path.display()))
    }
}

/// The resolved settings the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub port: u16,
    pub bind: IpAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Secret for signing access tokens. When none is configured one is generated on first start
    /// and kept in `<data_dir>/jwt-secret` (never in the repository).
    pub jwt_secret: Option<String>,
    pub workers: usize,
    pub db_max_connections: u32,
    pub demo: bool,
    pub public_url: Option<String>,
    /// Base map tiles for the dashboard's map, an `https://…/{z}/{x}/{y}.png` template (Leaflet's
    /// `{s}` subdomains allowed). None (the default): the map shows only the shipped boundaries
    /// and works with no internet.
    pub map_tiles_url: Option<String>,
    /// Where photo bytes live.
    pub photo_store: PhotoStoreSettings,
    /// Sign-in throttling, the refresh grace window and the trusted reverse proxies.
    pub auth: auth::AuthSettings,
}

impl Settings {
    pub fn default_database_url(data_dir: &Path) -> String {
        data_dir.join("doi178.sqlite").display().to_string()
    }

    pub fn photo_dir(&self) -> PathBuf {
        self.data_dir.join("photos")
    }
}

/// `[s3]` in the config file. Every key may also come from the environment (which wins):
/// `DOI178_S3_BUCKET`, `DOI178_S3_ENDPOINT`, `DOI178_S3_REGION`, `DOI178_S3_PREFIX`,
/// `DOI178_S3_VIRTUAL_HOSTED_STYLE`, `DOI178_S3_TIMEOUT_SECS`; credentials from the standard
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` (keep them out of files
/// that are checked in).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3FileSettings {
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub prefix: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub virtual_hosted_style: Option<bool>,
    pub timeout_secs: Option<u64>,
}

impl std::fmt::Debug for S3FileSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3FileSettings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Where photo bytes live.
#[derive(Debug, Clone, Default)]
pub enum PhotoStoreSettings {
    /// `<data_dir>/photos` on this machine.
    #[default]
    Local,
    /// An S3-compatible object store (AWS S3, MinIO, Ceph, …), for several servers sharing photos.
    S3(S3Settings),
}

#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// `http://127.0.0.1:9000` for a local server (path-style requests); None: AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// Key prefix inside the bucket, e.g. `doi178/` (empty by default).
    pub prefix: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// `bucket.host` requests instead of `host/bucket` (path-style, the default).
    pub virtual_hosted_style: bool,
    /// Upper bound for one store operation, retries included.
    pub timeout: std::time::Duration,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl PhotoStoreSettings {
    /// The photo store from `DOI178_PHOTO_STORE` / `DOI178_S3_*` / `AWS_*` and the config file.
    pub fn resolve(
        photo_store: Option<String>,
        s3: Option<S3FileSettings>,
    ) -> anyhow::Result<PhotoStoreSettings> {
        let kind = env_var("DOI178_PHOTO_STORE")
            .or(photo_store)
            .unwrap_or_else(|| "local".to_string());
        match kind.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(PhotoStoreSettings::Local),
            "s3" => {
                let file = s3.unwrap_or_default();
                let bucket = env_var("DOI178_S3_BUCKET")
                    .or(file.bucket)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "photo_store = \"s3\" needs a bucket: set DOI178_S3_BUCKET or `bucket` under [s3]"
                        )
                    })?;
                let endpoint = env_var("DOI178_S3_ENDPOINT").or(file.endpoint);
                if let Some(e) = &endpoint {
                    if !(e.starts_with("http://") || e.starts_with("https://")) {
                        anyhow::bail!("S3 endpoint `{e}` must start with http:// or https://");
                    }
                }
                let virtual_hosted_style = match env_var("DOI178_S3_VIRTUAL_HOSTED_STYLE") {
                    Some(v) => matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"),
                    None => file.virtual_hosted_style.unwrap_or(false),
                };
                let timeout_secs = match env_var("DOI178_S3_TIMEOUT_SECS") {
                    Some(v) => v.parse::<u64>().map_err(|_| {
                        anyhow::anyhow!("DOI178_S3_TIMEOUT_SECS must be a whole number of seconds")
                    })?,
                    None => file.timeout_secs.unwrap_or(20),
                }
                .clamp(1, 600);
                let mut prefix = env_var("DOI178_S3_PREFIX")
                    .or(file.prefix)
                    .unwrap_or_default();
                if !prefix.is_empty() && !prefix.ends_with('/') {
                    prefix.push('/');
                }
                Ok(PhotoStoreSettings::S3(S3Settings {
                    bucket,
                    endpoint,
                    region: env_var("DOI178_S3_REGION")
                        .or(file.region)
                        .or_else(|| env_var("AWS_REGION"))
                        .unwrap_or_else(|| "us-east-1".to_string()),
                    prefix,
                    access_key_id: env_var("AWS_ACCESS_KEY_ID").or(file.access_key_id),
                    secret_access_key: env_var("AWS_SECRET_ACCESS_KEY").or(file.secret_access_key),
                    session_token: env_var("AWS_SESSION_TOKEN"),
                    virtual_hosted_style,
                    timeout: std::time::Duration::from_secs(timeout_secs),
                }))
            }
            other => anyhow::bail!("photo_store must be `local` or `s3`, not `{other}`"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod photo_store_tests {
    use super::*;

    fn s3(bucket: Option<&str>, endpoint: Option<&str>) -> Option<S3FileSettings> {
        Some(S3FileSettings {
            bucket: bucket.map(str::to_string),
            endpoint: endpoint.map(str::to_string),
            prefix: Some("tenant-a".to_string()),
            access_key_id: Some("AKIDEXAMPLE".to_string()),
            secret_access_key: Some("very-secret-value".to_string()),
            ..S3FileSettings::default()
        })
    }

    #[test]
    fn local_by_default_and_s3_from_the_file() {
        if std::env::var_os("DOI178_PHOTO_STORE").is_some() {
            return; // the caller's environment decides; nothing to check here
        }
        assert!(matches!(
            PhotoStoreSettings::resolve(None, None).unwrap(),
            PhotoStoreSettings::Local
        ));
        let PhotoStoreSettings::S3(s) = PhotoStoreSettings::resolve(
            Some("S3".to_string()),
            s3(Some("photos"), Some("http://127.0.0.1:9000")),
        )
        .unwrap() else {
            panic!("not s3");
        };
        assert_eq!(s.bucket, "photos");
        assert_eq!(s.prefix, "tenant-a/", "prefix ends with a slash");
        assert!(!s.virtual_hosted_style, "path-style unless asked");
        let shown = format!("{s:?}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn bad_store_settings_are_refused_with_a_reason() {
        if std::env::var_os("DOI178_PHOTO_STORE").is_some()
            || std::env::var_os("DOI178_S3_BUCKET").is_some()
            || std::env::var_os("DOI178_S3_ENDPOINT").is_some()
        {
            return;
        }
        let e = PhotoStoreSettings::resolve(Some("s3".to_string()), s3(None, None)).unwrap_err();
        assert!(e.to_string().contains("bucket"), "{e}");
        let e = PhotoStoreSettings::resolve(
            Some("s3".to_string()),
            s3(Some("b"), Some("ftp://example")),
        )
        .unwrap_err();
        assert!(e.to_string().contains("http://"), "{e}");
        let e = PhotoStoreSettings::resolve(Some("gcs".to_string()), None).unwrap_err();
        assert!(e.to_string().contains("`local` or `s3`"), "{e}");
        let e = toml::from_str::<FileSettings>("[s3]\nbukket = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("bukket"), "{e}");
    }
}
