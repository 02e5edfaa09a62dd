//! SendTaskFailure: Answers a task token with an error and cause; durable before this returns.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Member, Request};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::task_token().required(),
        Member::error(),
        Member::cause(),
    ])?;
    machines
        .send_task_failure(
            request.required("taskToken")?,
            request.optional("error")?.map(str::to_string),
            request.optional("cause")?.map(str::to_string),
        )
        .await?;
    Ok(json!({}))
}
