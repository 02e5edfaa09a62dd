//! DeleteQueue: the queue and every message in it.

use serde_json::json;

use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.queues.delete_queue(call.queue()?).await?;
    Ok(json!({}))
}
