//! Intrinsic functions (`States.Format('{} {}', $.a, $$.Execution.Id)`, …): the parser, with the
//! checks that can be made before running (name, argument count, literal argument types, nesting
//! of at most 10 calls), and, in [`eval`], the functions themselves.
//!
//! Grammar: `States.Name(arg, …)` where an argument is a `'…'` string (`\'`, `\{`, `\}`, `\\`
//! escape), a number, `true`, `false`, `null`, a path, or another call. Nothing may precede or
//! follow the call, not even white space (statelint rejects `" States.Array(…)"`).

mod eval;

pub(crate) use eval::{hash as hash_hex, lookup_error};

use std::fmt;

use serde_json::Number;

use super::path::{Path, SyntaxError};

/// Calls nested deeper than this are refused (Step Functions' own limit).
pub const MAX_NESTING: usize = 10;

/// A parsed intrinsic function call.
#[derive(Clone)]
pub struct Intrinsic {
    text: String,
    call: Call,
}

impl fmt::Debug for Intrinsic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Intrinsic({})", self.text)
    }
}

impl PartialEq for Intrinsic {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

#[derive(Debug, Clone)]
struct Call {
    func: Func,
    args: Vec<Arg>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// A string literal: its value, and its pieces with unescaped `{}` placeholders marked
    /// (only States.Format reads those).
    Str(String, Vec<Piece>),
    Number(Number),
    Bool(bool),
    Null,
    Path(Path),
    Call(Call),
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Hole,
}

/// What a parameter accepts, for the checks made at parse time on literal arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Any,
    Str,
    Number,
    Int,
    Bool,
    /// Arrays and objects have no literal form: only a path or a call can supply one.
    Computed,
}

macro_rules! functions {
    ($($variant:ident = $name:literal, min $min:literal, params $params:expr, rest $rest:expr;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Func { $($variant),* }

        impl Func {
            fn from_name(name: &str) -> Option<Func> {
                match name { $($name => Some(Func::$variant),)* _ => None }
            }
            fn name(self) -> &'static str {
                match self { $(Func::$variant => $name),* }
            }
            /// Minimum argument count, parameter kinds, and the kind of any further arguments
            /// (`None`: no more allowed).
            fn signature(self) -> (usize, &'static [Kind], Option<Kind>) {
                match self { $(Func::$variant => ($min, $params, $rest)),* }
            }
        }
    };
}

use Kind::{Any, Bool, Computed, Int, Number as Num, Str};

functions! {
    Format = "States.Format", min 1, params &[Str], rest Some(Any);
    StringToJson = "States.StringToJson", min 1, params &[Str], rest None;
    JsonToString = "States.JsonToString", min 1, params &[Any], rest None;
    Array = "States.Array", min 0, params &[], rest Some(Any);
    ArrayPartition = "States.ArrayPartition", min 2, params &[Computed, Int], rest None;
    ArrayContains = "States.ArrayContains", min 2, params &[Computed, Any], rest None;
    ArrayRange = "States.ArrayRange", min 3, params &[Int, Int, Int], rest None;
    ArrayGetItem = "States.ArrayGetItem", min 2, params &[Computed, Int], rest None;
    ArrayLength = "States.ArrayLength", min 1, params &[Computed], rest None;
    ArrayUnique = "States.ArrayUnique", min 1, params &[Computed], rest None;
    Base64Encode = "States.Base64Encode", min 1, params &[Str], rest None;
    Base64Decode = "States.Base64Decode", min 1, params &[Str], rest None;
    Hash = "States.Hash", min 2, params &[Any, Str], rest None;
    JsonMerge = "States.JsonMerge", min 3, params &[Computed, Computed, Bool], rest None;
    MathRandom = "States.MathRandom", min 2, params &[Int, Int, Int], rest None;
    MathAdd = "States.MathAdd", min 2, params &[Num, Num], rest None;
    StringSplit = "States.StringSplit", min 2, params &[Str, Str], rest None;
    Uuid = "States.UUID", min 0, params &[], rest None;
}

