//! DeleteEventBus: deletes a custom bus that has no rules left (never `default`); deleting one
//! that is not there succeeds, as AWS's does.

use super::members::bus_name;
use super::{Answer, Call, empty};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[bus_name("Name").required()])?;
    call.events.delete_bus(request.required("Name")?).await?;
    empty()
}
