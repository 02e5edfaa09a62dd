//! GetExecutionHistory: An execution's history events, in order or reversed, with or without inputs and outputs.

use serde_json::{Value, json};
use weir_engine::machines::{Machines, event_json};

use super::{Answer, Member, Request, page_range, strip_data};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::arn("executionArn").required(),
        Member::page_size(),
        Member::page_token(),
    ])?;
    let mut records = machines
        .history_records(request.required("executionArn")?)
        .await?;
    if request.0["reverseOrder"] == true {
        records.reverse();
    }
    // Only the page's events are decoded: a Map of 10,000 items has some 40,000, and a page
    // is at most 1,000 (decoding them all made the first page of such a history take as long
    // as all of them).
    let (start, end) = page_range(records.len(), &request)?;
    let mut events: Vec<Value> = records[start..end].iter().map(event_json).collect();
    if request.0["includeExecutionData"] == false {
        for event in &mut events {
            strip_data(event);
        }
    }
    let mut answer = json!({ "events": events });
    if end < records.len() {
        answer["nextToken"] = json!(end.to_string());
    }
    Ok(answer)
}
