//! The request's time: ISO-8601 basic format (`20150830T123600Z`, what `X-Amz-Date` carries and
//! what the string to sign and AWS's messages use) or an HTTP date (`Date`), and the clock skew
//! window around the server's time.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};

/// Parses `YYYYMMDD'T'HHMMSS'Z'`, exactly 16 characters.
pub(super) fn parse_basic(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &bytes[range];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(
            digits
                .iter()
                .fold(0, |value, digit| value * 10 + u32::from(digit - b'0')),
        )
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(4..6)?, number(6..8)?)?;
    let time = date.and_hms_opt(number(9..11)?, number(11..13)?, number(13..15)?)?;
    Some(time.and_utc())
}

/// A `Date` header: ISO-8601 basic format, or the HTTP date botocore writes there
/// (`Sun, 30 Aug 2015 12:36:00 GMT`, RFC 7231's IMF-fixdate).
pub(super) fn parse_date_header(text: &str) -> Option<DateTime<Utc>> {
    parse_basic(text).or_else(|| {
        DateTime::parse_from_rfc2822(text)
            .ok()
            .map(|time| time.with_timezone(&Utc))
    })
}

/// `YYYYMMDD'T'HHMMSS'Z'`. Written field by field: a strftime pattern is parsed anew at every
/// call, and this runs several times per request.
pub(super) fn basic(time: DateTime<Utc>) -> String {
    format!(
        "{}T{:02}{:02}{:02}Z",
        day(time),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// `YYYYMMDD`, the date a credential's scope names.
pub(super) fn day(time: DateTime<Utc>) -> String {
    format!("{:04}{:02}{:02}", time.year(), time.month(), time.day())
}

/// The server's time in whole seconds (AWS's messages show whole seconds). A clock outside
/// chrono's range (hundreds of thousands of years away) counts as the epoch.
pub(super) fn from_system(now: SystemTime) -> DateTime<Utc> {
    let seconds = match now.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs())
            .map(|seconds| -seconds)
            .unwrap_or(i64::MIN),
    };
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Where a request's time falls against the server's clock and the accepted skew.
pub(super) enum Skew {
    Within,
    /// Earlier than `earliest` (now minus the skew).
    Expired {
        earliest: DateTime<Utc>,
    },
    /// Later than `latest` (now plus the skew).
    NotYetCurrent {
        latest: DateTime<Utc>,
    },
}

/// Both edges are accepted: a request exactly `skew` old or `skew` ahead is within.
pub(super) fn skew(request: DateTime<Utc>, now: DateTime<Utc>, skew: TimeDelta) -> Skew {
    let earliest = now.checked_sub_signed(skew).unwrap_or(now);
    let latest = now.checked_add_signed(skew).unwrap_or(now);
    if request < earliest {
        Skew::Expired { earliest }
    } else if request > latest {
        Skew::NotYetCurrent { latest }
    } else {
        Skew::Within
    }
}
