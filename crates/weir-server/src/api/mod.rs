//! Handlers of the native API, one file per resource.

pub mod access;
pub mod dashboards;
pub mod events;
pub mod functions;
pub mod pipelines;
pub mod runs;
pub mod runs_bulk;
pub mod secrets;
pub mod streams;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;
pub type ApiResult<T = Json<Value>> = Result<T, ApiError>;

pub async fn health(State(state): Shared) -> Json<Value> {
    Json(
        json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "uptime_seconds": state.started.elapsed().as_secs() }),
    )
}

pub async fn metrics(State(state): Shared) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed",
        )
            .into_response(),
    }
}

/// Credentials, secrets and the audit log are for an admin whose grants do not narrow it: one
/// narrowed to some pipelines could otherwise make itself a credential without grants, a secret
/// serves every pipeline, and the log shows every pipeline's callers.
pub(crate) fn unnarrowed(identity: &crate::auth::Identity) -> Result<(), ApiError> {
    if identity.grants().is_everything() {
        return Ok(());
    }
    Err(ApiError {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        message: format!(
            "credential `{}` is narrowed by grants; credentials and the audit log need an admin \
             credential without grants",
            identity.name().unwrap_or("?")
        ),
    })
}

/// No route matched: 404 to a caller, 401 to an anonymous request when credentials are needed,
/// so that an anonymous caller cannot map the routes.
pub async fn not_found(identity: Option<axum::Extension<crate::auth::Identity>>) -> Response {
    if identity.is_some_and(|axum::Extension(identity)| identity.role().is_none()) {
        return crate::auth::middleware::refuse(
            crate::auth::Dialect::Rest,
            StatusCode::UNAUTHORIZED,
            "authentication required: send `Authorization: Bearer TOKEN` (see `weir tokens`)",
            "",
        );
    }
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json").into_response()
}

/// A plain overview until the dashboard proper lands: pipelines, problems and recent runs.
/// It shows what the credential may see, as the API's listings do.
pub async fn dashboard(
    State(state): Shared,
    axum::Extension(identity): axum::Extension<crate::auth::Identity>,
) -> ApiResult<Html<String>> {
    let (mut pipelines, problems) = state.engine.pipelines().await?;
    pipelines.retain(|p| identity.grants().pipeline(&p.name));
    let problems = pipelines::granted_problems(problems, &identity);
    let runs = runs::visible_runs(&state, &identity, None, 50).await?;
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=utf-8><title>weir</title><style>body{font:14px system-ui;margin:2em}td,th{padding:2px 10px;text-align:left}.failed{color:#b00}.success{color:#070}</style></head><body><h1>weir</h1>",
    );
    html.push_str("<h2>Pipelines</h2><table><tr><th>name</th><th>schedule</th><th>tasks</th><th>next run</th></tr>");
    for p in &pipelines {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.name),
            esc(p.schedule.as_deref().unwrap_or("—")),
            p.tasks.len(),
            esc(p.next_run_at.as_deref().unwrap_or("—"))
        ));
    }
    html.push_str("</table>");
    if !problems.is_empty() {
        html.push_str("<h2>Problems</h2><ul>");
        for problem in &problems {
            html.push_str(&format!(
                "<li><code>{}</code></li>",
                esc(&problem.to_string())
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str(
        "<h2>Recent runs</h2><table><tr><th>run</th><th>pipeline</th><th>state</th></tr>",
    );
    for run in &runs {
        html.push_str(&format!("<tr><td><a href=\"/api/v1/runs/{0}\">{0}</a></td><td>{1}</td><td class=\"{2}\">{2}</td></tr>", esc(&run.id), esc(&run.pipeline), esc(&run.state)));
    }
    html.push_str("</table><p>API: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a></p></body></html>");
    Ok(Html(html))
}

/// Text made safe to put into HTML.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
