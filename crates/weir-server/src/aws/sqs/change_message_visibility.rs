//! ChangeMessageVisibility: a received message becomes visible again after `VisibilityTimeout`
//! seconds from now (0–43,200; 0 makes it visible at once).

use serde_json::json;

use super::{Answer, AwsError, Call, errors};

/// The longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY_SECONDS: i64 = 43_200;

pub async fn handle(call: &Call<'_>) -> Answer {
    let queue = call.queue()?;
    let handle = call.required("ReceiptHandle")?.to_string();
    let seconds = visibility(call.integer("VisibilityTimeout")?)?;
    let mut outcomes = call
        .queues
        .change_visibility(queue, vec![(handle, seconds)])
        .await?;
    match outcomes.pop() {
        Some(Err(error)) => Err(AwsError::from(error.into_error())),
        _ => Ok(json!({})),
    }
}

/// `VisibilityTimeout`, required, in 0–43,200.
pub fn visibility(value: Option<i64>) -> Result<u32, AwsError> {
    match value {
        None => Err(errors::missing("VisibilityTimeout")),
        Some(n) if (0..=MAX_VISIBILITY_SECONDS).contains(&n) => Ok(n as u32),
        Some(n) => Err(errors::invalid_value(format!(
            "Value {n} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= {MAX_VISIBILITY_SECONDS}, if provided."
        ))),
    }
}
