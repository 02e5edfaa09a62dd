//! CreateStateMachine: Creates a state machine from a definition (machines from files are created by the server).

use serde_json::json;
use weir_engine::machines::{Machines, NewMachine};

use super::{Answer, Member, Request, seconds};

/// `StateMachineType`.
pub const MACHINE_TYPES: &[&str] = &["STANDARD", "EXPRESS"];

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::name("name").required(),
        Member::definition().required(),
        Member::arn("roleArn").required(),
        Member::one_of("type", MACHINE_TYPES),
        Member::tags(),
        Member::version_description(),
    ])?;
    let settings = request.kept(&[
        "loggingConfiguration",
        "tracingConfiguration",
        "tags",
        "publish",
        "versionDescription",
        "encryptionConfiguration",
    ]);
    let machine = machines
        .create(NewMachine {
            name: request.required("name")?.to_string(),
            definition: request.required("definition")?.to_string(),
            role_arn: request.required("roleArn")?.to_string(),
            machine_type: request.optional("type")?.map(str::to_string),
            settings,
        })
        .await?;
    Ok(json!({
        "stateMachineArn": machine.arn,
        "creationDate": seconds(machine.created_at),
    }))
}
