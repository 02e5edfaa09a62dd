//! `weir pipelines …`: client commands over the REST API.

use std::process::ExitCode;

use anyhow::bail;
use serde_json::{Map, Value, json};

use super::runs::{print_run_line, wait_for_runs};
use crate::args::{ClientArgs, PipelinesCommand};
use crate::client::{Client, segment};
use crate::output::{count, print_json, table, text};

pub async fn run(args: &ClientArgs, command: PipelinesCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        PipelinesCommand::List => {
            let body = client.get("/api/v1/pipelines").await?;
            if args.json {
                print_json(&body);
            } else {
                let rows: Vec<Vec<String>> = body["pipelines"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| {
                                let paused = if p["paused"] == json!(true) {
                                    " (paused)"
                                } else {
                                    ""
                                };
                                vec![
                                    text(p, "name"),
                                    format!("{}{paused}", text(p, "schedule")),
                                    p["tasks"].as_array().map_or(0, Vec::len).to_string(),
                                    text(p, "next_run_at"),
                                    text(p, "version").chars().take(12).collect(),
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                table(
                    &["pipeline", "schedule", "tasks", "next run", "version"],
                    &rows,
                );
                for problem in body["problems"].as_array().into_iter().flatten() {
                    eprintln!(
                        "problem: {}:{}:{}: {}",
                        text(problem, "file"),
                        text(problem, "line"),
                        text(problem, "column"),
                        text(problem, "message")
                    );
                }
            }
        }
        PipelinesCommand::Show { name } => {
            let body = client
                .get(&format!("/api/v1/pipelines/{}", segment(&name)))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                outln!("pipeline  {}", text(&body, "name"));
                outln!("file      {}", text(&body, "file"));
                outln!("version   {}", text(&body, "version"));
                outln!(
                    "schedule  {} ({})",
                    text(&body, "schedule"),
                    text(&body, "timezone")
                );
                outln!("params    {}", body["params"]);
                let rows: Vec<Vec<String>> = body["tasks"]
                    .as_array()
                    .map(|ts| {
                        ts.iter()
                            .map(|t| {
                                vec![
                                    text(t, "id"),
                                    text(t, "action"),
                                    t["depends_on"]
                                        .as_array()
                                        .map(|d| {
                                            d.iter()
                                                .filter_map(Value::as_str)
                                                .collect::<Vec<_>>()
                                                .join(",")
                                        })
                                        .unwrap_or_default(),
                                    text(t, "trigger_rule"),
                                    text(t, "retries"),
                                    match t.get("pool").and_then(Value::as_str) {
                                        Some(pool) => pool.to_string(),
                                        None => "default".to_string(),
                                    },
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                table(
                    &[
                        "task",
                        "action",
                        "depends on",
                        "trigger rule",
                        "retries",
                        "pool",
                    ],
                    &rows,
                );
            }
        }
        PipelinesCommand::Trigger {
            name,
            params,
            logical_date,
            wait,
        } => {
            let mut overrides = Map::new();
            for param in params {
                let Some((key, value)) = param.split_once('=') else {
                    bail!("--param takes KEY=VALUE, got `{param}`")
                };
                overrides.insert(key.trim().to_string(), Value::String(value.to_string()));
            }
            let mut body = json!({ "params": overrides });
            if let Some(date) = logical_date {
                body["logical_date"] = Value::String(date);
            }
            let run = client
                .post(&format!("/api/v1/pipelines/{}/runs", segment(&name)), &body)
                .await?;
            for warning in run["warnings"].as_array().into_iter().flatten() {
                eprintln!("warning: {}", warning.as_str().unwrap_or_default());
            }
            if !wait {
                if args.json {
                    print_json(&run);
                } else {
                    outln!("{}", text(&run, "run_id"));
                }
                return Ok(ExitCode::SUCCESS);
            }
            if !args.json {
                eprintln!("triggered {}", text(&run, "run_id"));
            }
            return wait_for_runs(&client, &[text(&run, "run_id")], args.json).await;
        }
        PipelinesCommand::Backfill {
            name,
            from,
            to,
            wait,
        } => {
            let body = client
                .post(
                    &format!("/api/v1/pipelines/{}/backfill", segment(&name)),
                    &json!({ "from": from, "to": to }),
                )
                .await?;
            let ids: Vec<String> = body["runs"]
                .as_array()
                .map(|rs| rs.iter().map(|r| text(r, "run_id")).collect())
                .unwrap_or_default();
            if !args.json {
                eprintln!(
                    "created {}, skipped {} that already had one",
                    count(ids.len(), "run", "runs"),
                    count(text(&body, "skipped"), "interval", "intervals")
                );
            }
            if wait {
                return wait_for_runs(&client, &ids, args.json).await;
            }
            if args.json {
                print_json(&body);
            } else {
                for run in body["runs"].as_array().into_iter().flatten() {
                    print_run_line(run);
                }
            }
        }
        PipelinesCommand::Runs { name, limit } => {
            let body = client
                .get(&format!(
                    "/api/v1/pipelines/{}/runs?limit={limit}",
                    segment(&name)
                ))
                .await?;
            super::runs::print_runs(&body, args.json);
        }
        PipelinesCommand::Pause { name } => {
            let body = client
                .post(
                    &format!("/api/v1/pipelines/{}/pause", segment(&name)),
                    &json!({}),
                )
                .await?;
            if args.json {
                print_json(&body)
            } else {
                outln!("paused {name}")
            }
        }
        PipelinesCommand::Unpause { name } => {
            let body = client
                .post(
                    &format!("/api/v1/pipelines/{}/unpause", segment(&name)),
                    &json!({}),
                )
                .await?;
            if args.json {
                print_json(&body)
            } else {
                outln!("unpaused {name}")
            }
        }
        PipelinesCommand::Reload => {
            let body = client.post("/api/v1/reload", &json!({})).await?;
            let problems = body["problems"].as_array().cloned().unwrap_or_default();
            if args.json {
                print_json(&body);
            } else {
                for p in &problems {
                    outln!(
                        "{}:{}:{}: {}",
                        text(p, "file"),
                        text(p, "line"),
                        text(p, "column"),
                        text(p, "message")
                    );
                }
                eprintln!("reloaded: {}", count(problems.len(), "problem", "problems"));
            }
            if !problems.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
