//! Time as the store keeps it: microseconds since the Unix epoch.

use chrono::{DateTime, TimeZone, Utc};

pub fn now_us() -> i64 {
    Utc::now().timestamp_micros()
}

pub fn to_us(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub fn from_us(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

/// RFC 3339 with a `Z`, to the millisecond: how times are shown and exchanged.
pub fn format_us(us: i64) -> String {
    from_us(us).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
