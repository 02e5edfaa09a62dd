//! Values in SQL text. A template that becomes SQL (the `sql` action's statement) is rendered
//! with every substituted value left as a marker ([`marker`]); [`substitute`] then reads the text
//! as the lake's SQL parser (DataFusion's, with sqlparser's generic dialect) will, and puts each
//! value back written for where it landed:
//!
//! - on its own, as a literal: a string as `'…'` (quotes doubled), a number as it is, `TRUE`,
//!   `FALSE`, `NULL`, and a list as its items' literals separated by commas (for `IN (…)`);
//! - inside `'…'` or `N'…'`, with `'` doubled;
//! - inside a quoted identifier `"…"` or `` `…` ``, with that quote doubled;
//! - joined to a name (`events_{{ ds_nodash }}`, `lake.{{ table }}`), only when the value is a
//!   name's characters (letters, digits, `_`).
//!
//! The literal text of the template is never changed. Where a value's reading cannot be known for
//! certain (in a comment, an escape string `E'…'`, a dollar-quoted string, right after `$`, `:`
//! or `@`, or in any other prefixed string), the text is refused rather than guessed: a wrong guess
//! is an SQL injection, which would let whoever sets a run's params read or write tables their
//! grants do not name. `{{ value | safe }}` inserts a value as raw SQL.

use serde_json::Value;

use crate::marker::{END, START, decode};

/// The marker that stands for a substituted value while the template renders.
pub(crate) fn marker(value: &Value) -> String {
    crate::marker::encode(value)
}

/// Refuses a template whose own text contains the marker characters.
pub(crate) fn check_literal(text: &str) -> Result<(), String> {
    crate::marker::check_literal(text, "the SQL text")
}

/// Where the reader is in the SQL text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Code,
    /// Inside a string literal closed by `'` (`''` stands for one quote).
    Quoted,
    /// Inside a quoted identifier closed by this character (doubled to stand for itself).
    Identifier(char),
    /// Somewhere a value cannot be placed safely; the text says where.
    Refused(&'static str),
    LineComment,
    /// Inside `/* … */`, nested this deep (the generic dialect nests block comments).
    BlockComment(u32),
    /// Inside a dollar-quoted string, closed by this tag (`$$` or `$tag$`).
    Dollar,
}

/// Replaces every marker in `marked` by its value written for the place it landed.
pub(crate) fn substitute(marked: &str) -> Result<String, String> {
    let chars: Vec<char> = marked.chars().collect();
    let mut out = String::with_capacity(marked.len());
    let mut place = Place::Code;
    let mut dollar_tag = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == START {
            let end = chars[i..]
                .iter()
                .position(|&c| c == END)
                .map(|n| i + n)
                .ok_or("a substituted value was cut short")?;
            let hex: String = chars[i + 1..end].iter().collect();
            let value = decode(&hex).ok_or("a substituted value could not be read back")?;
            let before = out.chars().next_back();
            let after = chars.get(end + 1).copied();
            out.push_str(&written(&value, place, before, after)?);
            i = end + 1;
            continue;
        }
        out.push(c);
        let next = chars.get(i + 1).copied();
        place = match place {
            Place::Code => match c {
                '\'' => match string_prefix(&chars[..i]) {
                    None => Place::Quoted,
                    Some(prefix) if prefix.eq_ignore_ascii_case("n") => Place::Quoted,
                    Some(prefix) if prefix.eq_ignore_ascii_case("e") => {
                        Place::Refused("an escape string (E'…')")
                    }
                    Some(_) => Place::Refused("a prefixed string literal"),
                },
                '"' | '`' => Place::Identifier(c),
                '-' if next == Some('-') => Place::LineComment,
                '/' if next == Some('*') => {
                    out.push('*');
                    i += 1;
                    Place::BlockComment(1)
                }
                '$' => match dollar_opening(&chars[i..]) {
                    Some(tag) => {
                        out.extend(tag.chars().skip(1));
                        i += tag.chars().count() - 1;
                        dollar_tag = tag;
                        Place::Dollar
                    }
                    None => Place::Code,
                },
                _ => Place::Code,
            },
            Place::Quoted if c == '\'' => {
                if next == Some('\'') {
                    out.push('\'');
                    i += 1;
                    Place::Quoted
                } else {
                    Place::Code
                }
            }
            Place::Identifier(quote) if c == quote => {
                if next == Some(quote) {
                    out.push(quote);
                    i += 1;
                    place
                } else {
                    Place::Code
                }
            }
            // A prefixed string ends at its unescaped quote; what a backslash escapes there is
            // not read here, so everything up to the end of the text stays refused.
            Place::Refused(_) => place,
            Place::LineComment if c == '\n' => Place::Code,
            Place::BlockComment(depth) => match (c, next) {
                ('*', Some('/')) => {
                    out.push('/');
                    i += 1;
                    if depth == 1 {
                        Place::Code
                    } else {
                        Place::BlockComment(depth - 1)
                    }
                }
                ('/', Some('*')) => {
                    out.push('*');
                    i += 1;
                    Place::BlockComment(depth + 1)
                }
                _ => place,
            },
            Place::Dollar
                if chars[i..]
                    .iter()
                    .take(dollar_tag.chars().count())
                    .copied()
                    .eq(dollar_tag.chars()) =>
            {
                out.extend(dollar_tag.chars().skip(1));
                i += dollar_tag.chars().count() - 1;
                Place::Code
            }
            other => other,
        };
        i += 1;
    }
    Ok(out)
}

