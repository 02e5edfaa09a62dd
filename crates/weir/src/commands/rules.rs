//! `weir rules …`: rules through the EventBridge protocol (`AWSEvents.*` on the server), and
//! `test`, which matches a pattern against an event here with the bus's own matcher.

use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::args::{ClientArgs, RulesCommand};
use crate::client::Client;
use crate::output::{print_json, table, text};

pub async fn run(args: &ClientArgs, command: RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Test { pattern, event } => test(args.json, &pattern, &event),
        RulesCommand::List { bus } => {
            let client = Client::new(args)?;
            let buses = match bus {
                Some(bus) => vec![bus],
                None => bus_names(&client).await?,
            };
            let mut rules = Vec::new();
            for bus in &buses {
                for mut rule in list_rules(&client, bus).await? {
                    let name = text(&rule, "Name");
                    rule["Targets"] = json!(targets(&client, bus, &name).await?);
                    rules.push(rule);
                }
            }
            if args.json {
                print_json(&json!({ "rules": rules }));
            } else {
                let rows: Vec<Vec<String>> = rules
                    .iter()
                    .map(|r| {
                        let trigger = match r["ScheduleExpression"].as_str() {
                            Some(schedule) => schedule.to_string(),
                            None => text(r, "EventPattern"),
                        };
                        let targets = r["Targets"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|t| text(t, "Arn"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        vec![
                            text(r, "EventBusName"),
                            text(r, "Name"),
                            text(r, "State"),
                            trigger,
                            targets,
                        ]
                    })
                    .collect();
                table(
                    &["bus", "name", "state", "pattern or schedule", "targets"],
                    &rows,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Show { name, bus } => {
            let client = Client::new(args)?;
            let mut rule = client
                .aws(
                    "AWSEvents.DescribeRule",
                    &json!({ "Name": name, "EventBusName": bus }),
                )
                .await?;
            rule["Targets"] = json!(targets(&client, &bus, &name).await?);
            let stats = client
                .get(&format!(
                    "/api/v1/rules/{}/{}",
                    crate::client::segment(&bus),
                    crate::client::segment(&name)
                ))
                .await
                .unwrap_or(Value::Null);
            rule["Stats"] = stats["stats"].clone();
            if args.json {
                print_json(&rule);
            } else {
                print_rule(&rule);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_rule(rule: &Value) {
    outln!("name         {}", text(rule, "Name"));
    outln!("arn          {}", text(rule, "Arn"));
    outln!("bus          {}", text(rule, "EventBusName"));
    outln!("state        {}", text(rule, "State"));
    if let Some(schedule) = rule["ScheduleExpression"].as_str() {
        outln!("schedule     {schedule}");
    }
    if let Some(pattern) = rule["EventPattern"].as_str() {
        outln!("pattern      {pattern}");
    }
    if let Some(managed) = rule["ManagedBy"].as_str() {
        outln!("managed by   {managed}");
    }
    let stats = &rule["Stats"];
    if stats.is_object() {
        outln!("matched      {}", text(stats, "matched"));
        outln!("delivered    {}", text(stats, "delivered"));
        outln!("failed       {}", text(stats, "failed_deliveries"));
        outln!("dead letters {}", text(stats, "dead_lettered"));
        outln!("dropped      {}", text(stats, "dropped"));
        outln!("last match   {}", millis_text(&stats["last_match_ms"]));
        outln!("last failure {}", millis_text(&stats["last_failure_ms"]));
        if let Some(error) = stats["last_error"].as_str() {
            outln!("last error   {error}");
        }
    }
    outln!();
    let rows: Vec<Vec<String>> = rule["Targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| vec![text(t, "Id"), text(t, "Arn")])
        .collect();
    table(&["target", "arn"], &rows);
}

/// Milliseconds since the epoch as RFC 3339, `-` when absent.
fn millis_text(value: &Value) -> String {
    value
        .as_i64()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "-".to_string())
}

async fn bus_names(client: &Client) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({});
        if let Some(token) = &token {
            request["NextToken"] = json!(token);
        }
        let page = client.aws("AWSEvents.ListEventBuses", &request).await?;
        names.extend(
            page["EventBuses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|bus| text(bus, "Name")),
        );
        match page["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return Ok(names),
        }
    }
}

async fn list_rules(client: &Client, bus: &str) -> anyhow::Result<Vec<Value>> {
    let mut rules = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({ "EventBusName": bus });
        if let Some(token) = &token {
            request["NextToken"] = json!(token);
        }
        let page = client.aws("AWSEvents.ListRules", &request).await?;
        rules.extend(page["Rules"].as_array().cloned().unwrap_or_default());
        match page["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return Ok(rules),
        }
    }
}

async fn targets(client: &Client, bus: &str, rule: &str) -> anyhow::Result<Vec<Value>> {
    let page = client
        .aws(
            "AWSEvents.ListTargetsByRule",
            &json!({ "Rule": rule, "EventBusName": bus }),
        )
        .await?;
    Ok(page["Targets"].as_array().cloned().unwrap_or_default())
}

/// The argument's text, or the contents of FILE for `@FILE`.
fn text_argument(what: &str, argument: &str) -> anyhow::Result<String> {
    match argument.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the {what} file {path}")),
        None => Ok(argument.to_string()),
    }
}

fn test(json_out: bool, pattern: &str, event: &str) -> anyhow::Result<ExitCode> {
    let pattern_text = text_argument("pattern", pattern)?;
    let pattern = match weir_model::events::pattern::Pattern::parse(&pattern_text) {
        Ok(pattern) => pattern,
        Err(error) => bail!("InvalidEventPatternException: {error}"),
    };
    let event: Value =
        serde_json::from_str(&text_argument("event", event)?).context("the event is not JSON")?;
    if !event.is_object() {
        bail!("the event must be a JSON object");
    }
    let matched = pattern.matches(&event);
    if json_out {
        print_json(&json!({ "matches": matched }));
    } else {
        outln!("{}", if matched { "matches" } else { "does not match" });
    }
    // As grep: 0 when it matches, 1 when it does not, so scripts can branch on it.
    Ok(if matched {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
