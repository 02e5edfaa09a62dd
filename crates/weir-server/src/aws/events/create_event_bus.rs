//! CreateEventBus: a custom bus, with its own event log, rules and archives. Partner buses
//! (`EventSourceName`) need a partner event source, which weir has none of; a KMS key, dead-letter
//! queue and log configuration are accepted and answered back, not acted on.

use serde_json::{Value, json};

use super::members::{
    DEAD_LETTER_CONFIG, DESCRIPTION, EVENT_SOURCE_NAME_MEMBER, KMS_KEY_IDENTIFIER, LOG_CONFIG,
    TAGS, bus_name,
};
use super::{Answer, AwsError, Call, tag_pairs};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        bus_name("Name").required(),
        EVENT_SOURCE_NAME_MEMBER,
        DESCRIPTION,
        KMS_KEY_IDENTIFIER,
        DEAD_LETTER_CONFIG,
        LOG_CONFIG,
        TAGS,
    ])?;
    if let Some(source) = request.optional("EventSourceName")? {
        return Err(AwsError {
            code: "ResourceNotFoundException",
            message: format!("Event source {source} does not exist."),
        });
    }
    let description = request.optional("Description")?.map(str::to_string);
    let info = call
        .events
        .create_bus(
            request.required("Name")?,
            description,
            tag_pairs(request.member("Tags")),
        )
        .await?;
    let mut answer = json!({"EventBusArn": info.arn});
    if let Some(description) = &info.description {
        answer["Description"] = json!(description);
    }
    for kept in ["KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"] {
        if let Some(value) = request.member(kept) {
            answer[kept] = Value::clone(value);
        }
    }
    Ok(answer)
}
