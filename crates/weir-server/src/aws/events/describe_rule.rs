//! DescribeRule: a rule as ListRules shows it, and the account that created it.

use super::members::{EVENT_BUS, rule_name};
use super::{Answer, Call, request_bus, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[rule_name("Name").required(), EVENT_BUS])?;
    let info = call
        .events
        .describe_rule(&request_bus(call)?, request.required("Name")?)?;
    let mut shown = shapes::rule(&info);
    shown["CreatedBy"] = info.created_by.into();
    Ok(shown)
}
