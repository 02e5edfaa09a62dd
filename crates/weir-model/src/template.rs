//! Templates in definitions: Jinja syntax (minijinja), as Airflow users write it: `{{ ds }}`,
//! `{{ params.region }}`, `{{ tasks.extract.output.files | length }}`. The parsers check a
//! template's syntax when a definition is loaded, so a typo fails `weir validate` rather than a
//! run. Undefined names are errors at render time, so a misspelt variable fails the task instead
//! of silently rendering an empty string.
//!
//! A template that becomes a shell line ([`render_shell_line`]) autoescapes, as HTML templates
//! do: every value it substitutes is quoted for the place it lands in the line (see
//! [`crate::shell`]), its literal text is left as written, and `| safe` inserts a value as raw
//! shell text.

use std::sync::OnceLock;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{AutoEscape, Environment, Error, Output, State, UndefinedBehavior};
use serde_json::Value;

/// The template name under which a shell line renders; its auto-escape mode has the same name.
const SHELL_LINE: &str = "shell";
/// The template name (and auto-escape mode) of SQL text: the `sql` action's statement.
const SQL_TEXT: &str = "sql";

/// A template problem: where in the template text (byte offset) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name == SHELL_LINE {
                AutoEscape::Custom(SHELL_LINE.into())
            } else if name == SQL_TEXT {
                AutoEscape::Custom(SQL_TEXT.into())
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(format_value);
        env.add_filter("tojson", tojson);
        env
    })
}

fn in_shell_line(state: &State) -> bool {
    matches!(state.auto_escape(), AutoEscape::Custom(name) if name == SHELL_LINE)
}

fn in_sql_text(state: &State) -> bool {
    matches!(state.auto_escape(), AutoEscape::Custom(name) if name == SQL_TEXT)
}

/// Prints a value. In a shell line, a value that is not marked safe is written as a marker that
/// [`crate::shell::substitute`] replaces by the value quoted for where it landed; a list keeps
/// its items apart (one word each).
fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &minijinja::Value,
) -> Result<(), Error> {
    if value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    if in_sql_text(state) {
        let json = serde_json::to_value(value).map_err(|e| {
            Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("a value substituted into SQL is not JSON: {e}"),
            )
        })?;
        return out
            .write_str(&crate::sql_text::marker(&json))
            .map_err(Error::from);
    }
    if !in_shell_line(state) {
        return minijinja::escape_formatter(out, state, value);
    }
    let (words, list) = match value.kind() {
        ValueKind::Seq => (
            value.try_iter()?.map(|item| item.to_string()).collect(),
            true,
        ),
        _ => (vec![value.to_string()], false),
    };
    out.write_str(&crate::shell::marker(&words, list))
        .map_err(Error::from)
}

/// minijinja's `tojson`, whose JSON is marked safe (for HTML). In a shell line it is not: JSON
/// text is quoted like any other value.
fn tojson(
    state: &State,
    value: &minijinja::Value,
    indent: Option<minijinja::Value>,
    args: Kwargs,
) -> Result<minijinja::Value, Error> {
    let json = minijinja::filters::tojson(value, indent, args)?;
    Ok(match json.as_str() {
        Some(text) if in_shell_line(state) || in_sql_text(state) => minijinja::Value::from(text),
        _ => json,
    })
}

/// True when `text` has template syntax; other strings are used as they are.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// Checks a template's syntax without rendering it.
pub fn check_template(text: &str) -> Result<(), TemplateError> {
    if !is_template(text) {
        return Ok(());
    }
    environment()
        .template_from_str(text)
        .map(|_| ())
        .map_err(|e| to_error(text, &e))
}

/// Checks an expression's syntax (as written in `map_over`, with or without `{{ }}` around it).
pub fn check_expression(expr: &str) -> Result<(), TemplateError> {
    environment()
        .compile_expression(strip_braces(expr))
        .map(|_| ())
        .map_err(|e| to_error(expr, &e))
}

