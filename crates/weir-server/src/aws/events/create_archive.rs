//! CreateArchive: from now on, the events of a bus (those matching `EventPattern`, if given;
//! never replayed ones) are kept for `RetentionDays` (0: forever), to be replayed.

use serde_json::json;

use super::members::{archive_name, events_arn, with_archive_settings};
use super::{Answer, Call, seconds};
use weir_engine::events::ArchiveInput;

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&with_archive_settings(&[
        archive_name("ArchiveName").required(),
        events_arn("EventSourceArn").required(),
    ]))?;
    let info = call
        .events
        .create_archive(ArchiveInput {
            name: request.required("ArchiveName")?.to_string(),
            source_arn: request.required("EventSourceArn")?.to_string(),
            description: request.optional("Description")?.map(str::to_string),
            event_pattern: request.optional("EventPattern")?.map(str::to_string),
            retention_days: request.integer("RetentionDays")?.unwrap_or(0) as u32,
        })
        .await?;
    Ok(state_of(&info))
}

/// CreateArchive's and UpdateArchive's answer: the archive's ARN, state and creation time.
pub fn state_of(info: &weir_engine::events::ArchiveInfo) -> serde_json::Value {
    json!({
        "ArchiveArn": info.arn,
        "State": info.state,
        "CreationTime": seconds(info.created_ms),
    })
}
