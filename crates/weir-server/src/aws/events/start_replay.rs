//! StartReplay: re-sends an archive's events of [`EventStartTime`, `EventEndTime`) to its bus, in
//! time order and marked with `replay-name`, to every rule or only to those of
//! `Destination.FilterArns`; it runs in the background (DescribeReplay follows it).

use serde_json::json;

use super::members::{DESCRIPTION_512, REPLAY_DESTINATION, events_arn, replay_name};
use super::{Answer, Call, Member, seconds, strings};
use weir_engine::events::ReplayInput;

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        replay_name("ReplayName").required(),
        DESCRIPTION_512,
        events_arn("EventSourceArn").required(),
        Member::timestamp("EventStartTime").required(),
        Member::timestamp("EventEndTime").required(),
        REPLAY_DESTINATION.required(),
    ])?;
    let destination = request.nested("Destination");
    let info = call
        .events
        .start_replay(ReplayInput {
            name: request.required("ReplayName")?.to_string(),
            description: request.optional("Description")?.map(str::to_string),
            archive_arn: request.required("EventSourceArn")?.to_string(),
            start_ms: request.timestamp_ms("EventStartTime")?.unwrap_or_default(),
            end_ms: request.timestamp_ms("EventEndTime")?.unwrap_or_default(),
            destination_arn: match &destination {
                Some(destination) => destination.required("Arn")?.to_string(),
                None => String::new(),
            },
            filter_arns: strings(destination.and_then(|d| d.member("FilterArns"))),
        })
        .await?;
    let mut answer = json!({
        "ReplayArn": info.arn,
        "State": info.state,
        "ReplayStartTime": seconds(info.started_ms),
    });
    if let Some(reason) = &info.state_reason {
        answer["StateReason"] = json!(reason);
    }
    Ok(answer)
}
