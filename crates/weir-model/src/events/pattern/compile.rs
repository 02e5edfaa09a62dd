//! Reading a pattern: checks every part with Event Ruler's rules and words, and expands `$or`
//! into the flat alternatives ("sub-rules") both the interpreter and the matcher evaluate.
//!
//! The walk follows Event Ruler's `JsonRuleCompiler` closely, because which of several faults
//! AWS reports, and when a later key overrides an earlier one, falls out of its order:
//! - keys are visited in document order (serde_json keeps it here), and a field written twice
//!   in one alternative keeps the last list written, so a field inside a `$or` branch replaces
//!   the same field written before the `$or`;
//! - a `$or` that does not compile as the operator (for example one with a single branch) is
//!   tried again as an ordinary field name, as EventBridge does with its older compiler; the
//!   message of that second attempt is the one reported.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::cidr::{Cidr, parse_ip};
use super::number::{Bound, Num, OUT_OF_RANGE, Range, comparable};
use super::value::{AnythingBut, Literal, ValuePattern};
use super::wildcard::Wildcard;

/// At most this many alternatives once every `$or` is expanded: each is matched on its own,
/// and an unbounded product of `$or` lists would let one pattern exhaust memory.
pub(crate) const MAX_ALTERNATIVES: usize = 1000;
/// A guard against patterns nested deeper than any real one (text is already limited by the
/// JSON parser; a `Value` built in code is not).
const MAX_DEPTH: usize = 100;

const OR: &str = "$or";

/// Names Event Ruler reserves inside a `$or` branch (its operators, and some it may add).
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

/// One field of an alternative: its dotted path and the values any one of which it accepts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Condition {
    pub path: Box<str>,
    pub values: Vec<ValuePattern>,
    /// Whether the field's absence satisfies it (`{"exists": false}` among its values); asked
    /// for every candidate, so worked out once.
    absence: bool,
}

impl Condition {
    fn new(path: Box<str>, values: Vec<ValuePattern>) -> Condition {
        let absence = values.iter().any(|v| matches!(v, ValuePattern::Absent));
        Condition {
            path,
            values,
            absence,
        }
    }

    pub fn allows_absence(&self) -> bool {
        self.absence
    }

    pub fn accepts(&self, leaf: &super::flatten::Leaf<'_>) -> bool {
        self.values.iter().any(|v| v.matches(leaf))
    }
}

/// One alternative of a pattern: every condition must hold. Sorted by path, the order in
/// which Event Ruler's state machine visits them (it matters for `exists: false`).
pub(crate) type SubRule = Vec<Condition>;

/// Why a pattern was refused: a fault Event Ruler reports, or a limit (which no second reading
/// of `$or` can cure).
enum Fault {
    Invalid(String),
    Limit(String),
}

type Step<T> = Result<T, Fault>;

fn invalid<T>(message: impl Into<String>) -> Step<T> {
    Err(Fault::Invalid(message.into()))
}

/// Checks `pattern` and expands it into its alternatives, or says why it is not valid (the
/// reason alone, without EventBridge's "Event pattern is not valid. Reason: ").
pub(crate) fn compile(pattern: &Value) -> Result<Vec<SubRule>, String> {
    let Value::Object(root) = pattern else {
        return Err("Filter is not an object".to_string());
    };
    let first = match compile_root(root, true) {
        Ok(rules) => return Ok(rules),
        Err(Fault::Limit(message)) => return Err(message),
        Err(Fault::Invalid(message)) => message,
    };
    if !mentions_or(root, 0) {
        return Err(first);
    }
    compile_root(root, false).map_err(|fault| match fault {
        Fault::Invalid(message) | Fault::Limit(message) => message,
    })
}

fn mentions_or(object: &Map<String, Value>, depth: usize) -> bool {
    depth <= MAX_DEPTH
        && object.iter().any(|(key, value)| {
            key == OR || matches!(value, Value::Object(child) if mentions_or(child, depth + 1))
        })
}

type Alternatives = Vec<BTreeMap<Box<str>, Vec<ValuePattern>>>;

fn compile_root(root: &Map<String, Value>, expand_or: bool) -> Step<Vec<SubRule>> {
    let mut alternatives: Alternatives = Vec::new();
    let walk = Walk { expand_or };
    walk.object(root, "", &mut alternatives, false, 0)?;
    Ok(alternatives
        .into_iter()
        .map(|fields| {
            fields
                .into_iter()
                .map(|(path, values)| Condition::new(path, values))
                .collect()
        })
        .collect())
}