/// The hash algorithms States.Hash (and JSONata's `$hash`) accept.
pub const HASH_ALGORITHMS: &[&str] = &["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

impl Intrinsic {
    /// Parses a whole intrinsic function call.
    pub fn parse(text: &str) -> Result<Intrinsic, SyntaxError> {
        if text.starts_with(char::is_whitespace) {
            return Err(SyntaxError {
                offset: 0,
                message: "white space before the function name".into(),
            });
        }
        let mut p = Parser { text, at: 0 };
        let call = p.call(1)?;
        if p.at != text.len() {
            return p.error("unexpected text after the function call");
        }
        Ok(Intrinsic {
            text: text.to_string(),
            call,
        })
    }

    /// Whether `text` is meant as an intrinsic call rather than a path (`States.` prefix).
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

struct Parser<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            offset: self.at,
            message: message.into(),
        })
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.text.len() - trimmed.len();
    }

    fn call(&mut self, depth: usize) -> Result<Call, SyntaxError> {
        if depth > MAX_NESTING {
            return self.error(format!(
                "intrinsic functions can be nested at most {MAX_NESTING} deep"
            ));
        }
        let start = self.at;
        let name_len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(self.rest().len());
        let name = &self.rest()[..name_len];
        let Some(func) = Func::from_name(name) else {
            return self.error(format!("`{name}` is not an intrinsic function"));
        };
        self.at += name_len;
        if !self.rest().starts_with('(') {
            return self.error("expected `(` after the function name");
        }
        self.at += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.rest().starts_with(')') {
            self.at += 1;
        } else {
            loop {
                args.push(self.arg(depth)?);
                self.skip_ws();
                if self.rest().starts_with(')') {
                    self.at += 1;
                    break;
                }
                if !self.rest().starts_with(',') {
                    return self.error("expected `,` or `)`");
                }
                self.at += 1;
            }
        }
        let call = Call { func, args };
        check(&call).map_err(|message| SyntaxError {
            offset: start,
            message,
        })?;
        Ok(call)
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, SyntaxError> {
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with('\'') {
            return self.string();
        }
        if rest.starts_with('$') {
            let (path, used) = Path::parse_prefix(rest).map_err(|e| SyntaxError {
                offset: self.at + e.offset,
                message: e.message,
            })?;
            self.at += used;
            return Ok(Arg::Path(path));
        }
        if rest.starts_with("States.") {
            return Ok(Arg::Call(self.call(depth + 1)?));
        }
        for (word, arg) in [
            ("true", Arg::Bool(true)),
            ("false", Arg::Bool(false)),
            ("null", Arg::Null),
        ] {
            if rest.starts_with(word) {
                self.at += word.len();
                return Ok(arg);
            }
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(rest.len());
        if len > 0
            && let Ok(n) = serde_json::from_str::<Number>(&rest[..len])
        {
            self.at += len;
            return Ok(Arg::Number(n));
        }
        self.error("expected a string, number, boolean, null, path or intrinsic function")
    }

    fn string(&mut self) -> Result<Arg, SyntaxError> {
        let start = self.at;
        self.at += 1;
        let mut value = String::new();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = self.rest().char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.at += i + 1;
                    if !text.is_empty() {
                        pieces.push(Piece::Text(text));
                    }
                    return Ok(Arg::Str(value, pieces));
                }
                '\\' => {
                    let Some((_, escaped)) = chars.next() else {
                        break;
                    };
                    value.push(escaped);
                    text.push(escaped);
                }
                '{' if chars.peek().is_some_and(|(_, c)| *c == '}') => {
                    chars.next();
                    value.push_str("{}");
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Hole);
                }
                c => {
                    value.push(c);
                    text.push(c);
                }
            }
        }
        self.at = start;
        self.error("unterminated string")
    }
}

