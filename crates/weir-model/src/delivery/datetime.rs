//! Java `DateTimeFormatter` patterns, as Firehose's `!{timestamp:…}` reads them (Firehose runs
//! on the JVM and hands the text to `DateTimeFormatter.ofPattern`), formatted in UTC with the
//! English names the JVM's default locale gives. The letters a prefix can use are the ones that
//! need no locale's week rules: era, years, quarter, month, day, day of year, weekday, AM/PM,
//! hours, minutes, seconds, fractions and the UTC offset. Error texts are Java's
//! (`Unknown pattern letter: b`, `Too many pattern letters: M`).

use chrono::{DateTime, Datelike, Timelike, Utc};

/// One piece of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Text written as is (quoted text, or characters that are not letters).
    Literal(String),
    /// A pattern letter repeated `count` times.
    Field { letter: char, count: usize },
}

/// A checked pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub text: String,
    pub items: Vec<Item>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The most letters each supported field accepts, as `DateTimeFormatterBuilder` has it.
fn max_count(letter: char) -> Option<usize> {
    Some(match letter {
        'G' | 'M' | 'L' | 'E' | 'Q' | 'q' => 5,
        'u' | 'y' | 'Y' => 19,
        'd' | 'H' | 'h' | 'K' | 'k' | 'm' | 's' => 2,
        'D' => 3,
        'a' => 1,
        'S' | 'n' => 9,
        'A' => 19,
        'Z' | 'X' | 'x' => 5,
        _ => return None,
    })
}

/// Letters Java knows that weir does not format (their output depends on the locale's week rules
/// or on time-zone names a UTC-only prefix has no use for).
const UNSUPPORTED: &str = "wWYecFVzvONp";

/// Parses `text` as a `DateTimeFormatter` pattern.
pub fn parse(text: &str) -> Result<Pattern, String> {
    let mut items: Vec<Item> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let literal = |items: &mut Vec<Item>, s: &str| match items.last_mut() {
        Some(Item::Literal(last)) => last.push_str(s),
        _ => items.push(Item::Literal(s.to_string())),
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // 'text' is literal; '' is one quote, inside or outside quoted text.
            if chars.get(i + 1) == Some(&'\'') {
                literal(&mut items, "'");
                i += 2;
                continue;
            }
            let mut quoted = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => {
                        return Err(format!(
                            "Pattern ends with an incomplete string literal: {text}"
                        ));
                    }
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        quoted.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(&other) => {
                        quoted.push(other);
                        j += 1;
                    }
                }
            }
            literal(&mut items, &quoted);
            i = j + 1;
        } else if c.is_ascii_alphabetic() {
            let mut count = 1;
            while chars.get(i + count) == Some(&c) {
                count += 1;
            }
            match max_count(c) {
                Some(max) if count > max => {
                    return Err(format!("Too many pattern letters: {c}"));
                }
                Some(_) => items.push(Item::Field { letter: c, count }),
                None if UNSUPPORTED.contains(c) => {
                    return Err(format!(
                        "pattern letter `{c}` is not supported by weir (it depends on a locale or a time zone name)"
                    ));
                }
                None => return Err(format!("Unknown pattern letter: {c}")),
            }
            i += count;
        } else if matches!(c, '{' | '}' | '#') {
            return Err(format!("Pattern includes reserved character: '{c}'"));
        } else if matches!(c, '[' | ']') {
            // Optional sections: every field is present when formatting, so they print their
            // content; the brackets themselves are not output.
            i += 1;
        } else {
            literal(&mut items, &c.to_string());
            i += 1;
        }
    }
    Ok(Pattern {
        text: text.to_string(),
        items,
    })
}

impl Pattern {
    /// The instant formatted in UTC.
    pub fn format(&self, at: DateTime<Utc>) -> String {
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Literal(text) => out.push_str(text),
                Item::Field { letter, count } => field(&mut out, *letter, *count, at),
            }
        }
        out
    }
}

fn padded(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", value.unsigned_abs()));
}

/// A year as Java prints it: two letters give the last two digits; otherwise the whole year
/// padded to the letters' count, with a `+` once four or more letters are exceeded.
fn year(out: &mut String, year: i64, count: usize) {
    if count == 2 {
        return padded(out, year.rem_euclid(100), 2);
    }
    if count >= 4 && year >= 10_i64.pow(count.min(18) as u32) {
        out.push('+');
    }
    padded(out, year, count);
}

fn text_or_number(out: &mut String, count: usize, number: i64, names: &[&str], index: usize) {
    let name = names.get(index).copied().unwrap_or("");
    match count {
        1 => padded(out, number, 1),
        2 => padded(out, number, 2),
        3 => out.push_str(name.get(..3).unwrap_or(name)),
        4 => out.push_str(name),
        _ => out.push_str(name.get(..1).unwrap_or(name)),
    }
}

