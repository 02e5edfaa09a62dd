//! ListRuleNamesByTarget: the names of a bus's rules that have a target of this ARN, `Limit` at
//! a time.

use serde_json::Value;

use super::members::{EVENT_BUS, LIMIT, NEXT_TOKEN};
use super::{Answer, Call, Member, listed, page, request_bus};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        Member::text("TargetArn", 1, 1600).required(),
        EVENT_BUS,
        NEXT_TOKEN,
        LIMIT,
    ])?;
    let bus = request_bus(call)?;
    // A bus that is not there is refused, not listed as empty.
    call.events.describe_bus(&bus)?;
    let names = call
        .events
        .rule_names_by_target(&bus, request.required("TargetArn")?);
    let (names, next) = page(request, names, String::as_str)?;
    listed(
        "RuleNames",
        names.into_iter().map(Value::from).collect(),
        next,
    )
}
