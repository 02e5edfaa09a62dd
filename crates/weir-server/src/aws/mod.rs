//! The AWS JSON protocols on `POST /`, dispatched on `X-Amz-Target`: Step Functions
//! (`AWSStepFunctions.*`, `stepfunctions/`, one file per operation), Kinesis Data Streams
//! (`Kinesis_20131202.*`, `kinesis/`, JSON 1.1 and CBOR), Firehose (`Firehose_20150804.*`,
//! `firehose/`), EventBridge (`AWSEvents.*`, `events/`, JSON 1.1) and SQS (`AmazonSQS.*`,
//! `sqs/`, JSON 1.0 with its query-compatible errors). Each checks its members against its API
//! model. An unknown target gets AWS's error shape so AWS clients report it properly, and so does
//! a body over the protocol's own request quota (read only up to it). The next protocol is a
//! folder beside `stepfunctions/` and a line in [`dispatch`], with its quota.

pub mod events;
mod fields;
pub mod firehose;
pub mod kinesis;
pub mod sqs;
pub mod stepfunctions;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Identity;
use crate::auth::middleware::AuditNote;
use axum::Extension;
use weir_model::access::Role;

/// A protocol error: AWS's error name (`__type`) and message.
#[derive(Debug)]
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
}

pub async fn dispatch(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut note = AuditNote {
        action: target.to_string(),
        ..AuditNote::default()
    };
    if let Some(("Kinesis_20131202", operation)) = target.split_once('.') {
        return kinesis::dispatch(
            state.streams.as_ref(),
            &identity,
            &headers,
            body,
            target,
            operation,
        )
        .await;
    }
    if let Some(("AmazonSQS", operation)) = target.split_once('.') {
        return sqs::dispatch(state.queues.as_ref(), &identity, body, target, operation).await;
    }
    let answer = match target.split_once('.') {
        Some(("AWSStepFunctions", operation)) => match &state.machines {
            Some(machines) => match read_body(body, stepfunctions::MAX_REQUEST_BYTES).await {
                Ok(request) => {
                    let needed = stepfunctions::role_of(operation);
                    note.mutating = Some(needed > Role::Viewer);
                    let named = stepfunctions::machines_named(operation, &request);
                    note.target = named.iter().find_map(|n| n.arn.clone());
                    match allowed(&identity, needed, &named, target) {
                        Ok(()) => stepfunctions::handle(machines, operation, &request)
                            .await
                            .map(|answer| only_granted(answer, &identity)),
                        Err(error) => {
                            note.refusal = Some(error.message.clone());
                            Err(error)
                        }
                    }
                }
                Err(error) => Err(error),
            },
            None => Err(unknown(target)),
        },
        Some(("Firehose_20150804", operation)) => match &state.deliveries {
            Some(deliveries) => match read_body(body, firehose::MAX_REQUEST_BYTES).await {
                Ok(request) => {
                    let needed = firehose::role_of(operation);
                    note.mutating = Some(needed > Role::Viewer);
                    note.target = firehose::delivery_named(&request);
                    match allowed_delivery(&identity, needed, &request, operation, target) {
                        Ok(()) => firehose::handle(deliveries.as_ref(), operation, &request)
                            .await
                            .map(|answer| only_granted_deliveries(answer, &identity)),
                        Err(error) => {
                            note.refusal = Some(error.message.clone());
                            Err(error)
                        }
                    }
                }
                Err(error) => Err(error),
            },
            None => Err(unknown(target)),
        },
        Some(("AWSEvents", operation)) => match read_body(body, events::MAX_REQUEST_BYTES).await {
            Ok(request) => {
                let bus = state.events.as_ref();
                events::answer(bus, &identity, operation, &request, &mut note).await
            }
            Err(error) => Err(error),
        },
        _ if target.is_empty() => Err(AwsError {
            code: "UnknownOperationException",
            message: "missing X-Amz-Target header".into(),
        }),
        _ => Err(unknown(target)),
    };
    let (status, body) = match answer {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => {
            let status = match error.code {
                "InternalServerError" => StatusCode::INTERNAL_SERVER_ERROR,
                TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            (
                status,
                json!({ "__type": error.code, "message": error.message }),
            )
        }
    };
    let mut response = (status, body.to_string()).into_response();
    // Each protocol answers in its own JSON version (EventBridge's is 1.1).
    let content_type = if target.starts_with("AWSEvents.") {
        "application/x-amz-json-1.1"
    } else {
        "application/x-amz-json-1.0"
    };
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    response.extensions_mut().insert(note);
    response
}

/// A listing shows the state machines, and the executions of the state machines, that the
/// credential's grants name.
fn only_granted(mut answer: Value, identity: &Identity) -> Value {
    let grants = identity.grants();
    let keep = |answer: &mut Value, field: &str, name_of: fn(&Value) -> Option<&str>| {
        if let Some(items) = answer.get_mut(field).and_then(Value::as_array_mut) {
            items.retain(|item| name_of(item).is_some_and(|name| grants.pipeline(name)));
        }
    };
    keep(&mut answer, "stateMachines", |machine| {
        machine["name"].as_str()
    });
    // An execution's machine by name: the seventh part of its stateMachineArn.
    keep(&mut answer, "executions", |execution| {
        execution["stateMachineArn"].as_str()?.split(':').nth(6)
    });
    answer
}

/// Whether the caller's role and grants allow the operation on every state machine the request
/// names, refused as IAM refuses it.
fn allowed(
    identity: &Identity,
    needed: Role,
    named: &[stepfunctions::Named],
    target: &str,
) -> Result<(), AwsError> {
    let action = target.replace("AWSStepFunctions.", "states:");
    check_role(identity, needed, &action)?;
    let grants = identity.grants();
    if grants.pipelines.is_empty() {
        return Ok(());
    }
    for named in named {
        let resource = match &named.machine {
            Some(machine) if grants.pipeline(machine) => continue,
            Some(machine) => format!("state machine {machine}"),
            None => format!("the {} given (it names no state machine)", named.member),
        };
        return Err(not_granted(identity, &action, &resource));
    }
    Ok(())
}

/// Refuses a caller whose role is below `needed`, as IAM refuses it.
pub(crate) fn check_role(identity: &Identity, needed: Role, action: &str) -> Result<(), AwsError> {
    if identity.role().is_none_or(|role| role < needed) {
        let user = identity.name().unwrap_or("anonymous");
        return Err(AwsError {
            code: "AccessDeniedException",
            message: format!(
                "User: {user} is not authorized to perform: {action} (the operation needs role {needed})"
            ),
        });
    }
    Ok(())
}

/// A resource outside the credential's grants, refused as IAM refuses it.
pub(crate) fn not_granted(identity: &Identity, action: &str, resource: &str) -> AwsError {
    let user = identity.name().unwrap_or("anonymous");
    AwsError {
        code: "AccessDeniedException",
        message: format!(
            "User: {user} is not authorized to perform: {action} on resource: {resource} (not in the credential's grants)"
        ),
    }
}

/// Whether the caller's role and grants allow a Firehose operation on the delivery it names
/// (grants on names cover deliveries as they cover pipelines and state machines).
fn allowed_delivery(
    identity: &Identity,
    needed: Role,
    body: &Value,
    operation: &str,
    target: &str,
) -> Result<(), AwsError> {
    let action = target.replace("Firehose_20150804.", "firehose:");
    check_role(identity, needed, &action)?;
    let grants = identity.grants();
    // A new delivery reads a stream and writes a table or prefix besides its own name: only a
    // credential that is granted everything may create one.
    if operation == "CreateDeliveryStream" && !grants.is_everything() {
        return Err(not_granted(
            identity,
            &action,
            "a new delivery stream (creating one needs a credential without grants: it reads a stream and writes the lake)",
        ));
    }
    if grants.pipelines.is_empty() || operation == "ListDeliveryStreams" {
        return Ok(());
    }
    match firehose::delivery_named(body) {
        Some(name) if grants.pipeline(&name) => Ok(()),
        named => Err(not_granted(
            identity,
            &action,
            &format!("delivery stream {}", named.unwrap_or_default()),
        )),
    }
}

/// A listing shows the deliveries the credential's grants name.
fn only_granted_deliveries(mut answer: Value, identity: &Identity) -> Value {
    let grants = identity.grants();
    if let Some(names) = answer
        .get_mut("DeliveryStreamNames")
        .and_then(Value::as_array_mut)
    {
        names.retain(|name| name.as_str().is_some_and(|n| grants.pipeline(n)));
    }
    answer
}

/// The role an operation of a protocol's table needs (an admin's for one not listed, so an
/// operation added without its line is closed, not open).
pub(crate) fn role_in(table: &[(&str, Role)], operation: &str) -> Role {
    table
        .iter()
        .find(|(name, _)| *name == operation)
        .map_or(Role::Admin, |(_, role)| *role)
}

pub(crate) fn unknown(target: &str) -> AwsError {
    AwsError {
        code: "UnknownOperationException",
        message: format!("operation {target} is not supported by this server"),
    }
}

/// AWS's common error for a request body over the service's quota, answered with status 413
/// (the API references' "Common Errors": "Problems with the request at the HTTP level. The
/// request entity is too large.").
pub(crate) const TOO_LARGE: &str = "RequestEntityTooLargeException";

/// The request body, read up to `limit` bytes (a larger one is refused, not read whole), as a
/// JSON object.
async fn read_body(body: Body, limit: usize) -> Result<Value, AwsError> {
    parse_body(&read_bytes(body, limit).await?)
}

/// The request body, read up to `limit` bytes (a larger one is refused, not read whole).
pub(crate) async fn read_bytes(body: Body, limit: usize) -> Result<bytes::Bytes, AwsError> {
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(error) => {
            let error = error.into_inner();
            if error.is::<http_body_util::LengthLimitError>() {
                Err(AwsError {
                    code: TOO_LARGE,
                    message: format!(
                        "The request entity is too large: this service accepts requests of at most {limit} bytes"
                    ),
                })
            } else {
                Err(AwsError {
                    code: "SerializationException",
                    message: format!("cannot read the request body: {error}"),
                })
            }
        }
    }
}

/// The request body: a JSON object (an empty body counts as `{}`).
fn parse_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(AwsError {
            code: "SerializationException",
            message: "the request body must be a JSON object".into(),
        }),
        Err(e) => Err(AwsError {
            code: "SerializationException",
            message: format!("the request body is not JSON: {e}"),
        }),
    }
}
