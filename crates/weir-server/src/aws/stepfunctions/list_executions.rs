//! ListExecutions: Executions, newest first, optionally of one machine, in one status and
//! redriven or not, a page at a time, each with its redrive count and date.

use serde_json::{Value, json};
use weir_engine::machines::{ExecutionFilter, Machines};

use super::{Answer, AwsError, Member, Request, describe_redrives, max_results, seconds};

/// `ExecutionStatus`, in the order Step Functions lists it when it refuses another value (as
/// localstack's provider writes the message).
const STATUSES: &[&str] = &[
    "SUCCEEDED",
    "TIMED_OUT",
    "PENDING_REDRIVE",
    "ABORTED",
    "FAILED",
    "RUNNING",
];

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::arn("stateMachineArn"),
        Member::one_of("statusFilter", STATUSES),
        Member::page_size(),
        Member::executions_page_token(),
        Member::one_of("redriveFilter", &["REDRIVEN", "NOT_REDRIVEN"]),
    ])?;
    let filter = ExecutionFilter {
        machine_arn: request.optional("stateMachineArn")?,
        status: request.optional("statusFilter")?,
        redriven: request
            .optional("redriveFilter")?
            .map(|filter| filter == "REDRIVEN"),
    };
    // The store reads one page (and one more row, to know whether another page follows),
    // starting after the execution the token names: never the whole table.
    let max = max_results(&request)?;
    let after = match request.optional("nextToken")? {
        Some(token) => Some(parse_token(token)?),
        None => None,
    };
    let limit = u32::try_from(max + 1).unwrap_or(u32::MAX);
    let mut executions = machines
        .executions(
            filter,
            after.as_ref().map(|(at, arn)| (*at, arn.as_str())),
            limit,
        )
        .await?;
    let more = executions.len() > max;
    executions.truncate(max);
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
            describe_redrives(&mut item, e);
            item
        })
        .collect();
    let mut answer = json!({ "executions": items });
    if more && let Some(last) = executions.last() {
        answer["nextToken"] = json!(format!("{}/{}", last.started_at, last.arn));
    }
    Ok(answer)
}

/// A `nextToken` this operation handed out: the start time and ARN of a page's last execution.
fn parse_token(token: &str) -> Result<(i64, String), AwsError> {
    token
        .split_once('/')
        .and_then(|(at, arn)| Some((at.parse().ok()?, arn.to_string())))
        .ok_or_else(|| AwsError {
            code: "InvalidToken",
            message: format!("Invalid Token: '{token}'"),
        })
}
