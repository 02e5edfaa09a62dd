//! What the event source mapping operations share: the mapping as the Lambda API shows it
//! (`EventSourceMappingConfiguration`), the request's settings read and checked against
//! botocore's `lambda` model (each member's range, refused in AWS's validation words), and the
//! engine's refusals in Lambda's error types.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use weir_engine::functions::event_sources::{EventSources, MappingError, MappingInfo};
use weir_model::event_source::{self, EventSourceConfig, Source, StartingPosition};

use super::{AwsError, Shared, aws_error};

/// The mapping as the Lambda API describes it, with `state` shown (`Creating`, `Updating`,
/// `Deleting` while an operation answers, as AWS shows them).
pub(super) fn configuration(info: &MappingInfo, state: &str) -> Value {
    let config = &info.config;
    let region = info.function_arn.split(':').nth(3).unwrap_or("us-east-1");
    let account = info
        .function_arn
        .split(':')
        .nth(4)
        .unwrap_or("000000000000");
    let mapping_arn = format!(
        "arn:aws:lambda:{region}:{account}:event-source-mapping:{}",
        info.uuid
    );
    if config.queue.is_some() {
        return queue_configuration(info, state, mapping_arn);
    }
    let mut shown = json!({
        "UUID": info.uuid,
        "StartingPosition": config.starting_position.as_str(),
        "BatchSize": config.batch_size,
        "MaximumBatchingWindowInSeconds": config.batching_window_seconds,
        "ParallelizationFactor": config.parallelization_factor,
        "EventSourceArn": info.source_arn,
        "FunctionArn": info.function_arn,
        // Seconds since the epoch, as the REST JSON protocol writes timestamps.
        "LastModified": info.last_modified_ms as f64 / 1000.0,
        "LastProcessingResult": info.last_processing_result,
        "State": state,
        "StateTransitionReason": info.state_reason,
        "DestinationConfig": {
            "OnFailure": match &config.on_failure {
                Some(destination) => json!({ "Destination": destination }),
                None => json!({}),
            },
            "OnSuccess": {},
        },
        "MaximumRecordAgeInSeconds": config.maximum_record_age_seconds,
        "BisectBatchOnFunctionError": config.bisect_batch_on_function_error,
        "MaximumRetryAttempts": config.maximum_retry_attempts,
        "TumblingWindowInSeconds": config.tumbling_window_seconds,
        "FunctionResponseTypes": if config.report_batch_item_failures {
            json!(["ReportBatchItemFailures"])
        } else {
            json!([])
        },
        "EventSourceMappingArn": mapping_arn,
    });
    if let (Some(at), Some(fields)) = (config.starting_position_timestamp, shown.as_object_mut()) {
        fields.insert("StartingPositionTimestamp".into(), json!(at));
    }
    shown
}

/// A queue's mapping as Lambda describes one: the settings an SQS source has (no starting
/// position, retries, destinations or parallelization).
fn queue_configuration(info: &MappingInfo, state: &str, mapping_arn: String) -> Value {
    let config = &info.config;
    let mut shown = json!({
        "UUID": info.uuid,
        "BatchSize": config.batch_size,
        "MaximumBatchingWindowInSeconds": config.batching_window_seconds,
        "EventSourceArn": info.source_arn,
        "FunctionArn": info.function_arn,
        "LastModified": info.last_modified_ms as f64 / 1000.0,
        "State": state,
        "StateTransitionReason": info.state_reason,
        "FunctionResponseTypes": if config.report_batch_item_failures {
            json!(["ReportBatchItemFailures"])
        } else {
            json!([])
        },
        "EventSourceMappingArn": mapping_arn,
    });
    if let (Some(n), Some(fields)) = (config.maximum_concurrency, shown.as_object_mut()) {
        fields.insert("ScalingConfig".into(), json!({ "MaximumConcurrency": n }));
    }
    shown
}

/// The engine's mappings, or the error that says this server has none.
pub(super) fn mappings(state: &Shared) -> Result<EventSources, AwsError> {
    state.0.engine.event_sources().ok_or_else(|| {
        aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "event source mappings are not running on this server (it has no streams)",
        )
    })
}