/// Renders a template string against a context.
pub fn render(text: &str, context: &Value) -> Result<String, String> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    environment()
        .render_str(text, minijinja::value::Serde(context))
        .map_err(|e| describe_in(&e, context_paths(text), context))
}

/// Renders a template that becomes a shell line: each substituted value is quoted for the place
/// it lands in the line (a bare word, `"…"`, `'…'`), the template's own text stays as written,
/// and `{{ value | safe }}` inserts a value as raw shell text. A value whose place cannot be
/// known for certain is an error rather than a guess (see [`crate::shell`]).
pub fn render_shell_line(text: &str, context: &Value) -> Result<String, String> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    crate::shell::check_literal(text)?;
    let marked = environment()
        .render_named_str(SHELL_LINE, text, minijinja::value::Serde(context))
        .map_err(|e| describe_in(&e, context_paths(text), context))?;
    crate::shell::substitute(&marked)
}

/// Renders a template that becomes SQL text: each substituted value is written for the place it
/// lands (a literal on its own, escaped inside `'…'` or a quoted identifier, a name's characters
/// when joined to a name), the template's own text stays as written, and `{{ value | safe }}`
/// inserts a value as raw SQL. A value whose place cannot be known for certain is an error
/// rather than a guess (see [`crate::sql_text`]).
pub fn render_sql_text(text: &str, context: &Value) -> Result<String, String> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    crate::sql_text::check_literal(text)?;
    let marked = environment()
        .render_named_str(SQL_TEXT, text, minijinja::value::Serde(context))
        .map_err(|e| describe_in(&e, context_paths(text), context))?;
    crate::sql_text::substitute(&marked)
}

/// Renders every string inside a JSON value (recursively); other values stay as they are.
pub fn render_value(value: &Value, context: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(render(s, context)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, context))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_value(v, context)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Evaluates an expression (`tasks.list.output.files`, optionally inside `{{ }}`) to a JSON value.
pub fn evaluate(expr: &str, context: &Value) -> Result<Value, String> {
    let compiled = environment()
        .compile_expression(strip_braces(expr))
        .map_err(|e| describe(&e))?;
    let result = compiled
        .eval(minijinja::value::Serde(context))
        .map_err(|e| describe_in(&e, expression_paths(expr), context))?;
    serde_json::to_value(&result).map_err(|e| {
        format!(
            "expression `{}` gave a value that is not JSON: {e}",
            expr.trim()
        )
    })
}

/// The context paths a template reads, found without rendering it: root names (`ds`) and plain
/// attribute lookups as far as they go (`tasks.extract.output`), sorted. Names the template sets
/// itself (`{% set %}`, loop variables) and the environment's functions (`range`, `dict`, …) are
/// left out. Empty when the template does not compile.
pub fn context_paths(text: &str) -> Vec<String> {
    if !is_template(text) {
        return Vec::new();
    }
    match environment().template_from_str(text) {
        Ok(template) => without_globals(template.undeclared_variables(true)),
        Err(_) => Vec::new(),
    }
}

/// [`context_paths`] of an expression (as written in `map_over`, with or without `{{ }}`).
pub fn expression_paths(expr: &str) -> Vec<String> {
    match environment().compile_expression(strip_braces(expr)) {
        Ok(compiled) => without_globals(compiled.undeclared_variables(true)),
        Err(_) => Vec::new(),
    }
}

fn without_globals(paths: std::collections::HashSet<String>) -> Vec<String> {
    let globals: Vec<&str> = environment().globals().map(|(name, _)| name).collect();
    let mut paths: Vec<String> = paths
        .into_iter()
        .filter(|p| !globals.contains(&root_of(p)))
        .collect();
    paths.sort();
    paths
}

