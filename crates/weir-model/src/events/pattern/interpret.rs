//! The interpreter: a pattern's alternatives evaluated one after the other against the whole
//! event. Straightforward on purpose — it is the reference the compiled [`Matcher`] is tested
//! against.
//!
//! [`Matcher`]: super::Matcher

use super::compile::SubRule;
use super::eval::satisfy;
use super::flatten::{FlatEvent, Membership};

pub(crate) fn matches(alternatives: &[SubRule], event: &FlatEvent) -> bool {
    alternatives.iter().any(|conditions| {
        let fields_of = |i: usize| {
            conditions
                .get(i)
                .map_or(&[][..], |condition| event.at(&condition.path))
        };
        satisfy(conditions, 0, &Membership::default(), &fields_of)
    })
}
