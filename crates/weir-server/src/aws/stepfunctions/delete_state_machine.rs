//! DeleteStateMachine: Deletes a machine; its executions and their histories stay readable.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Member, Request};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[Member::arn("stateMachineArn").required()])?;
    machines
        .delete(request.required("stateMachineArn")?)
        .await?;
    Ok(json!({}))
}