/// The first name of a dotted path.
pub fn root_of(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

/// Filters (`x | lenght`) and tests (`x is nmber`) a template applies that do not exist, at
/// their byte offsets in `text`. minijinja only finds them when it renders.
pub fn unknown_filters_and_tests(text: &str) -> Vec<TemplateError> {
    let mut out = Vec::new();
    for (start, inner) in expression_blocks(text) {
        for (kind, name, offset) in applied_names(inner) {
            let (known, candidates) = match kind {
                Applied::Filter => (is_filter(name), BUILTIN_FILTERS),
                Applied::Test => (is_test(name), BUILTIN_TESTS),
            };
            if !known {
                let hint = crate::problem::did_you_mean(name, candidates.iter().copied());
                out.push(TemplateError {
                    offset: start + offset,
                    message: format!("unknown {} `{name}`{hint}", kind.noun()),
                });
            }
        }
    }
    out
}

/// The byte offset in `text` where the root name `name` is first read (not as an attribute of
/// something else, not inside a string literal).
pub fn find_root(text: &str, name: &str) -> Option<usize> {
    expression_blocks(text)
        .into_iter()
        .find_map(|(start, inner)| find_root_in_expression(inner, name).map(|at| start + at))
}

/// [`find_root`] in an expression (no `{{ }}` around it).
pub fn find_root_in_expression(expr: &str, name: &str) -> Option<usize> {
    identifiers(expr)
        .into_iter()
        .find(|(ident, at)| *ident == name && !expr[..*at].trim_end().ends_with('.'))
        .map(|(_, at)| at)
}

/// minijinja's built-in filters, for suggestions (whether a name is a filter is asked of
/// minijinja itself, so this list only has to be good enough to suggest from).
const BUILTIN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];

/// minijinja's built-in tests, for suggestions.
const BUILTIN_TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Filter,
    Test,
}

impl Applied {
    fn noun(self) -> &'static str {
        match self {
            Applied::Filter => "filter",
            Applied::Test => "test",
        }
    }
}

/// Asks minijinja whether `name` is a filter: applying an unknown one is an error of its own kind.
fn is_filter(name: &str) -> bool {
    is_known(
        &format!("{{{{ x | {name} }}}}"),
        minijinja::ErrorKind::UnknownFilter,
    )
}

fn is_test(name: &str) -> bool {
    is_known(
        &format!("{{{{ x is {name} }}}}"),
        minijinja::ErrorKind::UnknownTest,
    )
}

/// Whether rendering `probe` (which applies one filter or test to `x`) fails for want of it.
fn is_known(probe: &str, unknown: minijinja::ErrorKind) -> bool {
    match environment().render_str(probe, minijinja::context! { x => 1 }) {
        Ok(_) => true,
        Err(e) => e.kind() != unknown,
    }
}

/// The filters and tests an expression block applies: `| name`, `is [not] name` and
/// `{% filter name %}`, each with its byte offset in the block.
fn applied_names(block: &str) -> Vec<(Applied, &str, usize)> {
    let words = identifiers(block);
    let mut out = Vec::new();
    for (i, &(word, at)) in words.iter().enumerate() {
        let before = block[..at].trim_end();
        if before.ends_with('|') && !before.ends_with("||") {
            out.push((Applied::Filter, word, at));
        } else if i == 0 && word == "filter" {
            if let Some(&(name, name_at)) = words.get(1) {
                out.push((Applied::Filter, name, name_at));
            }
        } else {
            let after_is = i > 0 && words[i - 1].0 == "is" && !before.ends_with('.');
            let after_is_not = i > 1 && words[i - 1].0 == "not" && words[i - 2].0 == "is";
            if (after_is && word != "not") || after_is_not {
                out.push((Applied::Test, word, at));
            }
        }
    }
    out
}

