//! StopExecution: Aborts a running execution (and stops what its tasks run) with an optional error and cause.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Member, Request, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::arn("executionArn").required(),
        Member::error(),
        Member::cause(),
    ])?;
    let stopped = machines
        .stop(
            request.required("executionArn")?,
            request.optional("error")?.map(str::to_string),
            request.optional("cause")?.map(str::to_string),
        )
        .await?;
    Ok(json!({ "stopDate": stopped.stopped_at.map(seconds) }))
}
