//! CreateStateMachine: Creates a state machine from a definition (machines from files are created by the server).

use serde_json::{Map, Value, json};
use weir_engine::machines::{Machines, NewMachine};

use super::{Answer, Request, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    let kept = [
        "loggingConfiguration",
        "tracingConfiguration",
        "tags",
        "publish",
        "versionDescription",
        "encryptionConfiguration",
    ];
    let settings: Map<String, Value> = kept
        .iter()
        .filter_map(|k| request.0.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let machine = machines
        .create(NewMachine {
            name: request.required("name")?.to_string(),
            definition: request.required("definition")?.to_string(),
            role_arn: request.optional("roleArn")?.unwrap_or_default().to_string(),
            machine_type: request.optional("type")?.map(str::to_string),
            settings,
        })
        .await?;
    Ok(json!({
        "stateMachineArn": machine.arn,
        "creationDate": seconds(machine.created_at),
    }))
}
