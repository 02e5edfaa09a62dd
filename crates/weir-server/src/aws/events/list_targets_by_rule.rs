//! ListTargetsByRule: a rule's targets by `Id`, `Limit` at a time.

use super::members::{EVENT_BUS, LIMIT, NEXT_TOKEN, rule_name};
use super::{Answer, Call, listed, page, request_bus, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[rule_name("Rule").required(), EVENT_BUS, NEXT_TOKEN, LIMIT])?;
    let targets = call
        .events
        .list_targets(&request_bus(call)?, request.required("Rule")?)?;
    let (targets, next) = page(request, targets, |target| target.id.as_str())?;
    listed(
        "Targets",
        targets.iter().map(shapes::target).collect(),
        next,
    )
}
