//! StartExecution: Starts a standard (durable) or express execution and answers at once; the same name and input while it runs is the same execution.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Request, new_execution, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    let execution = machines
        .start_execution(new_execution(&request, &[])?)
        .await?;
    Ok(json!({
        "executionArn": execution.arn,
        "startDate": seconds(execution.started_at),
    }))
}
