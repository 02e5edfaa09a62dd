//! Step Functions' JSON 1.0 protocol (`X-Amz-Target: AWSStepFunctions.<Operation>`), over
//! [`weir_engine::machines::Machines`]. Field names, shapes and error names are AWS's, so boto3,
//! the AWS CLI and SDKs work unchanged; timestamps are epoch seconds, as the protocol encodes
//! them. Arguments weir has no use for (logging, tracing, tags, …) are kept and described back.
//!
//! One file per operation, named after it; this module routes an operation to its file and holds
//! what several of them share (descriptions, paging; field access and the model's constraints in
//! `fields.rs`). A new operation is a new file and a line in [`handle`]; it checks its members
//! against the model first.

mod create_state_machine;
mod delete_state_machine;
mod describe_execution;
mod describe_state_machine;
mod fields;
mod get_execution_history;
mod list_executions;
mod list_state_machines;
mod redrive_execution;
mod send_task_failure;
mod send_task_heartbeat;
mod send_task_success;
mod start_execution;
mod start_sync_execution;
mod stop_execution;
mod update_state_machine;
mod validate_state_machine_definition;

use serde_json::{Value, json};
use weir_engine::machines::{MachineError, NewExecution};
use weir_model::access::Role;
use weir_store::{ExecutionRecord, MachineRecord};

pub use super::AwsError;
pub use fields::{Member, Request};

/// Step Functions' quota on a request: "1 MB per request", header and all (taken as 1 MiB of
/// body); a larger body is refused before it is read whole.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

