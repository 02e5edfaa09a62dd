//! SendTaskSuccess: Answers a task token with an output; the answer is durable before this returns.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Member, Request};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::task_token().required(),
        Member::data("output").required(),
    ])?;
    machines
        .send_task_success(request.required("taskToken")?, request.required("output")?)
        .await?;
    Ok(json!({}))
}