struct Walk {
    /// Whether `$or` is the operator (false: the older reading, an ordinary field name).
    expand_or: bool,
}

impl Walk {
    fn object(
        &self,
        object: &Map<String, Value>,
        path: &str,
        alternatives: &mut Alternatives,
        inside_or: bool,
        depth: usize,
    ) -> Step<()> {
        if depth > MAX_DEPTH {
            return Err(Fault::Limit(
                "Event pattern is nested too deeply".to_string(),
            ));
        }
        if object.is_empty() {
            return invalid("Empty objects are not allowed");
        }
        for (key, value) in object {
            if key == OR && self.expand_or {
                self.or(value, path, alternatives, depth)?;
                continue;
            }
            if inside_or && RESERVED_IN_OR.contains(&key.as_str()) {
                return invalid(format!(
                    "{key} is Ruler reserved fieldName which cannot be used inside $or."
                ));
            }
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match value {
                Value::Object(child) => {
                    self.object(child, &field, alternatives, inside_or, depth + 1)?;
                }
                Value::Array(items) => {
                    let values = value_list(items)?;
                    if alternatives.is_empty() {
                        alternatives.push(BTreeMap::new());
                    }
                    let field: Box<str> = field.into();
                    for alternative in alternatives.iter_mut() {
                        alternative.insert(field.clone(), values.clone());
                    }
                }
                _ => return invalid(format!("\"{key}\" must be an object or an array")),
            }
        }
        Ok(())
    }

    /// Every branch gets a copy of the alternatives built so far, and the branches' results
    /// replace them.
    fn or(
        &self,
        value: &Value,
        path: &str,
        alternatives: &mut Alternatives,
        depth: usize,
    ) -> Step<()> {
        let before = std::mem::take(alternatives);
        let Value::Array(branches) = value else {
            return invalid("It must be an Array followed with $or.");
        };
        for branch in branches {
            let Value::Object(branch) = branch else {
                return invalid("Only JSON object is allowed in array of $or relationship.");
            };
            let mut forked = if before.is_empty() {
                vec![BTreeMap::new()]
            } else {
                before.clone()
            };
            self.object(branch, path, &mut forked, true, depth + 1)?;
            alternatives.append(&mut forked);
            if alternatives.len() > MAX_ALTERNATIVES {
                return Err(Fault::Limit(format!(
                    "Event pattern contains more than {MAX_ALTERNATIVES} rule combinations"
                )));
            }
        }
        if branches.len() < 2 {
            return invalid("There must have at least 2 Objects in $or relationship.");
        }
        Ok(())
    }
}

/// A field's list: literals and match expressions, at least one.
fn value_list(items: &[Value]) -> Step<Vec<ValuePattern>> {
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        values.push(match item {
            Value::Object(expression) => match_expression(expression)?,
            Value::String(s) => match parse_ip(s) {
                Some(ip) => ValuePattern::Address(ip),
                None => ValuePattern::Exact(Literal::Str(s.as_str().into())),
            },
            Value::Number(n) => ValuePattern::Exact(Literal::Num(Num::from_json(n))),
            Value::Bool(b) => ValuePattern::Exact(Literal::Bool(*b)),
            Value::Null => ValuePattern::Exact(Literal::Null),
            Value::Array(_) => {
                return invalid("Match value must be String, number, true, false, or null");
            }
        });
    }
    if values.is_empty() {
        return invalid("Empty arrays are not allowed");
    }
    Ok(values)
}

/// `{"operator": operand}`. The operand is checked before a second key is noticed, as Event
/// Ruler's streaming parser does.
fn match_expression(expression: &Map<String, Value>) -> Step<ValuePattern> {
    let Some((operator, operand)) = expression.iter().next() else {
        return invalid("Match expression name not found");
    };
    let pattern = match operator.as_str() {
        "exactly" => ValuePattern::Exact(Literal::Str(
            text(operand, "exact match pattern must be a string")?.into(),
        )),
        "prefix" => affix(operand, true)?,
        "suffix" => affix(operand, false)?,
        "equals-ignore-case" => ValuePattern::EqualsIgnoreCase(
            text(operand, "equals-ignore-case match pattern must be a string")?.into(),
        ),
        "wildcard" => ValuePattern::Wildcard(wildcard(operand)?),
        "numeric" => ValuePattern::Numeric(numeric(operand)?),
        "anything-but" => ValuePattern::AnythingBut(anything_but(operand)?),
        "exists" => match operand {
            Value::Bool(true) => ValuePattern::Exists,
            Value::Bool(false) => ValuePattern::Absent,
            _ => return invalid("exists match pattern must be either true or false."),
        },
        // "prefix" in this message is Event Ruler's own (copied from the prefix branch).
        "cidr" => ValuePattern::Cidr(
            Cidr::parse(text(operand, "prefix match pattern must be a string")?)
                .map_err(Fault::Invalid)?,
        ),
        other => return invalid(format!("Unrecognized match type {other}")),
    };
    if expression.len() > 1 {
        return match operator.as_str() {
            "numeric" | "anything-but" => invalid("Too many elements in numeric expression"),
            _ => invalid("Only one key allowed in match expression"),
        };
    }
    Ok(pattern)
}

