//! DescribeStateMachine: A machine's definition, role, type and settings.

use weir_engine::machines::Machines;

use super::{Answer, Request, describe_machine};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    let machine = machines
        .describe(request.required("stateMachineArn")?)
        .await?;
    Ok(describe_machine(&machine))
}
