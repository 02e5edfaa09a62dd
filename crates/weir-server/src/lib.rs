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

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
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

/// The whole router: the server's own routes, then one router per subsystem, each defined beside
/// its handlers. The next subsystem adds its `routes()` here.
pub fn router(state: AppState) -> Router {
    let body_limit = axum::extract::DefaultBodyLimit::max(state.max_body_bytes);
    let state = Arc::new(state);
    Router::new()
        .route("/", get(api::dashboard).post(aws::dispatch))
        .route("/healthz", get(api::health))
        .route("/metrics", get(api::metrics))
        .route(openapi::OPENAPI, get(openapi::document))
        .merge(api::pipelines::routes())
        .merge(api::runs::routes())
        .merge(api::functions::routes())
        .merge(api::secrets::routes())
        .merge(lake::routes())
        .merge(lambda::routes())
        .fallback(api::not_found)
        .layer(body_limit)
        .with_state(state)
}

/// A subsystem's routes, merged into [`router`].
pub(crate) type Routes = Router<Arc<AppState>>;

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
