//! DescribeExecution: An execution's status, input, output, error and cause.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, INCLUDED_DATA, Member, Request, describe_execution, describe_redrives};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::arn("executionArn").required(),
        Member::one_of("includedData", INCLUDED_DATA),
    ])?;
    let arn = request.required("executionArn")?;
    let execution = machines.describe_execution(arn).await?;
    let mut answer = describe_execution(&execution);
    describe_redrives(&mut answer, &execution);
    let (status, reason) = machines.redrive_status(&execution).await?;
    answer["redriveStatus"] = json!(status);
    if let Some(reason) = reason {
        answer["redriveStatusReason"] = json!(reason);
    }
    Ok(answer)
}
