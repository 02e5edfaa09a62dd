//! CancelReplay: stops a replay that is starting or running (it goes through CANCELLING to
//! CANCELLED); one that has ended is refused with IllegalStatusException.

use serde_json::json;

use super::members::replay_name;
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[replay_name("ReplayName").required()])?;
    let info = call
        .events
        .cancel_replay(request.required("ReplayName")?)
        .await?;
    let mut answer = json!({"ReplayArn": info.arn, "State": info.state});
    if let Some(reason) = &info.state_reason {
        answer["StateReason"] = json!(reason);
    }
    Ok(answer)
}