/// A refusal of the engine in Lambda's error type.
pub(super) fn refused(error: MappingError) -> Response {
    let (status, kind) = match &error {
        MappingError::NotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
        MappingError::Conflict(_) => (StatusCode::CONFLICT, "ResourceConflictException"),
        MappingError::Invalid(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValueException"),
        MappingError::InUse(_) => (StatusCode::BAD_REQUEST, "ResourceInUseException"),
        MappingError::Service(_) => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException"),
    };
    aws_error(status, kind, error.to_string()).into_response()
}

/// The body as a JSON object.
pub(super) fn object(body: &[u8]) -> Result<Map<String, Value>, AwsError> {
    let invalid = |why: String| {
        aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            format!("Could not parse request body into json: {why}"),
        )
    };
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(invalid("the body is not a JSON object".into())),
        Err(e) => Err(invalid(e.to_string())),
    }
}

/// `1 validation error detected: Value 'V' at 'member' failed to satisfy constraint: …`.
fn validation(value: &Value, member: &str, constraint: &str) -> AwsError {
    let shown = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    aws_error(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        format!(
            "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: {constraint}"
        ),
    )
}

fn wrong_type(member: &str, expected: &str) -> AwsError {
    aws_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContentException",
        format!("Could not parse request body into json: `{member}` must be {expected}"),
    )
}

