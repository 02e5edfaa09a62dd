//! `weir functions …`: client commands over the REST API.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::args::{ClientArgs, FunctionsCommand};
use crate::client::{Client, segment};
use crate::output::{print_json, table, text};

pub async fn run(args: &ClientArgs, command: FunctionsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        FunctionsCommand::List => {
            let body = client.get("/api/v1/functions").await?;
            if args.json {
                print_json(&body);
            } else {
                print_list(&body);
            }
        }
        FunctionsCommand::Show { name } => {
            let body = client
                .get(&format!("/api/v1/functions/{}", segment(&name)))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                print_show(&body);
            }
        }
        FunctionsCommand::Invoke { name, payload } => {
            return invoke(&client, args.json, &name, &payload).await;
        }
        FunctionsCommand::Logs {
            name,
            invocation_id,
        } => {
            let id = match invocation_id {
                Some(id) => id,
                None => latest_invocation(&client, &name).await?,
            };
            let body = client
                .get(&format!(
                    "/api/v1/functions/{}/invocations/{}/log",
                    segment(&name),
                    segment(&id)
                ))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                let log = body["log"].as_str().unwrap_or_default();
                out!("{log}");
                if !log.is_empty() && !log.ends_with('\n') {
                    outln!();
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(body: &Value) {
    let rows: Vec<Vec<String>> = body["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            vec![
                text(f, "name"),
                text(f, "timeout"),
                text(f, "max_concurrency"),
                text(f, "description"),
            ]
        })
        .collect();
    table(
        &["function", "timeout", "max concurrency", "description"],
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

fn print_show(body: &Value) {
    let list = |field: &str| -> String {
        body[field]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), String::from))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    outln!("function         {}", text(body, "name"));
    outln!("arn              {}", text(body, "arn"));
    outln!("file             {}", text(body, "file"));
    outln!("description      {}", text(body, "description"));
    outln!("command          {}", list("command"));
    outln!("env              {}", list("env"));
    outln!("working dir      {}", text(body, "working_dir"));
    outln!("timeout          {}", text(body, "timeout"));
    outln!("max concurrency  {}", text(body, "max_concurrency"));
}

/// Invokes `name`; prints the result, or `error: ERROR: cause` on stderr (exit 1).
async fn invoke(
    client: &Client,
    as_json: bool,
    name: &str,
    payload: &str,
) -> anyhow::Result<ExitCode> {
    let payload = if payload == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the payload from standard input")?;
        text
    } else {
        payload.to_string()
    };
    if let Err(e) = serde_json::from_str::<Value>(&payload) {
        bail!("--payload must be JSON (e.g. '{{\"order_id\": 7}}'): {e}");
    }
    let path = format!("/api/v1/functions/{}/invoke", segment(name));
    let (status, body) = client.post_text_with_status(&path, payload).await?;
    match status {
        200..=299 => {
            if as_json {
                print_json(&body);
            } else {
                print_json(&body["result"]);
            }
            Ok(ExitCode::SUCCESS)
        }
        422 => {
            if as_json {
                print_json(&body);
            }
            eprintln!("error: {}: {}", text(&body, "error"), text(&body, "cause"));
            if let Some(id) = body["invocation_id"].as_str() {
                eprintln!("(the invocation's log: weir functions logs {name} {id})");
            }
            Ok(ExitCode::from(1))
        }
        _ => {
            let message = body
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| body.to_string());
            bail!("{message} (HTTP {status})")
        }
    }
}

async fn latest_invocation(client: &Client, name: &str) -> anyhow::Result<String> {
    let body = client
        .get(&format!(
            "/api/v1/functions/{}/invocations?limit=1",
            segment(name)
        ))
        .await?;
    match body["invocations"].as_array().and_then(|ids| ids.first()) {
        Some(Value::String(id)) => Ok(id.clone()),
        _ => bail!("function `{name}` has no invocations yet"),
    }
}
