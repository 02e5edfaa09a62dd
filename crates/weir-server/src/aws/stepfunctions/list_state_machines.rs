//! ListStateMachines: Every machine, a page at a time.

use serde_json::{Value, json};
use weir_engine::machines::Machines;

use super::{Answer, Member, Request, page, seconds};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    request.validate(&[Member::page_size(), Member::page_token()])?;
    let all = machines.list().await?;
    let items: Vec<Value> = all
        .iter()
        .map(|m| {
            json!({
                "stateMachineArn": m.arn,
                "name": m.name,
                "type": m.machine_type,
                "creationDate": seconds(m.created_at),
            })
        })
        .collect();
    page(items, "stateMachines", &request)
}
