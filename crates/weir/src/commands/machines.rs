//! `weir machines …`: state machines and executions, over the server's Step Functions API (the
//! same calls boto3 makes), so what the CLI shows is what AWS tools see. `validate` runs locally.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::args::{ClientArgs, MachinesCommand};
use crate::client::Client;
use crate::output::{print_json, table, text};

const SFN: &str = "AWSStepFunctions.";

struct Sfn {
    client: Client,
}

impl Sfn {
    async fn call(&self, operation: &str, body: Value) -> anyhow::Result<Value> {
        self.client.aws(&format!("{SFN}{operation}"), &body).await
    }

    /// A machine ARN from a name or an ARN (names are looked up, so region and account are the
    /// server's).
    async fn machine_arn(&self, machine: &str) -> anyhow::Result<String> {
        if machine.starts_with("arn:") {
            return Ok(machine.to_string());
        }
        let listed = self.call("ListStateMachines", json!({})).await?;
        listed["stateMachines"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == machine)
            .and_then(|m| m["stateMachineArn"].as_str().map(str::to_string))
            .with_context(|| format!("no state machine named {machine} (see `weir machines list`)"))
    }

    /// An execution ARN from an ARN or `MACHINE:NAME`.
    async fn execution_arn(&self, execution: &str) -> anyhow::Result<String> {
        if execution.starts_with("arn:") {
            return Ok(execution.to_string());
        }
        let Some((machine, name)) = execution.split_once(':') else {
            bail!("name the execution by its ARN or as MACHINE:NAME, not `{execution}`");
        };
        let machine = self.machine_arn(machine).await?;
        Ok(format!(
            "{}:{name}",
            machine.replacen(":stateMachine:", ":execution:", 1)
        ))
    }
}

