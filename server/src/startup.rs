//! Builds the application from settings: opens and migrates the database, loads keys, binds the
//! port (port 0 picks a free one, as the black-box tests do) and serves.

pub mod rules;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Service;
use actix_web::{middleware, web, App, HttpServer};
use futures_util::FutureExt;

use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
// The API's handlers: the route table (`rules`) registers them; nothing else below startup,
// the API description and the command line uses `routes`.
use crate::db::Db;
use crate::routes::{api_routes, healthz, metrics, not_found, path_error, query_error, API_PREFIX};
use crate::state::AppState;
use crate::telemetry::Metrics;

pub fn build_state(settings: &Settings) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create data directory {}: {e}",
            settings.data_dir.display()
        )
    })?;
    let db = Db::open(&settings.database_url, settings.db_max_connections)?;
    let applied = db.migrate()?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    // The shipped reference data (units, lineage, agencies, checklists), on every database.
    crate::service::reference::ensure(&db)?;
    let keys = TokenKeys::load_or_create(settings.jwt_secret.as_deref(), &settings.data_dir)?;
    let photos = crate::storage::open(settings)?;
    tracing::info!(store = %photos.describe(), "photo store");
    Ok(AppState {
        db,
        keys: Arc::new(keys),
        photos,
        settings: Arc::new(settings.clone()),
        metrics: Arc::new(Metrics::new()?),
        actors: Arc::default(),
    })
}

pub async fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    let workers = state.settings.workers;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let metrics = data.metrics.clone();
        App::new()
            .app_data(data.clone())
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .wrap(middleware::Compress::default())
            .wrap(
                middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Cache-Control", "no-store")),
            )
            .wrap_fn(move |req, srv| {
                let started = Instant::now();
                let method = req.method().to_string();
                let metrics = metrics.clone();
                srv.call(req).map(move |res| {
                    if let Ok(res) = &res {
                        let route = res
                            .request()
                            .match_pattern()
                            .unwrap_or_else(|| "unmatched".to_string());
                        let status = res.status().as_u16().to_string();
                        metrics
                            .requests
                            .with_label_values(&[&method, &route, &status])
                            .inc();
                        metrics
                            .latency
                            .with_label_values(&[&method, &route])
                            .observe(started.elapsed().as_secs_f64());
                    }
                    res
                })
            })
            .configure(crate::startup::rules::configure)
            .default_service(web::to(crate::dashboard::page::not_found))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    server.await?;
    Ok(())
}
