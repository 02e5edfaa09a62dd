//! Human durations in definitions: `30s`, `5m`, `1h30m`, `250ms`, `2d`, or a bare number of seconds.

use std::time::Duration;

/// Parses `30s`, `5m`, `1h30m`, `250ms`, `2d` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return seconds(secs, text);
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "invalid duration `{text}`: expected a number before `{rest}` (e.g. 30s, 5m, 1h30m)"
            ));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid number in duration `{text}`"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor = match unit {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" | "day" | "days" => 86400.0,
            "" => {
                return Err(format!(
                    "invalid duration `{text}`: missing unit after {number} (ms, s, m, h or d)"
                ));
            }
            other => {
                return Err(format!(
                    "invalid duration `{text}`: unknown unit `{other}` (ms, s, m, h or d)"
                ));
            }
        };
        total += number * factor;
    }
    seconds(total, text)
}

/// The longest duration weir accepts anywhere (about 317 years): far beyond any real wait, and
/// far enough below the limits of `Duration` and of clocks that adding it to now cannot overflow.
pub const MAX_SECONDS: f64 = 1e10;

/// A number of seconds as a duration, or why it is not one (negative, not finite, too large).
/// Every duration a user or a peer writes as a number goes through here, never through
/// `Duration::from_secs_f64`, which panics on such values.
pub fn from_seconds(secs: f64) -> Result<Duration, String> {
    if !secs.is_finite() || !(0.0..=MAX_SECONDS).contains(&secs) {
        return Err(format!(
            "{secs} seconds is out of range (0 to {MAX_SECONDS:e} seconds)"
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn seconds(secs: f64, text: &str) -> Result<Duration, String> {
    from_seconds(secs).map_err(|_| format!("invalid duration `{text}`: out of range"))
}

/// Formats a duration the way definitions write it (`1h30m`, `250ms`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let mut secs = d.as_secs();
    let mut out = String::new();
    for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("1e300").is_err());
        assert!(from_seconds(1e300).is_err());
        assert!(from_seconds(f64::NAN).is_err());
        assert!(from_seconds(-1.0).is_err());
        assert_eq!(from_seconds(1.5), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for text in ["1h30m", "250ms", "2d", "45s"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,12}") {
            let _ = parse_duration(&text);
        }
    }
}
