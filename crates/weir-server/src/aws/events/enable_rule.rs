//! EnableRule: a disabled rule matches events again (and its schedule fires again).

use super::members::{EVENT_BUS, rule_name};
use super::{Answer, Call, empty, request_bus};

pub async fn handle(call: &Call<'_>) -> Answer {
    set_enabled(call, true).await
}

/// EnableRule and DisableRule: the same members, the state they set apart.
pub async fn set_enabled(call: &Call<'_>, enabled: bool) -> Answer {
    let request = &call.request;
    request.validate_typed(&[rule_name("Name").required(), EVENT_BUS])?;
    call.events
        .set_rule_enabled(&request_bus(call)?, request.required("Name")?, enabled)
        .await?;
    empty()
}
