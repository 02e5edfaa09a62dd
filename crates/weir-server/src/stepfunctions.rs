//! Step Functions' JSON 1.0 protocol (`X-Amz-Target: AWSStepFunctions.<Operation>`), over
//! [`weir_engine::machines::Machines`]. Field names, shapes and error names are AWS's, so boto3,
//! the AWS CLI and SDKs work unchanged; timestamps are epoch seconds, as the protocol encodes
//! them. Arguments weir has no use for (logging, tracing, tags, …) are kept and described back.

use serde_json::{Map, Value, json};
use weir_engine::machines::{MachineError, Machines, NewExecution, NewMachine};
use weir_store::{ExecutionRecord, MachineRecord};

/// A protocol error: AWS's error name (`__type`) and message.
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
}

impl From<MachineError> for AwsError {
    fn from(e: MachineError) -> Self {
        AwsError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError {
        code: "ValidationException",
        message: message.into(),
    }
}

type Answer = Result<Value, AwsError>;

/// Runs one operation with its request body.
pub async fn handle(machines: &Machines, operation: &str, body: &Value) -> Answer {
    let request = Request(body);
    match operation {
        "CreateStateMachine" => create(machines, request).await,
        "UpdateStateMachine" => update(machines, request).await,
        "DeleteStateMachine" => {
            machines
                .delete(request.required("stateMachineArn")?)
                .await?;
            Ok(json!({}))
        }
        "DescribeStateMachine" => {
            let machine = machines
                .describe(request.required("stateMachineArn")?)
                .await?;
            Ok(describe_machine(&machine))
        }
        "ListStateMachines" => {
            let all = machines.list().await?;
            let items: Vec<Value> = all
                .iter()
                .map(|m| {
                    json!({
                        "stateMachineArn": m.arn,
                        "name": m.name,
                        "type": m.machine_type,
                        "creationDate": seconds(m.created_at),
                    })
                })
                .collect();
            page(items, "stateMachines", &request)
        }
        "ValidateStateMachineDefinition" => {
            let definition = request.required("definition")?;
            let problems = Machines::validate(definition);
            let diagnostics: Vec<Value> = problems
                .iter()
                .map(|p| {
                    json!({
                        "severity": "ERROR",
                        "code": "SCHEMA_VALIDATION_FAILED",
                        "message": p.message,
                        "location": p.path.clone().unwrap_or_default(),
                    })
                })
                .collect();
            Ok(json!({
                "result": if diagnostics.is_empty() { "OK" } else { "FAIL" },
                "diagnostics": diagnostics,
                "truncated": false,
            }))
        }
        "StartExecution" => {
            let execution = machines.start_execution(new_execution(&request)?).await?;
            Ok(json!({
                "executionArn": execution.arn,
                "startDate": seconds(execution.started_at),
            }))
        }
        "StartSyncExecution" => {
            let execution = machines
                .start_sync_execution(new_execution(&request)?)
                .await?;
            let mut answer = describe_execution(&execution);
            answer["billingDetails"] =
                json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100});
            Ok(answer)
        }
        "StopExecution" => {
            let stopped = machines
                .stop(
                    request.required("executionArn")?,
                    request.optional("error")?.map(str::to_string),
                    request.optional("cause")?.map(str::to_string),
                )
                .await?;
            Ok(json!({ "stopDate": stopped.stopped_at.map(seconds) }))
        }
        "DescribeExecution" => {
            let arn = request.required("executionArn")?;
            let execution = machines.describe_execution(arn).await?;
            let redrives = machines.redrives(arn).await?;
            let mut answer = describe_execution(&execution);
            answer["redriveCount"] = json!(redrives.count);
            if let Some(at) = redrives.at {
                answer["redriveDate"] = json!(seconds(at));
            }
            let (status, reason) = Machines::redrive_status(&execution);
            answer["redriveStatus"] = json!(status);
            if let Some(reason) = reason {
                answer["redriveStatusReason"] = json!(reason);
            }
            Ok(answer)
        }
        "RedriveExecution" => {
            let (_, redrives) = machines
                .redrive(
                    request.required("executionArn")?,
                    request.optional("clientToken")?,
                )
                .await?;
            Ok(json!({ "redriveDate": redrives.at.map(seconds) }))
        }
        "ListExecutions" => {
            let machine = request.optional("stateMachineArn")?;
            let status = request.optional("statusFilter")?;
            if let Some(status) = status
                && ![
                    "RUNNING",
                    "SUCCEEDED",
                    "FAILED",
                    "TIMED_OUT",
                    "ABORTED",
                    "PENDING_REDRIVE",
                ]
                .contains(&status)
            {
                return Err(invalid(format!(
                    "statusFilter must be RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE, not {status}"
                )));
            }
            let executions = machines.executions(machine, status, 100_000).await?;
            let items: Vec<Value> = executions
                .iter()
                .map(|e| {
                    let mut item = json!({
                        "executionArn": e.arn,
                        "stateMachineArn": e.machine_arn,
                        "name": e.name,
                        "status": e.status,
                        "startDate": seconds(e.started_at),
                    });
                    if let Some(stop) = e.stopped_at {
                        item["stopDate"] = json!(seconds(stop));
                    }
                    item
                })
                .collect();
            page(items, "executions", &request)
        }
        "GetExecutionHistory" => {
            let mut events = machines.history(request.required("executionArn")?).await?;
            if body["reverseOrder"] == true {
                events.reverse();
            }
            if body["includeExecutionData"] == false {
                for event in &mut events {
                    strip_data(event);
                }
            }
            page(events, "events", &request)
        }
        "SendTaskSuccess" => {
            machines
                .send_task_success(request.required("taskToken")?, request.required("output")?)?;
            Ok(json!({}))
        }
        "SendTaskFailure" => {
            machines.send_task_failure(
                request.required("taskToken")?,
                request.optional("error")?.map(str::to_string),
                request.optional("cause")?.map(str::to_string),
            )?;
            Ok(json!({}))
        }
        "SendTaskHeartbeat" => {
            machines.send_task_heartbeat(request.required("taskToken")?)?;
            Ok(json!({}))
        }
        _ => Err(AwsError {
            code: "UnknownOperationException",
            message: format!("AWSStepFunctions.{operation} is not supported by this server"),
        }),
    }
}

