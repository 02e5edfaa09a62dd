//! PurgeQueue: every message of the queue goes (`PurgeQueueInProgress` within 60 seconds of the
//! last purge).

use serde_json::json;

use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.queues.purge(call.queue()?).await?;
    Ok(json!({}))
}
