//! Kinesis Data Streams' API (`X-Amz-Target: Kinesis_20131202.<Operation>`), over
//! [`weir_stream::Streams`], in JSON 1.1 and CBOR (`wire.rs`). Field names, shapes, limits and
//! error names and texts are AWS's, so boto3, the AWS CLI, the Java SDKs and the Kinesis Client
//! Library work unchanged.
//!
//! One file per operation, named after it; this module routes an operation to its file, checks
//! the caller's role and grants, and holds what several operations share: finding the stream a
//! request names (by `StreamName` or `StreamARN`), shards as the API shows them, errors.
//! `members.rs` declares the model's shapes the operations share; `eventstream.rs` frames
//! SubscribeToShard's answer. A new operation is a new file, a line in [`handle`] and one in
//! [`OPERATIONS`]; it checks its members against the model first.

mod add_tags_to_stream;
mod create_stream;
mod decrease_stream_retention_period;
mod delete_stream;
mod deregister_stream_consumer;
mod describe_stream;
mod describe_stream_consumer;
mod describe_stream_summary;
mod eventstream;
mod get_records;
mod get_shard_iterator;
mod increase_stream_retention_period;
mod list_shards;
mod list_stream_consumers;
mod list_streams;
mod list_tags_for_resource;
mod list_tags_for_stream;
mod members;
mod merge_shards;
mod put_record;
mod put_records;
mod register_stream_consumer;
mod remove_tags_from_stream;
mod shapes;
mod split_shard;
mod subscribe_to_shard;
mod tag_resource;
mod untag_resource;
mod update_shard_count;
mod wire;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use weir_model::access::Role;
use weir_stream::{StreamError, Streams};

use super::AwsError;
use super::fields::Request;
use crate::auth::Identity;
use crate::auth::middleware::AuditNote;
pub use wire::{Wire, cbor_refusals};

/// The largest request body read: a PutRecords of 500 records holds up to 5 MiB of data, which
/// is 6.7 MiB as base64, with up to 500 partition keys of 256 characters beside it.
pub const MAX_REQUEST_BYTES: usize = 7 << 20;

/// Each operation and the role it needs. [`handle`] refuses an operation that is not here to
/// anyone but an admin, so one added without a line here is closed, not open. Reading data is a
/// viewer's, writing it an operator's, and shaping streams (create, delete, reshard, retention,
/// tags, consumers) an admin's.
pub const OPERATIONS: &[(&str, Role)] = &[
    ("CreateStream", Role::Admin),
    ("DeleteStream", Role::Admin),
    ("DescribeStream", Role::Viewer),
    ("DescribeStreamSummary", Role::Viewer),
    ("ListStreams", Role::Viewer),
    ("ListShards", Role::Viewer),
    ("PutRecord", Role::Operator),
    ("PutRecords", Role::Operator),
    ("GetShardIterator", Role::Viewer),
    ("GetRecords", Role::Viewer),
    ("SplitShard", Role::Admin),
    ("MergeShards", Role::Admin),
    ("UpdateShardCount", Role::Admin),
    ("IncreaseStreamRetentionPeriod", Role::Admin),
    ("DecreaseStreamRetentionPeriod", Role::Admin),
    ("AddTagsToStream", Role::Admin),
    ("RemoveTagsFromStream", Role::Admin),
    ("ListTagsForStream", Role::Viewer),
    ("TagResource", Role::Admin),
    ("UntagResource", Role::Admin),
    ("ListTagsForResource", Role::Viewer),
    ("RegisterStreamConsumer", Role::Admin),
    ("DeregisterStreamConsumer", Role::Admin),
    ("DescribeStreamConsumer", Role::Viewer),
    ("ListStreamConsumers", Role::Viewer),
    ("SubscribeToShard", Role::Viewer),
];

/// The operations that write records (audited only when refused).
const DATA_WRITES: &[&str] = &["PutRecord", "PutRecords"];

/// The role an operation needs (an admin's for one not listed).
pub fn role_of(operation: &str) -> Role {
    super::role_in(OPERATIONS, operation)
}

/// What an operation's handler gets.
pub struct Call<'a> {
    pub streams: &'a Streams,
    pub request: Request<'a>,
    pub wire: Wire,
    /// Whether the caller's grants cover a stream (listings show only those).
    pub granted: &'a (dyn Fn(&str) -> bool + Sync),
}

pub type Answer = Result<Response, AwsError>;

