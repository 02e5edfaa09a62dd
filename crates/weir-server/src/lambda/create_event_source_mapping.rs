//! CreateEventSourceMapping: a stream or a queue that invokes a function.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use weir_model::event_source::{EventSourceConfig, Source, StartingPosition};

use super::event_source_mapping::{
    apply_settings, configuration, mappings, object, refused, source_of, string,
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
    let invalid = |message: &str| {
        aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            message,
        )
    };
    let starting_position = string(&fields, "StartingPosition")?;
    let mut config = match source_of(arn)? {
        // A Kinesis source needs a starting position (it has no default).
        Source::Stream(_) if starting_position.is_none() => {
            return Err(invalid(
                "StartingPosition is required for a Kinesis event source",
            ));
        }
        Source::Stream(stream) => EventSourceConfig::new(stream, StartingPosition::Latest),
        // A queue has no position: what is in it is what is read.
        Source::Queue(_) if starting_position.is_some() => {
            return Err(invalid(
                "StartingPosition is not valid for SQS event sources.",
            ));
        }
        Source::Queue(queue) => EventSourceConfig::for_queue(queue),
    };
    apply_settings(&fields, &mut config, true)?;
    match sources.create(&function, config).await {
        Ok(info) => {
            Ok((StatusCode::ACCEPTED, Json(configuration(&info, "Creating"))).into_response())
        }
        Err(error) => Ok(refused(error)),
    }
}
