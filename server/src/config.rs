//! Typed settings for the server, layered: command-line flags, then `DOI178_*` environment
//! variables (both handled by clap), then a TOML config file, then built-in defaults.

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
    /// `[auth]`: sign-in throttling, refresh grace window, trusted proxies.
    pub auth: Option<crate::auth::settings::AuthFileSettings>,
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
    /// Sign-in throttling, the refresh grace window and the trusted reverse proxies.
    pub auth: crate::auth::settings::AuthSettings,
}

impl Settings {
    pub fn default_database_url(data_dir: &Path) -> String {
        data_dir.join("doi178.sqlite").display().to_string()
    }

    pub fn photo_dir(&self) -> PathBuf {
        self.data_dir.join("photos")
    }
}
