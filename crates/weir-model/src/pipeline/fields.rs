//! Typed readers for pipeline keys: each reads one YAML value, or records a problem at the value's
//! position and returns None. A null value reads as "not set".

use std::time::Duration;

use super::yaml::{Node, Value};
use super::{OnLost, TriggerRule};
use crate::duration::parse_duration;
use crate::problem::{Pos, Problem, did_you_mean, nearest};

/// Where problems are collected while a file is read.
pub(crate) struct Ctx<'s> {
    pub file: &'s str,
    pub source: &'s str,
    pub problems: Vec<Problem>,
}

impl Ctx<'_> {
    pub fn problem(&mut self, pos: Pos, message: impl Into<String>) {
        self.problems.push(Problem::new(self.file, pos, message));
    }

    pub fn string(&mut self, key: &str, node: &Node) -> Option<String> {
        match &node.value {
            Value::Null => None,
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.problem(
                    node.pos,
                    format!("`{key}` must be a string, not {}", node.describe()),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str, node: &Node) -> Option<bool> {
        match node.value {
            Value::Null => None,
            Value::Bool(b) => Some(b),
            _ => {
                self.problem(
                    node.pos,
                    format!("`{key}` must be true or false, not {}", node.describe()),
                );
                None
            }
        }
    }

    /// A whole number in `min..=u32::MAX`.
    pub fn whole(&mut self, key: &str, node: &Node, min: u32) -> Option<u32> {
        match node.value {
            Value::Null => None,
            Value::Int(i) if i >= i64::from(min) && i <= i64::from(u32::MAX) => {
                u32::try_from(i).ok()
            }
            _ => {
                self.problem(node.pos, format!("`{key}` must be a whole number ≥ {min}"));
                None
            }
        }
    }

    /// A duration: `30s`, `5m`, `1h30m`, or a number of seconds.
    pub fn duration(&mut self, key: &str, node: &Node) -> Option<Duration> {
        let secs = match &node.value {
            Value::Null => return None,
            Value::Str(text) => match parse_duration(text) {
                Ok(d) => return Some(d),
                Err(e) => {
                    self.problem(node.pos, format!("invalid `{key}`: {e}"));
                    return None;
                }
            },
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            _ => -1.0,
        };
        if let Ok(duration) = crate::duration::from_seconds(secs) {
            return Some(duration);
        }
        self.problem(
            node.pos,
            format!(
                "`{key}` must be a duration such as 30s, 5m or 1h30m, or a number of seconds ≥ 0"
            ),
        );
        None
    }

    /// The items of a list (none when null); anything else is reported as "`key` must be
    /// a list of WHAT, not …".
    pub fn list<'n>(&mut self, key: &str, what: &str, node: &'n Node) -> &'n [Node] {
        match &node.value {
            Value::Null => &[],
            Value::Seq(items) => items,
            _ => {
                self.problem(
                    node.pos,
                    format!("`{key}` must be a list of {what}, not {}", node.describe()),
                );
                &[]
            }
        }
    }

    /// A list of strings, or one string; each with its position.
    pub fn strings(&mut self, key: &str, node: &Node) -> Vec<(String, Pos)> {
        let items: Vec<&Node> = match &node.value {
            Value::Null => return Vec::new(),
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Value::Str(s) => out.push((s.clone(), item.pos)),
                // A plain `2024` reads as a number; as a name it means the text written.
                Value::Int(_) => out.push((item.text.clone(), item.pos)),
                _ => self.problem(
                    item.pos,
                    format!(
                        "`{key}` must be a list of strings; this entry is {}",
                        item.describe()
                    ),
                ),
            }
        }
        out
    }
}

/// The retry, timeout, pool and trigger rule settings of a task, or of `default_args`.
#[derive(Debug, Clone, Default)]
pub(super) struct Settings {
    pub retries: Option<u32>,
    pub retry_delay: Option<Duration>,
    pub retry_exponential_backoff: Option<bool>,
    pub max_retry_delay: Option<Duration>,
    pub timeout: Option<Duration>,
    pub pool: Option<String>,
    pub trigger_rule: Option<TriggerRule>,
    pub on_lost: Option<OnLost>,
}

