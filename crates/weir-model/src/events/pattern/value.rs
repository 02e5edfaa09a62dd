//! One value of a field's list in a pattern — a literal or a match expression — and whether it
//! accepts a leaf of an event.
//!
//! Strings only match strings: `prefix`, `suffix`, `equals-ignore-case`, `wildcard` and `cidr`
//! never accept a number, boolean or null (Event Ruler matches them against the quoted form
//! of the value). `anything-but` is the plain negation of what it wraps, so it does accept
//! values of other types. Numbers compare as numbers (see `number.rs`).

use super::cidr::{Cidr, Ip, parse_ip};
use super::flatten::Leaf;
use super::number::{Num, Range};
use super::text::{ends_with_ignore_case, equals_ignore_case, starts_with_ignore_case};
use super::wildcard::Wildcard;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ValuePattern {
    Exact(Literal),
    /// A plain pattern string that is an IP address: it matches that address however the event
    /// spells it (Event Ruler compiles it to a one-address range).
    Address(Ip),
    Prefix {
        text: Box<str>,
        ignore_case: bool,
    },
    Suffix {
        text: Box<str>,
        ignore_case: bool,
    },
    EqualsIgnoreCase(Box<str>),
    Wildcard(Wildcard),
    Numeric(Range),
    Cidr(Cidr),
    /// `{"exists": true}`: any leaf.
    Exists,
    /// `{"exists": false}`: answered by the field's absence, never by a value.
    Absent,
    AnythingBut(AnythingBut),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Str(Box<str>),
    Num(Num),
    Bool(bool),
    Null,
}

/// What `anything-but` excludes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AnythingBut {
    Strings(Vec<Box<str>>),
    Numbers(Vec<Num>),
    Prefixes(Vec<Box<str>>),
    Suffixes(Vec<Box<str>>),
    EqualsIgnoreCase(Vec<Box<str>>),
    Wildcards(Vec<Wildcard>),
}

impl ValuePattern {
    pub fn matches(&self, leaf: &Leaf<'_>) -> bool {
        match self {
            ValuePattern::Exact(literal) => literal.matches(leaf),
            ValuePattern::Address(ip) => string(leaf).and_then(parse_ip) == Some(*ip),
            ValuePattern::Prefix { text, ignore_case } => string(leaf).is_some_and(|s| {
                if *ignore_case {
                    starts_with_ignore_case(s, text)
                } else {
                    s.starts_with(&**text)
                }
            }),
            ValuePattern::Suffix { text, ignore_case } => string(leaf).is_some_and(|s| {
                if *ignore_case {
                    ends_with_ignore_case(s, text)
                } else {
                    s.ends_with(&**text)
                }
            }),
            ValuePattern::EqualsIgnoreCase(text) => {
                string(leaf).is_some_and(|s| equals_ignore_case(s, text))
            }
            ValuePattern::Wildcard(w) => string(leaf).is_some_and(|s| w.matches(s)),
            ValuePattern::Numeric(range) => match leaf {
                Leaf::Num(n) => range.contains(n),
                _ => false,
            },
            ValuePattern::Cidr(block) => string(leaf)
                .and_then(parse_ip)
                .is_some_and(|ip| block.contains(ip)),
            ValuePattern::Exists => true,
            ValuePattern::Absent => false,
            ValuePattern::AnythingBut(excluded) => !excluded.excludes(leaf),
        }
    }
}

impl Literal {
    fn matches(&self, leaf: &Leaf<'_>) -> bool {
        match (self, leaf) {
            (Literal::Str(a), Leaf::Str(b)) => **a == **b,
            (Literal::Num(a), Leaf::Num(b)) => a.same(b),
            (Literal::Bool(a), Leaf::Bool(b)) => a == b,
            (Literal::Null, Leaf::Null) => true,
            _ => false,
        }
    }
}

impl AnythingBut {
    fn excludes(&self, leaf: &Leaf<'_>) -> bool {
        if let (AnythingBut::Numbers(numbers), Leaf::Num(n)) = (self, leaf) {
            return numbers.iter().any(|x| x.same(n));
        }
        let Some(s) = string(leaf) else {
            return false;
        };
        match self {
            AnythingBut::Strings(values) => values.iter().any(|v| **v == *s),
            AnythingBut::Numbers(_) => false,
            AnythingBut::Prefixes(values) => values.iter().any(|v| s.starts_with(&**v)),
            AnythingBut::Suffixes(values) => values.iter().any(|v| s.ends_with(&**v)),
            AnythingBut::EqualsIgnoreCase(values) => {
                values.iter().any(|v| equals_ignore_case(s, v))
            }
            AnythingBut::Wildcards(values) => values.iter().any(|w| w.matches(s)),
        }
    }
}

fn string<'l>(leaf: &'l Leaf<'_>) -> Option<&'l str> {
    match leaf {
        Leaf::Str(s) => Some(s),
        _ => None,
    }
}
