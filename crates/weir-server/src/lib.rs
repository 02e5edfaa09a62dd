//! weir's HTTP surface, the only crate that knows HTTP: the native REST API under `/api/v1`
//! (described by `/api/v1/openapi.json`), Prometheus metrics at `/metrics`, health at `/healthz`,
//! the dashboard at `/`, the AWS JSON protocols on `POST /` (dispatched on `X-Amz-Target`), and
//! the Lambda REST API under `/2015-03-31/functions` (`lambda.rs`).

mod api;
mod aws;
mod error;
pub mod lake;
mod lambda;
mod openapi;
mod stepfunctions;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use weir_engine::Engine;

pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    /// The lake, catalog and SQL (absent in servers built without them).
    pub lake: Option<Arc<dyn lake::LakeService>>,
    /// State machines and the Step Functions API (absent in servers built without them).
    pub machines: Option<weir_engine::machines::Machines>,
    pub metrics: Option<PrometheusHandle>,
    pub started: std::time::Instant,
    /// Largest request body a route reads whole (JSON, the AWS protocols); `server.max_body_bytes`.
    /// Lake uploads are streamed and not bounded by it.
    pub max_body_bytes: usize,
}

/// Installs the process-wide Prometheus recorder (once) and returns its handle.
pub fn install_metrics() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .clone()
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    use api::{functions, pipelines, runs};
    let body_limit = axum::extract::DefaultBodyLimit::max(state.max_body_bytes);
    let state = Arc::new(state);
    Router::new()
        .route("/", get(api::dashboard).post(aws::dispatch))
        .route("/healthz", get(api::health))
        .route("/metrics", get(api::metrics))
        .route(openapi::OPENAPI, get(openapi::document))
        .route(openapi::PIPELINES, get(pipelines::list))
        .route(openapi::PIPELINE, get(pipelines::show))
        .route(
            openapi::PIPELINE_RUNS,
            get(pipelines::runs).post(pipelines::trigger),
        )
        .route(openapi::PIPELINE_BACKFILL, post(pipelines::backfill))
        .route(openapi::PIPELINE_PAUSE, post(pipelines::pause))
        .route(openapi::PIPELINE_UNPAUSE, post(pipelines::unpause))
        .route(openapi::RELOAD, post(pipelines::reload))
        .route(openapi::RUNS, get(runs::list))
        .route(openapi::RUN, get(runs::show))
        .route(openapi::RUN_WAIT, get(runs::wait))
        .route(openapi::RUN_EVENTS, get(runs::events))
        .route(openapi::RUN_ATTEMPTS, get(runs::attempts))
        .route(openapi::RUN_LOGS, get(runs::logs))
        .route(openapi::RUN_RETRY, post(runs::retry))
        .route(openapi::RUN_CANCEL, post(runs::cancel))
        .route(openapi::TASK_MARK, post(runs::mark))
        .route(openapi::LAKE_OBJECTS, get(lake::list))
        .route(
            openapi::LAKE_OBJECT,
            get(lake::get).put(lake::put).delete(lake::delete),
        )
        .route(
            openapi::CATALOG_DATABASES,
            get(lake::databases).post(lake::create_database),
        )
        .route(
            openapi::CATALOG_DATABASE,
            axum::routing::delete(lake::drop_database),
        )
        .route(
            openapi::CATALOG_TABLES,
            get(lake::tables).post(lake::create_table),
        )
        .route(
            openapi::CATALOG_TABLE,
            get(lake::table).delete(lake::drop_table),
        )
        .route(openapi::CRAWL, post(lake::crawl))
        .route(openapi::SQL, post(lake::sql))
        .route(openapi::FUNCTIONS, get(functions::list))
        .route(openapi::FUNCTION, get(functions::show))
        .route(openapi::FUNCTION_INVOKE, post(functions::invoke))
        .route(openapi::FUNCTION_INVOCATIONS, get(functions::invocations))
        .route(openapi::FUNCTION_INVOCATION_LOG, get(functions::log))
        // The Lambda REST API (not part of the native API's OpenAPI document).
        .route(lambda::FUNCTIONS, get(lambda::list))
        .route(lambda::FUNCTIONS_NO_SLASH, get(lambda::list))
        .route(lambda::FUNCTION, get(lambda::get))
        .route(lambda::INVOKE, post(lambda::invoke))
        .fallback(api::not_found)
        .layer(body_limit)
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