fn field(out: &mut String, letter: char, count: usize, at: DateTime<Utc>) {
    let nanos = i64::from(at.nanosecond().min(999_999_999));
    match letter {
        'G' => out.push_str(match (count, at.year() > 0) {
            (4, true) => "Anno Domini",
            (4, false) => "Before Christ",
            (5, true) => "A",
            (5, false) => "B",
            (_, true) => "AD",
            (_, false) => "BC",
        }),
        'u' => year(out, i64::from(at.year()), count),
        'y' => {
            let y = i64::from(at.year());
            year(out, if y > 0 { y } else { 1 - y }, count)
        }
        'Q' | 'q' => {
            let quarter = i64::from(at.month0() / 3 + 1);
            match count {
                1 | 2 => padded(out, quarter, count),
                3 => out.push_str(&format!("Q{quarter}")),
                4 => out.push_str(["1st", "2nd", "3rd", "4th"][(quarter - 1) as usize % 4]),
                _ => padded(out, quarter, 1),
            }
            if count == 4 {
                out.push_str(" quarter");
            }
        }
        'M' | 'L' => text_or_number(
            out,
            count,
            i64::from(at.month()),
            &MONTHS,
            at.month0() as usize,
        ),
        'd' => padded(out, i64::from(at.day()), count),
        'D' => padded(out, i64::from(at.ordinal()), count),
        'E' => {
            let day = at.weekday().num_days_from_monday() as usize;
            let name = DAYS[day % 7];
            match count {
                4 => out.push_str(name),
                5 => out.push_str(&name[..1]),
                _ => out.push_str(&name[..3]),
            }
        }
        'a' => out.push_str(if at.hour() < 12 { "AM" } else { "PM" }),
        'H' => padded(out, i64::from(at.hour()), count),
        'k' => padded(
            out,
            i64::from(if at.hour() == 0 { 24 } else { at.hour() }),
            count,
        ),
        'K' => padded(out, i64::from(at.hour() % 12), count),
        'h' => {
            let h = at.hour() % 12;
            padded(out, i64::from(if h == 0 { 12 } else { h }), count)
        }
        'm' => padded(out, i64::from(at.minute()), count),
        's' => padded(out, i64::from(at.second()), count),
        // Fraction of a second: the first `count` digits of the nanoseconds.
        'S' => out.push_str(&format!("{nanos:09}")[..count.min(9)]),
        'n' => padded(out, nanos, count),
        'A' => padded(
            out,
            i64::from(at.num_seconds_from_midnight()) * 1000 + nanos / 1_000_000,
            count,
        ),
        // UTC's offset as each letter and width prints it.
        'Z' => out.push_str(match count {
            4 => "GMT",
            5 => "Z",
            _ => "+0000",
        }),
        'X' => out.push('Z'),
        'x' => out.push_str(match count {
            1 => "+00",
            2 | 4 => "+0000",
            _ => "+00:00",
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2018, 8, 3, 4, 5, 6).unwrap() + chrono::Duration::milliseconds(789)
    }

    fn format(pattern: &str) -> String {
        parse(pattern).unwrap().format(at())
    }

    #[test]
    fn formats_as_java_does() {
        assert_eq!(format("yyyy/MM/dd/HH"), "2018/08/03/04");
        assert_eq!(
            format("yyyy-MM-dd'T'HH:mm:ss.SSS"),
            "2018-08-03T04:05:06.789"
        );
        assert_eq!(format("yy M d H m s"), "18 8 3 4 5 6");
        assert_eq!(
            format("MMM MMMM EEE EEEE a h"),
            "Aug August Fri Friday AM 4"
        );
        assert_eq!(format("D DDD Q QQQ QQQQ"), "215 215 3 Q3 3rd quarter");
        assert_eq!(format("'it''s' ''"), "it's '");
        assert_eq!(format("[yyyy]"), "2018");
        assert_eq!(format("uuuu G Z X xxx"), "2018 AD +0000 Z +00:00");
        let midnight = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(parse("k K h a").unwrap().format(midnight), "24 0 12 AM");
    }

    #[test]
    fn refuses_what_java_refuses() {
        assert_eq!(parse("yyyy-bb").unwrap_err(), "Unknown pattern letter: b");
        assert_eq!(parse("MMMMMM").unwrap_err(), "Too many pattern letters: M");
        assert_eq!(parse("ddd").unwrap_err(), "Too many pattern letters: d");
        assert_eq!(
            parse("#").unwrap_err(),
            "Pattern includes reserved character: '#'"
        );
        assert!(parse("'open").unwrap_err().contains("incomplete"));
        assert!(parse("ww").unwrap_err().contains("not supported"));
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,40}", secs in -62_000_000_000i64..253_000_000_000i64) {
            if let Ok(pattern) = parse(&text) {
                let at = Utc.timestamp_opt(secs, 0).single().unwrap();
                let _ = pattern.format(at);
            }
        }

        #[test]
        fn agrees_with_chrono(secs in 0i64..4_102_444_800i64) {
            let at = Utc.timestamp_opt(secs, 0).single().unwrap();
            let ours = parse("yyyy/MM/dd/HH/mm/ss").unwrap().format(at);
            prop_assert_eq!(ours, at.format("%Y/%m/%d/%H/%M/%S").to_string());
        }
    }
}
