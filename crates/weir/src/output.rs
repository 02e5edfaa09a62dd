//! Human output: aligned tables. Scripts use `--json`.
//!
//! Everything the CLI prints goes through [`write_stdout`] (the `outln!` and `out!` macros):
//! `println!` panics when stdout is a closed pipe (`weir runs list | head`), and a reader that
//! stops reading is not an error: the command ends quietly, as `cat` would.

use std::io::Write;

use serde_json::Value;

/// `println!` that ends the process quietly when stdout is a closed pipe.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that ends the process quietly when stdout is a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// Writes to stdout. A closed pipe ends the process with status 0 and no message (the reader has
/// all it wanted); any other write error (a full disk) ends it with status 1 and says why.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args) {
        exit_on_write_error(&e);
    }
}

/// Flushes stdout (a follower's output must reach the reader as it comes), ending the process as
/// [`write_stdout`] does when that fails.
pub fn flush_stdout() {
    if let Err(e) = std::io::stdout().flush() {
        exit_on_write_error(&e);
    }
}

/// Passes `result` on, except a failure to write stdout, which ends the process as
/// [`write_stdout`] does (quietly for a closed pipe): for output streamed straight to stdout.
pub fn stdout_result<T>(result: anyhow::Result<T>) -> anyhow::Result<T> {
    if let Err(e) = &result
        && let Some(io) = e.downcast_ref::<std::io::Error>()
    {
        exit_on_write_error(io);
    }
    result
}

/// Ends the process after stdout failed: quietly for a closed pipe, with a message otherwise.
pub fn exit_on_write_error(error: &std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    let _ = writeln!(std::io::stderr(), "error: cannot write output: {error}");
    std::process::exit(1);
}

/// `1 pipeline`, `2 pipelines`, `0 pipelines`: a count with its noun in the right number.
pub fn count(n: impl std::fmt::Display, singular: &str, plural: &str) -> String {
    if n.to_string() == "1" {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// An elapsed time given in milliseconds, to three significant digits (`8.18 ms`, `412 ms`,
/// `2.35 s`): what a reader can use, not every digit a float holds.
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "-".into();
    }
    match ms {
        ms if ms < 10.0 => format!("{ms:.2} ms"),
        ms if ms < 100.0 => format!("{ms:.1} ms"),
        ms if ms < 1000.0 => format!("{ms:.0} ms"),
        ms => seconds(ms / 1000.0) + " s",
    }
}

/// A duration given in seconds, rounded to the millisecond (`0.012`, `3.5`, `61.25`) and without
/// trailing zeros; "-" when it is not a number.
pub fn seconds(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".into();
    }
    let text = format!("{secs:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// A JSON field holding seconds, as [`seconds`] shows it ("-" when absent).
pub fn seconds_field(value: &Value, field: &str) -> String {
    value[field]
        .as_f64()
        .map(seconds)
        .unwrap_or_else(|| text(value, field))
}

/// Prints rows under headers (upper-cased), columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let upper: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
    let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
    table_with_headers_as_given(&upper, rows);
}

/// Prints rows under headers exactly as given (SQL column names are case-sensitive data).
pub fn table_with_headers_as_given(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cells.len() {
                    c.clone()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        outln!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// A JSON field as display text ("-" when absent).
pub fn text(value: &Value, field: &str) -> String {
    match value.get(field) {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub fn print_json(value: &Value) {
    outln!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// A timestamp given in µs since the epoch (as the lake API reports them), in RFC 3339 UTC.
pub fn micros_as_time(value: &Value, field: &str) -> String {
    value[field]
        .as_i64()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| text(value, field))
}
