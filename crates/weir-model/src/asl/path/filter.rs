//! Filter expressions inside `[?( … )]`, in Jayway's dialect: comparisons (`==`, `!=`, `<`,
//! `<=`, `>`, `>=`, `=~ /regex/i`, `in`, `nin`), `&&`, `||`, `!`, parentheses, existence tests
//! (`@.isbn`), and literals (numbers, quoted strings, `true`/`false`/`null`, arrays). An unquoted
//! word is read as a string, as Jayway does (`@.OutputKey == FooBar`), because definitions in the
//! wild rely on it.

use serde_json::Value;

use super::{Parser, Path, Step, SyntaxError};
use crate::asl::env::Env;

#[derive(Debug, Clone)]
pub(crate) enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare(Operand, Op, Operand),
    Exists(Operand),
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    /// `@…`: relative to the element being filtered.
    Current(Vec<Step>),
    /// `$…`, `$$…`, `$var…`.
    Absolute(Path),
    Literal(Value),
    Regex(regex::Regex),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    In,
    Nin,
}

/// Parses a filter from the start of `text`, stopping before the `)` that closes it.
pub(crate) fn parse(text: &str) -> Result<(Filter, usize), SyntaxError> {
    let mut p = Parser { text, at: 0 };
    let filter = or(&mut p, 0)?;
    p.skip_ws();
    Ok((filter, p.at))
}

/// Nesting of parentheses allowed inside one filter.
const MAX_NESTING: usize = 32;

fn or(p: &mut Parser<'_>, depth: usize) -> Result<Filter, SyntaxError> {
    let mut left = and(p, depth)?;
    loop {
        p.skip_ws();
        if !p.eat("||") {
            return Ok(left);
        }
        let right = and(p, depth)?;
        left = Filter::Or(Box::new(left), Box::new(right));
    }
}

fn and(p: &mut Parser<'_>, depth: usize) -> Result<Filter, SyntaxError> {
    let mut left = unary(p, depth)?;
    loop {
        p.skip_ws();
        if !p.eat("&&") {
            return Ok(left);
        }
        let right = unary(p, depth)?;
        left = Filter::And(Box::new(left), Box::new(right));
    }
}

fn unary(p: &mut Parser<'_>, depth: usize) -> Result<Filter, SyntaxError> {
    if depth > MAX_NESTING {
        return p.error("the filter is nested too deeply");
    }
    p.skip_ws();
    if p.rest().starts_with('!') && !p.rest().starts_with("!=") {
        p.at += 1;
        return Ok(Filter::Not(Box::new(unary(p, depth + 1)?)));
    }
    if p.eat("(") {
        let inner = or(p, depth + 1)?;
        p.skip_ws();
        if !p.eat(")") {
            return p.error("expected `)`");
        }
        return Ok(inner);
    }
    let left = operand(p)?;
    p.skip_ws();
    let op = if p.eat("==") {
        Op::Eq
    } else if p.eat("!=") {
        Op::Ne
    } else if p.eat("<=") {
        Op::Le
    } else if p.eat(">=") {
        Op::Ge
    } else if p.eat("<") {
        Op::Lt
    } else if p.eat(">") {
        Op::Gt
    } else if p.eat("=~") {
        Op::Match
    } else if word_ahead(p, "nin") {
        Op::Nin
    } else if word_ahead(p, "in") {
        Op::In
    } else {
        return Ok(Filter::Exists(left));
    };
    p.skip_ws();
    let right = operand(p)?;
    if op == Op::Match && !matches!(right, Operand::Regex(_)) {
        return p.error("`=~` needs a /regular expression/");
    }
    Ok(Filter::Compare(left, op, right))
}

/// Consumes `word` when it stands alone (followed by white space).
fn word_ahead(p: &mut Parser<'_>, word: &str) -> bool {
    let rest = p.rest();
    if rest.starts_with(word) && rest[word.len()..].starts_with(char::is_whitespace) {
        p.at += word.len();
        true
    } else {
        false
    }
}

fn operand(p: &mut Parser<'_>) -> Result<Operand, SyntaxError> {
    p.skip_ws();
    match p.peek() {
        Some('@') => {
            p.at += 1;
            let mut steps = Vec::new();
            while let Some(step) = p.step()? {
                steps.push(step);
            }
            Ok(Operand::Current(steps))
        }
        Some('$') => {
            let (path, used) = Path::parse_prefix(p.rest()).map_err(|e| SyntaxError {
                offset: p.at + e.offset,
                message: e.message,
            })?;
            p.at += used;
            Ok(Operand::Absolute(path))
        }
        Some('\'' | '"') => {
            let (s, used) = quoted(p.rest()).map_err(|e| SyntaxError {
                offset: p.at + e.offset,
                message: e.message,
            })?;
            p.at += used;
            Ok(Operand::Literal(Value::String(s)))
        }
        Some('/') => regex_literal(p),
        Some('[') => {
            p.at += 1;
            let mut items = Vec::new();
            p.skip_ws();
            if !p.eat("]") {
                loop {
                    match operand(p)? {
                        Operand::Literal(v) => items.push(v),
                        _ => return p.error("array literals hold literals only"),
                    }
                    p.skip_ws();
                    if p.eat("]") {
                        break;
                    }
                    if !p.eat(",") {
                        return p.error("expected `,` or `]`");
                    }
                }
            }
            Ok(Operand::Literal(Value::Array(items)))
        }
        Some(c) if c == '-' || c.is_ascii_digit() => {
            let start = p.at;
            p.eat("-");
            while p
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+'))
            {
                p.at += 1;
            }
            match serde_json::from_str::<serde_json::Number>(&p.text[start..p.at]) {
                Ok(n) => Ok(Operand::Literal(Value::Number(n))),
                Err(_) => {
                    p.at = start;
                    p.error("invalid number")
                }
            }
        }
        Some(c) if c.is_alphabetic() || c == '_' => {
            let start = p.at;
            while p
                .peek()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                p.at += p.peek().map_or(1, char::len_utf8);
            }
            Ok(Operand::Literal(match &p.text[start..p.at] {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                word => Value::String(word.to_string()),
            }))
        }
        _ => p.error("expected a value in the filter"),
    }
}

