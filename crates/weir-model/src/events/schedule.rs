//! EventBridge schedule expressions: `rate(5 minutes)` and `cron(0 12 * * ? *)` ("Using cron and
//! rate expressions to schedule rules" in the EventBridge user guide), always in UTC.
//!
//! A cron expression has six fields: minutes (0-59), hours (0-23), day-of-month (1-31, with
//! `L` and `W`), month (1-12 or JAN-DEC), day-of-week (1-7 or SUN-SAT, 1 is Sunday, with `L`
//! and `#`) and year (from 1970); one of day-of-month and day-of-week is `?`. croner evaluates
//! it (Quartz's weekday numbering); the rules croner does not know are checked here.

use std::fmt;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// The text PutRule's `ValidationException` gives for any bad schedule expression.
pub const INVALID: &str = "Parameter ScheduleExpression is not valid.";
/// Longest expression (botocore: `ScheduleExpression`, max 256).
pub const MAX_CHARS: usize = 256;

const MINUTE_MS: i64 = 60_000;

/// A rate's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    Minutes,
    Hours,
    Days,
}

impl RateUnit {
    fn ms(self) -> i64 {
        match self {
            RateUnit::Minutes => MINUTE_MS,
            RateUnit::Hours => 60 * MINUTE_MS,
            RateUnit::Days => 24 * 60 * MINUTE_MS,
        }
    }
}

/// A checked schedule expression.
#[derive(Clone)]
pub enum ScheduleExpression {
    Rate { value: u32, unit: RateUnit },
    Cron { text: String, cron: Box<Cron> },
}

impl fmt::Debug for ScheduleExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScheduleExpression({self})")
    }
}

impl PartialEq for ScheduleExpression {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl fmt::Display for ScheduleExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleExpression::Rate { value, unit } => {
                let name = match unit {
                    RateUnit::Minutes => "minute",
                    RateUnit::Hours => "hour",
                    RateUnit::Days => "day",
                };
                let plural = if *value == 1 { "" } else { "s" };
                write!(f, "rate({value} {name}{plural})")
            }
            ScheduleExpression::Cron { text, .. } => write!(f, "cron({text})"),
        }
    }
}

/// A bad expression: AWS's message, and what exactly is wrong (for definition files).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScheduleError {
    /// Always [`INVALID`]: AWS says no more.
    pub message: String,
    pub reason: String,
}

fn invalid(reason: impl Into<String>) -> ScheduleError {
    ScheduleError {
        message: INVALID.to_string(),
        reason: reason.into(),
    }
}

impl ScheduleExpression {
    /// Reads `rate(…)` or `cron(…)`.
    pub fn parse(text: &str) -> Result<ScheduleExpression, ScheduleError> {
        if text.chars().count() > MAX_CHARS {
            return Err(invalid(format!(
                "an expression is at most {MAX_CHARS} characters"
            )));
        }
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            return parse_rate(inner);
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            return parse_cron(inner);
        }
        Err(invalid(
            "write `rate(VALUE UNIT)` or `cron(FIELDS)`, such as `rate(5 minutes)` or `cron(0 12 * * ? *)`",
        ))
    }

    /// The first time it fires strictly after `now_ms` (milliseconds since the epoch, UTC), or
    /// None when it never fires again. A rate fires at every multiple of its period since the
    /// epoch (`rate(1 hour)` on the hour), so its times survive a restart unchanged.
    pub fn next_after(&self, now_ms: i64) -> Option<i64> {
        match self {
            ScheduleExpression::Rate { value, unit } => {
                let period = i64::from(*value).checked_mul(unit.ms())?;
                now_ms
                    .div_euclid(period)
                    .checked_add(1)?
                    .checked_mul(period)
            }
            ScheduleExpression::Cron { cron, .. } => {
                let now = DateTime::<Utc>::from_timestamp_millis(now_ms)?;
                let next = cron.find_next_occurrence(&now, false).ok()?;
                Some(next.timestamp_millis())
            }
        }
    }
}

fn parse_rate(inner: &str) -> Result<ScheduleExpression, ScheduleError> {
    // Exactly `VALUE UNIT`: AWS refuses `rate( 10 minutes )`.
    let Some((value, unit)) = inner.split_once(' ') else {
        return Err(invalid("a rate is a value and a unit: `rate(5 minutes)`"));
    };
    let value = match value.parse::<u32>() {
        Ok(v) if v > 0 && value.chars().all(|c| c.is_ascii_digit()) => v,
        _ => {
            return Err(invalid(format!(
                "the rate's value `{value}` is not a positive whole number"
            )));
        }
    };
    let (singular, unit) = match unit {
        "minute" => (true, RateUnit::Minutes),
        "minutes" => (false, RateUnit::Minutes),
        "hour" => (true, RateUnit::Hours),
        "hours" => (false, RateUnit::Hours),
        "day" => (true, RateUnit::Days),
        "days" => (false, RateUnit::Days),
        other => {
            return Err(invalid(format!(
                "unknown unit `{other}`: use minute(s), hour(s) or day(s)"
            )));
        }
    };
    if singular != (value == 1) {
        let hint = if value == 1 {
            "a value of 1 takes a singular unit: `rate(1 minute)`"
        } else {
            "a value above 1 takes a plural unit: `rate(5 minutes)`"
        };
        return Err(invalid(hint));
    }
    Ok(ScheduleExpression::Rate { value, unit })
}

