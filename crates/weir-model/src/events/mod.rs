//! Events, rules and targets: EventBridge's model, pure.
//!
//! - [`envelope`]: the event envelope and PutEvents entry validation (AWS's per-entry codes and
//!   messages, the request's size computed as AWS computes it).
//! - [`input`]: what a target receives: the whole event, a constant, an InputPath, or an
//!   InputTransformer's template, rendered as EventBridge renders them.
//! - [`schedule`]: `rate(…)` and `cron(…)` schedule expressions.
//! - [`rule_file`]: `rules/*.yaml` read into a [`rule_file::RuleSpec`], problems at
//!   `file:line:column`.
//! - [`trigger`]: `triggers:` in pipeline and state machine files.
//! - [`arn`]: the ARNs of buses, rules and targets.
//! - [`pattern`]: event patterns, checked, interpreted, and compiled into one [`pattern::Matcher`].
//!
//! Patterns are kept as their JSON ([`PatternSource`]) until the bus compiles them; only their
//! shape is checked here ([`pattern_problem`]).

pub mod arn;
pub mod envelope;
pub mod input;
pub mod pattern;
pub mod rule_file;
pub mod schedule;
pub mod trigger;

/// The weir-stream stream that holds a bus's event log is this prefix and the bus's name.
pub const BUS_STREAM_PREFIX: &str = "__events-";

/// An event pattern as written (a JSON object), compiled by the bus.
pub type PatternSource = serde_json::Value;

/// Longest event pattern, as JSON text (botocore's `EventPattern`: max 4096).
pub const MAX_PATTERN_CHARS: usize = 4096;

/// What is wrong with a pattern's shape, in InvalidEventPatternException's words, or None.
/// The full check (operators, limits) is the pattern module's; this is what a definition file
/// can be told without it: a pattern is a non-empty JSON object within AWS's length. (Once
/// `pattern` is merged, this can answer `pattern::Pattern::from_value(pattern).err()`'s message,
/// so rule and trigger files get the whole check at their positions.)
pub fn pattern_problem(pattern: &PatternSource) -> Option<String> {
    let Some(object) = pattern.as_object() else {
        return Some("Event pattern is not valid. Reason: Filter is not an object".into());
    };
    if object.is_empty() {
        return Some("Event pattern is not valid. Reason: Empty objects are not allowed".into());
    }
    let length = pattern.to_string().chars().count();
    if length > MAX_PATTERN_CHARS {
        return Some(format!(
            "Event pattern is not valid. Reason: the pattern is {length} characters long; EventPattern is at most {MAX_PATTERN_CHARS}"
        ));
    }
    None
}
