//! SendTaskHeartbeat: Tells a task waiting on a token with HeartbeatSeconds that its worker is alive.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Member, Request};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[Member::task_token().required()])?;
    machines.send_task_heartbeat(request.required("taskToken")?)?;
    Ok(json!({}))
}
