//! DescribeReplay: a replay's state, what it replays, and how far it has come
//! (`EventLastReplayedTime`).

use super::members::replay_name;
use super::{Answer, Call, bus_of, not_found, shapes};

pub async fn handle(call: &Call<'_>) -> Answer {
    let request = &call.request;
    request.validate_typed(&[replay_name("ReplayName").required()])?;
    let name = request.required("ReplayName")?;
    let info = call.events.describe_replay(name)?;
    // A replay onto a bus outside the grants is answered as one that is not there, as listings
    // leave it out.
    if !(call.granted)(&bus_of(Some(&info.destination_arn))) {
        return Err(not_found(format!("Replay {name} does not exist.")));
    }
    Ok(shapes::replay_description(&info))
}