impl Call<'_> {
    /// A successful answer in the request's format.
    pub fn ok<T: Serialize + ?Sized>(&self, answer: &T) -> Answer {
        let body = self.wire.encode(answer)?;
        Ok(respond(self.wire, StatusCode::OK, body))
    }

    /// An answer with no members (`{}`), as AWS's operations without output give.
    pub fn empty(&self) -> Answer {
        #[derive(Serialize)]
        struct Empty {}
        self.ok(&Empty {})
    }

    /// The name of the stream the request names, by `StreamName` or `StreamARN` ("you must use
    /// either the StreamARN or the StreamName parameter, or both").
    pub fn stream(&self) -> Result<String, AwsError> {
        if let Some(name) = self.request.optional("StreamName")? {
            return Ok(name.to_string());
        }
        match self.request.optional("StreamARN")? {
            Some(arn) => self.stream_of_arn(arn),
            None => Err(invalid_argument(
                "Either StreamName or StreamARN must be provided.",
            )),
        }
    }

    /// The stream a stream ARN (or a consumer ARN, which starts with its stream's) names: one of
    /// this server's streams, or not found.
    pub fn stream_of_arn(&self, arn: &str) -> Result<String, AwsError> {
        match self.streams.name_of_arn(arn) {
            Some(name) => Ok(name),
            None => {
                let name = stream_named_in(arn).unwrap_or(arn);
                Err(AwsError {
                    code: "ResourceNotFoundException",
                    message: format!(
                        "Stream {name} under account {} not found.",
                        self.streams.config().account
                    ),
                })
            }
        }
    }
}

/// The stream name in an ARN: `…:stream/NAME` or `…:stream/NAME/consumer/…`.
pub fn stream_named_in(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":stream/")?;
    let name = rest.split('/').next().unwrap_or(rest);
    (!name.is_empty()).then_some(name)
}

pub fn invalid_argument(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "InvalidArgumentException",
        message: message.into(),
    }
}

impl From<StreamError> for AwsError {
    fn from(e: StreamError) -> Self {
        let code = e.code();
        let message = match &e {
            // The log's own failures are the server's; the detail goes to the log, not the
            // client.
            StreamError::Io(_) | StreamError::Store(_) => {
                tracing::error!(error = %e, "stream operation failed");
                "Internal service failure.".to_string()
            }
            _ => e.to_string(),
        };
        AwsError { code, message }
    }
}

fn respond(wire: Wire, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static(wire.content_type()),
    );
    response
}

