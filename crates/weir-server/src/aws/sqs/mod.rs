//! SQS's JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`, JSON 1.0, as current boto3 and
//! the AWS CLI send it), over [`weir_engine::queues::Queues`]. Field names, shapes and error
//! codes and texts are SQS's (`errors.rs`: the JSON protocol's `__type` and the query code in
//! `x-amzn-query-error`), so SQS clients work unchanged.
//!
//! One file per operation, named after it; this module routes an operation to its file, checks
//! the caller's role and grants, and holds what several operations share: the queue a request
//! names (its `QueueUrl`, or `QueueName`), and the answer's shape. `batch.rs` holds the batch
//! operations' rules on `Entries`, `messages.rs` what sending and receiving share (message
//! attributes). A new operation is a new file, a line in [`handle`] and one in [`OPERATIONS`].
//!
//! Grants on names cover queues as they cover pipelines and streams: a narrowed credential
//! reaches the queues its globs name, by URL, name or ARN (a redrive policy's dead-letter queue
//! included), and sees only those in listings.

mod batch;
mod change_message_visibility;
mod change_message_visibility_batch;
mod create_queue;
mod delete_message;
mod delete_message_batch;
mod delete_queue;
mod errors;
mod get_queue_attributes;
mod get_queue_url;
mod list_dead_letter_source_queues;
mod list_queue_tags;
mod list_queues;
mod messages;
mod paging;
mod purge_queue;
mod receive_message;
mod send_message;
mod send_message_batch;
mod set_queue_attributes;
mod tag_queue;
mod untag_queue;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use weir_engine::queues::{QueueError, Queues};
use weir_model::access::Role;

use super::AwsError;
use crate::auth::Identity;
use crate::auth::middleware::AuditNote;

/// The largest request body read. A batch holds at most 1 MiB of messages and attributes
/// ("the total size of all messages in a batch"), and JSON may spell a byte as six (`\u0000`):
/// bodies are read up to this, and the limits themselves are checked on what they hold.
pub const MAX_REQUEST_BYTES: usize = 7 << 20;

/// Each operation and the role it needs. An operation not listed needs an admin. Reading what
/// a queue is (its URL, attributes, tags) is a viewer's; sending, receiving (which hides the
/// message and counts the receive), deleting messages and changing their visibility is an
/// operator's; shaping queues (create, delete, attributes, purge, tags) is an admin's.
pub const OPERATIONS: &[(&str, Role)] = &[
    ("CreateQueue", Role::Admin),
    ("DeleteQueue", Role::Admin),
    ("GetQueueUrl", Role::Viewer),
    ("ListQueues", Role::Viewer),
    ("GetQueueAttributes", Role::Viewer),
    ("SetQueueAttributes", Role::Admin),
    ("SendMessage", Role::Operator),
    ("SendMessageBatch", Role::Operator),
    ("ReceiveMessage", Role::Operator),
    ("DeleteMessage", Role::Operator),
    ("DeleteMessageBatch", Role::Operator),
    ("ChangeMessageVisibility", Role::Operator),
    ("ChangeMessageVisibilityBatch", Role::Operator),
    ("PurgeQueue", Role::Admin),
    ("TagQueue", Role::Admin),
    ("UntagQueue", Role::Admin),
    ("ListQueueTags", Role::Viewer),
    ("ListDeadLetterSourceQueues", Role::Viewer),
];

/// The operations on messages: the data plane, audited only when refused (a producer's every
/// call would flood the log), as Kinesis' record writes are.
const DATA_PLANE: &[&str] = &[
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
];

/// The role an operation needs (an admin's for one not listed).
pub fn role_of(operation: &str) -> Role {
    super::role_in(OPERATIONS, operation)
}

/// What an operation's handler gets.
pub struct Call<'a> {
    pub queues: &'a Queues,
    pub request: &'a Value,
    /// Whether the caller's grants cover a queue (listings show only those).
    pub granted: &'a (dyn Fn(&str) -> bool + Sync),
}

/// An operation's answer: its output members (`{}` for an operation without output).
pub type Answer = Result<Value, AwsError>;

