//! `Retry` and `Catch`: retriers with their back-off fields, catchers with their fallback state,
//! and the `ErrorEquals` rules (non-empty strings; `States.ALL` alone, in the last entry).

use super::state::{io_path, template};
use super::{Ctx, Obj};
use crate::asl::errors::{Jitter, names};
use crate::asl::model::{Catcher, QueryLanguage, Retrier};
use crate::asl::tree::{Node, Value as Tree, index};

/// The longest MaxDelaySeconds AWS accepts (a year and a day).
const MAX_DELAY_SECONDS: u64 = 31_622_400;

/// The objects of a `Retry` or `Catch` array.
fn entries<'n>(ctx: &mut Ctx<'_>, obj: &Obj<'n>, key: &str) -> Vec<(&'n Node, String)> {
    let Some(m) = obj.get(key) else {
        return Vec::new();
    };
    let path = obj.path_of(key);
    match &m.value.value {
        Tree::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (item, index(&path, i)))
            .collect(),
        _ => {
            ctx.report(
                m.value.pos,
                &path,
                format!("\"{key}\" must be an array, not {}", m.value.describe()),
            );
            Vec::new()
        }
    }
}

pub(super) fn retriers(ctx: &mut Ctx<'_>, obj: &Obj<'_>) -> Vec<Retrier> {
    let entries = entries(ctx, obj, "Retry");
    let count = entries.len();
    let mut out = Vec::new();
    for (i, (node, path)) in entries.into_iter().enumerate() {
        let Some(r) = Obj::of(ctx, node, &path, "a retrier") else {
            continue;
        };
        r.only(
            ctx,
            &[
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ],
            "a retrier",
        );
        let Some(error_equals) = error_equals(ctx, &r, i + 1 == count) else {
            continue;
        };
        let jitter = match r.string(ctx, "JitterStrategy") {
            None | Some("NONE") => Jitter::None,
            Some("FULL") => Jitter::Full,
            Some(other) => {
                let pos = r.get("JitterStrategy").map_or(node.pos, |m| m.value.pos);
                ctx.report(
                    pos,
                    &r.path_of("JitterStrategy"),
                    format!("\"{other}\" is not one of the allowed values [\"FULL\", \"NONE\"]"),
                );
                Jitter::None
            }
        };
        out.push(Retrier {
            comment: r.string(ctx, "Comment").map(str::to_string),
            error_equals,
            interval_seconds: r.uint(ctx, "IntervalSeconds", 1, 99_999_999).unwrap_or(1),
            max_attempts: r.uint(ctx, "MaxAttempts", 0, 99_999_999).unwrap_or(3),
            backoff_rate: r.number(ctx, "BackoffRate", 1.0, 1.0e9).unwrap_or(2.0),
            max_delay_seconds: r.uint(ctx, "MaxDelaySeconds", 1, MAX_DELAY_SECONDS),
            jitter,
        });
    }
    out
}

pub(super) fn catchers(ctx: &mut Ctx<'_>, obj: &Obj<'_>, language: QueryLanguage) -> Vec<Catcher> {
    let entries = entries(ctx, obj, "Catch");
    let count = entries.len();
    let mut out = Vec::new();
    for (i, (node, path)) in entries.into_iter().enumerate() {
        let Some(c) = Obj::of(ctx, node, &path, "a catcher") else {
            continue;
        };
        let allowed: &[&str] = match language {
            QueryLanguage::JsonPath => &["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"],
            QueryLanguage::Jsonata => &["ErrorEquals", "Next", "Output", "Assign", "Comment"],
        };
        c.only(
            ctx,
            allowed,
            &format!("a catcher of a {} state", name(language)),
        );
        let error_equals = error_equals(ctx, &c, i + 1 == count);
        let next = c
            .require(ctx, "Next", "a catcher")
            .and_then(|_| c.string(ctx, "Next"));
        let result_path = io_path(ctx, &c, "ResultPath", true);
        let assign = template(ctx, &c, "Assign", language);
        let output = template(ctx, &c, "Output", language);
        if let (Some(error_equals), Some(next)) = (error_equals, next) {
            out.push(Catcher {
                comment: c.string(ctx, "Comment").map(str::to_string),
                error_equals,
                next: next.to_string(),
                result_path,
                assign,
                output,
            });
        }
    }
    out
}

fn name(language: QueryLanguage) -> &'static str {
    match language {
        QueryLanguage::JsonPath => "JSONPath",
        QueryLanguage::Jsonata => "JSONata",
    }
}

fn error_equals(ctx: &mut Ctx<'_>, obj: &Obj<'_>, last: bool) -> Option<Vec<String>> {
    let m = obj.require(ctx, "ErrorEquals", "a retrier or catcher")?;
    let path = obj.path_of("ErrorEquals");
    let Tree::Array(items) = &m.value.value else {
        ctx.report(
            m.value.pos,
            &path,
            format!(
                "\"ErrorEquals\" must be an array of error names, not {}",
                m.value.describe()
            ),
        );
        return None;
    };
    if items.is_empty() {
        ctx.report(m.value.pos, &path, "\"ErrorEquals\": non-empty required");
        return None;
    }
    let mut names_out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => names_out.push(s.to_string()),
            None => ctx.report(
                item.pos,
                &index(&path, i),
                format!("error names must be strings, not {}", item.describe()),
            ),
        }
    }
    if names_out.len() != items.len() {
        return None;
    }
    if names_out.iter().any(|n| n == names::ALL) && (names_out.len() > 1 || !last) {
        ctx.report(
            m.value.pos,
            &path,
            "\"States.ALL\" must appear alone in \"ErrorEquals\", and only in the last retrier or catcher",
        );
        return None;
    }
    Some(names_out)
}
