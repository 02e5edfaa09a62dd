//! JSONPath as Step Functions reads it (Jayway's dialect, which is what AWS runs): `$`, `$.a.b`,
//! `$['a']`, `$.a[0]`, `$.a[-1]`, `$.a[*]`, `$..a`, slices `[1:3]`, unions `[0,2]`, filters
//! `[?(@.x > 1)]` and the `[(@.length-1)]` script form; plus the two roots the States Language
//! adds: the context object `$$` and workflow variables `$name`.
//!
//! Written here rather than taken from an RFC 9535 crate because real definitions use Jayway's
//! looser forms (unquoted words in filters, script indexes, `-` in member names), which RFC 9535
//! parsers reject, and because the interpreter needs Jayway's definite/indefinite distinction:
//! a definite path yields one value or "not found", an indefinite one yields an array.

mod eval;
mod filter;
mod write;

use std::fmt;

pub use eval::{Lookup, Variables};
pub(crate) use filter::Filter;
pub use write::WriteError;
pub(crate) use write::unable;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the state's (effective) input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable (set by `Assign`).
    Variable(String),
}

#[derive(Debug, Clone)]
pub(crate) enum Step {
    Child(Selector),
    Descendant(Selector),
}

#[derive(Debug, Clone)]
pub(crate) enum Selector {
    Name(String),
    Names(Vec<String>),
    Wildcard,
    Index(i64),
    Indices(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Box<Filter>),
    /// `[(@.length - n)]`: an index counted from the array's length (Jayway's script form).
    Script(i64),
}

/// A parsed JSONPath. Compare and print by its text.
#[derive(Clone)]
pub struct Path {
    text: String,
    root: Root,
    steps: Vec<Step>,
}

/// Why a path could not be parsed: the byte offset in the path's text and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({})", self.text)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Path {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Path {
    /// Parses a whole path; anything left over is an error.
    pub fn parse(text: &str) -> Result<Path, SyntaxError> {
        let (path, used) = Path::parse_prefix(text)?;
        if used != text.len() {
            return Err(SyntaxError {
                offset: used,
                message: format!("unexpected `{}` in path", &text[used..]),
            });
        }
        Ok(path)
    }

    /// Parses the path that starts `text`, stopping before a character that cannot continue it
    /// (`,`, `)`, white space): intrinsic function arguments embed paths this way.
    pub(crate) fn parse_prefix(text: &str) -> Result<(Path, usize), SyntaxError> {
        let mut p = Parser { text, at: 0 };
        let root = p.root()?;
        let mut steps = Vec::new();
        while let Some(step) = p.step()? {
            steps.push(step);
        }
        let path = Path {
            text: text[..p.at].to_string(),
            root,
            steps,
        };
        Ok((path, p.at))
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// True when every step is a member name, an array index or a wildcard (`$.a.b[0].*`):
    /// the subset EventBridge's InputPath and InputPathsMap accept.
    pub fn is_simple(&self) -> bool {
        self.steps.iter().all(|s| {
            matches!(
                s,
                Step::Child(Selector::Name(_) | Selector::Index(_) | Selector::Wildcard)
            )
        })
    }

    /// True when the path names at most one value (only member names and indexes): a
    /// Reference Path in the spec's words.
    pub fn is_definite(&self) -> bool {
        self.steps.iter().all(|s| {
            matches!(
                s,
                Step::Child(Selector::Name(_) | Selector::Index(_) | Selector::Script(_))
            )
        })
    }

    /// True for a definite path rooted at the input (`$`, `$.a`, `$['a'][0]`): what ResultPath
    /// accepts, since the result is written there.
    pub fn is_reference(&self) -> bool {
        self.root == Root::Input
            && self
                .steps
                .iter()
                .all(|s| matches!(s, Step::Child(Selector::Name(_) | Selector::Index(_))))
    }
}

struct Parser<'t> {
    text: &'t str,
    at: usize,
}

