//! `weir runs logs`: attempts' logs read a range at a time (never whole), and `--follow`, which
//! tails a running attempt's log until the attempt ends.

use std::time::Duration;

use anyhow::{anyhow, bail};
use serde_json::Value;

use crate::client::{Client, segment};
use crate::output::{print_json, text};

/// How often a followed log is read again once its end is reached.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// Which attempts' logs.
pub struct Selection {
    pub run_id: String,
    pub task: Option<String>,
    pub try_number: Option<i32>,
    pub map_index: Option<i32>,
}

impl Selection {
    fn query(&self) -> Vec<String> {
        let mut query = Vec::new();
        if let Some(task) = &self.task {
            query.push(format!("task={}", segment(task)));
        }
        if let Some(t) = self.try_number {
            query.push(format!("try={t}"));
        }
        if let Some(m) = self.map_index {
            query.push(format!("map_index={m}"));
        }
        query
    }
}

/// GETs a page of logs: `query` and the range from `offset`.
async fn page(
    client: &Client,
    run_id: &str,
    query: &[String],
    offset: u64,
) -> anyhow::Result<Value> {
    let mut query = query.to_vec();
    query.push(format!("offset={offset}"));
    client
        .get(&format!(
            "/api/v1/runs/{}/logs?{}",
            segment(run_id),
            query.join("&")
        ))
        .await
}

/// The query naming exactly `entry`'s attempt.
fn attempt_query(entry: &Value) -> Vec<String> {
    vec![
        format!("task={}", segment(&text(entry, "task_id"))),
        format!("try={}", text(entry, "try_number")),
        format!("map_index={}", text(entry, "map_index")),
    ]
}

fn task_name(entry: &Value) -> String {
    let id = text(entry, "task_id");
    match entry.get("map_index").and_then(Value::as_i64) {
        Some(m) if m >= 0 => format!("{id}[{m}]"),
        _ => id,
    }
}

fn offsets(entry: &Value) -> (u64, u64) {
    (
        entry["next_offset"].as_u64().unwrap_or(0),
        entry["size"].as_u64().unwrap_or(0),
    )
}

/// Prints every selected attempt's log, a page at a time.
pub async fn print(client: &Client, selection: &Selection, json: bool) -> anyhow::Result<()> {
    let first = page(client, &selection.run_id, &selection.query(), 0).await?;
    if json {
        // The API's answer: the first range of each log, with the offsets to read on from.
        print_json(&first);
        return Ok(());
    }
    for entry in first["logs"].as_array().into_iter().flatten() {
        outln!(
            "=== {} try {} ({}) ===",
            task_name(entry),
            text(entry, "try_number"),
            text(entry, "state")
        );
        let mut log = entry["log"].as_str().unwrap_or_default().to_string();
        let mut ended_with_newline = log.is_empty() || log.ends_with('\n');
        out!("{log}");
        let (mut next, mut size) = offsets(entry);
        while next < size {
            let more = page(client, &selection.run_id, &attempt_query(entry), next).await?;
            let Some(more) = more["logs"].get(0) else {
                break;
            };
            log = more["log"].as_str().unwrap_or_default().to_string();
            if log.is_empty() {
                break;
            }
            ended_with_newline = log.ends_with('\n');
            out!("{log}");
            (next, size) = offsets(more);
        }
        if !ended_with_newline {
            outln!();
        }
    }
    Ok(())
}

/// Prints the task's attempt as it is written, until it ends.
pub async fn follow(client: &Client, selection: &Selection) -> anyhow::Result<()> {
    let Some(task) = &selection.task else {
        bail!("--follow needs the task: weir runs logs RUN TASK --follow");
    };
    let attempt = attempt_to_follow(client, selection, task).await?;
    let query = attempt_query(&attempt);
    eprintln!(
        "=== {} try {} ===",
        task_name(&attempt),
        text(&attempt, "try_number")
    );
    let mut offset = 0;
    loop {
        let body = page(client, &selection.run_id, &query, offset).await?;
        let entry = body["logs"]
            .get(0)
            .ok_or_else(|| anyhow!("the attempt disappeared from the run"))?;
        out!("{}", entry["log"].as_str().unwrap_or_default());
        crate::output::flush_stdout();
        let (next, size) = offsets(entry);
        offset = next;
        if offset < size {
            continue;
        }
        let state = text(entry, "state");
        if state != "running" {
            eprintln!(
                "=== {} try {} ended: {state} ===",
                task_name(entry),
                text(entry, "try_number")
            );
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_INTERVAL).await;
    }
}

/// The attempt `--follow` tails: the one asked for (`--try`, `--map-index`), else the latest;
/// waits for it to start while the run goes on.
async fn attempt_to_follow(
    client: &Client,
    selection: &Selection,
    task: &str,
) -> anyhow::Result<Value> {
    let run = segment(&selection.run_id);
    loop {
        let body = client
            .get(&format!(
                "/api/v1/runs/{run}/attempts?task={}",
                segment(task)
            ))
            .await?;
        let latest = body["attempts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| {
                selection
                    .map_index
                    .is_none_or(|m| a["map_index"].as_i64() == Some(m.into()))
                    && selection
                        .try_number
                        .is_none_or(|t| a["try_number"].as_i64() == Some(t.into()))
            })
            .max_by_key(|a| a["started_at_us"].as_i64().unwrap_or(0));
        if let Some(attempt) = latest {
            return Ok(attempt.clone());
        }
        let run_body = client.get(&format!("/api/v1/runs/{run}")).await?;
        let known = run_body["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["task_id"].as_str() == Some(task));
        if !known {
            bail!("run {} has no task `{task}`", selection.run_id);
        }
        let state = text(&run_body, "state");
        if !matches!(state.as_str(), "queued" | "running") {
            bail!(
                "task `{task}` of run {} has no attempt to follow (the run is {state})",
                selection.run_id
            );
        }
        tokio::time::sleep(FOLLOW_INTERVAL).await;
    }
}
