//! CreateEventSourceMapping: a stream that invokes a function.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use weir_model::event_source::{EventSourceConfig, StartingPosition};

use super::event_source_mapping::{
    apply_settings, configuration, mappings, object, refused, stream_of, string,
};
use super::{Shared, aws_error, resolve};

/// `POST /2015-03-31/event-source-mappings`.
pub async fn handle(
    state: Shared,
    Extension(identity): Extension<crate::auth::Identity>,
    body: Bytes,
) -> Response {
    if let Err(error) = super::event_source_mapping::unnarrowed(&identity) {
        return error.into_response();
    }
    match create(state, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn create(state: Shared, body: &[u8]) -> Result<Response, super::AwsError> {
    let sources = mappings(&state)?;
    let fields = object(body)?;
    let State(app) = &state;
    let functions = app.engine.functions();
    let missing = |member: &str| {
        aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            format!("{member} is required"),
        )
    };
    let function = string(&fields, "FunctionName")?.ok_or_else(|| missing("FunctionName"))?;
    let function = resolve(function, None, &functions)?;
    let arn = string(&fields, "EventSourceArn")?.ok_or_else(|| missing("EventSourceArn"))?;
    let stream = stream_of(arn)?;
    // A Kinesis source needs a starting position (it has no default).
    if string(&fields, "StartingPosition")?.is_none() {
        return Err(aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            "StartingPosition is required for a Kinesis event source",
        ));
    }
    let mut config = EventSourceConfig::new(&stream, StartingPosition::Latest);
    apply_settings(&fields, &mut config, true)?;
    match sources.create(&function, config).await {
        Ok(info) => {
            Ok((StatusCode::ACCEPTED, Json(configuration(&info, "Creating"))).into_response())
        }
        Err(error) => Ok(refused(error)),
    }
}