/// The checks a call's literal arguments allow before running. (States.Format's placeholder
/// count is checked when it runs: the developer guide's own nine-call example has three
/// placeholders for two arguments, so definitions that AWS accepts may have such a mismatch.)
fn check(call: &Call) -> Result<(), String> {
    let name = call.func.name();
    let (min, params, rest) = call.func.signature();
    let max = if rest.is_some() {
        usize::MAX
    } else {
        params.len()
    };
    if call.args.len() < min || call.args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(format!(
            "{name} takes {expected} argument{}, not {}",
            if expected == "1" { "" } else { "s" },
            call.args.len()
        ));
    }
    for (i, arg) in call.args.iter().enumerate() {
        let kind = params.get(i).copied().or(rest).unwrap_or(Kind::Any);
        let ok = match (kind, arg) {
            (_, Arg::Path(_) | Arg::Call(_)) | (Kind::Any, _) => true,
            (Kind::Str, Arg::Str(..)) | (Kind::Bool, Arg::Bool(_)) => true,
            (Kind::Number, Arg::Number(_)) => true,
            (Kind::Int, Arg::Number(n)) => n.is_i64() || n.is_u64(),
            _ => false,
        };
        if !ok {
            let wanted = match kind {
                Kind::Str => "a string",
                Kind::Number => "a number",
                Kind::Int => "an integer",
                Kind::Bool => "a boolean",
                Kind::Computed => "a path or function (an array or object)",
                Kind::Any => "a value",
            };
            return Err(format!("argument {} of {name} must be {wanted}", i + 1));
        }
    }
    match (call.func, call.args.as_slice()) {
        (Func::Hash, [_, Arg::Str(algorithm, _)])
            if !HASH_ALGORITHMS.contains(&algorithm.as_str()) =>
        {
            return Err(format!(
                "States.Hash's algorithm must be one of {}",
                HASH_ALGORITHMS.join(", ")
            ));
        }
        (Func::JsonMerge, [_, _, Arg::Bool(true)]) => {
            return Err(
                "States.JsonMerge supports only a shallow merge: the third argument must be false"
                    .into(),
            );
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_function() {
        for text in [
            "States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)",
            "States.StringToJson($.someString)",
            "States.JsonToString($.someJson)",
            "States.Array('Foo', 2020, $.someJson, null)",
            "States.Array()",
            "States.ArrayPartition($.inputArray,4)",
            "States.ArrayContains($.inputArray, $.lookingFor)",
            "States.ArrayRange(1, 9, 2)",
            "States.ArrayGetItem($.inputArray, $.index)",
            "States.ArrayLength($.inputArray)",
            "States.ArrayUnique($.inputArray)",
            "States.Base64Encode($.input)",
            "States.Base64Decode($.base64)",
            "States.Hash($.Data, $.Algorithm)",
            "States.Hash('x', 'SHA-256')",
            "States.JsonMerge($.json1, $.json2, false)",
            "States.MathRandom($.start, $.end)",
            "States.MathRandom(1, 10, 42)",
            "States.MathAdd($.value1, $.step)",
            "States.MathAdd(1, -1)",
            "States.StringSplit($.inputString, $.splitter)",
            "States.UUID()",
            "States.Format('{}{}', $.field1, $field2)",
            "States.Format('{}', $$.Execution.Id)",
            "States.ArrayGetItem($.a[?(@.k == FooBar)].v, 0)",
            "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
            "States.Format('literal \\{\\} braces {}', 1)",
        ] {
            let parsed = Intrinsic::parse(text);
            assert!(parsed.is_ok(), "{text}: {parsed:?}");
        }
    }

    #[test]
    fn rejects_bad_calls() {
        for text in [
            " States.Array('Foo', $.xyz, 'Bar', 2.3)",
            "States.Array('Foo') ",
            "States.Xyz($.result)",
            "States.MathAdd(1,'-1')",
            "States.ArrayLength('abc')",
            "States.ArrayRange(1, 9)",
            "States.ArrayRange(1.5, 9, 1)",
            "States.UUID(1)",
            "States.Hash('x', 'SHA-999')",
            "States.JsonMerge($.a, $.b, true)",
            "States.Format('unterminated)",
            "States.Array(",
            "States.Array($.a $.b)",
            "States.Array(foo)",
            "States.Array($$23)",
            "$.a",
        ] {
            assert!(Intrinsic::parse(text).is_err(), "{text}");
        }
        let deep = format!("{}$.a{}", "States.Array(".repeat(11), ")".repeat(11));
        assert!(Intrinsic::parse(&deep).is_err());
        let ok = format!("{}$.a{}", "States.Array(".repeat(10), ")".repeat(10));
        assert!(Intrinsic::parse(&ok).is_ok());
    }
}
