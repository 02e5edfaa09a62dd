//! UpdateEventSourceMapping: the settings the request names change (the stream and the starting
//! position cannot), and the mapping restarts from its checkpoints.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::event_source_mapping::{
    apply_settings, configuration, mappings, object, refused, string,
};
use super::{Shared, resolve};

/// `PUT /2015-03-31/event-source-mappings/{UUID}`.
pub async fn handle(
    state: Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(error) = super::event_source_mapping::unnarrowed(&identity) {
        return error.into_response();
    }
    match update(state, &uuid, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn update(state: Shared, uuid: &str, body: &[u8]) -> Result<Response, super::AwsError> {
    let sources = mappings(&state)?;
    let fields = object(body)?;
    let State(app) = &state;
    let function = match string(&fields, "FunctionName")? {
        Some(name) => Some(resolve(name, None, &app.engine.functions())?),
        None => None,
    };
    // Checked before anything changes: a bad setting changes nothing.
    let current = match sources.get(uuid).await {
        Ok(info) => info,
        Err(error) => return Ok(refused(error)),
    };
    let mut checked = current.config.clone();
    apply_settings(&fields, &mut checked, false)?;
    let result = sources
        .update(uuid, function.as_deref(), |config| *config = checked)
        .await;
    match result {
        Ok(info) => {
            Ok((StatusCode::ACCEPTED, Json(configuration(&info, "Updating"))).into_response())
        }
        Err(error) => Ok(refused(error)),
    }
}
