//! Evaluating a Choice state: the first rule whose condition holds, else `Default`, else a
//! `States.Runtime` error (what Step Functions raises, though its guide lists
//! `States.NoChoiceMatched`, which no execution reports: floci-io/floci's executor words the cause
//! "verified against us-east-1", and aws-local-stepfunctions' conformance cases say "AWS
//! snapshots report a runtime transition failure when nothing matches and no Default is
//! configured").
//!
//! Comparisons follow the spec: an operator applied to a value of the wrong type is simply false
//! (`StringEquals` on a number does not match); a `Variable` path that names nothing is a
//! `States.Runtime` error, except for `IsPresent`, which exists to ask.

use std::cmp::Ordering;

use chrono::DateTime;
use serde_json::Value;

use super::env::Env;
use super::errors::StatesError;
use super::model::{Choice, ChoiceRule, Comparison, Condition, Operand, Rel, Test};
use super::read::is_timestamp;

/// Where a Choice state goes.
#[derive(Debug, PartialEq)]
pub enum Chosen<'c> {
    Rule(&'c ChoiceRule),
    Default(&'c str),
}

impl Chosen<'_> {
    pub fn next(&self) -> &str {
        match self {
            Chosen::Rule(rule) => &rule.next,
            Chosen::Default(next) => next,
        }
    }
}

/// Picks the next state. `env.input` is the effective input (JSONPath) or the raw input
/// (JSONata's `$states.input`).
pub fn choose<'c>(choice: &'c Choice, env: &Env<'_>) -> Result<Chosen<'c>, StatesError> {
    for (i, rule) in choice.choices.iter().enumerate() {
        if condition_in(&rule.condition, env, &format!("Choices[{i}]/Condition"))? {
            return Ok(Chosen::Rule(rule));
        }
    }
    match &choice.default {
        Some(d) => Ok(Chosen::Default(d)),
        None => Err(StatesError::runtime(
            "Failed to transition out of the state. The state does not point to a next state.",
        )),
    }
}

pub fn evaluate_condition(condition: &Condition, env: &Env<'_>) -> Result<bool, StatesError> {
    condition_in(condition, env, "Condition")
}

/// A condition written in `field` (`Choices[1]/Condition`), which errors name.
fn condition_in(condition: &Condition, env: &Env<'_>, field: &str) -> Result<bool, StatesError> {
    Ok(match condition {
        Condition::And(rules) => {
            for r in rules {
                if !evaluate_condition(r, env)? {
                    return Ok(false);
                }
            }
            true
        }
        Condition::Or(rules) => {
            for r in rules {
                if evaluate_condition(r, env)? {
                    return Ok(true);
                }
            }
            false
        }
        Condition::Not(r) => !evaluate_condition(r, env)?,
        Condition::Compare(c) => compare(c, env)?,
        Condition::Jsonata(t) => match t.evaluate_field(env, field)? {
            Value::Bool(b) => b,
            other => {
                return Err(StatesError::query(format!(
                    "A Condition must evaluate to true or false, not {other}"
                )));
            }
        },
    })
}

fn invalid_path(path: &impl std::fmt::Display) -> StatesError {
    StatesError::runtime(format!(
        "Invalid path '{path}': The choice state's condition path references an invalid value."
    ))
}

fn compare(c: &Comparison, env: &Env<'_>) -> Result<bool, StatesError> {
    if c.test == Test::IsPresent {
        return Ok(c.variable.is_present(env) == (c.operand == Operand::Literal(Value::Bool(true))));
    }
    let value = c
        .variable
        .evaluate(env)
        .map_err(|_| invalid_path(&c.variable))?;
    let operand = match &c.operand {
        Operand::Literal(v) => v.clone(),
        Operand::Path(p) => p.evaluate(env).map_err(|_| invalid_path(p))?,
    };
    let flag = operand == Value::Bool(true);
    Ok(match c.test {
        Test::IsPresent => true,
        Test::IsNull => value.is_null() == flag,
        Test::IsNumeric => value.is_number() == flag,
        Test::IsString => value.is_string() == flag,
        Test::IsBoolean => value.is_boolean() == flag,
        Test::IsTimestamp => value.as_str().is_some_and(is_timestamp) == flag,
        Test::BooleanEquals => {
            matches!((&value, &operand), (Value::Bool(a), Value::Bool(b)) if a == b)
        }
        Test::StringMatches => match (&value, &operand) {
            (Value::String(s), Value::String(pattern)) => string_matches(pattern, s),
            _ => false,
        },
        Test::String(rel) => match (&value, &operand) {
            (Value::String(a), Value::String(b)) => holds(rel, a.cmp(b)),
            _ => false,
        },
        Test::Numeric(rel) => match numeric_order(&value, &operand) {
            Some(order) => holds(rel, order),
            None => false,
        },
        Test::Timestamp(rel) => match (timestamp(&value), timestamp(&operand)) {
            (Some(a), Some(b)) => holds(rel, a.cmp(&b)),
            _ => false,
        },
    })
}

fn holds(rel: Rel, order: Ordering) -> bool {
    match rel {
        Rel::Eq => order == Ordering::Equal,
        Rel::Lt => order == Ordering::Less,
        Rel::Gt => order == Ordering::Greater,
        Rel::Le => order != Ordering::Greater,
        Rel::Ge => order != Ordering::Less,
    }
}

/// Integers compare exactly; anything else as doubles.
fn numeric_order(a: &Value, b: &Value) -> Option<Ordering> {
    let (Value::Number(x), Value::Number(y)) = (a, b) else {
        return None;
    };
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        return Some(x.cmp(&y));
    }
    x.as_f64()?.partial_cmp(&y.as_f64()?)
}

fn timestamp(v: &Value) -> Option<DateTime<chrono::FixedOffset>> {
    let s = v.as_str().filter(|s| is_timestamp(s))?;
    DateTime::parse_from_rfc3339(s).ok()
}

/// `StringMatches`: `*` matches any run of characters; `\*` is a literal star and `\\` a
/// literal backslash.
pub fn string_matches(pattern: &str, text: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => toks.push(Tok::Char(escaped)),
                None => toks.push(Tok::Char('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with backtracking to the last star: linear in practice, never exponential.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|tok| *tok == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(string_matches("log-*.txt", "log-2024-01.txt"));
        assert!(string_matches("*.log", "x.log"));
        assert!(string_matches("*", ""));
        assert!(string_matches("a*b*c", "aXXbYYc"));
        assert!(!string_matches("a*b*c", "aXXbYY"));
        assert!(string_matches("literal\\*star", "literal*star"));
        assert!(!string_matches("literal\\*star", "literalXstar"));
        assert!(string_matches("back\\\\slash", "back\\slash"));
        assert!(!string_matches("abc", "abcd"));
    }
}
