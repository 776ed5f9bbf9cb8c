//! What every request handler can reach: the database, token keys, photo storage, settings.

use std::sync::Arc;

use crate::auth::actor::ActorCache;
use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::db::Db;
use crate::storage::PhotoStore;
use crate::telemetry::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<TokenKeys>,
    pub photos: Arc<dyn PhotoStore>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    /// Signed-in users loaded for earlier requests.
    pub actors: Arc<ActorCache>,
}
