//! RemoveTargets: removes targets from a rule by `Id` (a rule managed by weir's files only with
//! `Force`); an id the rule does not have is answered in `FailedEntries`.

use super::members::{EVENT_BUS, TARGET_IDS, is_target_id, rule_name};
use super::put_targets::failed_entries;
use super::{Answer, Call, Member, invalid, request_bus, strings};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        rule_name("Rule").required(),
        EVENT_BUS,
        TARGET_IDS.required(),
        Member::boolean("Force"),
    ])?;
    let ids = strings(request.member("Ids"));
    // The list's shape is the model's check above; each id's pattern is a constraint on its
    // members, reported as AWS reports one.
    if ids.iter().any(|id| !is_target_id(id)) {
        return Err(invalid(format!(
            "1 validation error detected: Value '[{}]' at 'ids' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+]",
            ids.join(", ")
        )));
    }
    let force = request.boolean("Force")?.unwrap_or(false);
    let failures = call
        .events
        .remove_targets(&request_bus(call)?, request.required("Rule")?, &ids, force)
        .await?;
    Ok(failed_entries(failures))
}
