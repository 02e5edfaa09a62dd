//! PutEvents: up to 10 entries, each checked on its own and, if it passes, appended to its bus's
//! log; the answer comes once the appended ones are durable, with an `EventId` or an
//! `ErrorCode`/`ErrorMessage` per entry in the request's order.

use chrono::DateTime;
use serde_json::{Value, json};
use weir_model::events::envelope::{PutEventsEntry, check_request};

use super::members::{ENDPOINT_ID_MEMBER, ENTRIES};
use super::{Answer, Call, invalid, strings};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[ENTRIES.required(), ENDPOINT_ID_MEMBER])?;
    let entries: Vec<PutEventsEntry> = request
        .member("Entries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(entry)
        .collect();
    check_request(&entries).map_err(invalid)?;
    // Sources of AWS's services and weir's own are the built-in events' (what triggers trust),
    // refused to callers as AWS refuses `aws.` sources.
    let (reserved, allowed): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .enumerate()
        .partition(|(_, entry)| entry.source.as_deref().is_some_and(is_reserved_source));
    let (positions, allowed): (Vec<usize>, Vec<PutEventsEntry>) = allowed.into_iter().unzip();
    let mut outcomes: Vec<Option<Value>> = vec![None; positions.len() + reserved.len()];
    for (at, _) in reserved {
        outcomes[at] = Some(json!({
            "ErrorCode": "NotAuthorizedForSourceException",
            "ErrorMessage": "Not authorized for the source.",
        }));
    }
    for (at, outcome) in positions
        .into_iter()
        .zip(call.events.put_events(allowed).await)
    {
        outcomes[at] = Some(match outcome {
            Ok(id) => json!({"EventId": id}),
            Err(error) => json!({"ErrorCode": error.code, "ErrorMessage": error.message}),
        });
    }
    let shown: Vec<Value> = outcomes.into_iter().flatten().collect();
    let failed = shown
        .iter()
        .filter(|o| o.get("ErrorCode").is_some())
        .count();
    Ok(json!({"FailedEntryCount": failed, "Entries": shown}))
}

/// A `PutEventsRequestEntry` as the bus takes it.
fn entry(value: &Value) -> PutEventsEntry {
    let text = |member: &str| {
        value
            .get(member)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    PutEventsEntry {
        source: text("Source"),
        detail_type: text("DetailType"),
        detail: text("Detail"),
        resources: strings(value.get("Resources")),
        time: value
            .get("Time")
            .and_then(Value::as_f64)
            .and_then(|seconds| DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)),
        event_bus_name: text("EventBusName"),
        trace_header: text("TraceHeader"),
    }
}

/// `aws.…` (AWS's services) and `weir.…` (weir's built-in events): only weir puts them.
fn is_reserved_source(source: &str) -> bool {
    source.starts_with("aws.") || source.starts_with("weir.")
}
