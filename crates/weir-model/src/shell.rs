//! Values in shell lines. A template that becomes a shell line (`command: "…"`) is rendered with
//! every substituted value left as a marker ([`marker`]); [`substitute`] then reads the line as
//! `sh` will and puts each value back quoted for where it landed:
//!
//! - in a bare word, shell-quoted (`'it'\''s'`), a list as one word per item;
//! - inside `"…"`, with `\`, `$`, `` ` `` and `"` escaped;
//! - inside `'…'`, with its own quotes closed and reopened (`'\''`);
//! - inside `$((…))`, only an integer.
//!
//! The literal text of the template is never changed. Where a value's quoting cannot be known
//! for certain (inside backquotes, `${…}`, `$'…'` or a comment, right after `$` or `\`, in or
//! after a here-document, after `case` inside `$(…)`), the line is refused rather than guessed:
//! a wrong guess is a command injection.

use crate::marker::{END, START};

/// The marker that stands for a substituted value while the template renders: the value's words
/// (one, or a list's items) and whether it was a list.
pub(crate) fn marker(words: &[String], list: bool) -> String {
    crate::marker::encode(&serde_json::json!({ "words": words, "list": list }))
}

/// Refuses a template whose own text contains the marker characters.
pub(crate) fn check_literal(text: &str) -> Result<(), String> {
    crate::marker::check_literal(text, "the shell line")
}

/// One substituted value: its words, and whether it was a list.
struct Value {
    words: Vec<String>,
    list: bool,
}

fn decode(hex: &str) -> Option<Value> {
    let json = crate::marker::decode(hex)?;
    let words = json["words"]
        .as_array()?
        .iter()
        .map(|w| w.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    Some(Value {
        words,
        list: json["list"].as_bool()?,
    })
}

/// Shell-quotes one word for `sh`: as it is when it has nothing special, in single quotes
/// otherwise; `''` for the empty string.
pub fn quote(word: &str) -> Result<String, String> {
    shlex::try_quote(word)
        .map(|quoted| quoted.into_owned())
        .map_err(|_| "a value holds a NUL byte, which no shell argument can carry".to_string())
}

/// Escapes a value for the inside of `"…"`: only `\`, `$`, `` ` `` and `"` are special there.
fn in_double_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '$' | '`' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where a value lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Bare,
    Double,
    Single,
    Arithmetic,
}

/// The value quoted for `place`.
fn quoted(value: &Value, place: Place) -> Result<String, String> {
    if value.words.iter().any(|w| w.contains('\0')) {
        return Err("a value holds a NUL byte, which no shell argument can carry".into());
    }
    let joined = || value.words.join(" ");
    Ok(match place {
        Place::Bare if value.list => value
            .words
            .iter()
            .map(|w| quote(w))
            .collect::<Result<Vec<_>, _>>()?
            .join(" "),
        Place::Bare => quote(&joined())?,
        Place::Double => in_double_quotes(&joined()),
        Place::Single => joined().replace('\'', r"'\''"),
        Place::Arithmetic => {
            let text = joined();
            let digits = text.strip_prefix('-').unwrap_or(&text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refusal("inside `$((…))`, where only an integer can go"));
            }
            text
        }
    })
}

fn refusal(where_: &str) -> String {
    format!(
        "a substituted value lands {where_}, where weir cannot quote it safely; pass it in `env` \
         and use \"$NAME\", or write `| safe` if it is trusted shell text"
    )
}

/// A nesting level of the line: its top or a `$(…)` (words), or a `"…"`.
#[derive(Debug)]
enum Frame {
    Words {
        /// Inside `$(…)`: the parentheses opened since, closed by `)`.
        substitution: Option<u32>,
    },
    Double,
}

