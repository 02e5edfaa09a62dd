//! A small strict JSON reader (RFC 8259) that keeps positions and reports duplicate keys.
//!
//! serde_json would keep the last of two equal keys without a word; the States Language forbids
//! duplicates, and a definition's author wants to be told where they are. A syntax error ends
//! reading; duplicate keys are reported and reading goes on, so every duplicate is listed.

use serde_json::Number;

use super::tree::{Member, Node, Value, child, index};
use crate::problem::Pos;

/// Containers nested deeper than this are refused, keeping every recursive walk far from the
/// stack's limit (real definitions nest a few dozen levels at most).
pub(crate) const MAX_DEPTH: usize = 128;

/// A problem found while reading: position, JSON path, message.
pub(crate) type ReadProblem = (Pos, String, String);

/// Reads `text` as one JSON document. On a syntax error the root is `None`.
pub(crate) fn read(text: &str) -> (Option<Node>, Vec<ReadProblem>) {
    let mut reader = Reader {
        chars: text.chars().collect(),
        at: 0,
        line: 1,
        column: 1,
        problems: Vec::new(),
    };
    // A byte-order mark is tolerated, as most JSON tools do.
    if reader.peek() == Some('\u{feff}') {
        reader.bump();
    }
    let root = match reader.value("$", 0) {
        Ok(node) => {
            reader.skip_ws();
            if reader.peek().is_some() {
                let pos = reader.pos();
                reader.problems.push((
                    pos,
                    "$".into(),
                    "unexpected text after the JSON document".into(),
                ));
                None
            } else {
                Some(node)
            }
        }
        Err((pos, path, message)) => {
            reader.problems.push((pos, path, message));
            None
        }
    };
    (root, reader.problems)
}

struct Reader {
    chars: Vec<char>,
    at: usize,
    line: u32,
    column: u32,
    problems: Vec<ReadProblem>,
}

type Fatal = (Pos, String, String);

impl Reader {
    fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn fail<T>(&self, path: &str, message: impl Into<String>) -> Result<T, Fatal> {
        let message = match self.peek() {
            Some(c) => format!(
                "invalid JSON: {} (found `{}`)",
                message.into(),
                c.escape_debug()
            ),
            None => format!(
                "invalid JSON: {} (found the end of the text)",
                message.into()
            ),
        };
        Err((self.pos(), path.to_string(), message))
    }

    fn value(&mut self, path: &str, depth: usize) -> Result<Node, Fatal> {
        self.skip_ws();
        let pos = self.pos();
        let value = match self.peek() {
            Some('{') => self.object(path, depth)?,
            Some('[') => self.array(path, depth)?,
            Some('"') => Value::String(self.string(path)?),
            Some('t') => self.word("true", Value::Bool(true), path)?,
            Some('f') => self.word("false", Value::Bool(false), path)?,
            Some('n') => self.word("null", Value::Null, path)?,
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(path)?,
            _ => return self.fail(path, "expected a value"),
        };
        Ok(Node { pos, value })
    }

    fn enter(&self, path: &str, depth: usize) -> Result<(), Fatal> {
        if depth >= MAX_DEPTH {
            return Err((
                self.pos(),
                path.to_string(),
                format!("values are nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn object(&mut self, path: &str, depth: usize) -> Result<Value, Fatal> {
        self.enter(path, depth)?;
        self.bump();
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some('"') {
                return self.fail(path, "expected a member name in double quotes");
            }
            let key_pos = self.pos();
            let key = self.string(path)?;
            self.skip_ws();
            if self.peek() != Some(':') {
                return self.fail(path, "expected `:` after the member name");
            }
            self.bump();
            let member_path = child(path, &key);
            let value = self.value(&member_path, depth + 1)?;
            match members.iter().find(|m| m.key == key) {
                Some(first) => self.problems.push((
                    key_pos,
                    member_path,
                    format!(
                        "duplicate key \"{key}\" (first set on line {})",
                        first.key_pos.line
                    ),
                )),
                None => members.push(Member {
                    key,
                    key_pos,
                    value,
                }),
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(members));
                }
                _ => return self.fail(path, "expected `,` or `}`"),
            }
        }
    }

    fn array(&mut self, path: &str, depth: usize) -> Result<Value, Fatal> {
        self.enter(path, depth)?;
        self.bump();
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            let item_path = index(path, items.len());
            items.push(self.value(&item_path, depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => return self.fail(path, "expected `,` or `]`"),
            }
        }
    }

    fn word(&mut self, word: &str, value: Value, path: &str) -> Result<Value, Fatal> {
        for expected in word.chars() {
            if self.peek() != Some(expected) {
                return self.fail(path, format!("expected `{word}`"));
            }
            self.bump();
        }
        Ok(value)
    }

    fn number(&mut self, path: &str) -> Result<Value, Fatal> {
        let start = self.at;
        let pos = self.pos();
        if self.peek() == Some('-') {
            self.bump();
        }
        match self.peek() {
            Some('0') => {
                self.bump();
            }
            Some(c) if c.is_ascii_digit() => self.digits(),
            _ => return self.fail(path, "expected a digit"),
        }
        if self.peek() == Some('.') {
            self.bump();
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return self.fail(path, "expected a digit after the decimal point");
            }
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return self.fail(path, "expected a digit in the exponent");
            }
            self.digits();
        }
        let text: String = self.chars[start..self.at].iter().collect();
        match serde_json::from_str::<Number>(&text) {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => Err((
                pos,
                path.to_string(),
                format!("invalid JSON: the number {text} is out of range"),
            )),
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
    }

