//! EventBridge event patterns: reading and checking them as EventBridge does
//! ([`Pattern::parse`]), matching one against an event ([`Pattern::matches`], the
//! interpreter), and matching an event against many rules at once ([`Matcher`]).
//!
//! The language is EventBridge's (the user guide's "Event patterns" and "Content filtering",
//! and aws/event-ruler, the engine behind it): fields name dotted paths to leaf values; a
//! field's list accepts a value when any of its entries does — exact strings, numbers
//! (compared numerically), booleans and null; `prefix`, `suffix` (each optionally
//! `{"equals-ignore-case": …}`), `equals-ignore-case`, `wildcard`, `anything-but` (values,
//! `prefix`, `suffix`, `equals-ignore-case`, `wildcard`), `numeric`, `exists`, `cidr` — and
//! `$or` lists alternatives. Arrays in events are matched array-consistently (fields of one
//! alternative must come from the same element of an array they share).
//!
//! Modules: `compile` checks a pattern and expands `$or`; `value` matches one leaf, with
//! `number`, `cidr`, `wildcard` and `text` for the operators' details; `flatten` turns an event
//! into its leaves; `eval` is the array-consistent evaluation both `interpret` and `matcher`
//! use, `matcher` the index over many rules, and `paths` walks an event only where the
//! matcher's rules look; `bench` builds rule sets and events for measuring the matcher.

pub mod bench;
mod cidr;
mod compile;
mod eval;
mod flatten;
mod interpret;
mod matcher;
mod number;
mod paths;
mod text;
mod value;
mod wildcard;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

pub use flatten::FlatEvent;
pub use matcher::Matcher;

/// A checked EventBridge pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// The pattern's alternatives once every `$or` is expanded; it matches when one does.
    alternatives: Arc<[compile::SubRule]>,
}

/// Why a pattern is not valid. EventBridge's error code for it is always
/// `InvalidEventPatternException`; `message` is its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}

impl PatternError {
    /// EventBridge words every refusal "Event pattern is not valid. Reason: " and then Event
    /// Ruler's own message.
    fn because(reason: impl fmt::Display) -> PatternError {
        PatternError {
            message: format!("Event pattern is not valid. Reason: {reason}"),
        }
    }
}

impl Pattern {
    /// Parses and checks pattern JSON text as EventBridge does.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let value: Value = serde_json::from_str(text).map_err(PatternError::because)?;
        Pattern::from_value(&value)
    }

    /// Checks a pattern already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Pattern, PatternError> {
        let alternatives = compile::compile(value).map_err(PatternError::because)?;
        Ok(Pattern {
            alternatives: alternatives.into(),
        })
    }

    /// Whether the pattern matches `event` (the interpreter: straightforward evaluation, the
    /// reference for the compiled [`Matcher`]).
    pub fn matches(&self, event: &Value) -> bool {
        self.matches_flat(&FlatEvent::new(event))
    }

    /// How many alternatives the pattern has once every `$or` is expanded (1 without `$or`).
    pub fn alternative_count(&self) -> usize {
        self.alternatives.len()
    }

    /// Same as [`Pattern::matches`], on an event already flattened.
    pub fn matches_flat(&self, event: &FlatEvent) -> bool {
        interpret::matches(&self.alternatives, event)
    }
}

#[cfg(test)]
mod tests;