/// The letters right before a quote that open a prefixed string (`E'`, `N'`, `X'`, `U&'`), if
/// the quote follows a word: `WHERE x = N'…'` has prefix `N`, `WHERE x = '…'` none.
fn string_prefix(before: &[char]) -> Option<String> {
    let word: String = before
        .iter()
        .rev()
        .take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '&')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The tag of a dollar-quoted string opening at `text[0]` (`$$` or `$name$`), if one does.
fn dollar_opening(text: &[char]) -> Option<String> {
    let name: String = text[1..]
        .iter()
        .take_while(|c| c.is_alphanumeric() || **c == '_')
        .collect();
    let close = 1 + name.chars().count();
    (text.get(close) == Some(&'$') && !name.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| format!("${name}$"))
}

/// A value written for its place; `before` and `after` are the characters around it.
fn written(
    value: &Value,
    place: Place,
    before: Option<char>,
    after: Option<char>,
) -> Result<String, String> {
    match place {
        Place::Quoted => Ok(text_of(value)?.replace('\'', "''")),
        Place::Identifier(quote) => {
            let text = text_of(value)?;
            if text.contains('\0') {
                return Err("a value holds a NUL byte, which no identifier can carry".into());
            }
            Ok(text.replace(quote, &format!("{quote}{quote}")))
        }
        Place::Code => {
            let joined = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            if matches!(before, Some('$' | ':' | '@' | '\\')) {
                return Err(format!(
                    "a value right after `{}` cannot be placed safely: write it in quotes, or use `| safe` for raw SQL",
                    before.unwrap_or_default()
                ));
            }
            if joined(before) || joined(after) {
                return name_part(value);
            }
            literal(value)
        }
        Place::LineComment | Place::BlockComment(_) => {
            Err("a value inside an SQL comment cannot be placed safely: move it out of the comment, or use `| safe`".into())
        }
        Place::Dollar => Err(
            "a value inside a dollar-quoted string cannot be placed safely: use '…' quotes, or `| safe`".into(),
        ),
        Place::Refused(what) => Err(format!(
            "a value inside {what} cannot be placed safely: use plain '…' quotes, or `| safe`"
        )),
    }
}

/// The text a value stands for inside quotes.
fn text_of(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Null => Ok("none".into()),
        Value::Bool(_) | Value::Number(_) => Ok(value.to_string()),
        Value::Array(_) | Value::Object(_) => Ok(value.to_string()),
    }
}

/// A value as a literal on its own.
fn literal(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Null => "NULL".into(),
        Value::Bool(true) => "TRUE".into(),
        Value::Bool(false) => "FALSE".into(),
        // In parentheses when negative, so that `x = -{{ n }}` cannot become a `--` comment.
        Value::Number(number) if number.to_string().starts_with('-') => format!("({number})"),
        Value::Number(number) => number.to_string(),
        Value::String(text) => format!("'{}'", text.replace('\'', "''")),
        Value::Array(items) => {
            if items.iter().any(|item| item.is_array() || item.is_object()) {
                return Err(
                    "a list substituted into SQL must hold strings, numbers, booleans or nulls"
                        .into(),
                );
            }
            items
                .iter()
                .map(literal)
                .collect::<Result<Vec<_>, _>>()?
                .join(", ")
        }
        Value::Object(_) => format!("'{}'", value.to_string().replace('\'', "''")),
    })
}

