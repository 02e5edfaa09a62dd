//! UpdateStateMachine: Replaces a machine's definition, role or settings; running executions keep the definition they started with.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Request, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    let settings = request.kept(&[
        "loggingConfiguration",
        "tracingConfiguration",
        "encryptionConfiguration",
    ]);
    let machine = machines
        .update(
            request.required("stateMachineArn")?,
            request.optional("definition")?.map(str::to_string),
            request.optional("roleArn")?.map(str::to_string),
            settings,
        )
        .await?;
    Ok(json!({ "updateDate": seconds(machine.updated_at) }))
}