/// The identifiers of an expression block outside string literals, with their byte offsets.
fn identifiers(block: &str) -> Vec<(&str, usize)> {
    let bytes = block.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' || b == b'\'' {
            i = end_of_string(bytes, i);
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((&block[start..i], start));
        } else if b.is_ascii_digit() {
            // A number (`1e3`, `0x1f`): its letters are not names.
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The insides of `{{ … }}` and `{% … %}` blocks of a template, each with its byte offset.
pub(crate) fn expression_blocks(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find('{')) {
        let at = from + found;
        let close = match text.as_bytes().get(at + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => {
                // A comment: skipped whole, its words are not code.
                match text.get(at + 2..).and_then(|rest| rest.find("#}")) {
                    Some(len) => from = at + 2 + len + 2,
                    None => break,
                }
                continue;
            }
            _ => {
                from = at + 1;
                continue;
            }
        };
        let inner = at + 2;
        let Some(len) = text.get(inner..).and_then(|rest| rest.find(close)) else {
            break;
        };
        out.push((inner, &text[inner..inner + len]));
        from = inner + len + 2;
    }
    out
}

/// The index just past the string literal that starts at `start` (a quote).
pub(crate) fn end_of_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A render error, naming the path that was undefined when minijinja says only "undefined value".
fn describe_in(error: &minijinja::Error, paths: Vec<String>, context: &Value) -> String {
    let message = describe(error);
    if error.kind() != minijinja::ErrorKind::UndefinedError {
        return message;
    }
    match paths.iter().find_map(|path| missing_part(path, context)) {
        Some(why) => format!("{message}: {why}"),
        None => message,
    }
}

/// Why `path` (`tasks.extract.output.files`) does not resolve in `context`, if it does not.
fn missing_part(path: &str, context: &Value) -> Option<String> {
    let mut value = context;
    let mut walked = String::new();
    for segment in path.split('.') {
        let next = match value {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        let Some(next) = next else {
            return Some(if walked.is_empty() {
                format!("`{segment}` is not defined")
            } else if value.is_null() {
                format!("`{path}` is undefined because `{walked}` is null")
            } else {
                format!("`{path}` is undefined: `{walked}` has no `{segment}`")
            });
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
        value = next;
    }
    None
}

fn strip_braces(expr: &str) -> &str {
    let trimmed = expr.trim();
    match trimmed
        .strip_prefix("{{")
        .and_then(|s| s.strip_suffix("}}"))
    {
        Some(inner) => inner.trim(),
        None => trimmed,
    }
}

fn describe(error: &minijinja::Error) -> String {
    let mut message = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    message
}

fn to_error(text: &str, error: &minijinja::Error) -> TemplateError {
    let offset = match (error.range(), error.line()) {
        (Some(range), _) => range.start,
        (None, Some(line)) => text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum(),
        _ => 0,
    };
    TemplateError {
        offset: offset.min(text.len()),
        message: describe(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::tests::sh_words;
    use serde_json::json;

    #[test]
    fn renders_airflow_style_context() {
        let ctx = json!({"ds": "2026-01-01", "params": {"region": "eu"}});
        assert_eq!(
            render("--day {{ ds }} --region {{ params.region }}", &ctx).unwrap(),
            "--day 2026-01-01 --region eu"
        );
        assert_eq!(render("plain", &ctx).unwrap(), "plain");
    }

    #[test]
    fn undefined_names_are_errors() {
        let err = render("{{ params.regoin }}", &json!({"params": {"region": "eu"}})).unwrap_err();
        assert!(err.contains("undefined"), "{err}");
    }

    #[test]
    fn syntax_errors_point_into_the_text() {
        let err = check_template("ok {{ ds ").unwrap_err();
        assert!(err.offset >= 3, "{err:?}");
        assert!(check_expression("{{ tasks.a.output }}").is_ok());
        assert!(check_expression("tasks.(").is_err());
    }

    #[test]
    fn evaluates_expressions_to_json() {
        let ctx = json!({"tasks": {"list": {"output": {"files": ["a", "b"]}}}});
        assert_eq!(
            evaluate("{{ tasks.list.output.files }}", &ctx).unwrap(),
            json!(["a", "b"])
        );
    }

    #[test]
    fn renders_nested_values() {
        let ctx = json!({"x": 1});
        assert_eq!(
            render_value(&json!({"a": ["{{ x }}", 2]}), &ctx).unwrap(),
            json!({"a": ["1", 2]})
        );
    }

    #[test]
    fn finds_the_context_paths_a_template_reads() {
        assert_eq!(
            context_paths(
                "{{ ds }} {{ tasks.a.output.files | length }} {% set x = 1 %}{{ x }}\
                 {% for i in range(3) %}{{ i }}{{ loop.index }}{% endfor %}{{ params['r'] }}"
            ),
            vec!["ds", "params", "tasks.a.output.files"]
        );
        assert_eq!(
            expression_paths("{{ tasks.list.output }}"),
            vec!["tasks.list.output"]
        );
        assert!(context_paths("plain").is_empty());
        assert!(context_paths("{{ broken").is_empty());
    }

    #[test]
    fn finds_unknown_filters_and_tests_where_they_are() {
        let text = "a {{ x | lenght }} {{ y | default('z') | upper }} {% if y is nmber %}{% endif %}\
                    {{ 'q | nope' }} {% if y is not defined %}{% endif %}{% filter uper %}{% endfilter %}";
        let found = unknown_filters_and_tests(text);
        let messages: Vec<&str> = found.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "unknown filter `lenght`; did you mean `length`?",
                "unknown test `nmber`; did you mean `number`?",
                "unknown filter `uper`; did you mean `upper`?",
            ]
        );
        assert_eq!(&text[found[0].offset..found[0].offset + 6], "lenght");
        assert_eq!(&text[found[1].offset..found[1].offset + 5], "nmber");
    }

    #[test]
    fn the_suggestion_lists_name_real_filters_and_tests() {
        for name in BUILTIN_FILTERS {
            assert!(is_filter(name), "{name} is not a filter");
        }
        for name in BUILTIN_TESTS {
            assert!(is_test(name), "{name} is not a test");
        }
    }

    #[test]
    fn finds_where_a_root_name_is_read() {
        let text = "x {{ a.ds }} {{ 'ds' }} {{ ds }}";
        assert_eq!(find_root(text, "ds"), Some(text.rfind("ds").unwrap()));
        assert_eq!(find_root(text, "nothing"), None);
    }

    #[test]
    fn a_render_error_names_the_undefined_value() {
        let ctx = json!({"tasks": {"list": {"output": null}}, "params": {"region": "eu"}});
        let err = render("{{ tasks.list.output.files | length }}", &ctx).unwrap_err();
        assert!(
            err.contains(
                "`tasks.list.output.files` is undefined because `tasks.list.output` is null"
            ),
            "{err}"
        );
        let err = render("{{ params.regoin }}", &ctx).unwrap_err();
        assert!(
            err.contains("`params.regoin` is undefined: `params` has no `regoin`"),
            "{err}"
        );
        let err = render("{{ nothing }}", &ctx).unwrap_err();
        assert!(err.contains("`nothing` is not defined"), "{err}");
    }

    #[test]
    fn a_shell_line_quotes_what_it_substitutes_not_its_own_text() {
        let ctx = json!({"params": {
            "quote": "oops\"; exit 3; echo \"",
            "subst": "$(touch pwned)",
            "ticks": "`touch pwned`",
            "lines": "a\nexit 4",
            "empty": "",
            "n": 42,
            "f": 1.5,
            "yes": true,
            "files": ["a b", "$(x)", 3],
            "map": {"k": "v w"},
        }});
        let line = |text: &str| render_shell_line(text, &ctx).unwrap();
        assert_eq!(
            line("echo {{ params.quote }} > out"),
            "echo 'oops\"; exit 3; echo \"' > out"
        );
        assert_eq!(
            line("echo \"{{ params.quote }}\""),
            "echo \"oops\\\"; exit 3; echo \\\"\""
        );
        assert_eq!(line("echo '{{ params.subst }}'"), "echo '$(touch pwned)'");
        assert_eq!(line("echo {{ params.ticks }}"), "echo '`touch pwned`'");
        assert_eq!(line("echo {{ params.lines }}"), "echo 'a\nexit 4'");
        assert_eq!(line("echo {{ params.empty }} x"), "echo '' x");
        assert_eq!(
            line("sleep {{ params.n }}; echo {{ params.f }} {{ params.yes }}"),
            "sleep 42; echo 1.5 True"
        );
        assert_eq!(line("rm {{ params.files }}"), "rm 'a b' '$(x)' 3");
        assert_eq!(sh_words(&line("{{ params.files }}")), "[a b][$(x)][3]");
        assert_eq!(sh_words(&line("\"{{ params.files }}\"")), "[a b $(x) 3]");
        assert_eq!(sh_words(&line("{{ params.map }}")), "[{'k': 'v w'}]");
        for name in ["quote", "subst", "ticks", "lines", "empty"] {
            let value = ctx["params"][name].as_str().unwrap();
            for text in [
                "{{ v }}",
                "\"{{ v }}\"",
                "'{{ v }}'",
                "x{{ v }}y",
                "\"$(printf %s {{ v }})\"",
            ] {
                let text = text.replace("v }}", &format!("params.{name} }}}}"));
                let rendered = line(&text);
                let expected = match text.as_bytes()[0] {
                    b'x' => format!("[x{value}y]"),
                    _ => format!("[{value}]"),
                };
                assert_eq!(sh_words(&rendered), expected, "{text} → {rendered}");
            }
        }
    }

    /// The examples of docs/pipelines.md ("Values in shell lines").
    #[test]
    fn the_documented_quoting() {
        let ctx = json!({"v": "it's $(x)"});
        let line = |text: &str| render_shell_line(text, &ctx).unwrap();
        assert_eq!(line("echo {{ v }}"), r#"echo "it's "'$(x)'"#);
        assert_eq!(line("echo \"a {{ v }}\""), r#"echo "a it's \$(x)""#);
        assert_eq!(line("echo 'a {{ v }}'"), r"echo 'a it'\''s $(x)'");
    }

    #[test]
    fn safe_inserts_raw_shell_text_and_filters_do_not_unquote() {
        let ctx = json!({"flags": "-l -a", "x": "a b;c", "obj": {"k": "$(x)"}});
        let line = |text: &str| render_shell_line(text, &ctx).unwrap();
        assert_eq!(line("ls {{ flags | safe }}"), "ls -l -a");
        assert_eq!(line("ls {{ flags }}"), "ls '-l -a'");
        assert_eq!(line("echo {{ obj | tojson }}"), r#"echo '{"k": "$(x)"}'"#);
        assert_eq!(line("echo {{ x | upper }}"), "echo 'A B;C'");
        assert_eq!(line("echo {{ '--x=%s' | format(x) }}"), "echo '--x=a b;c'");
        assert_eq!(line("echo {{ x | e }}"), "echo 'a b;c'");
        assert_eq!(line("echo {{ [x, 'y'] | join(',') }}"), "echo 'a b;c,y'");
        assert_eq!(
            line("{% for w in ['a b', x] %}echo {{ w }}; {% endfor %}"),
            "echo 'a b'; echo 'a b;c'; "
        );
        // Outside shell lines nothing is quoted, and `tojson` is what it was.
        assert_eq!(
            render("echo {{ x }} {{ obj | tojson }}", &ctx).unwrap(),
            r#"echo a b;c {"k": "$(x)"}"#
        );
        let err = render_shell_line("echo {{ nothing }}", &ctx).unwrap_err();
        assert!(err.contains("`nothing` is not defined"), "{err}");
        let err = render_shell_line("echo `{{ x }}`", &ctx).unwrap_err();
        assert!(err.contains("backquotes"), "{err}");
        assert!(
            !err.contains("a b;c"),
            "the value is not in the error: {err}"
        );
        assert!(render_shell_line("echo \u{E000}{{ x }}", &ctx).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = check_template(&text);
            let _ = check_expression(&text);
            let _ = render(&text, &serde_json::json!({}));
            let _ = render_shell_line(&text, &serde_json::json!({}));
            let _ = crate::shell::substitute(&text);
            let _ = context_paths(&text);
            let _ = unknown_filters_and_tests(&text);
            let _ = find_root(&text, "a");
        }
    }
}