const FIELD_NAMES: [&str; 6] = [
    "minutes",
    "hours",
    "day-of-month",
    "month",
    "day-of-week",
    "year",
];

fn parse_cron(inner: &str) -> Result<ScheduleExpression, ScheduleError> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(invalid(format!(
            "a cron expression has six fields (minutes hours day-of-month month day-of-week year), not {}",
            fields.len()
        )));
    }
    let (day_of_month, day_of_week, year) = (fields[2], fields[4], fields[5]);
    for (i, field) in fields.iter().enumerate() {
        if field.contains('?') && (*field != "?" || !(i == 2 || i == 4)) {
            return Err(invalid(format!(
                "`?` stands alone, in day-of-month or day-of-week (not in `{field}`, the {} field)",
                FIELD_NAMES[i]
            )));
        }
    }
    if (day_of_month == "?") == (day_of_week == "?") {
        return Err(invalid(
            "exactly one of day-of-month and day-of-week is `?`: `cron(0 12 * * ? *)` or `cron(0 12 ? * MON *)`",
        ));
    }
    if day_of_week.contains('#') && day_of_week.contains(',') {
        return Err(invalid("a day-of-week with `#` holds one expression only"));
    }
    check_numbers(day_of_week, 1, 7, "day-of-week", true)?;
    // The guide says 1970-2199, but AWS accepts later years (`cron(0 20 * * ? 2500)` was
    // measured to deploy); croner reads years up to 4999.
    check_numbers(year, 1970, 4999, "year", false)?;
    let parser = CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Required)
        .alternative_weekdays(true)
        .sloppy_ranges(true)
        .build();
    let cron = parser
        .parse(&format!("0 {}", fields.join(" ")))
        .map_err(|e| invalid(e.to_string()))?;
    Ok(ScheduleExpression::Cron {
        text: fields.join(" "),
        cron: Box::new(cron),
    })
}