impl From<MachineError> for AwsError {
    fn from(e: MachineError) -> Self {
        AwsError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

pub use crate::aws::fields::invalid;

pub type Answer = Result<Value, AwsError>;

/// Runs one operation with its request body.
/// Each operation and the role it needs. [`handle`] refuses an operation that is not here to
/// anyone but an admin, so one added without a line here is closed, not open.
pub const OPERATIONS: &[(&str, Role)] = &[
    ("CreateStateMachine", Role::Admin),
    ("UpdateStateMachine", Role::Admin),
    ("DeleteStateMachine", Role::Admin),
    ("DescribeStateMachine", Role::Viewer),
    ("ListStateMachines", Role::Viewer),
    ("ValidateStateMachineDefinition", Role::Viewer),
    ("StartExecution", Role::Operator),
    ("StartSyncExecution", Role::Operator),
    ("StopExecution", Role::Operator),
    ("DescribeExecution", Role::Viewer),
    ("RedriveExecution", Role::Operator),
    ("ListExecutions", Role::Viewer),
    ("GetExecutionHistory", Role::Viewer),
    ("SendTaskSuccess", Role::Operator),
    ("SendTaskFailure", Role::Operator),
    ("SendTaskHeartbeat", Role::Operator),
];

/// The role an operation needs (an admin's for one not listed).
pub fn role_of(operation: &str) -> Role {
    super::role_in(OPERATIONS, operation)
}

/// A state machine a request names, for the grants on names (which cover state machines as they
/// cover pipelines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The member that names it.
    pub member: &'static str,
    /// The state machine's name; None when the member cannot be read as naming one (a narrowed
    /// credential is then refused: what it names is not known to be granted).
    pub machine: Option<String>,
    /// The ARN the member holds, for the audit log (a task token is a secret: never kept).
    pub arn: Option<String>,
}

/// Every state machine a request names, whatever the operation does with each member: a grant
/// holds for what the handler will act on only if every member that could name a resource is
/// checked (an `executionArn` of another machine beside a granted `stateMachineArn` must not
/// pass). A task token names the execution it was handed out for; CreateStateMachine's `name`
/// names the machine it makes.
pub fn machines_named(operation: &str, body: &Value) -> Vec<Named> {
    let text = |member: &str| body.get(member).and_then(Value::as_str);
    let mut named = Vec::new();
    // arn:aws:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION], and an execution's
    // arn:aws:states:REGION:ACCOUNT:execution|express:MACHINE:NAME…: the name is the seventh part.
    let machine_in = |arn: &str| arn.split(':').nth(6).map(str::to_string);
    for member in ["executionArn", "stateMachineArn"] {
        if let Some(arn) = text(member) {
            named.push(Named {
                member,
                machine: machine_in(arn),
                arn: Some(arn.to_string()),
            });
        }
    }
    if let Some(token) = text("taskToken") {
        let execution = weir_engine::machines::Machines::token_execution(token);
        named.push(Named {
            member: "taskToken",
            machine: execution.as_deref().and_then(machine_in),
            arn: execution,
        });
    }
    if operation == "CreateStateMachine"
        && let Some(name) = text("name")
    {
        named.push(Named {
            member: "name",
            machine: Some(name.to_string()),
            arn: None,
        });
    }
    named
}

pub async fn handle(
    machines: &weir_engine::machines::Machines,
    operation: &str,
    body: &Value,
) -> Answer {
    let request = Request(body);
    match operation {
        "CreateStateMachine" => create_state_machine::handle(machines, request).await,
        "UpdateStateMachine" => update_state_machine::handle(machines, request).await,
        "DeleteStateMachine" => delete_state_machine::handle(machines, request).await,
        "DescribeStateMachine" => describe_state_machine::handle(machines, request).await,
        "ListStateMachines" => list_state_machines::handle(machines, request).await,
        "ValidateStateMachineDefinition" => {
            validate_state_machine_definition::handle(machines, request).await
        }
        "StartExecution" => start_execution::handle(machines, request).await,
        "StartSyncExecution" => start_sync_execution::handle(machines, request).await,
        "StopExecution" => stop_execution::handle(machines, request).await,
        "DescribeExecution" => describe_execution::handle(machines, request).await,
        "RedriveExecution" => redrive_execution::handle(machines, request).await,
        "ListExecutions" => list_executions::handle(machines, request).await,
        "GetExecutionHistory" => get_execution_history::handle(machines, request).await,
        "SendTaskSuccess" => send_task_success::handle(machines, request).await,
        "SendTaskFailure" => send_task_failure::handle(machines, request).await,
        "SendTaskHeartbeat" => send_task_heartbeat::handle(machines, request).await,
        _ => Err(AwsError {
            code: "UnknownOperationException",
            message: format!("AWSStepFunctions.{operation} is not supported by this server"),
        }),
    }
}

/// `IncludedData`, which weir accepts and does not act on (it keeps no encrypted data).
pub const INCLUDED_DATA: &[&str] = &["ALL_DATA", "METADATA_ONLY"];

/// A StartExecution or StartSyncExecution request, its members checked against the model
/// (`extra`: the members only one of them has).
pub fn new_execution(request: &Request<'_>, extra: &[Member]) -> Result<NewExecution, AwsError> {
    let members = [
        Member::arn("stateMachineArn").required(),
        Member::name("name"),
        Member::data("input"),
    ];
    request.validate(&[&members, extra].concat())?;
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

/// `redriveCount` (0 for an execution never redriven) and, once redriven, `redriveDate`, as
/// DescribeExecution and ListExecutions' items give them.
pub fn describe_redrives(answer: &mut Value, execution: &ExecutionRecord) {
    answer["redriveCount"] = json!(execution.redrive_count);
    if let Some(at) = execution.redriven_at {
        answer["redriveDate"] = json!(seconds(at));
    }
}

/// `maxResults` and `nextToken` (an offset, opaque to clients) over a full list.
pub fn page(items: Vec<Value>, key: &str, request: &Request<'_>) -> Answer {
    let (start, end) = page_range(items.len(), request)?;
    let mut answer = json!({ key: items.get(start..end).unwrap_or_default() });
    if end < items.len() {
        answer["nextToken"] = json!(end.to_string());
    }
    Ok(answer)
}

/// The range of `len` items the request's page covers (`nextToken`, `maxResults`); the next
/// page starts at its end.
pub fn page_range(len: usize, request: &Request<'_>) -> Result<(usize, usize), AwsError> {
    let max = max_results(request)?;
    let start = match request.optional("nextToken")? {
        Some(token) => token.parse::<usize>().map_err(|_| AwsError {
            code: "InvalidToken",
            message: format!("Invalid nextToken: {token}"),
        })?,
        None => 0,
    };
    let start = start.min(len);
    Ok((start, (start + max).min(len)))
}

/// `maxResults`: 1 to 1000, and 0 or absent for 1000, as Step Functions reads it (its range is
/// checked with the operation's other members, [`Member::page_size`]).
pub fn max_results(request: &Request<'_>) -> Result<usize, AwsError> {
    match request.0.get("maxResults") {
        None | Some(Value::Null) => Ok(1000),
        Some(v) => match v.as_u64() {
            Some(0) => Ok(1000),
            Some(n) if n <= 1000 => Ok(n as usize),
            _ => Err(invalid("maxResults must be a whole number from 0 to 1000")),
        },
    }
}

/// Removes inputs and outputs from an event (`includeExecutionData: false`).
pub fn strip_data(event: &mut Value) {
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

pub fn seconds(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}
