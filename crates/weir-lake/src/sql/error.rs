//! SQL errors that say what went wrong and where: `line L, column C: message`. Parse errors carry
//! the parser's position; planning errors carry DataFusion's diagnostic span when it has one, and
//! otherwise the first occurrence in the statement of the identifier the message names.

use std::fmt;

use datafusion::error::DataFusionError;

/// An error from a SQL statement, with its position in the statement text when known (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub kind: SqlErrorKind,
}

/// Why a statement failed, for callers that answer differently (an HTTP status, a test that
/// must see a panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqlErrorKind {
    /// The statement is wrong, or failed on the data it read.
    #[default]
    Statement,
    /// A bug: the engine panicked (the panic was caught, the server lives on).
    Panic,
    /// The statement needed more memory than the SQL memory limit allows.
    MemoryLimit,
    /// The statement ran longer than the SQL time limit.
    Timeout,
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "line {line}, column {column}: {}", self.message)
            }
            (Some(line), None) => write!(f, "line {line}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SqlError {}

impl SqlError {
    /// An error with no position (I/O, catalog, internal).
    pub fn new(message: impl Into<String>) -> Self {
        SqlError {
            message: message.into(),
            line: None,
            column: None,
            kind: SqlErrorKind::Statement,
        }
    }

    /// An error of `kind`, with no position.
    pub fn of_kind(kind: SqlErrorKind, message: impl Into<String>) -> Self {
        SqlError {
            kind,
            ..SqlError::new(message)
        }
    }

    /// Whether the engine panicked (a bug, never the user's fault).
    pub fn is_panic(&self) -> bool {
        self.kind == SqlErrorKind::Panic
    }

    /// An error about `ident`, placed at its first occurrence in `sql` when found.
    pub fn at_ident(message: impl Into<String>, sql: &str, ident: &str) -> Self {
        let mut err = SqlError::new(message);
        if let Some((line, column)) = find_ident(sql, ident) {
            err.line = Some(line);
            err.column = Some(column);
        }
        err
    }

    /// An error at a known position (from the parser's AST spans).
    pub fn at(message: impl Into<String>, line: u64, column: u64) -> Self {
        let mut err = SqlError::new(message);
        if line > 0 {
            err.line = u32::try_from(line).ok();
            err.column = u32::try_from(column).ok();
        }
        err
    }

    /// Maps a DataFusion error raised while parsing, planning or running `sql`.
    pub fn from_datafusion(err: &DataFusionError, sql: &str) -> Self {
        // Parser errors end with " at Line: L, Column: C".
        if let Some(parse) = parser_error(err) {
            return parse;
        }
        let root = err.find_root();
        let message = tidy(&root.message());
        match root {
            DataFusionError::ExecutionJoin(join) if join.is_panic() => {
                return SqlError::of_kind(
                    SqlErrorKind::Panic,
                    format!("internal error in the SQL engine: {message}"),
                );
            }
            DataFusionError::ResourcesExhausted(_) => {
                return SqlError::of_kind(SqlErrorKind::MemoryLimit, message);
            }
            _ => {}
        }
        if let Some(diag) = err.diagnostic()
            && let Some(span) = diag.span
            && span.start.line > 0
        {
            return SqlError::at(message, span.start.line, span.start.column);
        }
        for ident in named_identifiers(&message) {
            if let Some((line, column)) = find_ident(sql, &ident) {
                return SqlError {
                    line: Some(line),
                    column: Some(column),
                    ..SqlError::new(message)
                };
            }
        }
        SqlError::new(message)
    }
}

/// The parser's error with its position split off, if `err` is (or wraps) one.
fn parser_error(err: &DataFusionError) -> Option<SqlError> {
    let mut current = err;
    loop {
        match current {
            DataFusionError::SQL(parser, _) => return Some(split_position(&parser.to_string())),
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
                current = inner
            }
            _ => return None,
        }
    }
}