/// Numbers in a field (in lists, ranges, and before a `/` step) lie in `min..=max`. In
/// day-of-week, the number after `#` (which week) is not a day and is left to croner.
fn check_numbers(
    field: &str,
    min: u32,
    max: u32,
    name: &str,
    day: bool,
) -> Result<(), ScheduleError> {
    for item in field.split(',') {
        let base = item.split('/').next().unwrap_or_default();
        let base = if day {
            base.split('#').next().unwrap_or_default()
        } else {
            base
        };
        for part in base.split('-') {
            let digits = part.trim_end_matches('L');
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            match digits.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => {}
                _ => {
                    return Err(invalid(format!(
                        "`{part}` is outside the {name} field's {min}-{max}"
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .timestamp_millis()
    }

    fn next(expr: &str, from: i64) -> i64 {
        ScheduleExpression::parse(expr)
            .unwrap()
            .next_after(from)
            .unwrap()
    }

    #[test]
    fn rates() {
        let from = ms(2026, 3, 4, 10, 17);
        assert_eq!(next("rate(1 minute)", from), ms(2026, 3, 4, 10, 18));
        assert_eq!(next("rate(5 minutes)", from), ms(2026, 3, 4, 10, 20));
        assert_eq!(next("rate(1 hour)", from), ms(2026, 3, 4, 11, 0));
        assert_eq!(next("rate(1 day)", from), ms(2026, 3, 5, 0, 0));
        assert_eq!(
            next("rate(2 hours)", ms(2026, 3, 4, 10, 0)),
            ms(2026, 3, 4, 12, 0)
        );
        assert_eq!(
            ScheduleExpression::parse("rate(3 days)")
                .unwrap()
                .to_string(),
            "rate(3 days)"
        );
        for bad in [
            "rate(0 minutes)",
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(-1 minutes)",
            "rate(1.5 hours)",
            "rate(5 seconds)",
            "rate(5)",
            "rate(5 minutes now)",
            "rate()",
            "rate(+5 minutes)",
            "rate(99999999999 days)",
            "Rate(5 minutes)",
            "rate 5 minutes",
            // AWS's own refusals (recorded against PutRule).
            "rate(10 seconds)",
            "rate(10 years)",
            "rate(1 hours)",
            "rate(1 days)",
            "rate(10 hour)",
            "rate(10 day)",
            "rate(10 minutess)",
            "rate(foo minutes)",
            "rate(10 MINUTES)",
            "rate( 10 minutes )",
            " rate(10 minutes)",
            "rate(10  minutes)",
        ] {
            let err = ScheduleExpression::parse(bad).unwrap_err();
            assert_eq!(
                err.message, "Parameter ScheduleExpression is not valid.",
                "{bad}"
            );
            assert_eq!(err.to_string(), INVALID);
        }
    }

    #[test]
    fn crons_from_the_guide() {
        let from = ms(2026, 3, 4, 10, 17); // a Wednesday
        // 10:00 every day.
        assert_eq!(next("cron(0 10 * * ? *)", from), ms(2026, 3, 5, 10, 0));
        // 12:15 every day.
        assert_eq!(next("cron(15 12 * * ? *)", from), ms(2026, 3, 4, 12, 15));
        // 18:00 Monday to Friday.
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", from),
            ms(2026, 3, 4, 18, 0)
        );
        // 8:00 on the first day of the month.
        assert_eq!(next("cron(0 8 1 * ? *)", from), ms(2026, 4, 1, 8, 0));
        // Every 10 minutes on weekdays.
        assert_eq!(
            next("cron(0/10 * ? * MON-FRI *)", from),
            ms(2026, 3, 4, 10, 20)
        );
        // Every 5 minutes between 8:00 and 17:55 on weekdays.
        assert_eq!(
            next("cron(0/5 8-17 ? * MON-FRI *)", ms(2026, 3, 4, 18, 0)),
            ms(2026, 3, 5, 8, 0)
        );
        // 9:00 on the first Monday of each month.
        assert_eq!(next("cron(0 9 ? * 2#1 *)", from), ms(2026, 4, 6, 9, 0));
        // Numbered weekdays: 1 is Sunday.
        assert_eq!(next("cron(0 0 ? * 1 *)", from), ms(2026, 3, 8, 0, 0));
        assert_eq!(next("cron(0 0 ? * 7 *)", from), ms(2026, 3, 7, 0, 0));
        // The last day of the month, the last Friday, the weekday nearest the 15th.
        assert_eq!(next("cron(0 0 L * ? *)", from), ms(2026, 3, 31, 0, 0));
        assert_eq!(next("cron(0 0 ? * 6L *)", from), ms(2026, 3, 27, 0, 0));
        assert_eq!(
            next("cron(0 0 15W * ? *)", ms(2026, 2, 1, 0, 0)),
            ms(2026, 2, 16, 0, 0)
        );
        // Years (AWS takes years past the guide's 2199).
        assert_eq!(next("cron(0 20 * * ? 2500)", from), ms(2500, 1, 1, 20, 0));
        assert_eq!(next("cron(0 0 1 JAN ? 2030)", from), ms(2030, 1, 1, 0, 0));
        assert_eq!(
            ScheduleExpression::parse("cron(0 0 1 JAN ? 2030)")
                .unwrap()
                .next_after(ms(2030, 1, 1, 0, 0)),
            None
        );
        assert_eq!(
            ScheduleExpression::parse("cron(0 12 * * ? *)")
                .unwrap()
                .to_string(),
            "cron(0 12 * * ? *)"
        );
    }

    #[test]
    fn bad_crons() {
        for bad in [
            "cron(0 12 * * *)",     // five fields
            "cron(0 12 * * ? * *)", // seven
            "cron(0 12 * * * *)",   // no `?`
            "cron(0 12 ? * ? *)",   // two
            "cron(? 12 * * MON *)", // `?` elsewhere
            "cron(0 12 1? * ? *)",
            "cron(0 12 ? * 0 *)", // days are 1-7
            "cron(0 12 ? * 8 *)",
            "cron(0 12 ? * 3#1,6#3 *)", // `#` takes one expression
            "cron(0 12 * * ? 1969)",    // years start at 1970
            "cron(0 12 * * ? 5000)",
            "cron(0 12 * * ? 1900-2030)",
            "cron(0 12 #1 * ? *)", // `#` outside day-of-week
            "cron(60 12 * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 12 32 * ? *)",
            "cron(0 12 * 13 ? *)",
            "cron(0 12 * FOO ? *)",
            "cron(x 12 * * ? *)",
            "cron()",
            "cron(0 12 * * ? *",
        ] {
            let err = ScheduleExpression::parse(bad).unwrap_err();
            assert_eq!(err.message, INVALID, "{bad}");
            assert!(!err.reason.is_empty());
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in "(rate|cron)\\([ 0-9a-zA-Z*?/,#LW-]{0,30}\\)", now in -1_000_000_000_000i64..10_000_000_000_000) {
            if let Ok(expr) = ScheduleExpression::parse(&text)
                && let Some(next) = expr.next_after(now)
            {
                prop_assert!(next > now);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = ScheduleExpression::parse(&text);
        }
    }
}
