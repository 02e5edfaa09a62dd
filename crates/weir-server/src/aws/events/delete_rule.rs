//! DeleteRule: deletes a rule that has no targets left (a rule managed by weir's files only with
//! `Force`). "If you call delete rule multiple times for the same rule, all calls will succeed";
//! on a bus that is not there it is refused.

use super::members::{EVENT_BUS, rule_name};
use super::{Answer, Call, Member, empty, request_bus};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        rule_name("Name").required(),
        EVENT_BUS,
        Member::boolean("Force"),
    ])?;
    let force = request.boolean("Force")?.unwrap_or(false);
    call.events
        .delete_rule(&request_bus(call)?, request.required("Name")?, force)
        .await?;
    empty()
}