/// Reads a rendered shell line as `sh` does and replaces every marker by its value, quoted for
/// where it is.
pub(crate) fn substitute(line: &str) -> Result<String, String> {
    Lexer {
        chars: line.chars().collect(),
        at: 0,
        out: String::with_capacity(line.len()),
        stack: vec![Frame::Words { substitution: None }],
        word_start: true,
        heredoc: false,
        unsure: None,
    }
    .run()
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
    out: String,
    stack: Vec<Frame>,
    /// The next character starts a word (where `#` opens a comment, `case` is a keyword).
    word_start: bool,
    /// A `<<` was read on the current line: its here-document starts at the next newline.
    heredoc: bool,
    /// Why the rest of the line cannot be read for certain, once it cannot.
    unsure: Option<&'static str>,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn copy(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(c) = self.peek(0) {
                self.out.push(c);
                self.at += 1;
            }
        }
    }

    /// At a marker: reads it and writes its value quoted for `place`.
    fn value(&mut self, place: Place) -> Result<(), String> {
        let end = self.chars[self.at..]
            .iter()
            .position(|&c| c == END)
            .map(|n| self.at + n)
            .ok_or("a substituted value's marker is cut (was the output of a filter sliced?)")?;
        let hex: String = self.chars[self.at + 1..end].iter().collect();
        let value = decode(&hex).ok_or("a substituted value's marker is damaged")?;
        if let Some(why) = self.unsure {
            return Err(refusal(why));
        }
        self.out.push_str(&quoted(&value, place)?);
        self.at = end + 1;
        Ok(())
    }

    /// Refuses a marker at the current position, if there is one.
    fn no_value_here(&self, where_: &str) -> Result<(), String> {
        match self.peek(0) {
            Some(START) => Err(refusal(where_)),
            _ => Ok(()),
        }
    }

    fn run(mut self) -> Result<String, String> {
        while let Some(c) = self.peek(0) {
            let in_double = matches!(self.stack.last(), Some(Frame::Double));
            let starts_word = std::mem::replace(&mut self.word_start, false);
            match c {
                START => self.value(if in_double {
                    Place::Double
                } else {
                    Place::Bare
                })?,
                '\\' => {
                    self.copy(1);
                    self.no_value_here("right after a backslash")?;
                    self.copy(1);
                }
                '"' if in_double => {
                    self.stack.pop();
                    self.copy(1);
                }
                '"' => {
                    self.stack.push(Frame::Double);
                    self.copy(1);
                }
                '`' => self.region('`', "inside backquotes (use `$(…)`)")?,
                '$' => self.dollar()?,
                _ if in_double => self.copy(1),
                '\'' => self.single_quoted()?,
                '#' if starts_word => self.comment()?,
                // bash's arithmetic command (two subshells in dash).
                '(' if starts_word && self.peek(1) == Some('(') => self.arithmetic(2, ')')?,
                '<' if self.peek(1) == Some('<') => {
                    self.heredoc = true;
                    self.copy(2);
                }
                '\n' => {
                    if std::mem::take(&mut self.heredoc) {
                        self.unsure.get_or_insert("in or after a here-document");
                    }
                    self.word_start = true;
                    self.copy(1);
                }
                '(' => {
                    if let Some(Frame::Words {
                        substitution: Some(depth),
                    }) = self.stack.last_mut()
                    {
                        *depth += 1;
                    }
                    self.word_start = true;
                    self.copy(1);
                }
                ')' => {
                    match self.stack.last_mut() {
                        Some(Frame::Words {
                            substitution: Some(0),
                        }) => {
                            self.stack.pop();
                        }
                        Some(Frame::Words {
                            substitution: Some(depth),
                        }) => *depth -= 1,
                        _ => {}
                    }
                    self.word_start = true;
                    self.copy(1);
                }
                c if c.is_whitespace() || matches!(c, ';' | '&' | '|' | '<' | '>') => {
                    self.word_start = true;
                    self.copy(1);
                }
                'c' if starts_word
                    && self.inside_substitution()
                    && self.chars[self.at..].starts_with(&['c', 'a', 's', 'e'])
                    && self.peek(4).is_none_or(char::is_whitespace) =>
                {
                    // `case x in a) …`: its patterns' `)` would end the `$(…)` as read here.
                    self.unsure.get_or_insert(
                        "after `case` inside `$(…)`, whose `)` cannot be told apart",
                    );
                    self.copy(4);
                }
                _ => self.copy(1),
            }
        }
        Ok(self.out)
    }

    fn inside_substitution(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Words {
                substitution: Some(_)
            })
        )
    }

    /// `$(`, `$((`, `${`, `$'` or a plain `$`.
    fn dollar(&mut self) -> Result<(), String> {
        match (self.peek(1), self.peek(2)) {
            (Some('('), Some('(')) => self.arithmetic(3, ')'),
            (Some('['), _) => self.arithmetic(2, ']'),
            (Some('('), _) => {
                self.copy(2);
                self.stack.push(Frame::Words {
                    substitution: Some(0),
                });
                self.word_start = true;
                Ok(())
            }
            (Some('{'), _) => self.region('}', "inside `${…}`"),
            (Some('\''), _) if !matches!(self.stack.last(), Some(Frame::Double)) => {
                self.copy(1);
                self.region('\'', "inside `$'…'`")
            }
            _ => {
                self.copy(1);
                self.no_value_here("right after `$`")
            }
        }
    }

    /// `'…'`: nothing is special inside but the closing quote.
    fn single_quoted(&mut self) -> Result<(), String> {
        self.copy(1);
        while let Some(c) = self.peek(0) {
            match c {
                '\'' => {
                    self.copy(1);
                    return Ok(());
                }
                START => self.value(Place::Single)?,
                _ => self.copy(1),
            }
        }
        Ok(())
    }

    /// From `#` to the end of the line.
    fn comment(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            if c == '\n' {
                return Ok(());
            }
            self.no_value_here("in a comment")?;
            self.copy(1);
        }
        Ok(())
    }

    /// Copies from the current character (the opening: `` ` ``, `$'` or `${`) to the `close`
    /// that ends it, refusing any value inside. A quote inside a `${…}` makes where it ends
    /// uncertain (shells differ), so what follows is refused too.
    fn region(&mut self, close: char, where_: &'static str) -> Result<(), String> {
        let braces = close == '}';
        self.copy(if braces { 2 } else { 1 });
        let mut depth = 0u32;
        while let Some(c) = self.peek(0) {
            self.no_value_here(where_)?;
            match c {
                '\\' => {
                    self.copy(1);
                    self.no_value_here(where_)?;
                    self.copy(1);
                }
                '$' if braces && self.peek(1) == Some('{') => {
                    depth += 1;
                    self.copy(2);
                }
                c if c == close && depth > 0 => {
                    depth -= 1;
                    self.copy(1);
                }
                c if c == close => {
                    self.copy(1);
                    return Ok(());
                }
                '\'' | '"' | '`' if braces => {
                    self.unsure.get_or_insert("after a `${…}` holding quotes");
                    self.copy(1);
                }
                _ => self.copy(1),
            }
        }
        Ok(())
    }

    /// `$((…))`, `((…))` or `$[…]` (from `open` characters on, to `close`): integers only;
    /// quotes or nested expansions inside make the rest uncertain.
    fn arithmetic(&mut self, open: usize, close: char) -> Result<(), String> {
        let nested = if close == ']' { '[' } else { '(' };
        self.copy(open);
        let mut depth = 0u32;
        while let Some(c) = self.peek(0) {
            match c {
                START => self.value(Place::Arithmetic)?,
                c if c == nested => {
                    depth += 1;
                    self.copy(1);
                }
                c if c == close && depth == 0 => {
                    let double = close == ')' && self.peek(1) == Some(')');
                    self.copy(if double { 2 } else { 1 });
                    return Ok(());
                }
                c if c == close => {
                    depth -= 1;
                    self.copy(1);
                }
                '$' => {
                    self.copy(1);
                    self.no_value_here("right after `$`")?;
                    if matches!(self.peek(0), Some('(' | '{' | '[')) {
                        self.unsure
                            .get_or_insert("after arithmetic holding an expansion");
                    }
                }
                '\'' | '"' | '`' | '\\' => {
                    self.unsure.get_or_insert("after arithmetic holding quotes");
                    self.copy(1);
                }
                _ => self.copy(1),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn line(parts: &[(&str, Option<&[&str]>)]) -> String {
        parts
            .iter()
            .map(|(text, value)| match value {
                None => text.to_string(),
                Some(words) => {
                    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
                    marker(&words, words.len() != 1)
                }
            })
            .collect()
    }

    fn with(before: &str, value: &str, after: &str) -> Result<String, String> {
        substitute(&line(&[
            (before, None),
            ("", Some(&[value])),
            (after, None),
        ]))
    }

    /// The words `sh` splits a shell line into, each printed in brackets.
    pub(crate) fn sh_words(line: &str) -> String {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '[%s]' {line}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    const NASTY: &[&str] = &[
        "plain",
        "two words",
        "it's",
        r#"oops"; exit 3; echo ""#,
        "$(touch /tmp/weir-pwned)",
        "`touch /tmp/weir-pwned`",
        "${HOME}",
        "back\\slash\\",
        "line\nbreak; exit 4",
        "",
        "*",
        "a'b\"c$d`e\\f",
        "--flag=x y",
    ];

    #[test]
    fn a_bare_value_is_one_word_whatever_it_holds() {
        for value in NASTY {
            let rendered = with("", value, "").unwrap();
            assert_eq!(sh_words(&rendered), format!("[{value}]"), "{rendered}");
        }
        assert_eq!(with("echo ", "plain", "").unwrap(), "echo plain");
        assert_eq!(with("echo ", "", "").unwrap(), "echo ''");
        assert_eq!(with("x=", "a b", "").unwrap(), "x='a b'");
    }

    #[test]
    fn a_value_in_quotes_stays_inside_them() {
        for quote in ["\"", "'"] {
            for value in NASTY {
                let rendered = with(&format!("{quote}<"), value, &format!(">{quote}")).unwrap();
                assert_eq!(sh_words(&rendered), format!("[<{value}>]"), "{rendered}");
            }
        }
        // In "…" only \ $ ` " are escaped; in '…' its quotes are closed and reopened.
        assert_eq!(with("\"", "it's $x", "\"").unwrap(), "\"it's \\$x\"");
        assert_eq!(with("'", "it's", "'").unwrap(), r"'it'\''s'");
    }

    #[test]
    fn command_substitutions_nest_their_own_quoting() {
        for value in NASTY {
            let rendered = with("\"$(printf %s \"", value, "\")\"").unwrap();
            assert_eq!(sh_words(&rendered), format!("[{value}]"), "{rendered}");
            let rendered = with("$(printf %s ", value, ")x").unwrap();
            // Unquoted $(…) splits its output into words: the value reached printf as one.
            let _ = sh_words(&rendered);
            let rendered = with("\"$( (printf %s ", value, ") )\"").unwrap();
            assert_eq!(sh_words(&rendered), format!("[{value}]"), "{rendered}");
        }
    }

    #[test]
    fn a_list_is_one_word_per_item_in_bare_words_and_spaced_in_quotes() {
        let files = ["a b".to_string(), "c'd".to_string(), "$(x)".to_string()];
        let bare = substitute(&marker(&files, true)).unwrap();
        assert_eq!(sh_words(&bare), "[a b][c'd][$(x)]");
        let quoted = substitute(&format!("\"{}\"", marker(&files, true))).unwrap();
        assert_eq!(sh_words(&quoted), "[a b c'd $(x)]");
        assert_eq!(
            substitute(&format!("x{}y", marker(&[], true))).unwrap(),
            "xy"
        );
    }

    #[test]
    fn arithmetic_takes_integers_only() {
        assert_eq!(with("$((", "-12", " + 1))").unwrap(), "$((-12 + 1))");
        assert_eq!(with("((n = ", "3", "))").unwrap(), "((n = 3))");
        for (before, after) in [("$((", "))"), ("((n = ", "))"), ("$[", "]")] {
            let err = with(before, "a[$(touch x)]", after).unwrap_err();
            assert!(err.contains("only an integer"), "{err}");
        }
        let err = with("$(( $(echo 1) + ", "1", "))").unwrap_err();
        assert!(err.contains("expansion"), "{err}");
        assert_eq!(with("$(( $n + ", "1", "))").unwrap(), "$(( $n + 1))");
    }

    #[test]
    fn uncertain_places_are_refused() {
        for (before, after, why) in [
            ("echo `", "`", "backquotes"),
            ("echo ${x:-", "}", "${…}"),
            ("echo $'", "'", "$'…'"),
            ("echo $", "", "right after `$`"),
            ("\"$", "\"", "right after `$`"),
            ("echo \\", "", "backslash"),
            ("\"\\", "\"", "backslash"),
            ("true # ", "", "comment"),
            ("cat <<EOF\n", "\nEOF", "here-document"),
            ("cat <<EOF\nx\nEOF\necho ", "", "here-document"),
            ("echo \"${x:-'}'}\" ", "", "${…}"),
            ("$(case a in a) echo ", ";; esac)", "case"),
        ] {
            let err = with(before, "v", after).unwrap_err();
            assert!(err.contains(why), "{before}…{after}: {err}");
            assert!(!err.contains('v') || err.contains("value"), "{err}");
        }
        // Not a comment: `#` inside a word; `case` outside `$(…)` changes nothing.
        assert_eq!(with("a#", "b c", "").unwrap(), "a#'b c'");
        assert_eq!(
            with("case x in x) echo ", "a b", ";; esac").unwrap(),
            "case x in x) echo 'a b';; esac"
        );
        assert_eq!(with("echo $HOME ", "a b", "").unwrap(), "echo $HOME 'a b'");
    }

    #[test]
    fn nul_bytes_and_damaged_markers_are_errors() {
        assert!(with("", "a\0b", "").unwrap_err().contains("NUL"));
        assert!(substitute(&format!("{START}zz{END}")).is_err());
        assert!(substitute(&format!("{START}7b")).is_err());
        assert!(check_literal("echo \u{E000}").is_err());
    }
}
