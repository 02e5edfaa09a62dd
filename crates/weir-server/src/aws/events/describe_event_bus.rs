//! DescribeEventBus: a bus by name or ARN (the default bus when none is given).

use super::members::bus_name_or_arn;
use super::{Answer, Call, bus_of, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[bus_name_or_arn("Name")])?;
    let info = call
        .events
        .describe_bus(&bus_of(request.optional("Name")?))?;
    Ok(shapes::bus(&info))
}
