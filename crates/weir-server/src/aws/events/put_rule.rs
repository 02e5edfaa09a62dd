//! PutRule: creates a rule on a bus, or updates it (every member it gives replaces the rule's,
//! as AWS's does), with an event pattern, a schedule, or both; answers with the rule's ARN.

use serde_json::json;

use super::members::{
    DESCRIPTION, EVENT_BUS, EVENT_PATTERN, ROLE_ARN, RULE_STATES, SCHEDULE_EXPRESSION, TAGS,
    rule_name,
};
use super::{Answer, Call, Member, request_bus, tag_pairs};
use weir_engine::events::RuleInput;

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[
        rule_name("Name").required(),
        SCHEDULE_EXPRESSION,
        EVENT_PATTERN,
        Member::one_of("State", RULE_STATES),
        DESCRIPTION,
        ROLE_ARN,
        TAGS,
        EVENT_BUS,
    ])?;
    let rule = RuleInput {
        bus: Some(request_bus(call)?),
        name: request.required("Name")?.to_string(),
        event_pattern: request.optional("EventPattern")?.map(str::to_string),
        schedule_expression: request.optional("ScheduleExpression")?.map(str::to_string),
        state: request.optional("State")?.map(str::to_string),
        description: request.optional("Description")?.map(str::to_string),
        role_arn: request.optional("RoleArn")?.map(str::to_string),
        tags: tag_pairs(request.member("Tags")),
    };
    let arn = call.events.put_rule(rule).await?;
    Ok(json!({"RuleArn": arn}))
}