impl Call<'_> {
    /// A string member, when the request has it (a value of another type is refused).
    pub fn text(&self, member: &str) -> Result<Option<&str>, AwsError> {
        text_of(self.request, member)
    }

    /// A string member the operation needs (`MissingParameter` without it).
    pub fn required(&self, member: &str) -> Result<&str, AwsError> {
        self.text(member)?.ok_or_else(|| errors::missing(member))
    }

    /// A whole-number member, when the request has it.
    pub fn integer(&self, member: &str) -> Result<Option<i64>, AwsError> {
        integer_of(self.request, member)
    }

    /// The queue the request's `QueueUrl` names, as [`Queues`] takes it (the URL itself: the
    /// service resolves URLs, names and ARNs).
    pub fn queue(&self) -> Result<&str, AwsError> {
        self.required("QueueUrl")
    }

    /// A list of strings (`AttributeNames`, `TagKeys`); empty when absent.
    pub fn strings(&self, member: &str) -> Result<Vec<String>, AwsError> {
        match self.request.get(member) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| wrong_type(member, "a list of strings"))
                })
                .collect(),
            Some(_) => Err(wrong_type(member, "a list of strings")),
        }
    }

    /// A map of strings to strings (`Attributes`, `Tags`); empty when absent.
    pub fn string_map(
        &self,
        member: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, AwsError> {
        string_map_of(self.request, member)
    }
}

/// `member` of `object` as a string.
pub fn text_of<'v>(object: &'v Value, member: &str) -> Result<Option<&'v str>, AwsError> {
    match object.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(wrong_type(member, "a string")),
    }
}

/// `member` of `object` as a whole number.
pub fn integer_of(object: &Value, member: &str) -> Result<Option<i64>, AwsError> {
    match object.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(member, "an integer")),
        Some(_) => Err(wrong_type(member, "an integer")),
    }
}

/// `member` of `object` as a map of strings to strings.
pub fn string_map_of(
    object: &Value,
    member: &str,
) -> Result<std::collections::BTreeMap<String, String>, AwsError> {
    match object.get(member) {
        None | Some(Value::Null) => Ok(Default::default()),
        Some(Value::Object(entries)) => entries
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.clone(), text.clone())),
                _ => Err(wrong_type(member, "a map of strings")),
            })
            .collect(),
        Some(_) => Err(wrong_type(member, "a map of strings")),
    }
}

/// A member of the wrong JSON type, refused as AWS's deserializer refuses it.
fn wrong_type(member: &str, wanted: &str) -> AwsError {
    AwsError {
        code: "SerializationException",
        message: format!("{member} must be {wanted}"),
    }
}

impl From<QueueError> for AwsError {
    fn from(error: QueueError) -> Self {
        let code = errors::shape_of(error.code());
        if code == "InternalFailure" {
            return errors::internal(error);
        }
        AwsError {
            code,
            message: error.to_string(),
        }
    }
}

/// The queue name a queue URL (`…/ACCOUNT/NAME`), ARN (`arn:aws:sqs:R:A:NAME`) or name names:
/// its last part.
pub fn queue_named_in(reference: &str) -> &str {
    let reference = reference.trim_end_matches('/');
    let after_slash = reference.rsplit('/').next().unwrap_or(reference);
    if reference.starts_with("arn:") {
        return reference.rsplit(':').next().unwrap_or(reference);
    }
    after_slash
}

/// The queues a request names, by any member that can: `QueueUrl`, `QueueName`, and the queues
/// a redrive policy or redrive allow policy in `Attributes` points at.
fn queues_named(request: &Value) -> Vec<String> {
    let mut named = Vec::new();
    for member in ["QueueUrl", "QueueName"] {
        if let Some(reference) = request.get(member).and_then(Value::as_str) {
            named.push(queue_named_in(reference).to_string());
        }
    }
    let attributes = request.get("Attributes");
    if let Some(policy) = attributes
        .and_then(|a| a.get("RedrivePolicy"))
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        && let Some(arn) = policy.get("deadLetterTargetArn").and_then(Value::as_str)
    {
        named.push(queue_named_in(arn).to_string());
    }
    if let Some(policy) = attributes
        .and_then(|a| a.get("RedriveAllowPolicy"))
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        && let Some(sources) = policy.get("sourceQueueArns").and_then(Value::as_array)
    {
        named.extend(
            sources
                .iter()
                .filter_map(Value::as_str)
                .map(|arn| queue_named_in(arn).to_string()),
        );
    }
    named
}

/// Whether the caller's role and grants allow the operation on every queue the request names,
/// refused as IAM refuses it.
fn allowed(
    identity: &Identity,
    needed: Role,
    named: &[String],
    operation: &str,
) -> Result<(), AwsError> {
    let user = identity.name().unwrap_or("anonymous");
    if identity.role().is_none_or(|role| role < needed) {
        return Err(AwsError {
            code: "AccessDeniedException",
            message: format!(
                "User: {user} is not authorized to perform: sqs:{operation} (the operation needs role {needed})"
            ),
        });
    }
    let grants = identity.grants();
    match named.iter().find(|name| !grants.pipeline(name)) {
        None => Ok(()),
        Some(name) => Err(AwsError {
            code: "AccessDeniedException",
            message: format!(
                "User: {user} is not authorized to perform: sqs:{operation} on resource: queue {name} (not in the credential's grants)"
            ),
        }),
    }
}

