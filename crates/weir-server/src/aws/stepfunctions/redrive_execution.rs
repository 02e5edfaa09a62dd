//! RedriveExecution: resumes a failed, aborted or timed-out execution from where it failed, under
//! the same ARN and history; succeeded states are not run again. A `clientToken` makes a retried
//! request the same redrive.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, Member, Request, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::arn("executionArn").required(),
        Member::client_token(),
    ])?;
    let redriven = machines
        .redrive(
            request.required("executionArn")?,
            request.optional("clientToken")?,
        )
        .await?;
    Ok(json!({ "redriveDate": redriven.redriven_at.map(seconds) }))
}
