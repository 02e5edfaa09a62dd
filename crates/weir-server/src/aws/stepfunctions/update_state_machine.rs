//! UpdateStateMachine: Replaces a machine's definition, role or settings; running executions keep the definition they started with.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Member, Request, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::arn("stateMachineArn").required(),
        Member::definition(),
        Member::arn("roleArn"),
        Member::version_description(),
    ])?;
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
