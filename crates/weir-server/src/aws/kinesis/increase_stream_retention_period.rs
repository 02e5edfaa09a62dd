//! IncreaseStreamRetentionPeriod: keeps records longer (24 hours to a year).

use weir_stream::MAX_RETENTION_HOURS;

use super::members::{Member, with_stream};
use super::{Answer, AwsError, Call, invalid_argument};

/// `RetentionPeriodHours` (the model sets no range: the service checks it).
pub const RETENTION: Member =
    Member::integer("RetentionPeriodHours", i64::MIN, i64::MAX).required();

/// The shortest retention, and the default.
const MIN_RETENTION_HOURS: i64 = 24;

pub async fn handle(call: &Call<'_>) -> Answer {
    call.request.validate_typed(&with_stream(&[RETENTION]))?;
    let stream = call.stream()?;
    let hours = requested_hours(call)?;
    // The service refuses a shorter retention than the stream's.
    call.streams.increase_retention(&stream, hours).await?;
    call.empty()
}

/// The hours asked for, within AWS's bounds (24 hours to 8,760), refused in AWS's words (here,
/// where the number is still the one sent: a negative one is shown as it came).
pub fn requested_hours(call: &Call<'_>) -> Result<u32, AwsError> {
    let hours = call.request.integer("RetentionPeriodHours")?.unwrap_or(0);
    if hours < MIN_RETENTION_HOURS {
        return Err(invalid_argument(format!(
            "Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested retention period ({hours} hours) is too short."
        )));
    }
    if hours > i64::from(MAX_RETENTION_HOURS) {
        return Err(invalid_argument(format!(
            "Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested retention period ({hours} hours) is too long."
        )));
    }
    Ok(hours as u32)
}