/// Typed access to the request's fields, with errors that name the field.
struct Request<'a>(&'a Value);

impl<'a> Request<'a> {
    fn optional(&self, field: &str) -> Result<Option<&'a str>, AwsError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(invalid(format!("{field} must be a string"))),
        }
    }

    fn required(&self, field: &str) -> Result<&'a str, AwsError> {
        self.optional(field)?
            .ok_or_else(|| invalid(format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null")))
    }
}

async fn create(machines: &Machines, request: Request<'_>) -> Answer {
    let kept = [
        "loggingConfiguration",
        "tracingConfiguration",
        "tags",
        "publish",
        "versionDescription",
        "encryptionConfiguration",
    ];
    let settings: Map<String, Value> = kept
        .iter()
        .filter_map(|k| request.0.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let machine = machines
        .create(NewMachine {
            name: request.required("name")?.to_string(),
            definition: request.required("definition")?.to_string(),
            role_arn: request.optional("roleArn")?.unwrap_or_default().to_string(),
            machine_type: request.optional("type")?.map(str::to_string),
            settings,
        })
        .await?;
    Ok(json!({
        "stateMachineArn": machine.arn,
        "creationDate": seconds(machine.created_at),
    }))
}

async fn update(machines: &Machines, request: Request<'_>) -> Answer {
    let kept = [
        "loggingConfiguration",
        "tracingConfiguration",
        "encryptionConfiguration",
    ];
    let settings: Map<String, Value> = kept
        .iter()
        .filter_map(|k| request.0.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let machine = machines
        .update(
            request.required("stateMachineArn")?,
            request.optional("definition")?.map(str::to_string),
            request.optional("roleArn")?.map(str::to_string),
            settings,
        )
        .await?;
    Ok(json!({ "updateDate": seconds(machine.updated_at) }))
}

fn new_execution(request: &Request<'_>) -> Result<NewExecution, AwsError> {
    Ok(NewExecution {
        machine_arn: request.required("stateMachineArn")?.to_string(),
        name: request.optional("name")?.map(str::to_string),
        input: request.optional("input")?.map(str::to_string),
    })
}

pub fn describe_machine(machine: &MachineRecord) -> Value {
    let mut answer = json!({
        "stateMachineArn": machine.arn,
        "name": machine.name,
        "status": "ACTIVE",
        "definition": machine.definition,
        "roleArn": machine.role_arn,
        "type": machine.machine_type,
        "creationDate": seconds(machine.created_at),
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
        "tracingConfiguration": {"enabled": false},
    });
    if let Value::Object(settings) = &machine.settings {
        for (k, v) in settings {
            if k != "tags" && k != "publish" && k != "versionDescription" {
                answer[k] = v.clone();
            }
        }
    }
    answer
}

pub fn describe_execution(execution: &ExecutionRecord) -> Value {
    let mut answer = json!({
        "executionArn": execution.arn,
        "stateMachineArn": execution.machine_arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": seconds(execution.started_at),
        "input": execution.input,
        "inputDetails": {"included": true},
    });
    if let Some(stop) = execution.stopped_at {
        answer["stopDate"] = json!(seconds(stop));
    }
    if let Some(output) = &execution.output {
        answer["output"] = json!(output);
        answer["outputDetails"] = json!({"included": true});
    }
    if let Some(error) = &execution.error {
        answer["error"] = json!(error);
    }
    if let Some(cause) = &execution.cause {
        answer["cause"] = json!(cause);
    }
    answer
}

/// `maxResults` and `nextToken` (an offset, opaque to clients) over a full list.
fn page(items: Vec<Value>, key: &str, request: &Request<'_>) -> Answer {
    let max = match request.0.get("maxResults") {
        None | Some(Value::Null) => 1000,
        Some(v) => match v.as_u64() {
            Some(0) => 1000,
            Some(n) if n <= 1000 => n as usize,
            _ => return Err(invalid("maxResults must be a whole number from 0 to 1000")),
        },
    };
    let start = match request.optional("nextToken")? {
        Some(token) => token.parse::<usize>().map_err(|_| AwsError {
            code: "InvalidToken",
            message: format!("Invalid nextToken: {token}"),
        })?,
        None => 0,
    };
    let end = (start + max).min(items.len());
    let mut answer = json!({ key: items.get(start.min(items.len())..end).unwrap_or_default() });
    if end < items.len() {
        answer["nextToken"] = json!(end.to_string());
    }
    Ok(answer)
}

/// Removes inputs and outputs from an event (`includeExecutionData: false`).
fn strip_data(event: &mut Value) {
    if let Value::Object(fields) = event {
        for details in fields.values_mut() {
            if let Value::Object(details) = details {
                for key in ["input", "output", "parameters"] {
                    details.remove(key);
                }
            }
        }
    }
}

fn seconds(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}
