//! PutTargets: adds targets to a rule, or updates those whose `Id` it has already; a target the
//! bus cannot take (an unknown kind of ARN, over the rule's limit of 5) is answered in
//! `FailedEntries` while the others are kept.

use serde_json::{Value, json};

use super::members::{EVENT_BUS, TARGETS, rule_name};
use super::{Answer, Call, request_bus, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[rule_name("Rule").required(), EVENT_BUS, TARGETS.required()])?;
    let targets = request
        .member("Targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(shapes::target_spec)
        .collect::<Result<Vec<_>, _>>()?;
    let failures = call
        .events
        .put_targets(&request_bus(call)?, request.required("Rule")?, targets)
        .await?;
    Ok(failed_entries(failures))
}

/// PutTargets' and RemoveTargets' answer: the targets that failed, each with why.
pub fn failed_entries(failures: Vec<weir_engine::events::TargetFailure>) -> Value {
    let entries: Vec<Value> = failures
        .into_iter()
        .map(|failure| {
            json!({
                "TargetId": failure.target_id,
                "ErrorCode": failure.error_code,
                "ErrorMessage": failure.error_message,
            })
        })
        .collect();
    json!({"FailedEntryCount": entries.len(), "FailedEntries": entries})
}
