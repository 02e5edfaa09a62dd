//! Cron schedules with time zones, and Airflow's data intervals.
//!
//! A schedule is a 5-field cron expression (`minute hour day-of-month month day-of-week`), a 6-field
//! one with seconds first, or a preset (`@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`,
//! `@yearly`, `@annually`). Ticks are evaluated on the wall clock of the pipeline's time zone, so
//! `0 2 * * *` in `Europe/Paris` fires at 02:00 Paris time in winter and summer alike; on the day
//! the clock skips 02:00 it fires at 03:00, and on the day 02:00 happens twice it fires once.
//!
//! A scheduled run covers a data interval `[start, end)` between two consecutive ticks: it is due
//! at `end`, and its logical date (`ds`) is `start`, as in Airflow.

use std::fmt;

use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// The presets accepted in place of a cron expression, with their meaning.
pub const PRESETS: [(&str, &str); 7] = [
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
];

/// A parsed cron schedule.
#[derive(Clone)]
pub struct Schedule {
    /// The expression as written in the definition (trimmed).
    pub expr: String,
    cron: Cron,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Schedule").field(&self.expr).finish()
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

/// A data interval `[start, end)`: the run for it is due at `end`; its logical date is `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Schedule {
    /// Parses a cron expression (5 fields, or 6 with seconds first) or a preset.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = expr.trim();
        if expr.is_empty() {
            return Err("the schedule is empty: give a cron expression such as `0 2 * * *` or a preset such as `@daily`".into());
        }
        let pattern = if expr.starts_with('@') {
            match PRESETS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(expr))
            {
                Some((_, pattern)) => *pattern,
                None => {
                    let names: Vec<&str> = PRESETS.iter().map(|(name, _)| *name).collect();
                    let hint = crate::problem::did_you_mean(
                        &expr.to_ascii_lowercase(),
                        names.iter().copied(),
                    );
                    return Err(format!(
                        "unsupported schedule preset `{expr}`{hint} (presets: {}; or use a cron expression)",
                        names.join(", ")
                    ));
                }
            }
        } else {
            expr
        };
        let fields = pattern.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; `{expr}` has {fields}"
            ));
        }
        if pattern.contains('@') {
            return Err(format!(
                "`@` is only allowed at the start of a preset such as `@daily`, not in `{expr}`"
            ));
        }
        let fields: Vec<&str> = pattern.split_whitespace().collect();
        check_ranges(&fields).map_err(|e| format!("invalid cron expression `{expr}`: {e}"))?;
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let cron = parser
            .parse(pattern)
            .map_err(|e| format!("invalid cron expression `{expr}`: {e}"))?;
        let schedule = Schedule {
            expr: expr.to_string(),
            cron,
        };
        // A pattern such as `0 0 31 2 *` parses but never fires: almost certainly a mistake.
        let reference = DateTime::<Utc>::from_timestamp(946_684_800, 0); // 2000-01-01
        if reference
            .and_then(|t| schedule.next_after(t, Tz::UTC))
            .is_none()
        {
            return Err(format!(
                "the cron expression `{expr}` never fires (no such date)"
            ));
        }
        Ok(schedule)
    }

    /// The first tick strictly after `after`, on the wall clock of `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        // Ticks fall on whole seconds: the first tick after `after` is the first after its second.
        let after = after.with_nanosecond(0)?;
        let local = after.with_timezone(&tz);
        let next = self.cron.find_next_occurrence(&local, false).ok()?;
        Some(next.with_timezone(&Utc))
    }

    /// The first tick at or after `at`.
    pub fn first_at_or_after(&self, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        if at.nanosecond() == 0 {
            self.next_after(at.checked_sub_signed(Duration::seconds(1))?, tz)
        } else {
            self.next_after(at, tz)
        }
    }

    /// The interval that starts at `start` (normally a tick) and ends at the next tick.
    pub fn interval_starting_at(&self, start: DateTime<Utc>, tz: Tz) -> Option<Interval> {
        let end = self.next_after(start, tz)?;
        Some(Interval { start, end })
    }

    /// Intervals whose start is a tick in `[from, to]`, in order, at most `limit` of them.
    pub fn intervals(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Vec<Interval> {
        let mut out = Vec::new();
        let mut tick = self.first_at_or_after(from, tz);
        while let Some(start) = tick {
            if start > to || out.len() >= limit {
                break;
            }
            let Some(end) = self.next_after(start, tz) else {
                break;
            };
            out.push(Interval { start, end });
            tick = Some(end);
        }
        out
    }

    /// Intervals a scheduler should run now: those whose start is at or after both the first tick
    /// at or after `start_date` and `last_end` (the end of the latest interval already run), and
    /// whose end is at or before `now`; in order, at most `limit` of them.
    pub fn due_intervals(
        &self,
        tz: Tz,
        start_date: DateTime<Utc>,
        last_end: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Vec<Interval> {
        let lower = match last_end {
            Some(last_end) if last_end > start_date => last_end,
            _ => start_date,
        };
        let mut out = Vec::new();
        let mut tick = self.first_at_or_after(lower, tz);
        while let Some(start) = tick {
            if out.len() >= limit || start > now {
                break;
            }
            let Some(end) = self.next_after(start, tz) else {
                break;
            };
            if end > now {
                break;
            }
            out.push(Interval { start, end });
            tick = Some(end);
        }
        out
    }
}

/// Checks the plain numbers of each field against the field's range, to name the field at fault.
fn check_ranges(fields: &[&str]) -> Result<(), String> {
    const FIELDS: [(&str, u32, u32); 6] = [
        ("second", 0, 59),
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 7),
    ];
    let ranges = if fields.len() == 6 {
        &FIELDS[..]
    } else {
        &FIELDS[1..]
    };
    for (field, (name, low, high)) in fields.iter().zip(ranges) {
        for part in field.split(',') {
            // The values before a step (`/`) or an nth-weekday (`#`) are positions in the field.
            let values = part.split(['/', '#']).next().unwrap_or_default();
            for number in values
                .split('-')
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            {
                if !number
                    .parse::<u32>()
                    .is_ok_and(|n| (*low..=*high).contains(&n))
                {
                    return Err(format!("{name} `{number}` is out of range ({low}-{high})"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_cron_and_presets() {
        assert_eq!(Schedule::parse(" 0 2 * * * ").unwrap().expr, "0 2 * * *");
        assert!(Schedule::parse("*/10 * * * * *").is_ok());
        assert!(Schedule::parse("0 9 * * MON-FRI").is_ok());
        for (preset, _) in PRESETS {
            assert!(Schedule::parse(preset).is_ok(), "{preset}");
        }
        assert!(Schedule::parse("@DAILY").is_ok());
    }

    #[test]
    fn rejects_bad_expressions_clearly() {
        let err = Schedule::parse("@reboot").unwrap_err();
        assert!(
            err.contains("unsupported schedule preset `@reboot`"),
            "{err}"
        );
        let err = Schedule::parse("@dayly").unwrap_err();
        assert!(err.contains("did you mean `@daily`?"), "{err}");
        let err = Schedule::parse("0 2 * *").unwrap_err();
        assert!(err.contains("has 4"), "{err}");
        let err = Schedule::parse("0 2 * * * * 2026").unwrap_err();
        assert!(err.contains("has 7"), "{err}");
        let err = Schedule::parse("0 25 * * *").unwrap_err();
        assert_eq!(
            err,
            "invalid cron expression `0 25 * * *`: hour `25` is out of range (0-23)"
        );
        let err = Schedule::parse("0 0 1,32 * *").unwrap_err();
        assert_eq!(
            err,
            "invalid cron expression `0 0 1,32 * *`: day of month `32` is out of range (1-31)"
        );
        let err = Schedule::parse("60 * * * * *").unwrap_err();
        assert_eq!(
            err,
            "invalid cron expression `60 * * * * *`: second `60` is out of range (0-59)"
        );
        assert!(Schedule::parse("*/45 0-23/2 L * 5#2").is_ok());
        let err = Schedule::parse("0 0 * * MON-XYZ").unwrap_err();
        assert!(
            err.starts_with("invalid cron expression `0 0 * * MON-XYZ`: "),
            "{err}"
        );
        assert!(Schedule::parse("").is_err());
        assert!(Schedule::parse("0 2 * * @daily").is_err());
        assert!(Schedule::parse("a b c d e").is_err());
    }

    #[test]
    fn next_after_is_strict_and_in_the_time_zone() {
        let s = Schedule::parse("0 2 * * *").unwrap();
        let paris = chrono_tz::Europe::Paris;
        // 02:00 Paris in winter is 01:00 UTC.
        assert_eq!(
            s.next_after(utc("2026-01-01T00:00:00Z"), paris),
            Some(utc("2026-01-01T01:00:00Z"))
        );
        // Strictly after: a tick is not its own successor.
        assert_eq!(
            s.next_after(utc("2026-01-01T01:00:00Z"), paris),
            Some(utc("2026-01-02T01:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-01-01T00:59:59.5Z"), paris),
            Some(utc("2026-01-01T01:00:00Z"))
        );
        // Summer: 02:00 Paris is 00:00 UTC.
        assert_eq!(
            s.next_after(utc("2026-07-01T00:00:00Z"), paris),
            Some(utc("2026-07-02T00:00:00Z"))
        );
    }

    #[test]
    fn daily_across_the_paris_spring_dst_transition() {
        // 2026-03-29: Paris clocks jump from 02:00 CET to 03:00 CEST.
        let paris = chrono_tz::Europe::Paris;
        let daily = Schedule::parse("@daily").unwrap();
        let got = daily.intervals(
            paris,
            utc("2026-03-27T23:00:00Z"),
            utc("2026-03-29T22:00:00Z"),
            10,
        );
        assert_eq!(
            got,
            vec![
                Interval {
                    start: utc("2026-03-27T23:00:00Z"),
                    end: utc("2026-03-28T23:00:00Z")
                },
                // The day of the change is 23 hours long.
                Interval {
                    start: utc("2026-03-28T23:00:00Z"),
                    end: utc("2026-03-29T22:00:00Z")
                },
                Interval {
                    start: utc("2026-03-29T22:00:00Z"),
                    end: utc("2026-03-30T22:00:00Z")
                },
            ]
        );
        // A 02:30 job, whose time does not exist that day, runs at 03:00 CEST instead.
        let s = Schedule::parse("30 2 * * *").unwrap();
        assert_eq!(
            s.next_after(utc("2026-03-28T12:00:00Z"), paris),
            Some(utc("2026-03-29T01:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-03-29T01:00:00Z"), paris),
            Some(utc("2026-03-30T00:30:00Z"))
        );
    }

    #[test]
    fn autumn_dst_transition_in_paris() {
        // 2026-10-25: Paris clocks go back from 03:00 CEST to 02:00 CET; 02:30 happens twice.
        let paris = chrono_tz::Europe::Paris;
        let s = Schedule::parse("30 2 * * *").unwrap();
        let first = s.next_after(utc("2026-10-24T12:00:00Z"), paris);
        assert_eq!(
            first,
            Some(utc("2026-10-25T00:30:00Z")),
            "a fixed-time job runs once, at the first 02:30"
        );
        assert_eq!(
            s.next_after(utc("2026-10-25T00:30:00Z"), paris),
            Some(utc("2026-10-26T01:30:00Z"))
        );
        // An hourly job runs in both copies of the repeated hour.
        let hourly = Schedule::parse("@hourly").unwrap();
        let ticks: Vec<_> = hourly
            .intervals(
                paris,
                utc("2026-10-24T23:00:00Z"),
                utc("2026-10-25T02:00:00Z"),
                10,
            )
            .iter()
            .map(|i| i.start)
            .collect();
        assert_eq!(
            ticks,
            vec![
                utc("2026-10-24T23:00:00Z"),
                utc("2026-10-25T00:00:00Z"),
                utc("2026-10-25T01:00:00Z"),
                utc("2026-10-25T02:00:00Z")
            ]
        );
    }

    #[test]
    fn intervals_are_inclusive_and_limited() {
        let s = Schedule::parse("@hourly").unwrap();
        let from = utc("2026-01-01T00:00:00Z");
        let got = s.intervals(chrono_tz::UTC, from, utc("2026-01-01T03:00:00Z"), 100);
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[0],
            Interval {
                start: from,
                end: utc("2026-01-01T01:00:00Z")
            }
        );
        assert_eq!(got[3].start, utc("2026-01-01T03:00:00Z"));
        assert_eq!(
            s.intervals(chrono_tz::UTC, from, utc("2026-01-02T00:00:00Z"), 2)
                .len(),
            2
        );
        assert!(
            s.intervals(
                chrono_tz::UTC,
                utc("2026-01-01T00:30:00Z"),
                utc("2026-01-01T00:59:00Z"),
                9
            )
            .is_empty()
        );
        let one = s.interval_starting_at(from, chrono_tz::UTC).unwrap();
        assert_eq!(one.end, utc("2026-01-01T01:00:00Z"));
    }

    #[test]
    fn due_intervals_follow_start_date_last_end_and_now() {
        let s = Schedule::parse("0 2 * * *").unwrap();
        let tz = chrono_tz::UTC;
        let start_date = utc("2026-01-01T00:00:00Z");
        // On Jan 4th at 03:00, the intervals starting Jan 1st and 2nd are complete; Jan 3rd's ends on the 4th at 02:00.
        let now = utc("2026-01-04T03:00:00Z");
        let due = s.due_intervals(tz, start_date, None, now, 10);
        let starts: Vec<_> = due.iter().map(|i| i.start).collect();
        assert_eq!(
            starts,
            vec![
                utc("2026-01-01T02:00:00Z"),
                utc("2026-01-02T02:00:00Z"),
                utc("2026-01-03T02:00:00Z")
            ]
        );
        assert_eq!(due[2].end, utc("2026-01-04T02:00:00Z"));
        // After the run of Jan 2nd's interval, only Jan 3rd's remains.
        let due = s.due_intervals(tz, start_date, Some(utc("2026-01-03T02:00:00Z")), now, 10);
        assert_eq!(
            due,
            vec![Interval {
                start: utc("2026-01-03T02:00:00Z"),
                end: utc("2026-01-04T02:00:00Z")
            }]
        );
        // Nothing is due before the first interval ends.
        assert!(
            s.due_intervals(tz, start_date, None, utc("2026-01-02T01:59:59Z"), 10)
                .is_empty()
        );
        assert_eq!(s.due_intervals(tz, start_date, None, now, 1).len(), 1);
    }

    #[test]
    fn paris_daily_at_two_over_the_spring_change() {
        let paris = chrono_tz::Europe::Paris;
        let s = Schedule::parse("0 2 * * *").unwrap();
        let start = paris
            .with_ymd_and_hms(2026, 3, 28, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let got = s.intervals(paris, start, utc("2026-03-30T12:00:00Z"), 10);
        let starts: Vec<_> = got.iter().map(|i| i.start).collect();
        // 02:00 CET = 01:00 UTC; on the 29th 02:00 does not exist and the job runs at 03:00 CEST = 01:00 UTC;
        // then 02:00 CEST = 00:00 UTC.
        assert_eq!(
            starts,
            vec![
                utc("2026-03-28T01:00:00Z"),
                utc("2026-03-29T01:00:00Z"),
                utc("2026-03-30T00:00:00Z")
            ]
        );
    }

    #[test]
    fn impossible_dates_are_rejected_and_rare_ones_found() {
        let err = Schedule::parse("0 0 31 2 *").unwrap_err();
        assert!(err.contains("never fires"), "{err}");
        let leap = Schedule::parse("0 0 29 2 *").unwrap();
        assert_eq!(
            leap.next_after(utc("2026-01-01T00:00:00Z"), chrono_tz::UTC),
            Some(utc("2028-02-29T00:00:00Z"))
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(expr in "\\PC{0,40}") {
            let _ = Schedule::parse(&expr);
        }

        #[test]
        fn parse_never_panics_on_cron_like_text(expr in "[0-9*/,LW#?@a-zA-Z -]{0,30}") {
            if let Ok(s) = Schedule::parse(&expr) {
                let _ = s.next_after(Utc::now(), chrono_tz::Europe::Paris);
            }
        }
    }
}