pub async fn run(args: &ClientArgs, command: MachinesCommand) -> anyhow::Result<ExitCode> {
    if let MachinesCommand::Validate { file } = &command {
        return validate(file, args.json);
    }
    let sfn = Sfn {
        client: Client::new(args)?,
    };
    match command {
        MachinesCommand::List => {
            let body = sfn.call("ListStateMachines", json!({})).await?;
            if args.json {
                print_json(&body);
            } else {
                let rows: Vec<Vec<String>> = body["stateMachines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| vec![text(m, "name"), text(m, "type"), text(m, "stateMachineArn")])
                    .collect();
                table(&["name", "type", "arn"], &rows);
            }
        }
        MachinesCommand::Show { machine } => {
            let arn = sfn.machine_arn(&machine).await?;
            let body = sfn
                .call("DescribeStateMachine", json!({ "stateMachineArn": arn }))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                outln!("name        {}", text(&body, "name"));
                outln!("arn         {}", text(&body, "stateMachineArn"));
                outln!("type        {}", text(&body, "type"));
                outln!("role        {}", text(&body, "roleArn"));
                let definition: Value =
                    serde_json::from_str(body["definition"].as_str().unwrap_or("null"))
                        .unwrap_or(Value::Null);
                outln!("definition");
                outln!("{}", serde_json::to_string_pretty(&definition)?);
            }
        }
        MachinesCommand::Start {
            machine,
            input,
            name,
            wait,
        } => {
            serde_json::from_str::<Value>(&input)
                .with_context(|| format!("--input is not JSON: {input}"))?;
            let arn = sfn.machine_arn(&machine).await?;
            let mut request = json!({ "stateMachineArn": arn, "input": input });
            if let Some(name) = name {
                request["name"] = json!(name);
            }
            let started = sfn.call("StartExecution", request).await?;
            let execution = text(&started, "executionArn");
            if !wait {
                if args.json {
                    print_json(&started);
                } else {
                    outln!("{execution}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let done = wait_for(&sfn, &execution).await?;
            if args.json {
                print_json(&done);
            } else {
                eprintln!("{execution}");
                outln!("{}", text(&done, "status"));
                print_result(&done);
            }
            return Ok(if done["status"] == "SUCCEEDED" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        MachinesCommand::Executions { machine, status } => {
            let mut request = json!({});
            if let Some(machine) = machine {
                request["stateMachineArn"] = json!(sfn.machine_arn(&machine).await?);
            }
            if let Some(status) = status {
                request["statusFilter"] = json!(status.to_ascii_uppercase());
            }
            let body = sfn.call("ListExecutions", request).await?;
            if args.json {
                print_json(&body);
            } else {
                let rows: Vec<Vec<String>> = body["executions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        let machine = text(e, "stateMachineArn");
                        vec![
                            format!(
                                "{}:{}",
                                machine.rsplit(':').next().unwrap_or_default(),
                                text(e, "name")
                            ),
                            text(e, "status"),
                            time(&e["startDate"]),
                            time(&e["stopDate"]),
                        ]
                    })
                    .collect();
                table(&["execution", "status", "started", "stopped"], &rows);
            }
        }
        MachinesCommand::Describe { execution } => {
            let arn = sfn.execution_arn(&execution).await?;
            let body = sfn
                .call("DescribeExecution", json!({ "executionArn": arn }))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                outln!("execution  {}", text(&body, "executionArn"));
                outln!("status     {}", text(&body, "status"));
                outln!("started    {}", time(&body["startDate"]));
                outln!("stopped    {}", time(&body["stopDate"]));
                outln!("input      {}", text(&body, "input"));
                print_result(&body);
            }
        }
        MachinesCommand::History { execution } => {
            let arn = sfn.execution_arn(&execution).await?;
            let body = sfn
                .call("GetExecutionHistory", json!({ "executionArn": arn }))
                .await?;
            if args.json {
                print_json(&body);
            } else {
                let rows: Vec<Vec<String>> = body["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| vec![text(e, "id"), text(e, "type"), summary(e)])
                    .collect();
                table(&["id", "type", "detail"], &rows);
            }
        }
        MachinesCommand::Stop {
            execution,
            error,
            cause,
        } => {
            let arn = sfn.execution_arn(&execution).await?;
            let body = sfn
                .call(
                    "StopExecution",
                    json!({ "executionArn": arn, "error": error, "cause": cause }),
                )
                .await?;
            if args.json {
                print_json(&body);
            } else {
                outln!("stopped {arn}");
            }
        }
        MachinesCommand::Redrive {
            execution,
            client_token,
        } => {
            let arn = sfn.execution_arn(&execution).await?;
            let body = sfn
                .call(
                    "RedriveExecution",
                    json!({ "executionArn": arn, "clientToken": client_token }),
                )
                .await?;
            if args.json {
                print_json(&body);
            } else {
                println!("redriven {arn}");
            }
        }
        MachinesCommand::SendSuccess { token, output } => {
            serde_json::from_str::<Value>(&output)
                .with_context(|| format!("--output is not JSON: {output}"))?;
            sfn.call(
                "SendTaskSuccess",
                json!({ "taskToken": token, "output": output }),
            )
            .await?;
        }
        MachinesCommand::SendFailure {
            token,
            error,
            cause,
        } => {
            sfn.call(
                "SendTaskFailure",
                json!({ "taskToken": token, "error": error, "cause": cause }),
            )
            .await?;
        }
        MachinesCommand::Validate { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Polls DescribeExecution until the execution has ended.
async fn wait_for(sfn: &Sfn, arn: &str) -> anyhow::Result<Value> {
    let mut pause = Duration::from_millis(5);
    loop {
        let body = sfn
            .call("DescribeExecution", json!({ "executionArn": arn }))
            .await?;
        if body["status"] != "RUNNING" {
            return Ok(body);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

fn print_result(body: &Value) {
    if let Some(output) = body["output"].as_str() {
        match serde_json::from_str::<Value>(output) {
            Ok(value) => outln!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_else(|_| output.to_string())
            ),
            Err(_) => outln!("{output}"),
        }
    }
    if let Some(error) = body["error"].as_str() {
        outln!("error      {error}");
    }
    if let Some(cause) = body["cause"].as_str() {
        outln!("cause      {cause}");
    }
}

/// The one-line gist of a history event: the state's name, the error, or the output.
fn summary(event: &Value) -> String {
    let Some(details) = event
        .as_object()
        .and_then(|e| e.iter().find(|(k, _)| k.ends_with("EventDetails")))
        .map(|(_, v)| v)
    else {
        return String::new();
    };
    if let Some(name) = details["name"].as_str() {
        return name.to_string();
    }
    if let Some(error) = details["error"].as_str() {
        return format!("{error}: {}", details["cause"].as_str().unwrap_or_default());
    }
    for key in ["output", "resource", "input"] {
        if let Some(v) = details[key].as_str() {
            let mut v = v.to_string();
            if v.len() > 80 {
                let mut cut = 77;
                while !v.is_char_boundary(cut) {
                    cut -= 1;
                }
                v.truncate(cut);
                v.push_str("...");
            }
            return v;
        }
    }
    String::new()
}

/// Epoch seconds as RFC 3339.
fn time(value: &Value) -> String {
    value
        .as_f64()
        .and_then(|s| chrono::DateTime::from_timestamp_micros((s * 1_000_000.0) as i64))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "-".into())
}

fn validate(file: &std::path::Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.display().to_string();
    // The machine's name is the file's name up to its first dot (`etl.asl.yaml` is `etl`); a
    // file's `triggers` are checked with its definition.
    let machine = file
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.split('.').next())
        .unwrap_or_default();
    let problems = match weir_model::asl::parse_machine_file(&name, machine, &text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    };
    if as_json {
        print_json(&json!({ "problems": problems }));
    } else if problems.is_empty() {
        outln!("{name}: ok");
    } else {
        for problem in &problems {
            eprintln!("{problem}");
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
