//! `weir events …`: `put` through the EventBridge protocol (`AWSEvents.PutEvents`), `tail`
//! over `/api/v1/events/{bus}`, which reads the bus's durable log from a position and waits
//! for new events (a tail without polling).

use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;

use crate::args::{ClientArgs, EventsCommand};
use crate::client::{Client, segment};
use crate::output::print_json;

/// How long one read of `tail` waits for new events before it asks again.
const TAIL_WAIT_MS: u64 = 10_000;

pub async fn run(args: &ClientArgs, command: EventsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        EventsCommand::Put {
            source,
            detail_type,
            detail,
            bus,
            resources,
        } => {
            let detail = detail.unwrap_or_else(|| "{}".to_string());
            let entry = json!({
                "Source": source,
                "DetailType": detail_type,
                "Detail": detail,
                "EventBusName": bus,
                "Resources": resources,
            });
            let answer = client
                .aws("AWSEvents.PutEvents", &json!({ "Entries": [entry] }))
                .await?;
            let first = &answer["Entries"][0];
            if let Some(code) = first["ErrorCode"].as_str() {
                bail!(
                    "{code}: {}",
                    first["ErrorMessage"].as_str().unwrap_or_default()
                );
            }
            if args.json {
                print_json(first);
            } else {
                outln!("{}", first["EventId"].as_str().unwrap_or_default());
            }
        }
        EventsCommand::Tail { bus, count } => tail(&client, &bus, count).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints each new event as one line of JSON, from the bus's end when the tail starts.
async fn tail(client: &Client, bus: &str, count: Option<usize>) -> anyhow::Result<()> {
    let path = format!("/api/v1/events/{}", segment(bus));
    let mut next: Option<u64> = None;
    let mut printed = 0usize;
    loop {
        let from = match next {
            Some(offset) => offset.to_string(),
            None => "latest".to_string(),
        };
        let page = client
            .get(&format!("{path}?from={from}&wait_ms={TAIL_WAIT_MS}"))
            .await?;
        for event in page["events"].as_array().into_iter().flatten() {
            outln!("{}", serde_json::to_string(event).unwrap_or_default());
            printed += 1;
            if count.is_some_and(|count| printed >= count) {
                return Ok(());
            }
        }
        match page["next"].as_u64() {
            Some(offset) => next = Some(offset),
            None => bail!("the server did not say where the bus's log goes on"),
        }
    }
}