/// The keys [`Settings`] reads; also the keys `default_args` accepts.
pub(super) const SETTING_KEYS: [&str; 8] = [
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
    "timeout",
    "pool",
    "trigger_rule",
    "on_lost",
];

impl Settings {
    /// Reads `key` into these settings when it is a setting key; false when it is not one.
    pub fn read(&mut self, ctx: &mut Ctx<'_>, key: &str, node: &Node) -> bool {
        match key {
            "retries" => self.retries = ctx.whole(key, node, 0),
            "retry_delay" => self.retry_delay = ctx.duration(key, node),
            "retry_exponential_backoff" => self.retry_exponential_backoff = ctx.boolean(key, node),
            "max_retry_delay" => self.max_retry_delay = ctx.duration(key, node),
            "timeout" => {
                self.timeout = ctx.duration(key, node);
                if self.timeout == Some(Duration::ZERO) {
                    ctx.problem(
                        node.pos,
                        "`timeout` must be greater than zero (leave it out for no timeout)",
                    );
                }
            }
            "pool" => {
                self.pool = ctx.string(key, node);
                if self.pool.as_deref().is_some_and(|p| p.trim().is_empty()) {
                    ctx.problem(node.pos, "`pool` must not be empty");
                }
            }
            "trigger_rule" => self.trigger_rule = trigger_rule(ctx, node),
            "on_lost" => self.on_lost = on_lost(ctx, node),
            _ => return false,
        }
        true
    }

    /// These settings, with `defaults` filling in what is not set.
    pub fn or(self, defaults: &Settings) -> Settings {
        Settings {
            retries: self.retries.or(defaults.retries),
            retry_delay: self.retry_delay.or(defaults.retry_delay),
            retry_exponential_backoff: self
                .retry_exponential_backoff
                .or(defaults.retry_exponential_backoff),
            max_retry_delay: self.max_retry_delay.or(defaults.max_retry_delay),
            timeout: self.timeout.or(defaults.timeout),
            pool: self.pool.or_else(|| defaults.pool.clone()),
            trigger_rule: self.trigger_rule.or(defaults.trigger_rule),
            on_lost: self.on_lost.or(defaults.on_lost),
        }
    }
}

fn on_lost(ctx: &mut Ctx<'_>, node: &Node) -> Option<OnLost> {
    one_of(ctx, "on_lost", "on_lost policy", node, &OnLost::ALL)
}

fn trigger_rule(ctx: &mut Ctx<'_>, node: &Node) -> Option<TriggerRule> {
    one_of(ctx, "trigger_rule", "trigger rule", node, &TriggerRule::ALL)
}

/// A string naming one of `choices`; an unknown one is reported with the nearest name.
fn one_of<T: Copy, const N: usize>(
    ctx: &mut Ctx<'_>,
    key: &str,
    what: &str,
    node: &Node,
    choices: &[(&str, T); N],
) -> Option<T> {
    let names = choices.map(|(name, _)| name);
    let name = ctx.string(key, node)?;
    if let Some((_, value)) = choices.iter().find(|(n, _)| *n == name) {
        return Some(*value);
    }
    let hint = did_you_mean(&name, names);
    ctx.problem(
        node.pos,
        format!(
            "unknown {what} `{name}`{hint} (one of {})",
            names.join(", ")
        ),
    );
    None
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]*`
pub(super) fn is_task_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `[A-Za-z_][A-Za-z0-9_]*`
pub(super) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reports "unknown key `k` in PLACE; did you mean `x`?"; returns the suggestion.
pub(crate) fn unknown_key<'v>(
    ctx: &mut Ctx<'_>,
    key: &str,
    pos: Pos,
    place: &str,
    valid: &[&'v str],
) -> Option<&'v str> {
    let suggestion = nearest(key, valid.iter().copied());
    let hint = suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    ctx.problem(pos, format!("unknown key `{key}` in {place}{hint}"));
    suggestion
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_and_identifiers() {
        for ok in ["extract", "_x", "9lives", "a.b-c_d"] {
            assert!(is_task_id(ok), "{ok}");
        }
        for bad in ["", "-a", ".a", "a b", "é"] {
            assert!(!is_task_id(bad), "{bad}");
        }
        assert!(is_identifier("region_2"));
        assert!(!is_identifier("2region"));
        assert!(!is_identifier("my-param"));
    }
}
