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
    let current = call.streams.describe(&stream)?.retention_hours;
    if hours < current {
        return Err(invalid_argument(format!(
            "Requested retention period ({hours} hours) for stream {stream} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
        )));
    }
    call.streams.set_retention(&stream, hours).await?;
    call.empty()
}

/// The hours asked for, within AWS's bounds (24 hours to 8,760), refused in AWS's words.
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
