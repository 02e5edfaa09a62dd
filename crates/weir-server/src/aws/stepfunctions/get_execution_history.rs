//! GetExecutionHistory: An execution's history events, in order or reversed, with or without inputs and outputs.

use weir_engine::machines::Machines;

use super::{Answer, Member, Request, page, strip_data};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[
        Member::arn("executionArn").required(),
        Member::page_size(),
        Member::page_token(),
    ])?;
    let mut events = machines.history(request.required("executionArn")?).await?;
    if request.0["reverseOrder"] == true {
        events.reverse();
    }
    if request.0["includeExecutionData"] == false {
        for event in &mut events {
            strip_data(event);
        }
    }
    page(events, "events", &request)
}