fn text<'v>(value: &'v Value, message: &str) -> Step<&'v str> {
    match value {
        Value::String(s) => Ok(s),
        _ => invalid(message),
    }
}

fn wildcard(operand: &Value) -> Step<Wildcard> {
    Wildcard::parse(text(operand, "wildcard match pattern must be a string")?)
        .map_err(Fault::Invalid)
}

/// `prefix`/`suffix`: a string, or `{"equals-ignore-case": string}` for a case-insensitive one.
fn affix(operand: &Value, is_prefix: bool) -> Step<ValuePattern> {
    let (name, title) = if is_prefix {
        ("prefix", "Prefix")
    } else {
        ("suffix", "Suffix")
    };
    let (text, ignore_case): (Box<str>, bool) = match operand {
        Value::String(s) => (s.as_str().into(), false),
        Value::Object(nested) => {
            let Some((inner, value)) = nested.iter().next() else {
                return invalid(format!("{title} expression name not found"));
            };
            if inner != "equals-ignore-case" {
                return invalid(format!("Unsupported {name} pattern: {inner}"));
            }
            let s = self::text(value, "equals-ignore-case match pattern must be a string")?;
            if nested.len() > 1 {
                return invalid("Only one key allowed in match expression");
            }
            (s.into(), true)
        }
        _ => return invalid(format!("{name} match pattern must be a string")),
    };
    Ok(if is_prefix {
        ValuePattern::Prefix { text, ignore_case }
    } else {
        ValuePattern::Suffix { text, ignore_case }
    })
}

/// How Event Ruler names the token it found where it wanted something else.
fn token(value: Option<&Value>) -> String {
    match value {
        None => "]".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Null) => "null".to_string(),
        Some(Value::Array(_)) => "[".to_string(),
        Some(Value::Object(_)) => "{".to_string(),
    }
}

fn threshold(value: Option<&Value>, operator: &str) -> Step<f64> {
    let name = if operator == "=" { "equals" } else { operator };
    match value {
        Some(Value::Number(n)) => Ok(Num::from_json(n).value),
        _ => invalid(format!("Value of {name} must be numeric")),
    }
}

fn bound(value: f64, inclusive: bool) -> Step<Bound> {
    match comparable(value) {
        Some(at) => Ok(Bound { at, inclusive }),
        None => invalid(OUT_OF_RANGE),
    }
}

/// `numeric`: `[op, n]` or `[">"|">=", low, "<"|"<=", high]`.
fn numeric(operand: &Value) -> Step<Range> {
    let Value::Array(items) = operand else {
        return invalid("Value of numeric must be an array.");
    };
    let operator = match items.first() {
        Some(Value::String(op)) => op.as_str(),
        other => return invalid(format!("Invalid member in numeric match: {}", token(other))),
    };
    let too_many = || invalid("Too many elements in numeric expression");
    match operator {
        "=" => {
            let at = threshold(items.get(1), operator)?;
            if items.len() > 2 {
                return too_many();
            }
            let exact = bound(at, true)?;
            Ok(Range {
                low: Some(exact),
                high: Some(exact),
            })
        }
        "<" | "<=" => {
            let at = threshold(items.get(1), operator)?;
            if items.len() > 2 {
                return too_many();
            }
            Ok(Range {
                low: None,
                high: Some(bound(at, operator == "<=")?),
            })
        }
        ">" | ">=" => {
            let low_at = threshold(items.get(1), operator)?;
            let low_inclusive = operator == ">=";
            if items.len() == 2 {
                return Ok(Range {
                    low: Some(bound(low_at, low_inclusive)?),
                    high: None,
                });
            }
            let upper = match items.get(2) {
                Some(Value::String(op)) => op.as_str(),
                other => return invalid(format!("Bad value in numeric range: {}", token(other))),
            };
            if upper != "<" && upper != "<=" {
                return invalid(format!("Bad numeric range operator: {upper}"));
            }
            let high_at = threshold(items.get(3), upper)?;
            if items.len() > 4 {
                return invalid("Too many terms in numeric range expression");
            }
            let low = bound(low_at, low_inclusive)?;
            let high = bound(high_at, upper == "<=")?;
            if low_at >= high_at {
                return invalid("Bottom must be less than top");
            }
            Ok(Range {
                low: Some(low),
                high: Some(high),
            })
        }
        other => invalid(format!("Unrecognized numeric range operator: {other}")),
    }
}

