//! DeleteEventSourceMapping: the mapping stops (its current batch finishes) and its checkpoints
//! are forgotten.

use axum::Extension;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::event_source_mapping::{configuration, mappings, refused};

/// `DELETE /2015-03-31/event-source-mappings/{UUID}`.
pub async fn handle(
    state: Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    Path(uuid): Path<String>,
) -> Response {
    if let Err(error) = super::event_source_mapping::unnarrowed(&identity) {
        return error.into_response();
    }
    let sources = match mappings(&state) {
        Ok(sources) => sources,
        Err(error) => return error.into_response(),
    };
    match sources.delete(&uuid).await {
        Ok(info) => (StatusCode::ACCEPTED, Json(configuration(&info, "Deleting"))).into_response(),
        Err(error) => refused(error),
    }
}
