//! ValidateStateMachineDefinition: Checks a definition without creating anything: `OK`, or `FAIL` with a diagnostic per problem.

use serde_json::{Value, json};
use weir_engine::machines::Machines;

use super::create_state_machine::MACHINE_TYPES;
use super::{Answer, Member, Request};

pub async fn handle(_machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::definition().required(),
        Member::one_of("type", MACHINE_TYPES),
        Member::one_of("severity", &["ERROR", "WARNING"]),
    ])?;
    let definition = request.required("definition")?;
    let problems = Machines::validate(definition);
    let diagnostics: Vec<Value> = problems
        .iter()
        .map(|p| {
            json!({
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": p.message,
                "location": p.path.clone().unwrap_or_default(),
            })
        })
        .collect();
    Ok(json!({
        "result": if diagnostics.is_empty() { "OK" } else { "FAIL" },
        "diagnostics": diagnostics,
        "truncated": false,
    }))
}