/// An error in AWS's shape and the request's format.
fn refuse(wire: Wire, error: &AwsError) -> Response {
    let status = match error.code {
        "InternalFailure" | "InternalFailureException" => StatusCode::INTERNAL_SERVER_ERROR,
        super::TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = respond(wire, status, wire.error(error));
    if let Ok(kind) = HeaderValue::from_str(error.code) {
        response.headers_mut().insert("x-amzn-ErrorType", kind);
    }
    response
}

/// Answers one Kinesis call: reads the body in its format (up to [`MAX_REQUEST_BYTES`]), checks
/// the caller's role and the streams it names against its grants, and runs the operation.
pub async fn dispatch(
    streams: Option<&Streams>,
    identity: &Identity,
    headers: &HeaderMap,
    body: Body,
    target: &str,
    operation: &str,
) -> Response {
    let wire = Wire::of(
        headers
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
    );
    let mut note = AuditNote {
        action: target.to_string(),
        ..AuditNote::default()
    };
    let needed = role_of(operation);
    // Writing records is the data plane: like CloudTrail's data events, not in the audit log
    // unless refused (a producer's every call would flood it); shaping streams is.
    note.mutating = Some(needed > Role::Viewer && !DATA_WRITES.contains(&operation));
    let answer = match streams {
        None => Err(super::unknown(target)),
        Some(streams) => match super::read_bytes(body, MAX_REQUEST_BYTES).await {
            Err(error) => Err(error),
            Ok(bytes) => match wire.decode(&bytes) {
                Err(error) => Err(error),
                Ok(body) => {
                    let request = Request(&body);
                    let named = streams_named(operation, &request);
                    note.target = named.first().cloned().flatten();
                    match allowed(identity, needed, &named, operation) {
                        Err(error) => {
                            note.refusal = Some(error.message.clone());
                            Err(error)
                        }
                        Ok(()) => {
                            let granted = |name: &str| identity.may_see_stream(name);
                            let call = Call {
                                streams,
                                request,
                                wire,
                                granted: &granted,
                            };
                            handle(&call, operation).await
                        }
                    }
                }
            },
        },
    };
    let mut response = match answer {
        Ok(response) => response,
        Err(error) => {
            if note.refusal.is_none() && error.code != "InternalFailure" {
                note.detail = Some(format!("{}: {}", error.code, error.message));
            }
            refuse(wire, &error)
        }
    };
    response.extensions_mut().insert(note);
    response
}

/// The streams a request names, by any member that can (`StreamName`, the ARNs, a shard
/// iterator's stream); None for a member that names none weir can read (a narrowed credential
/// is then refused).
fn streams_named(operation: &str, request: &Request<'_>) -> Vec<Option<String>> {
    let text = |member: &str| request.0.get(member).and_then(|v| v.as_str());
    let mut named = Vec::new();
    if let Some(name) = text("StreamName") {
        named.push(Some(name.to_string()));
    }
    for member in ["StreamARN", "ConsumerARN", "ResourceARN"] {
        if let Some(arn) = text(member) {
            named.push(stream_named_in(arn).map(str::to_string));
        }
    }
    if operation == "GetRecords"
        && let Some(token) = text("ShardIterator")
    {
        named.push(weir_stream::ShardIterator::decode(token).map(|iterator| iterator.stream));
    }
    // ListShards' NextToken carries the stream it pages through: it is checked like a name.
    if operation == "ListShards"
        && let Some(token) = text("NextToken")
    {
        named.push(list_shards::stream_of_token(token));
    }
    named
}

/// Whether the caller's role and grants allow the operation on every stream the request names,
/// refused as IAM refuses it. Grants on names cover streams as they cover pipelines.
fn allowed(
    identity: &Identity,
    needed: Role,
    named: &[Option<String>],
    operation: &str,
) -> Result<(), AwsError> {
    let user = identity.name().unwrap_or("anonymous");
    if identity.role().is_none_or(|role| role < needed) {
        return Err(AwsError {
            code: "AccessDeniedException",
            message: format!(
                "User: {user} is not authorized to perform: kinesis:{operation} (the operation needs role {needed})"
            ),
        });
    }
    let grants = identity.grants();
    for stream in named {
        let resource = match stream {
            // weir's own streams (a delivery's direct puts, an event bus's events): what they
            // hold was acknowledged to another API's callers and is theirs to read and drop,
            // whoever the caller is.
            Some(name) if weir_stream::is_reserved(name) => format!(
                "stream {name} (weir's own: a delivery's direct puts or an event bus's events; use the Firehose or EventBridge API)"
            ),
            Some(name) if grants.pipeline(name) => continue,
            // A credential granted every name needs no name to be read.
            None if grants.pipelines.is_empty() => continue,
            Some(name) => format!("stream {name}"),
            None => "the stream given (weir cannot tell which it is)".to_string(),
        };
        return Err(AwsError {
            code: "AccessDeniedException",
            message: format!(
                "User: {user} is not authorized to perform: kinesis:{operation} on resource: {resource} (not in the credential's grants)"
            ),
        });
    }
    Ok(())
}

/// Runs one operation.
async fn handle(call: &Call<'_>, operation: &str) -> Answer {
    match operation {
        "CreateStream" => create_stream::handle(call).await,
        "DeleteStream" => delete_stream::handle(call).await,
        "DescribeStream" => describe_stream::handle(call).await,
        "DescribeStreamSummary" => describe_stream_summary::handle(call).await,
        "ListStreams" => list_streams::handle(call).await,
        "ListShards" => list_shards::handle(call).await,
        "PutRecord" => put_record::handle(call).await,
        "PutRecords" => put_records::handle(call).await,
        "GetShardIterator" => get_shard_iterator::handle(call).await,
        "GetRecords" => get_records::handle(call).await,
        "SplitShard" => split_shard::handle(call).await,
        "MergeShards" => merge_shards::handle(call).await,
        "UpdateShardCount" => update_shard_count::handle(call).await,
        "IncreaseStreamRetentionPeriod" => increase_stream_retention_period::handle(call).await,
        "DecreaseStreamRetentionPeriod" => decrease_stream_retention_period::handle(call).await,
        "AddTagsToStream" => add_tags_to_stream::handle(call).await,
        "RemoveTagsFromStream" => remove_tags_from_stream::handle(call).await,
        "ListTagsForStream" => list_tags_for_stream::handle(call).await,
        "TagResource" => tag_resource::handle(call).await,
        "UntagResource" => untag_resource::handle(call).await,
        "ListTagsForResource" => list_tags_for_resource::handle(call).await,
        "RegisterStreamConsumer" => register_stream_consumer::handle(call).await,
        "DeregisterStreamConsumer" => deregister_stream_consumer::handle(call).await,
        "DescribeStreamConsumer" => describe_stream_consumer::handle(call).await,
        "ListStreamConsumers" => list_stream_consumers::handle(call).await,
        "SubscribeToShard" => subscribe_to_shard::handle(call).await,
        _ => Err(AwsError {
            code: "UnknownOperationException",
            message: format!("Kinesis_20131202.{operation} is not supported by this server"),
        }),
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
