//! `weir transforms …`: client commands over the REST API. The server reads the project's
//! `transforms/` and `flows/`: `check` plans a recipe against the catalog, `preview` shows each
//! step's output on a sample, `run` runs it there and waits for its report (once its output has
//! committed), `bookmark show|reset` reads or forgets where it stands.

use std::process::ExitCode;

use serde_json::Value;

use crate::args::{BookmarkCommand, ClientArgs, TransformsCommand};
use crate::client::{Client, segment};
use crate::output::{print_json, table, text};

pub async fn run(args: &ClientArgs, command: TransformsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        TransformsCommand::Check { .. } | TransformsCommand::Preview { .. } => {
            inspect(&client, args, command).await
        }
        _ => manage(&client, args, command).await,
    }
}

/// check and preview: a recipe's problems, or each stage's rows; exit 1 when it has problems.
async fn inspect(
    client: &Client,
    args: &ClientArgs,
    command: TransformsCommand,
) -> anyhow::Result<ExitCode> {
    let body = match &command {
        TransformsCommand::Check { name } => {
            client
                .post(
                    &format!("/api/v1/transforms/{}/check", segment(name)),
                    &serde_json::json!({}),
                )
                .await?
        }
        TransformsCommand::Preview { name, rows } => {
            client
                .post(
                    &format!("/api/v1/transforms/{}/preview?rows={rows}", segment(name)),
                    &serde_json::json!({}),
                )
                .await?
        }
        _ => anyhow::bail!("only check and preview are inspections"),
    };
    let problems = body["problems"].as_array().cloned().unwrap_or_default();
    if args.json {
        print_json(&body);
    } else {
        for problem in &problems {
            outln!(
                "{}:{}:{}: {}",
                text(problem, "file"),
                text(problem, "line"),
                text(problem, "column"),
                text(problem, "message")
            );
        }
        if let TransformsCommand::Check { name } = &command
            && problems.is_empty()
        {
            outln!("{name}: ok");
        }
        for stage in body["stages"].as_array().into_iter().flatten() {
            let step = match stage["step"].as_u64() {
                Some(0) | None => "source".to_string(),
                Some(n) => format!("step {n}: {}", text(stage, "name")),
            };
            outln!("── {step} (line {}) ──", text(stage, "line"));
            super::lake::print_rows(stage);
            outln!();
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// list, run and bookmark: what a transform did and does.
async fn manage(
    client: &Client,
    args: &ClientArgs,
    command: TransformsCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        TransformsCommand::List => {
            let body = client.get("/api/v1/transforms").await?;
            if args.json {
                print_json(&body);
                return Ok(ExitCode::SUCCESS);
            }
            let empty = Vec::new();
            let items = body["transforms"].as_array().unwrap_or(&empty);
            if items.is_empty() {
                outln!("no transforms (transforms/*.yaml, flows/*.yaml)");
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|t| {
                    let about = match t["problems"].as_array() {
                        Some(problems) => format!("{} problem(s)", problems.len()),
                        None => text(t, "description"),
                    };
                    vec![
                        text(t, "name"),
                        text(t, "file"),
                        if t["bookmark"] == Value::Bool(true) {
                            "yes".into()
                        } else {
                            "no".into()
                        },
                        about,
                    ]
                })
                .collect();
            table(&["name", "file", "bookmark", "description"], &rows);
        }
        TransformsCommand::Run { name } => {
            let body = client
                .post(
                    &format!("/api/v1/transforms/{}/runs", segment(&name)),
                    &Value::Null,
                )
                .await?;
            if args.json {
                print_json(&body);
            } else {
                outln!(
                    "{name}: {} row(s) read, {} written, {} quarantined, {} file(s)",
                    body["rows_in"],
                    body["rows_out"],
                    body["rows_quarantined"],
                    body["files"]
                );
                if !body["bookmark"].is_null() {
                    outln!("bookmark: {}", body["bookmark"]);
                }
            }
        }
        TransformsCommand::Bookmark { command } => match command {
            BookmarkCommand::Show { name } => {
                let body = client
                    .get(&format!("/api/v1/transforms/{}/bookmark", segment(&name)))
                    .await?;
                if args.json {
                    print_json(&body);
                } else if body.is_null() {
                    outln!("{name}: no bookmark (the next run reads everything)");
                } else {
                    outln!("{name}: {}", body["state"]);
                    outln!(
                        "  set by run {} at {}",
                        text(&body, "run"),
                        crate::output::micros_as_time(&body, "updated_at")
                    );
                    if body["objects"].as_u64().is_some_and(|n| n > 0) {
                        outln!("  objects read: {}", body["objects"]);
                    }
                }
            }
            BookmarkCommand::Reset { name } => {
                let body = client
                    .delete(&format!("/api/v1/transforms/{}/bookmark", segment(&name)))
                    .await?;
                if args.json {
                    print_json(&body);
                } else if body["reset"] == Value::Bool(true) {
                    outln!("reset the bookmark of {name}: its next run reads everything");
                } else {
                    outln!("{name} had no bookmark");
                }
            }
        },
        TransformsCommand::Check { .. } | TransformsCommand::Preview { .. } => {
            anyhow::bail!("check and preview are inspections, not management")
        }
    }
    Ok(ExitCode::SUCCESS)
}
