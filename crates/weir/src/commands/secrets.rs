//! `weir secrets …`: client commands over the REST API. A value is read from standard input,
//! never from the command line, and nothing prints one.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::args::{ClientArgs, SecretsCommand};
use crate::client::{Client, segment};
use crate::output::{print_json, table, text};

pub async fn run(args: &ClientArgs, command: SecretsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        SecretsCommand::Set { name } => {
            let value = read_value()?;
            let body = client
                .put(
                    &format!("/api/v1/secrets/{}", segment(&name)),
                    &json!({ "value": value }),
                )
                .await?;
            if args.json {
                print_json(&body);
            } else {
                outln!("set secret {name}");
            }
            if body["source"] != "store" {
                eprintln!(
                    "warning: {name} also comes from the {} ({}), which takes precedence over the store",
                    text(&body, "source"),
                    shadowing_place(&name, &body["source"])
                );
            }
            if value.len() < weir_engine::secrets::MIN_MASKED_LEN {
                eprintln!(
                    "warning: values shorter than {} bytes are not masked in logs",
                    weir_engine::secrets::MIN_MASKED_LEN
                );
            }
        }
        SecretsCommand::List => {
            let body = client.get("/api/v1/secrets").await?;
            if args.json {
                print_json(&body);
            } else {
                print_list(&body);
            }
        }
        SecretsCommand::Rm { name } => {
            let body = client
                .delete(&format!("/api/v1/secrets/{}", segment(&name)))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                outln!("removed secret {name}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The value on standard input, without its one trailing newline (`echo x |` adds one).
fn read_value() -> anyhow::Result<String> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("reading the value from standard input (end with Ctrl-D)");
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("cannot read the value from standard input")?;
    let Ok(mut value) = String::from_utf8(bytes) else {
        bail!("the value on standard input is not UTF-8 text");
    };
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(value)
}

fn shadowing_place(name: &str, source: &Value) -> String {
    match source.as_str() {
        Some("environment") => format!("${}{name}", weir_engine::secrets::ENV_PREFIX),
        _ => format!("the file {name} in [secrets] dir"),
    }
}

fn print_list(body: &Value) {
    let rows: Vec<Vec<String>> = body["secrets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|secret| {
            vec![
                text(secret, "name"),
                text(secret, "source"),
                text(secret, "updated_at"),
            ]
        })
        .collect();
    if rows.is_empty() {
        outln!("no secrets (set one with: weir secrets set NAME < FILE)");
    } else {
        table(&["secret", "source", "updated"], &rows);
    }
}
