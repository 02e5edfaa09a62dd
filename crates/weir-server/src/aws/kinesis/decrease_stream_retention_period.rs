//! DecreaseStreamRetentionPeriod: keeps records for less time (down to 24 hours); segments past
//! the new retention are dropped by the next retention pass.

use super::increase_stream_retention_period::{RETENTION, requested_hours};
use super::members::with_stream;
use super::{Answer, Call, invalid_argument};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[RETENTION]))?;
    let stream = call.stream()?;
    let hours = requested_hours(call)?;
    let current = call.streams.describe(&stream)?.retention_hours;
    if hours > current {
        return Err(invalid_argument(format!(
            "Requested retention period ({hours} hours) for stream {stream} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
        )));
    }
    call.streams.set_retention(&stream, hours).await?;
    call.empty()
}
