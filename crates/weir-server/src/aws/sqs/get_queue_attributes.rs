//! GetQueueAttributes: the named attributes of a queue (`All` for every one); an unknown name is
//! `InvalidAttributeName`. SQS leaves `Attributes` out when none were asked for.

use serde_json::{Value, json};

use super::{Answer, AwsError, Call};

/// `QueueAttributeName`'s values in the model.
const NAMES: &[&str] = &[
    "All",
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let names = call.strings("AttributeNames")?;
    if let Some(unknown) = names.iter().find(|name| !NAMES.contains(&name.as_str())) {
        return Err(AwsError {
            code: "InvalidAttributeName",
            message: format!("Unknown Attribute {unknown}."),
        });
    }
    let attributes = call.queues.attributes(queue, &names)?;
    if attributes.is_empty() {
        return Ok(json!({}));
    }
    let attributes: serde_json::Map<String, Value> = attributes
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Ok(json!({ "Attributes": attributes }))
}
