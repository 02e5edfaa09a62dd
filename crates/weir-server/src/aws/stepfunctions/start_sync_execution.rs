//! StartSyncExecution: Runs an express execution to its end and describes how it ended.

use serde_json::json;
use weir_engine::machines::Machines;

use super::{Answer, INCLUDED_DATA, Member, Request, describe_execution, new_execution};

pub async fn handle(machines: &Machines, request: Request<'_>) -> Answer {
    let execution = machines
        .start_sync_execution(new_execution(
            &request,
            &[Member::one_of("includedData", INCLUDED_DATA)],
        )?)
        .await?;
    let mut answer = describe_execution(&execution);
    answer["billingDetails"] =
        json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100});
    Ok(answer)
}
