//! DecreaseStreamRetentionPeriod: keeps records for less time (down to 24 hours); segments past
//! the new retention are dropped by the next retention pass.

use super::increase_stream_retention_period::{RETENTION, requested_hours};
use super::members::with_stream;
use super::{Answer, Call};

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[RETENTION]))?;
    let stream = call.stream()?;
    let hours = requested_hours(call)?;
    // The service refuses a longer retention than the stream's.
    call.streams.decrease_retention(&stream, hours).await?;
    call.empty()
}