const ANYTHING_BUT_TYPE: &str =
    "Value of anything-but must be an array or single string/number value.";

fn anything_but(operand: &Value) -> Step<AnythingBut> {
    match operand {
        Value::Object(nested) => anything_but_nested(nested),
        Value::Array(items) => {
            let (mut strings, mut numbers) = (Vec::new(), Vec::new());
            for item in items {
                match item {
                    Value::String(s) => strings.push(s.as_str().into()),
                    Value::Number(n) => {
                        let n = Num::from_json(n);
                        if n.comparable.is_none() {
                            return invalid(OUT_OF_RANGE);
                        }
                        numbers.push(n);
                    }
                    _ => {
                        return invalid(
                            "Inside anything but list, start|null|boolean is not supported.",
                        );
                    }
                }
            }
            match (strings.is_empty(), numbers.is_empty()) {
                (false, true) => Ok(AnythingBut::Strings(strings)),
                (true, false) => Ok(AnythingBut::Numbers(numbers)),
                _ => invalid(
                    "Inside anything but list, either all values are number or string, \
                     mixed type is not supported",
                ),
            }
        }
        Value::String(s) => Ok(AnythingBut::Strings(vec![s.as_str().into()])),
        Value::Number(n) => {
            let n = Num::from_json(n);
            if n.comparable.is_none() {
                return invalid(OUT_OF_RANGE);
            }
            Ok(AnythingBut::Numbers(vec![n]))
        }
        _ => invalid(ANYTHING_BUT_TYPE),
    }
}

/// `anything-but` of `prefix`, `suffix`, `equals-ignore-case` or `wildcard`: one string or a
/// list of them.
fn anything_but_nested(nested: &Map<String, Value>) -> Step<AnythingBut> {
    let Some((inner, operand)) = nested.iter().next() else {
        return invalid("Anything-But expression name not found");
    };
    let excluded = match inner.as_str() {
        "prefix" | "suffix" => {
            let texts = strings(operand, "prefix/suffix match pattern must be a string")?;
            if texts.iter().any(|t| t.is_empty()) {
                return invalid("Null prefix/suffix not allowed");
            }
            if inner == "prefix" {
                AnythingBut::Prefixes(texts)
            } else {
                AnythingBut::Suffixes(texts)
            }
        }
        "equals-ignore-case" => match operand {
            Value::Array(_) => AnythingBut::EqualsIgnoreCase(strings(
                operand,
                "Inside anything-but/equals-ignore-case list, numberic|start|null|boolean is not supported.",
            )?),
            Value::String(s) => AnythingBut::EqualsIgnoreCase(vec![s.as_str().into()]),
            Value::Number(_) => {
                return invalid(
                    "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                );
            }
            _ => return invalid(ANYTHING_BUT_TYPE),
        },
        "wildcard" => {
            let texts = strings(operand, "wildcard match pattern must be a string")?;
            let mut parsed = Vec::with_capacity(texts.len());
            for t in &texts {
                parsed.push(Wildcard::parse(t).map_err(Fault::Invalid)?);
            }
            AnythingBut::Wildcards(parsed)
        }
        other => return invalid(format!("Unsupported anything-but pattern: {other}")),
    };
    if nested.len() > 1 {
        return invalid("Only one key allowed in match expression");
    }
    Ok(excluded)
}

/// A string, or a list of strings, refused with `message` otherwise.
fn strings(operand: &Value, message: &str) -> Step<Vec<Box<str>>> {
    match operand {
        Value::String(s) => Ok(vec![s.as_str().into()]),
        // An empty list would exclude nothing, turning the rule into one that matches
        // every event; Event Ruler fails such a rule only later, when it evaluates it.
        Value::Array(items) if items.is_empty() => invalid("Empty arrays are not allowed"),
        Value::Array(items) => items
            .iter()
            .map(|item| text(item, message).map(Into::into))
            .collect(),
        Value::Bool(_) | Value::Null => invalid(ANYTHING_BUT_TYPE),
        _ => invalid(message),
    }
}
