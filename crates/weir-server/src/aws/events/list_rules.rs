//! ListRules: a bus's rules by name, optionally those starting with `NamePrefix`, `Limit` at a
//! time.

use super::members::{EVENT_BUS, LIMIT, NEXT_TOKEN, rule_name};
use super::{Answer, Call, listed, page, request_bus, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[rule_name("NamePrefix"), EVENT_BUS, NEXT_TOKEN, LIMIT])?;
    let bus = request_bus(call)?;
    // A bus that is not there is refused, not listed as empty.
    call.events.describe_bus(&bus)?;
    let rules = call
        .events
        .list_rules(&bus, request.optional("NamePrefix")?);
    let (rules, next) = page(request, rules, |rule| rule.name.as_str())?;
    listed("Rules", rules.iter().map(shapes::rule).collect(), next)
}