/// Answers one SQS call: reads the body (up to [`MAX_REQUEST_BYTES`]), checks the caller's role
/// and the queues it names against its grants, and runs the operation.
pub async fn dispatch(
    queues: Option<&Queues>,
    identity: &Identity,
    body: Body,
    target: &str,
    operation: &str,
) -> Response {
    let mut note = AuditNote {
        action: target.to_string(),
        ..AuditNote::default()
    };
    let needed = role_of(operation);
    note.mutating = Some(needed > Role::Viewer && !DATA_PLANE.contains(&operation));
    let answer = match queues {
        None => Err(super::unknown(target)),
        Some(queues) => match super::read_body(body, MAX_REQUEST_BYTES).await {
            Err(error) => Err(error),
            Ok(request) => {
                let named = queues_named(&request);
                note.target = named.first().cloned();
                match allowed(identity, needed, &named, operation) {
                    Err(error) => {
                        note.refusal = Some(error.message.clone());
                        Err(error)
                    }
                    Ok(()) => {
                        let grants = identity.grants();
                        let granted = |name: &str| grants.pipeline(name);
                        let call = Call {
                            queues,
                            request: &request,
                            granted: &granted,
                        };
                        handle(&call, operation).await
                    }
                }
            }
        },
    };
    let mut response = match answer {
        Ok(body) => respond(StatusCode::OK, &body),
        Err(error) => {
            if note.refusal.is_none() && error.code != "InternalFailure" {
                note.detail = Some(format!("{}: {}", error.code, error.message));
            }
            refuse(&error)
        }
    };
    response.extensions_mut().insert(note);
    response
}

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

/// An error in SQS's JSON shape, with its query code and fault in `x-amzn-query-error`.
fn refuse(error: &AwsError) -> Response {
    let (query_code, status, sender) = errors::query_error(error.code);
    let body = json!({
        "__type": format!("com.amazonaws.sqs#{}", error.code),
        "message": error.message,
    });
    let mut response = respond(status, &body);
    let fault = if sender { "Sender" } else { "Receiver" };
    if let Ok(header) = HeaderValue::from_str(&format!("{query_code};{fault}")) {
        response.headers_mut().insert("x-amzn-query-error", header);
    }
    response
}

/// Runs one operation.
async fn handle(call: &Call<'_>, operation: &str) -> Answer {
    match operation {
        "CreateQueue" => create_queue::handle(call).await,
        "DeleteQueue" => delete_queue::handle(call).await,
        "GetQueueUrl" => get_queue_url::handle(call).await,
        "ListQueues" => list_queues::handle(call).await,
        "GetQueueAttributes" => get_queue_attributes::handle(call).await,
        "SetQueueAttributes" => set_queue_attributes::handle(call).await,
        "SendMessage" => send_message::handle(call).await,
        "SendMessageBatch" => send_message_batch::handle(call).await,
        "ReceiveMessage" => receive_message::handle(call).await,
        "DeleteMessage" => delete_message::handle(call).await,
        "DeleteMessageBatch" => delete_message_batch::handle(call).await,
        "ChangeMessageVisibility" => change_message_visibility::handle(call).await,
        "ChangeMessageVisibilityBatch" => change_message_visibility_batch::handle(call).await,
        "PurgeQueue" => purge_queue::handle(call).await,
        "TagQueue" => tag_queue::handle(call).await,
        "UntagQueue" => untag_queue::handle(call).await,
        "ListQueueTags" => list_queue_tags::handle(call).await,
        "ListDeadLetterSourceQueues" => list_dead_letter_source_queues::handle(call).await,
        _ => Err(AwsError {
            code: "UnsupportedOperation",
            message: format!("AmazonSQS.{operation} is not supported by this server"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_queues_by_url_name_and_redrive_arns() {
        assert_eq!(
            queue_named_in("http://127.0.0.1:8080/000000000000/jobs.fifo"),
            "jobs.fifo"
        );
        assert_eq!(
            queue_named_in("arn:aws:sqs:us-east-1:000000000000:dlq"),
            "dlq"
        );
        assert_eq!(queue_named_in("jobs"), "jobs");
        let request = json!({
            "QueueName": "jobs",
            "Attributes": {
                "RedrivePolicy": "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":\"3\"}",
                "RedriveAllowPolicy": "{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":[\"arn:aws:sqs:us-east-1:000000000000:src\"]}"
            }
        });
        assert_eq!(queues_named(&request), ["jobs", "dlq", "src"]);
    }

    #[test]
    fn an_error_carries_the_shape_and_the_query_code() {
        let response = refuse(&errors::no_queue());
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["x-amzn-query-error"],
            "AWS.SimpleQueueService.NonExistentQueue;Sender"
        );
    }
}