fn regex_literal(p: &mut Parser<'_>) -> Result<Operand, SyntaxError> {
    let start = p.at;
    p.at += 1;
    let mut pattern = String::new();
    loop {
        match p.peek() {
            None => {
                p.at = start;
                return p.error("unterminated regular expression");
            }
            Some('/') => {
                p.at += 1;
                break;
            }
            Some('\\') if p.rest()[1..].starts_with('/') => {
                pattern.push('/');
                p.at += 2;
            }
            Some(c) => {
                pattern.push(c);
                p.at += c.len_utf8();
            }
        }
    }
    let mut builder = regex::RegexBuilder::new(&pattern);
    while let Some(flag) = p.peek().filter(char::is_ascii_alphabetic) {
        match flag {
            'i' => builder.case_insensitive(true),
            'm' => builder.multi_line(true),
            's' => builder.dot_matches_new_line(true),
            _ => return p.error(format!("unknown regular expression flag `{flag}`")),
        };
        p.at += 1;
    }
    builder.size_limit(1 << 20);
    match builder.build() {
        Ok(re) => Ok(Operand::Regex(re)),
        Err(e) => {
            p.at = start;
            p.error(format!("invalid regular expression: {e}"))
        }
    }
}

/// Reads a `'…'` or `"…"` string at the start of `text` (backslash escapes the next character;
/// `\n`, `\t`, `\r` and `\uXXXX` mean what JSON says): the value and the bytes used.
pub(crate) fn quoted(text: &str) -> Result<(String, usize), SyntaxError> {
    let mut chars = text.char_indices();
    let quote = match chars.next() {
        Some((_, c @ ('\'' | '"'))) => c,
        _ => {
            return Err(SyntaxError {
                offset: 0,
                message: "expected a quoted name".into(),
            });
        }
    };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                // Jayway unescapes as Java does: `\b` and `\f` too.
                Some((_, 'b')) => out.push('\u{8}'),
                Some((_, 'f')) => out.push('\u{c}'),
                Some((_, 'u')) => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(c) => out.push(c),
                        None => {
                            return Err(SyntaxError {
                                offset: i,
                                message: "invalid \\u escape".into(),
                            });
                        }
                    }
                }
                Some((_, c)) => out.push(c),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(SyntaxError {
        offset: 0,
        message: "unterminated quoted string".into(),
    })
}

impl Filter {
    /// Whether `current` (an element of the filtered array or object) passes.
    pub(crate) fn test(&self, current: &Value, env: &Env<'_>) -> bool {
        match self {
            Filter::Or(a, b) => a.test(current, env) || b.test(current, env),
            Filter::And(a, b) => a.test(current, env) && b.test(current, env),
            Filter::Not(f) => !f.test(current, env),
            Filter::Exists(operand) => operand.value(current, env).is_some(),
            Filter::Compare(left, op, right) => {
                let l = left.value(current, env);
                if let (Op::Match, Operand::Regex(re)) = (op, right) {
                    return matches!(l, Some(Value::String(s)) if re.is_match(&s));
                }
                let r = right.value(current, env);
                let (Some(l), Some(r)) = (l, r) else {
                    return *op == Op::Ne || *op == Op::Nin;
                };
                compare(&l, *op, &r)
            }
        }
    }
}

fn compare(l: &Value, op: Op, r: &Value) -> bool {
    use std::cmp::Ordering;
    let order = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        Op::Eq => order.map_or(l == r, |o| o == Ordering::Equal),
        Op::Ne => order.map_or(l != r, |o| o != Ordering::Equal),
        Op::Lt => order == Some(Ordering::Less),
        Op::Le => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => order == Some(Ordering::Greater),
        Op::Ge => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
        Op::In => matches!(r, Value::Array(items) if items.iter().any(|i| compare(l, Op::Eq, i))),
        Op::Nin => !matches!(r, Value::Array(items) if items.iter().any(|i| compare(l, Op::Eq, i))),
        Op::Match => false,
    }
}

impl Operand {
    fn value(&self, current: &Value, env: &Env<'_>) -> Option<Value> {
        match self {
            Operand::Literal(v) => Some(v.clone()),
            Operand::Regex(_) => None,
            Operand::Current(steps) => super::eval::query_steps(current, steps, env),
            Operand::Absolute(path) => path.evaluate(env).ok(),
        }
    }
}