/// A value joined to a name: only a name's characters.
fn name_part(value: &Value) -> Result<String, String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => return Err("only a string or a number can be part of a name in SQL".into()),
    };
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "the value `{}` is part of a name in the SQL text, so it may hold only letters, digits and `_`; quote it, or use `| safe` for raw SQL",
            text.escape_debug()
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sub(parts: &[(&str, Option<Value>)]) -> Result<String, String> {
        let mut marked = String::new();
        for (text, value) in parts {
            marked.push_str(text);
            if let Some(value) = value {
                marked.push_str(&marker(value));
            }
        }
        substitute(&marked)
    }

    #[test]
    fn a_value_on_its_own_becomes_a_literal() {
        let s = |v: Value| sub(&[("SELECT * FROM t WHERE x = ", Some(v)), ("", None)]).unwrap();
        assert_eq!(s(json!("it's")), "SELECT * FROM t WHERE x = 'it''s'");
        assert_eq!(s(json!(42)), "SELECT * FROM t WHERE x = 42");
        assert_eq!(s(json!(1.5)), "SELECT * FROM t WHERE x = 1.5");
        assert_eq!(
            sub(&[("SELECT 1 -", Some(json!(-5))), ("", None)]).unwrap(),
            "SELECT 1 -(-5)"
        );
        assert_eq!(s(json!(true)), "SELECT * FROM t WHERE x = TRUE");
        assert_eq!(s(json!(null)), "SELECT * FROM t WHERE x = NULL");
        assert_eq!(
            sub(&[("WHERE x IN (", Some(json!(["a", 1, "b'"]))), (")", None)]).unwrap(),
            "WHERE x IN ('a', 1, 'b''')"
        );
    }

    #[test]
    fn inside_quotes_the_quote_is_doubled() {
        assert_eq!(
            sub(&[
                ("WHERE day = '", Some(json!("2024-01-01' OR '1'='1"))),
                ("'", None)
            ])
            .unwrap(),
            "WHERE day = '2024-01-01'' OR ''1''=''1'"
        );
        assert_eq!(
            sub(&[("SELECT \"", Some(json!("a\"b"))), ("\" FROM t", None)]).unwrap(),
            "SELECT \"a\"\"b\" FROM t"
        );
        assert_eq!(
            sub(&[("SELECT `", Some(json!("a`b"))), ("` FROM t", None)]).unwrap(),
            "SELECT `a``b` FROM t"
        );
        // A doubled quote inside a literal does not end it.
        assert_eq!(
            sub(&[("WHERE a = 'it''s ", Some(json!("x'"))), ("'", None)]).unwrap(),
            "WHERE a = 'it''s x'''"
        );
    }

    #[test]
    fn a_value_joined_to_a_name_must_be_a_name() {
        assert_eq!(
            sub(&[
                ("SELECT * FROM lake.events_", Some(json!("20240101"))),
                ("", None)
            ])
            .unwrap(),
            "SELECT * FROM lake.events_20240101"
        );
        assert_eq!(
            sub(&[
                ("SELECT * FROM lake.", Some(json!("clicks"))),
                (" LIMIT 1", None)
            ])
            .unwrap(),
            "SELECT * FROM lake.clicks LIMIT 1"
        );
        let err = sub(&[
            ("SELECT * FROM lake.", Some(json!("t; DROP TABLE x"))),
            ("", None),
        ])
        .unwrap_err();
        assert!(err.contains("part of a name"), "{err}");
    }

    #[test]
    fn places_that_cannot_be_known_are_refused() {
        for (before, after) in [
            ("SELECT 1 -- ", "\nFROM t"),
            ("SELECT /* a /* b */ ", " */ 1"),
            ("SELECT E'", "'"),
            ("SELECT X'", "'"),
            ("SELECT $$", "$$"),
            ("SELECT $tag$", "$tag$"),
            ("SELECT $", ""),
            ("SELECT :", ""),
        ] {
            assert!(
                sub(&[(before, Some(json!("v"))), (after, None)]).is_err(),
                "{before}…{after}"
            );
        }
        // After a comment, a dollar string or a prefixed string ends, values are fine again …
        for prefix in [
            "SELECT 1 -- c\n, ",
            "SELECT /* a /* b */ */ ",
            "SELECT $t$ x $t$, ",
        ] {
            assert_eq!(
                sub(&[(prefix, Some(json!("v"))), ("", None)]).unwrap(),
                format!("{prefix}'v'")
            );
        }
        // … except after an escape string, whose end is not read here.
        assert!(sub(&[("SELECT E'a', ", Some(json!("v"))), ("", None)]).is_err());
        assert!(check_literal("SELECT '\u{E000}'").is_err());
    }
}
