//! Templates in definitions: Jinja syntax (minijinja), as Airflow users write it: `{{ ds }}`,
//! `{{ params.region }}`, `{{ tasks.extract.output.files | length }}`. The parsers check a
//! template's syntax when a definition is loaded, so a typo fails `weir validate` rather than a
//! run. Undefined names are errors at render time, so a misspelt variable fails the task instead
//! of silently rendering an empty string.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

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
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env
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
        .map_err(|e| describe(&e))
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
        .map_err(|e| describe(&e))?;
    serde_json::to_value(&result).map_err(|e| {
        format!(
            "expression `{}` gave a value that is not JSON: {e}",
            expr.trim()
        )
    })
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

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = check_template(&text);
            let _ = check_expression(&text);
            let _ = render(&text, &serde_json::json!({}));
        }
    }
}
