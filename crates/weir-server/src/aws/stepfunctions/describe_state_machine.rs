//! DescribeStateMachine: A machine's definition, role, type and settings.

use weir_engine::machines::Machines;

use super::{Answer, Member, Request, describe_machine};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[Member::arn("stateMachineArn").required()])?;
    let machine = machines
        .describe(request.required("stateMachineArn")?)
        .await?;
    Ok(describe_machine(&machine))
}
