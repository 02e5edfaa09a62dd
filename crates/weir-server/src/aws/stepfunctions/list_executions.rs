//! ListExecutions: Executions, newest first, optionally of one machine and in one status, a page at a time.

use serde_json::{Value, json};
use weir_engine::machines::Machines;

use super::{Answer, Request, invalid, page, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
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
