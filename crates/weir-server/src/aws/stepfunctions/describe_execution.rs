//! DescribeExecution: An execution's status, input, output, error and cause.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Request, describe_execution, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
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