/// An integer member within the model's range.
fn integer(
    fields: &Map<String, Value>,
    name: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, AwsError> {
    integer_at(fields, name, &lower_first(name), min, max)
}

/// An integer member within the model's range; `member` is its path in messages.
fn integer_at(
    fields: &Map<String, Value>,
    name: &str,
    member: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, AwsError> {
    let Some(value) = fields.get(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(number) = value.as_i64() else {
        return Err(wrong_type(name, "an integer"));
    };
    if number < min {
        return Err(validation(
            value,
            member,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if number > max {
        return Err(validation(
            value,
            member,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(Some(number))
}

fn boolean(fields: &Map<String, Value>, name: &str) -> Result<Option<bool>, AwsError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(name, "true or false")),
    }
}

pub(super) fn string<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, AwsError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(wrong_type(name, "a string")),
    }
}

/// AWS's member names in validation messages start in lower case (`batchSize`).
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The stream or queue an `EventSourceArn` names.
pub(super) fn source_of(arn: &str) -> Result<Source<'_>, AwsError> {
    if let Some(stream) = event_source::stream_name_of(arn) {
        return Ok(Source::Stream(stream));
    }
    if let Some(queue) = event_source::queue_name_of(arn) {
        return Ok(Source::Queue(queue));
    }
    Err(aws_error(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValueException",
        format!(
            "Unrecognized event source, must be a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME) or an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME): {arn}"
        ),
    ))
}

/// Applies the request's settings to `config`: those it names, each checked.
pub(super) fn apply_settings(
    fields: &Map<String, Value>,
    config: &mut EventSourceConfig,
    creating: bool,
) -> Result<(), AwsError> {
    if let Some(n) = integer(
        fields,
        "BatchSize",
        1,
        i64::from(event_source::MAX_BATCH_SIZE),
    )? {
        config.batch_size = n as u32;
    }
    if let Some(n) = integer(
        fields,
        "MaximumBatchingWindowInSeconds",
        0,
        i64::from(event_source::MAX_BATCHING_WINDOW_SECONDS),
    )? {
        config.batching_window_seconds = n as u32;
    }
    if let Some(n) = integer(
        fields,
        "ParallelizationFactor",
        1,
        i64::from(event_source::MAX_PARALLELIZATION_FACTOR),
    )? {
        config.parallelization_factor = n as u32;
    }
    if let Some(n) = integer(
        fields,
        "MaximumRecordAgeInSeconds",
        -1,
        i64::from(event_source::MAX_RECORD_AGE_SECONDS),
    )? {
        config.maximum_record_age_seconds = n as i32;
    }
    if let Some(n) = integer(
        fields,
        "MaximumRetryAttempts",
        -1,
        i64::from(event_source::MAX_RETRY_ATTEMPTS),
    )? {
        config.maximum_retry_attempts = n as i32;
    }
    if let Some(n) = integer(
        fields,
        "TumblingWindowInSeconds",
        0,
        i64::from(event_source::MAX_TUMBLING_WINDOW_SECONDS),
    )? {
        config.tumbling_window_seconds = n as u32;
    }
    match fields.get("ScalingConfig") {
        None | Some(Value::Null) => {}
        Some(Value::Object(scaling)) => {
            config.maximum_concurrency = integer_at(
                scaling,
                "MaximumConcurrency",
                "scalingConfig.maximumConcurrency",
                i64::from(event_source::MIN_MAXIMUM_CONCURRENCY),
                i64::from(event_source::MAX_MAXIMUM_CONCURRENCY),
            )?
            .map(|n| n as u32);
        }
        Some(_) => return Err(wrong_type("ScalingConfig", "an object")),
    }
    if let Some(b) = boolean(fields, "BisectBatchOnFunctionError")? {
        config.bisect_batch_on_function_error = b;
    }
    if let Some(b) = boolean(fields, "Enabled")? {
        config.enabled = b;
    }
    if creating {
        if let Some(text) = string(fields, "StartingPosition")? {
            config.starting_position = StartingPosition::parse(text).ok_or_else(|| {
                validation(
                    &json!(text),
                    "startingPosition",
                    "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]",
                )
            })?;
        }
        match fields.get("StartingPositionTimestamp") {
            None | Some(Value::Null) => {}
            Some(value) => match value.as_f64() {
                Some(at) => config.starting_position_timestamp = Some(at),
                None => return Err(wrong_type("StartingPositionTimestamp", "a timestamp")),
            },
        }
    }
    match fields.get("FunctionResponseTypes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(types)) => {
            let mut report = false;
            for kind in types {
                match kind.as_str() {
                    Some("ReportBatchItemFailures") => report = true,
                    _ => {
                        return Err(validation(
                            kind,
                            "functionResponseTypes",
                            "Member must satisfy enum value set: [ReportBatchItemFailures]",
                        ));
                    }
                }
            }
            config.report_batch_item_failures = report;
        }
        Some(_) => return Err(wrong_type("FunctionResponseTypes", "a list")),
    }
    match fields.get("DestinationConfig") {
        None | Some(Value::Null) => {}
        Some(Value::Object(destinations)) => match destinations.get("OnFailure") {
            None | Some(Value::Null) => {}
            Some(Value::Object(on_failure)) => {
                config.on_failure = string(on_failure, "Destination")?
                    .filter(|d| !d.is_empty())
                    .map(str::to_string);
            }
            Some(_) => return Err(wrong_type("DestinationConfig.OnFailure", "an object")),
        },
        Some(_) => return Err(wrong_type("DestinationConfig", "an object")),
    }
    Ok(())
}

/// Event source mappings join a stream to a function and may send its records elsewhere on
/// failure, so a credential narrowed by grants (which name pipelines, tables and prefixes, not
/// mappings) may not list, read or change them: only one granted everything may.
pub(super) fn unnarrowed(identity: &crate::auth::Identity) -> Result<(), super::AwsError> {
    if identity.grants().is_everything() {
        return Ok(());
    }
    Err(super::aws_error(
        axum::http::StatusCode::FORBIDDEN,
        "AccessDeniedException",
        format!(
            "User: {} is not authorized to use event source mappings (the credential has grants; mappings need one without)",
            identity.name().unwrap_or("anonymous")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_checked_in_aws_words() {
        let mut config = EventSourceConfig::new("s", StartingPosition::Latest);
        let fields = object(br#"{"BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"], "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:kinesis:us-east-1:000000000000:stream/dlq"}}, "StartingPosition": "TRIM_HORIZON"}"#).unwrap();
        apply_settings(&fields, &mut config, true).unwrap();
        assert_eq!(config.batch_size, 10);
        assert!(config.report_batch_item_failures);
        assert_eq!(config.starting_position, StartingPosition::TrimHorizon);
        assert!(config.on_failure.is_some());
        let fields = object(br#"{"BatchSize": 0}"#).unwrap();
        let error = apply_settings(&fields, &mut config, true).unwrap_err();
        assert_eq!(
            error.message,
            "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let fields = object(br#"{"StartingPosition": "OLDEST"}"#).unwrap();
        let error = apply_settings(&fields, &mut config, true).unwrap_err();
        assert!(error.message.contains(
            "at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set"
        ));
        assert!(
            apply_settings(
                &object(br#"{"BatchSize": "x"}"#).unwrap(),
                &mut config,
                true
            )
            .is_err()
        );
        assert_eq!(
            source_of("arn:aws:sqs:us-east-1:000000000000:q").unwrap(),
            Source::Queue("q")
        );
        assert_eq!(
            source_of("arn:aws:kinesis:us-east-1:000000000000:stream/s").unwrap(),
            Source::Stream("s")
        );
        assert!(source_of("arn:aws:sns:us-east-1:000000000000:t").is_err());
        let fields = object(br#"{"ScalingConfig": {"MaximumConcurrency": 1}}"#).unwrap();
        let error = apply_settings(&fields, &mut config, false).unwrap_err();
        assert_eq!(
            error.message,
            "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 2"
        );
    }
}
