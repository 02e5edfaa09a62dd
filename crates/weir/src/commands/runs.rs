//! `weir runs …`: client commands over the REST API.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::args::{ClientArgs, RunsCommand};
use crate::client::{Client, segment};
use crate::output::{print_json, seconds_field, table, text};

pub async fn run(args: &ClientArgs, command: RunsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        RunsCommand::List { pipeline, limit } => {
            let filter = pipeline
                .map(|p| format!("&pipeline={}", segment(&p)))
                .unwrap_or_default();
            let body = client
                .get(&format!("/api/v1/runs?limit={limit}{filter}"))
                .await?;
            print_runs(&body, args.json);
        }
        RunsCommand::Show { run_id } => {
            let id = segment(&run_id);
            let run = client.get(&format!("/api/v1/runs/{id}")).await?;
            let events = client.get(&format!("/api/v1/runs/{id}/events")).await?;
            if args.json {
                let mut body = run;
                body["events"] = events["events"].clone();
                print_json(&body);
                return Ok(ExitCode::SUCCESS);
            }
            outln!("run       {}", text(&run, "run_id"));
            outln!(
                "pipeline  {} (version {})",
                text(&run, "pipeline"),
                text(&run, "version").chars().take(12).collect::<String>()
            );
            outln!("state     {}", text(&run, "state"));
            outln!(
                "logical   {}  interval {} .. {}",
                text(&run, "logical_date"),
                text(&run, "data_interval_start"),
                text(&run, "data_interval_end")
            );
            outln!();
            let tasks: Vec<Vec<String>> = run["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    vec![
                        task_name(t),
                        text(t, "state"),
                        text(t, "try_number"),
                        text(t, "started_at"),
                        text(t, "ended_at"),
                        text(t, "error"),
                    ]
                })
                .collect();
            table(
                &["task", "state", "tries", "started", "ended", "error"],
                &tasks,
            );
            outln!();
            let rows: Vec<Vec<String>> = events["events"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    let task = match e.get("task_id").and_then(Value::as_str) {
                        Some(_) => task_name(e),
                        None => "(run)".into(),
                    };
                    vec![
                        text(e, "at"),
                        task,
                        text(e, "try_number"),
                        text(e, "state"),
                        text(e, "message"),
                    ]
                })
                .collect();
            table(&["at", "task", "try", "state", "message"], &rows);
        }
        RunsCommand::Logs {
            run_id,
            task,
            try_number,
            map_index,
            follow,
        } => {
            let selection = super::logs::Selection {
                run_id,
                task,
                try_number,
                map_index,
            };
            if follow {
                super::logs::follow(&client, &selection).await?;
            } else {
                super::logs::print(&client, &selection, args.json).await?;
            }
        }
        RunsCommand::Retry { run_id, wait } => {
            let run = client
                .post(
                    &format!("/api/v1/runs/{}/retry", segment(&run_id)),
                    &json!({}),
                )
                .await?;
            if wait {
                return wait_for_runs(&client, &[run_id], args.json).await;
            }
            if args.json {
                print_json(&run)
            } else {
                print_run_line(&run)
            }
        }
        RunsCommand::Cancel { run_id } => {
            let run = client
                .post(
                    &format!("/api/v1/runs/{}/cancel", segment(&run_id)),
                    &json!({}),
                )
                .await?;
            if args.json {
                print_json(&run)
            } else {
                print_run_line(&run)
            }
        }
        RunsCommand::Mark {
            run_id,
            task,
            state,
            map_index,
        } => {
            let body = json!({ "state": state, "map_index": map_index });
            let task = client
                .post(
                    &format!(
                        "/api/v1/runs/{}/tasks/{}/mark",
                        segment(&run_id),
                        segment(&task)
                    ),
                    &body,
                )
                .await?;
            if args.json {
                print_json(&task)
            } else {
                outln!("{} is now {}", task_name(&task), text(&task, "state"))
            }
        }
        RunsCommand::Wait { run_id } => return wait_for_runs(&client, &[run_id], args.json).await,
    }
    Ok(ExitCode::SUCCESS)
}

fn task_name(task: &Value) -> String {
    let id = text(task, "task_id");
    match task.get("map_index").and_then(Value::as_i64) {
        Some(m) if m >= 0 => format!("{id}[{m}]"),
        _ => id,
    }
}

pub fn print_run_line(run: &Value) {
    outln!("{}  {}", text(run, "run_id"), text(run, "state"));
}

pub fn print_runs(body: &Value, as_json: bool) {
    if as_json {
        print_json(body);
        return;
    }
    let rows: Vec<Vec<String>> = body["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            vec![
                text(r, "run_id"),
                text(r, "state"),
                text(r, "run_type"),
                text(r, "logical_date"),
                seconds_field(r, "duration_seconds"),
            ]
        })
        .collect();
    table(&["run", "state", "type", "logical date", "seconds"], &rows);
}

/// Waits for every run to end. Exit 0 only if all succeeded; prints each run (`run_id` in JSON).
pub async fn wait_for_runs(
    client: &Client,
    ids: &[String],
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let mut all_ok = true;
    let mut finished = Vec::new();
    for id in ids {
        let run = loop {
            let run = client
                .get(&format!("/api/v1/runs/{}/wait?timeout=30", segment(id)))
                .await?;
            if !matches!(run["state"].as_str(), Some("queued" | "running")) {
                break run;
            }
        };
        all_ok &= run["state"] == "success";
        if !as_json {
            outln!(
                "{}  {}  {}s",
                text(&run, "run_id"),
                text(&run, "state"),
                seconds_field(&run, "duration_seconds")
            );
        }
        finished.push(run);
    }
    if as_json {
        match finished.as_slice() {
            [one] => print_json(one),
            many => print_json(&json!({ "runs": many })),
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