/// Splits sqlparser's " at Line: L, Column: C" suffix (or infix) from a message.
pub(crate) fn split_position(text: &str) -> SqlError {
    let text = text
        .trim_start_matches("sql parser error: ")
        .trim_start_matches("SQL error: ");
    let Some(at) = text.rfind(" at Line: ") else {
        return SqlError::new(text.to_string());
    };
    let rest = &text[at + " at Line: ".len()..];
    let mut parts = rest.splitn(2, ", Column: ");
    let line = parts.next().and_then(|l| l.trim().parse::<u32>().ok());
    let column = parts.next().and_then(|c| {
        let digits: String = c.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let message = text[..at].to_string();
    match (line, column) {
        (Some(line), Some(column)) if line > 0 => SqlError {
            line: Some(line),
            column: Some(column),
            ..SqlError::new(message)
        },
        _ => SqlError::new(text.to_string()),
    }
}

/// Removes DataFusion's category prefixes, which say nothing to a SQL user.
fn tidy(message: &str) -> String {
    let mut text = message.trim();
    for prefix in [
        "Error during planning: ",
        "Schema error: ",
        "Execution error: ",
        "This feature is not implemented: ",
        "Arrow error: ",
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest;
        }
    }
    text.to_string()
}

/// Identifiers a planning message names: text in quotes, and the word after "field named".
fn named_identifiers(message: &str) -> Vec<String> {
    let mut found = Vec::new();
    for quote in ['\'', '"', '`'] {
        let parts: Vec<&str> = message.split(quote).collect();
        for (i, inside) in parts.iter().enumerate() {
            // Odd parts are inside a pair of quotes (the last one only if it was closed).
            if i % 2 == 1 && i + 1 < parts.len() && !inside.is_empty() && inside.len() < 200 {
                found.push(inside.to_string());
            }
        }
    }
    if let Some(at) = message.find("field named ") {
        let rest = &message[at + "field named ".len()..];
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        let word = word.trim_end_matches('.').to_string();
        if !word.is_empty() {
            found.push(word);
        }
    }
    // Qualified names (`db.t`, `t.col`): also try the last part alone.
    let mut expanded = Vec::new();
    for name in found {
        let last = name.rsplit('.').next().map(str::to_string);
        expanded.push(name);
        if let Some(last) = last
            && !expanded.contains(&last)
        {
            expanded.push(last);
        }
    }
    expanded
}

/// The 1-based line and column (in characters) of the first whole-word, case-insensitive
/// occurrence of `ident` in `sql`, skipping string literals and comments.
pub(crate) fn find_ident(sql: &str, ident: &str) -> Option<(u32, u32)> {
    let needle: Vec<char> = ident.to_lowercase().chars().collect();
    if needle.is_empty() {
        return None;
    }
    let chars: Vec<char> = sql.chars().collect();
    let lower: Vec<char> = chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let (mut line, mut column) = (1u32, 1u32);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // Skip 'string literals' and -- comments: a name inside them is not the name.
        if c == '\'' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            for &skipped in &chars[i..(j + 1).min(chars.len())] {
                advance(skipped, &mut line, &mut column);
            }
            i = j + 1;
            continue;
        }
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                advance(chars[i], &mut line, &mut column);
                i += 1;
            }
            continue;
        }
        let start_ok = i == 0 || !word(chars[i - 1]);
        let quoted = c == '"' || c == '`';
        let at = if quoted { i + 1 } else { i };
        if (start_ok || quoted)
            && lower.get(at..at + needle.len()) == Some(&needle[..])
            && chars.get(at + needle.len()).is_none_or(|&n| !word(n))
        {
            return Some((line, column));
        }
        advance(c, &mut line, &mut column);
        i += 1;
    }
    None
}

fn advance(c: char, line: &mut u32, column: &mut u32) {
    if c == '\n' {
        *line = line.saturating_add(1);
        *column = 1;
    } else {
        *column = column.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_position() {
        let err = SqlError::at("boom", 2, 7);
        assert_eq!(err.to_string(), "line 2, column 7: boom");
        assert_eq!(SqlError::new("x").to_string(), "x");
    }

    #[test]
    fn splits_parser_position() {
        let err = split_position(
            "sql parser error: Expected: end of statement, found: x at Line: 3, Column: 14",
        );
        assert_eq!(err.line, Some(3));
        assert_eq!(err.column, Some(14));
        assert_eq!(err.message, "Expected: end of statement, found: x");
    }

    #[test]
    fn finds_identifiers_outside_strings() {
        let sql = "select 'amount' as a,\n  amount from t";
        assert_eq!(find_ident(sql, "amount"), Some((2, 3)));
        assert_eq!(find_ident(sql, "AMOUNT"), Some((2, 3)));
        assert_eq!(find_ident("select xamount from t", "amount"), None);
        assert_eq!(
            find_ident("select \"Amount\" from t", "amount"),
            Some((1, 8))
        );
        assert_eq!(
            find_ident("-- amount\nselect amount", "amount"),
            Some((2, 8))
        );
    }

    #[test]
    fn names_from_messages() {
        let names = named_identifiers("table 'weir.db.missing' not found");
        assert!(names.contains(&"missing".to_string()), "{names:?}");
        let names = named_identifiers("No field named amout. Valid fields are t.a.");
        assert_eq!(names.first().map(String::as_str), Some("amout"));
    }
}