/// Characters that end a member name written after a dot.
fn ends_name(c: char) -> bool {
    matches!(
        c,
        '.' | '[' | ']' | '(' | ')' | ',' | '\'' | '"' | '=' | '!' | '<' | '>' | '&' | '|'
    ) || c.is_whitespace()
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.at += s.len();
            true
        } else {
            false
        }
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            offset: self.at,
            message: message.into(),
        })
    }

    fn root(&mut self) -> Result<Root, SyntaxError> {
        if !self.eat("$") {
            return self.error("a path starts with `$`");
        }
        if self.eat("$") {
            return Ok(Root::Context);
        }
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.at += 1;
                }
                Ok(Root::Variable(self.text[start..self.at].to_string()))
            }
            _ => Ok(Root::Input),
        }
    }

    /// One step, or `None` where the path ends.
    fn step(&mut self) -> Result<Option<Step>, SyntaxError> {
        if self.eat("..") {
            let selector = match self.peek() {
                Some('[') => self.bracket()?,
                Some('*') => {
                    self.at += 1;
                    Selector::Wildcard
                }
                _ => Selector::Name(self.dot_name()?),
            };
            return Ok(Some(Step::Descendant(selector)));
        }
        if self.eat(".") {
            if self.eat("*") {
                return Ok(Some(Step::Child(Selector::Wildcard)));
            }
            // Jayway reads `$.['a b']` as `$['a b']`: a dot before a bracket is skipped.
            if self.peek() == Some('[') {
                return Ok(Some(Step::Child(self.bracket()?)));
            }
            return Ok(Some(Step::Child(Selector::Name(self.dot_name()?))));
        }
        if self.peek() == Some('[') {
            return Ok(Some(Step::Child(self.bracket()?)));
        }
        Ok(None)
    }

    fn dot_name(&mut self) -> Result<String, SyntaxError> {
        let start = self.at;
        while self.peek().is_some_and(|c| !ends_name(c) && c != '*') {
            self.at += self.peek().map_or(1, char::len_utf8);
        }
        if self.at == start {
            return self.error("expected a member name");
        }
        Ok(self.text[start..self.at].to_string())
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn bracket(&mut self) -> Result<Selector, SyntaxError> {
        self.at += 1; // `[`
        self.skip_ws();
        let selector = if self.eat("?(") {
            let (filter, used) = filter::parse(self.rest()).map_err(|e| SyntaxError {
                offset: self.at + e.offset,
                message: e.message,
            })?;
            self.at += used;
            if !self.eat(")") {
                return self.error("expected `)` to close the filter");
            }
            Selector::Filter(Box::new(filter))
        } else if self.eat("(") {
            self.script()?
        } else if self.eat("*") {
            Selector::Wildcard
        } else if matches!(self.peek(), Some('\'' | '"')) {
            let mut names = vec![self.quoted()?];
            while self.list_next() {
                names.push(self.quoted()?);
            }
            if names.len() == 1 {
                Selector::Name(names.remove(0))
            } else {
                Selector::Names(names)
            }
        } else {
            self.numeric()?
        };
        self.skip_ws();
        if !self.eat("]") {
            return self.error("expected `]`");
        }
        Ok(selector)
    }

    /// Moves past a `,` between union members, if there is one.
    fn list_next(&mut self) -> bool {
        self.skip_ws();
        let more = self.eat(",");
        self.skip_ws();
        more
    }

    fn quoted(&mut self) -> Result<String, SyntaxError> {
        let (value, used) = filter::quoted(self.rest()).map_err(|e| SyntaxError {
            offset: self.at + e.offset,
            message: e.message,
        })?;
        self.at += used;
        Ok(value)
    }

    fn int(&mut self) -> Result<Option<i64>, SyntaxError> {
        let start = self.at;
        self.eat("-");
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.text[start..self.at];
        if digits.is_empty() {
            return Ok(None);
        }
        match digits.parse::<i64>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => {
                self.at = start;
                self.error("expected an integer")
            }
        }
    }

    /// `[0]`, `[-1]`, `[0,2]`, `[1:]`, `[:2]`, `[::2]`.
    fn numeric(&mut self) -> Result<Selector, SyntaxError> {
        let first = self.int()?;
        self.skip_ws();
        if self.eat(":") {
            self.skip_ws();
            let end = self.int()?;
            self.skip_ws();
            let step = if self.eat(":") {
                self.skip_ws();
                self.int()?
            } else {
                None
            };
            if step == Some(0) {
                return self.error("a slice's step cannot be 0");
            }
            return Ok(Selector::Slice(first, end, step));
        }
        let Some(first) = first else {
            return self.error("expected an index, a slice, `*`, a quoted name or a filter");
        };
        let mut indices = vec![first];
        while self.list_next() {
            match self.int()? {
                Some(i) => indices.push(i),
                None => return self.error("expected an index"),
            }
        }
        Ok(if indices.len() == 1 {
            Selector::Index(first)
        } else {
            Selector::Indices(indices)
        })
    }

    /// `(@.length)`, `(@.length-1)`, `(@.length - 2)`: an index from the end.
    fn script(&mut self) -> Result<Selector, SyntaxError> {
        self.skip_ws();
        if !self.eat("@.length") {
            return self.error("only `(@.length - n)` scripts are supported in brackets");
        }
        self.skip_ws();
        let offset = if self.eat("-") {
            self.skip_ws();
            match self.int()? {
                Some(n) if n >= 0 => -n,
                _ => return self.error("expected a number after `-`"),
            }
        } else if self.eat("+") {
            self.skip_ws();
            match self.int()? {
                Some(n) if n >= 0 => n,
                _ => return self.error("expected a number after `+`"),
            }
        } else {
            0
        };
        self.skip_ws();
        if !self.eat(")") {
            return self.error("expected `)`");
        }
        Ok(Selector::Script(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_definitions_use() {
        for text in [
            "$",
            "$$",
            "$.a.b",
            "$['a']['b c']",
            "$[\"a\"]",
            "$.a[0]",
            "$.books[-2]",
            "$.a[*].b",
            "$.a.*",
            "$..a",
            "$..*",
            "$..[0]",
            "$.vals[3:]",
            "$.vals[:2]",
            "$.vals[1:5:2]",
            "$.a[0,2]",
            "$['a','b']",
            "$.input-foo-bar",
            "$[(@.length-1)].bar",
            "$.a[?(@.x > 1)]",
            "$.DescribeRecord.RecordOutputs[?(@.OutputKey == FooBar)].OutputValue",
            "$.a[?(@.x == 'y' && @.z)]",
            "$$.Execution.Id",
            "$$.Map.Item.Value",
            "$myVar",
            "$my_var.a[0]",
        ] {
            let path = Path::parse(text);
            assert!(path.is_ok(), "{text}: {path:?}");
        }
    }

    #[test]
    fn rejects_what_validators_reject() {
        for text in [
            "",
            ".guid",
            "..guid",
            "()",
            "$...",
            "bug$.library.movies",
            "$$23",
            "23",
            "$.",
            "$[",
            "$[]",
            "$['a'",
            "$.a[?(@.x >)]",
            "$[1:2:0]",
            "$23",
            "$ .a",
            "$.a]",
        ] {
            assert!(Path::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn knows_definite_and_reference_paths() {
        let p = |t: &str| Path::parse(t).unwrap();
        assert!(p("$.a[0].b").is_definite());
        assert!(p("$.a[0].b").is_reference());
        assert!(p("$$.Execution.Id").is_definite());
        assert!(!p("$$.Execution.Id").is_reference());
        assert!(!p("$v.a").is_reference());
        assert!(!p("$.a[*]").is_definite());
        assert!(!p("$..a").is_definite());
        assert_eq!(p("$v.a").root(), &Root::Variable("v".into()));
    }

    #[test]
    fn prefixes_stop_where_arguments_do() {
        let (path, used) = Path::parse_prefix("$.a.b, 'x')").unwrap();
        assert_eq!(path.text(), "$.a.b");
        assert_eq!(used, 5);
        let (path, _) = Path::parse_prefix("$.a[?(@.b == 'c, d')])").unwrap();
        assert_eq!(path.text(), "$.a[?(@.b == 'c, d')]");
    }
}
