//! `weir transforms …`: client commands over the REST API. A run happens on the server (it
//! reads the project's files there and commits to its lake); the command waits for its report.

use std::process::ExitCode;

use serde_json::Value;

use crate::args::{BookmarkCommand, ClientArgs, TransformsCommand};
use crate::client::{Client, segment};
use crate::output::{print_json, table, text};

pub async fn run(args: &ClientArgs, command: TransformsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
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
    }
    Ok(ExitCode::SUCCESS)
}
