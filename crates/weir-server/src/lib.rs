//! weir's HTTP surface, the only crate that knows HTTP: the native REST API under `/api/v1`
//! (described by `/api/v1/openapi.json`), Prometheus metrics at `/metrics`, health at `/healthz`,
//! the dashboard at `/`, the AWS JSON protocols on `POST /` (dispatched on `X-Amz-Target`), and
//! the Lambda REST API under `/2015-03-31/functions` (`lambda.rs`).

mod api;
pub mod auth;
mod aws;
mod dashboard;
pub mod deliveries;
mod error;
pub mod lake;
mod lambda;
mod openapi;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use weir_engine::Engine;

pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    /// The lake, catalog and SQL (absent in servers built without them).
    pub lake: Option<Arc<dyn lake::LakeService>>,
    /// State machines and the Step Functions API (absent in servers built without them).
    pub machines: Option<weir_engine::machines::Machines>,
    /// Streams and the Kinesis API (absent in servers built without them).
    pub streams: Option<weir_stream::Streams>,
    /// Deliveries and the Firehose API (absent in servers built without them).
    pub deliveries: Option<Arc<dyn deliveries::DeliveryService>>,
    /// Buses, rules and archives and the EventBridge API (absent in servers built without them).
    pub events: Option<aws::events::Events>,
    /// Queues and the SQS API (absent in servers built without them).
    pub queues: Option<weir_engine::queues::Queues>,
    pub metrics: Option<PrometheusHandle>,
    pub started: std::time::Instant,
    /// Largest request body a route of the REST API reads whole; `server.max_body_bytes`. Lake
    /// uploads are streamed and not bounded by it; the AWS protocols keep AWS's own quotas.
    pub max_body_bytes: usize,
    /// Credentials and the audit log; None when authentication is off (`[auth] enabled = false`).
    pub access: Option<weir_engine::access::Access>,
    pub auth: auth::AuthOptions,
    /// Set when the server begins to stop, so that open live pages end (a graceful shutdown
    /// waits for every open connection).
    pub stopping: Stopping,
}

/// Tells long-lived responses (the dashboard's live events) that the server is stopping.
#[derive(Clone, Default)]
pub struct Stopping(Arc<tokio::sync::watch::Sender<bool>>);

impl Stopping {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<bool> {
        self.0.subscribe()
    }
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

/// Every route with the access it needs: the server's own, then one set per subsystem, each
/// defined beside its handlers. The next subsystem adds its `routes()` here.
pub fn routes() -> Routes {
    use auth::{Dialect, Need, VIEWER};
    Routes::new(Dialect::Browser)
        .get("/login", Need::Open, auth::session::login)
        .merge(dashboard::routes())
        .merge(Routes::new(Dialect::AwsJson).post("/", Need::Operation, aws::dispatch))
        .merge(
            Routes::default()
                .get("/healthz", Need::Open, api::health)
                .get("/metrics", Need::Metrics, api::metrics)
                .get(openapi::OPENAPI, VIEWER, openapi::document),
        )
        .merge(api::pipelines::routes())
        .merge(api::runs::routes())
        .merge(api::dashboards::routes())
        .merge(api::functions::routes())
        .merge(api::access::routes())
        .merge(api::secrets::routes())
        .merge(api::streams::routes())
        .merge(api::events::routes())
        .merge(api::transforms::routes())
        .merge(lake::routes())
        .merge(lambda::routes())
}

/// The whole router: [`routes`], authentication over all of them, and the body limit.
pub fn router(state: AppState) -> Router {
    let body_limit = axum::extract::DefaultBodyLimit::max(state.max_body_bytes);
    let state = Arc::new(state);
    let (router, _rules) = routes().into_parts();
    router
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::middleware::authenticate,
        ))
        // Outside authentication, so its refusals reach a CBOR client in CBOR.
        .layer(axum::middleware::from_fn(aws::kinesis::cbor_refusals))
        .layer(body_limit)
        .with_state(state)
}

pub use auth::{Routes, Rule};

/// Every AWS protocol operation served on `POST /`, as its `X-Amz-Target`, with the role it needs
/// (for the route-coverage test, which reads the same table the dispatch does).
pub fn aws_operations() -> Vec<(String, weir_model::access::Role)> {
    let protocol = |prefix: &'static str,
                    operations: &'static [(&str, weir_model::access::Role)]| {
        operations
            .iter()
            .map(move |(name, role)| (format!("{prefix}.{name}"), *role))
    };
    protocol("AWSStepFunctions", aws::stepfunctions::OPERATIONS)
        .chain(protocol("Kinesis_20131202", aws::kinesis::OPERATIONS))
        .chain(protocol("Firehose_20150804", aws::firehose::OPERATIONS))
        .chain(protocol("AWSEvents", aws::events::OPERATIONS))
        .chain(protocol("AmazonSQS", aws::sqs::OPERATIONS))
        .collect()
}

/// Serves until `shutdown` resolves, on plain TCP (`tokio::net::TcpListener`) or HTTPS
/// ([`tls::TlsListener`]).
pub async fn serve<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    for<'a> auth::Peer: axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let stopping = state.stopping.clone();
    let app = router(state).into_make_service_with_connect_info::<auth::Peer>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.stop();
        })
        .await
}
