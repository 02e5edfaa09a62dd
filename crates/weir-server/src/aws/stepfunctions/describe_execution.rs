//! DescribeExecution: An execution's status, input, output, error and cause.

use weir_engine::machines::Machines;

use super::{Answer, Request, describe_execution};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    let execution = machines
        .describe_execution(request.required("executionArn")?)
        .await?;
    Ok(describe_execution(&execution))
}
