//! `weir tokens` and `weir audit`, over `/api/v1/tokens` and `/api/v1/audit`.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::args::{ClientArgs, TokensCommand};
use crate::client::{Client, segment};
use crate::output::{count, print_json, table, text};

pub async fn tokens(args: &ClientArgs, command: TokensCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    match command {
        TokensCommand::Create {
            role,
            name,
            pipelines,
            tables,
            prefixes,
            expires,
        } => {
            let body = json!({
                "name": name,
                "role": role,
                "pipelines": pipelines,
                "tables": tables,
                "prefixes": prefixes,
                "expires": expires,
            });
            let issued = client.post("/api/v1/tokens", &body).await?;
            if args.json {
                print_json(&json!({
                    "name": issued["name"],
                    "role": issued["role"],
                    "token": issued["token"],
                    "access_key_id": issued["access_key_id"],
                    "secret_access_key": issued["secret_access_key"],
                    "expires_at": issued["expires_at"],
                }));
            } else {
                outln!(
                    "created `{}` ({}); its secrets are shown this once:",
                    text(&issued, "name"),
                    text(&issued, "role")
                );
                outln!("  token:             {}", text(&issued, "token"));
                outln!("  access key id:     {}", text(&issued, "access_key_id"));
                outln!(
                    "  secret access key: {}",
                    text(&issued, "secret_access_key")
                );
            }
        }
        TokensCommand::List => {
            let answer = client.get("/api/v1/tokens").await?;
            if args.json {
                print_json(&answer);
                return Ok(ExitCode::SUCCESS);
            }
            let tokens = answer["tokens"].as_array().cloned().unwrap_or_default();
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        text(t, "name"),
                        text(t, "role"),
                        text(t, "state"),
                        grants(&t["grants"]),
                        text(t, "access_key_id"),
                        micros(&t["expires_at"]),
                    ]
                })
                .collect();
            table(
                &[
                    "name",
                    "role",
                    "state",
                    "grants",
                    "access key id",
                    "expires",
                ],
                &rows,
            );
            outln!("{}", count(rows.len(), "credential", "credentials"));
        }
        TokensCommand::Revoke { name } => {
            client
                .delete(&format!("/api/v1/tokens/{}", segment(&name)))
                .await?;
            if args.json {
                print_json(&json!({ "revoked": name }));
            } else {
                outln!("revoked `{name}`");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn audit(
    args: &ClientArgs,
    since: Option<String>,
    limit: u32,
) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    let mut query = format!("/api/v1/audit?limit={limit}");
    if let Some(since) = &since {
        query.push_str(&format!("&since={}", segment(since)));
    }
    let answer = client.get(&query).await?;
    if args.json {
        print_json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let entries = answer["entries"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                micros(&e["at"]),
                e["credential"].as_str().unwrap_or("-").to_string(),
                e["source"].as_str().unwrap_or("").to_string(),
                text(e, "action"),
                text(e, "outcome"),
                text(e, "status"),
                e["detail"].as_str().unwrap_or("").to_string(),
            ]
        })
        .collect();
    table(
        &[
            "at",
            "credential",
            "source",
            "action",
            "outcome",
            "status",
            "detail",
        ],
        &rows,
    );
    outln!("{}", count(rows.len(), "entry", "entries"));
    Ok(ExitCode::SUCCESS)
}

/// Grants as one cell: `pipelines=etl_* tables=sales.*`, or `all`.
fn grants(grants: &Value) -> String {
    let parts: Vec<String> = ["pipelines", "tables", "prefixes"]
        .iter()
        .filter_map(|kind| {
            let list: Vec<&str> = grants[kind]
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            (!list.is_empty()).then(|| format!("{kind}={}", list.join(",")))
        })
        .collect();
    if parts.is_empty() {
        "all".into()
    } else {
        parts.join(" ")
    }
}

/// Microseconds since the epoch as an RFC 3339 time; `-` for none.
fn micros(value: &Value) -> String {
    value
        .as_i64()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".into())
}