    fn string(&mut self, path: &str) -> Result<String, Fatal> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return self.fail(path, "unterminated string"),
                Some('"') => {
                    self.bump();
                    return Ok(out);
                }
                Some('\\') => {
                    self.bump();
                    let c = match self.peek() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('/') => '/',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('u') => {
                            self.bump();
                            out.push(self.unicode_escape(path)?);
                            continue;
                        }
                        _ => return self.fail(path, "invalid escape in string"),
                    };
                    self.bump();
                    out.push(c);
                }
                Some(c) if (c as u32) < 0x20 => {
                    return self.fail(path, "control characters must be escaped in strings");
                }
                Some(c) => {
                    self.bump();
                    out.push(c);
                }
            }
        }
    }

    /// Reads the four hex digits after `\u` (and a low surrogate's escape after a high one).
    fn unicode_escape(&mut self, path: &str) -> Result<char, Fatal> {
        let high = self.hex4(path)?;
        if !(0xD800..0xDC00).contains(&high) {
            return match char::from_u32(high) {
                Some(c) => Ok(c),
                None => self.fail(path, "unpaired surrogate in \\u escape"),
            };
        }
        if self.peek() != Some('\\') {
            return self.fail(path, "unpaired surrogate in \\u escape");
        }
        self.bump();
        if self.peek() != Some('u') {
            return self.fail(path, "unpaired surrogate in \\u escape");
        }
        self.bump();
        let low = self.hex4(path)?;
        if !(0xDC00..0xE000).contains(&low) {
            return self.fail(path, "unpaired surrogate in \\u escape");
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.fail(path, "invalid \\u escape"),
        }
    }

    fn hex4(&mut self, path: &str) -> Result<u32, Fatal> {
        let mut code = 0u32;
        for _ in 0..4 {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    code = code * 16 + d;
                    self.bump();
                }
                None => return self.fail(path, "expected four hex digits after \\u"),
            }
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_with_positions() {
        let (root, problems) =
            read("{\n  \"a\": [1, -2.5e3, \"x\\u00e9\\ud83d\\ude00\"],\n  \"b\": {\"c\": null}\n}");
        assert!(problems.is_empty(), "{problems:?}");
        let root = root.unwrap();
        let members = root.as_object().unwrap();
        assert_eq!(members[0].key_pos, Pos::new(2, 3));
        assert_eq!(members[1].value.pos, Pos::new(3, 8));
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": [1, -2500.0, "xé😀"], "b": {"c": null}})
        );
    }

    #[test]
    fn reports_every_duplicate_with_its_path() {
        let (root, problems) = read(r#"{"a": 1, "b": {"x": 1, "x": 2}, "a": 3}"#);
        assert!(root.is_some());
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].1, "$.b.x");
        assert_eq!(problems[1].1, "$.a");
        assert!(problems[1].2.contains("duplicate key \"a\""));
    }

    #[test]
    fn syntax_errors_have_positions_and_paths() {
        for (text, line, column) in [
            ("{\"a\": [1, 2,]}", 1, 13),
            ("{\"a\": tru}", 1, 10),
            ("{\"a\" 1}", 1, 6),
            ("[01]", 1, 3),
            ("{\"a\": \"x\ny\"}", 1, 9),
            ("{} x", 1, 4),
            ("", 1, 1),
            ("{\"a\": 1e999}", 1, 7),
        ] {
            let (root, problems) = read(text);
            assert!(root.is_none(), "{text}");
            assert_eq!(problems.len(), 1, "{text}: {problems:?}");
            assert_eq!(
                problems[0].0,
                Pos::new(line, column),
                "{text}: {problems:?}"
            );
        }
        let (_, problems) = read("{\"States\": {\"A\": [1, }}");
        assert_eq!(problems[0].1, "$.States.A[1]");
    }

    #[test]
    fn refuses_deep_nesting() {
        let (root, problems) = read(&"[".repeat(1000));
        assert!(root.is_none());
        assert!(problems[0].2.contains("nested more than"));
    }
}
