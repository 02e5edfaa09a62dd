//! Action kinds as definitions see them. A task names exactly one action by its key (`command:`,
//! `http:`, `noop:`); the action may own further task-level keys (`env`, `working_dir` for
//! `command`). The model checks the configuration's shape; the engine's runner for the same name
//! executes it. Adding an action means adding an [`ActionKind`] here and a runner in the engine:
//! the parser and the executor stay as they are.

use serde_json::{Map, Value};

/// An action as a task names it: its kind and its configuration (the action's own keys, as JSON).
/// Strings inside `config` are templates, rendered when the task runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActionSpec {
    pub kind: String,
    pub config: Map<String, Value>,
}

/// A problem in an action's configuration: the key path inside the task (e.g. `["http", "url"]`)
/// and what is wrong there.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: Vec<String>,
    pub message: String,
}

impl ConfigError {
    pub fn at(path: &[&str], message: impl Into<String>) -> Self {
        ConfigError {
            path: path.iter().map(|s| s.to_string()).collect(),
            message: message.into(),
        }
    }
}

/// What the model knows of one action kind.
pub struct ActionKind {
    /// The task key that selects this action; also the runner's name in the engine.
    pub name: &'static str,
    /// Further task-level keys this action owns.
    pub extra_keys: &'static [&'static str],
    /// Keys whose string value is a shell line: rendered with every substituted value quoted
    /// ([`crate::template::render_shell_line`]).
    pub shell_lines: &'static [&'static str],
    /// Keys whose value is SQL text, or a mapping whose `query` is: rendered with every
    /// substituted value written for its place in the SQL ([`crate::template::render_sql_text`]).
    pub sql_texts: &'static [&'static str],
    /// Checks the shape of the action's keys (the selecting key and any extra keys present).
    pub check: fn(&Map<String, Value>) -> Result<(), ConfigError>,
    /// One line for docs and `weir validate` hints.
    pub summary: &'static str,
}

/// Every action kind the model accepts, in the order docs list them.
pub fn action_kinds() -> &'static [ActionKind] {
    &KINDS
}

/// The action kind selected by `key`, if any.
pub fn action_kind(key: &str) -> Option<&'static ActionKind> {
    KINDS.iter().find(|k| k.name == key)
}

static KINDS: [ActionKind; 9] = [
    ActionKind {
        name: "command",
        extra_keys: &["env", "working_dir"],
        shell_lines: &["command"],
        sql_texts: &[],
        check: check_command,
        summary: "run a program (a list: program and args) or a shell line (a string)",
    },
    ActionKind {
        name: "http",
        extra_keys: &[],
        shell_lines: &[],
        sql_texts: &[],
        check: check_http,
        summary: "call a URL: method, url, headers, body, expect_status",
    },
    ActionKind {
        name: "noop",
        extra_keys: &[],
        shell_lines: &[],
        sql_texts: &[],
        check: check_noop,
        summary: "do nothing (optionally: output, sleep, fail) — for wiring and benchmarks",
    },
    ActionKind {
        name: "crawl",
        extra_keys: &[],
        shell_lines: &[],
        sql_texts: &[],
        check: check_crawl,
        summary: "crawl a lake prefix into catalog tables: prefix, database, table",
    },
    ActionKind {
        name: "sql",
        extra_keys: &[],
        shell_lines: &[],
        sql_texts: &["sql"],
        check: check_sql,
        summary: "run a SQL statement on the lake's tables: a statement, or query and max_rows",
    },
    ActionKind {
        name: "function",
        extra_keys: &["payload"],
        shell_lines: &[],
        sql_texts: &[],
        check: check_function,
        summary: "invoke a function (functions/NAME.yaml) with a JSON payload; its result is the output",
    },
    ActionKind {
        name: "wait_for",
        extra_keys: &[],
        shell_lines: &[],
        sql_texts: &["wait_for"],
        check: check_wait_for,
        summary: "wait until a lake object, a prefix's objects, a table partition exists or SQL returns true",
    },
    ActionKind {
        name: "copy",
        extra_keys: &[],
        shell_lines: &[],
        sql_texts: &[],
        check: check_copy,
        summary: "copy objects between the lake, S3-compatible stores and local roots: from, to, parallel",
    },
    ActionKind {
        name: "transform",
        extra_keys: &[],
        shell_lines: &[],
        sql_texts: &[],
        check: check_transform,
        summary: "run a transform (transforms/NAME.yaml, or a flow's flows/NAME.yaml): `transform: NAME`",
    },
];

/// Renders an action's configuration for one attempt: every string inside it is a template, the
/// keys that are shell lines (`command: "…"`) quote the values they substitute, and SQL text
/// (`sql: "…"`, `sql: {query: "…"}`) writes them as literals.
pub fn render_config(spec: &ActionSpec, context: &Value) -> Result<Map<String, Value>, String> {
    let kind = action_kind(&spec.kind);
    let shell_lines = kind.map_or(&[][..], |kind| kind.shell_lines);
    let sql_texts = kind.map_or(&[][..], |kind| kind.sql_texts);
    let sql = |text: &str| crate::template::render_sql_text(text, context).map(Value::String);
    spec.config
        .iter()
        .map(|(key, value)| {
            let rendered = match value {
                Value::String(line) if shell_lines.contains(&key.as_str()) => {
                    Value::String(crate::template::render_shell_line(line, context)?)
                }
                Value::String(text) if sql_texts.contains(&key.as_str()) => sql(text)?,
                Value::Object(members) if sql_texts.contains(&key.as_str()) => Value::Object(
                    members
                        .iter()
                        .map(|(member, value)| {
                            let rendered = match value {
                                // `sql:` of `wait_for` is a query like `query:` of `sql`.
                                Value::String(text) if member == "query" || member == "sql" => {
                                    sql(text)?
                                }
                                other => crate::template::render_value(other, context)?,
                            };
                            Ok((member.clone(), rendered))
                        })
                        .collect::<Result<_, String>>()?,
                ),
                other => crate::template::render_value(other, context)?,
            };
            Ok((key.clone(), rendered))
        })
        .collect()
}

fn check_command(config: &Map<String, Value>) -> Result<(), ConfigError> {
    match config.get("command") {
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(ConfigError::at(&["command"], "command is empty"));
        }
        Some(Value::String(_)) => {}
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(ConfigError::at(
                    &["command"],
                    "command list is empty: give the program first, then its arguments",
                ));
            }
            for (i, item) in items.iter().enumerate() {
                if !item.is_string() && !item.is_number() && !item.is_boolean() {
                    let index = i.to_string();
                    return Err(ConfigError::at(
                        &["command", &index],
                        "each command argument must be a string",
                    ));
                }
            }
        }
        _ => {
            return Err(ConfigError::at(
                &["command"],
                "command must be a shell line (string) or a list of program and arguments",
            ));
        }
    }
    if let Some(env) = config.get("env") {
        let Value::Object(vars) = env else {
            return Err(ConfigError::at(
                &["env"],
                "env must be a mapping of variable names to values",
            ));
        };
        for (name, value) in vars {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(ConfigError::at(
                    &["env", name],
                    format!("invalid environment variable name `{name}`"),
                ));
            }
            if value.is_object() || value.is_array() {
                return Err(ConfigError::at(
                    &["env", name],
                    "environment values must be strings, numbers or booleans",
                ));
            }
        }
    }
    if let Some(dir) = config.get("working_dir")
        && !dir.is_string()
    {
        return Err(ConfigError::at(
            &["working_dir"],
            "working_dir must be a string",
        ));
    }
    Ok(())
}

const HTTP_KEYS: [&str; 6] = [
    "url",
    "method",
    "headers",
    "body",
    "expect_status",
    "timeout",
];
const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

fn check_http(config: &Map<String, Value>) -> Result<(), ConfigError> {
    let http = match config.get("http") {
        Some(Value::String(_)) => return Ok(()), // shorthand: `http: URL` is a GET
        Some(Value::Object(http)) => http,
        _ => {
            return Err(ConfigError::at(
                &["http"],
                "http must be a URL or a mapping with url, method, headers, body, expect_status",
            ));
        }
    };
    for key in http.keys() {
        if !HTTP_KEYS.contains(&key.as_str()) {
            let hint = crate::problem::did_you_mean(key, HTTP_KEYS);
            return Err(ConfigError::at(
                &["http", key],
                format!("unknown key `{key}` in http{hint}"),
            ));
        }
    }
    match http.get("url") {
        Some(Value::String(url)) if !url.trim().is_empty() => {}
        Some(_) => {
            return Err(ConfigError::at(
                &["http", "url"],
                "url must be a non-empty string",
            ));
        }
        None => return Err(ConfigError::at(&["http"], "http needs a `url`")),
    }
    if let Some(method) = http.get("method") {
        let ok = method
            .as_str()
            .is_some_and(|m| HTTP_METHODS.contains(&m.to_ascii_uppercase().as_str()));
        if !ok {
            return Err(ConfigError::at(
                &["http", "method"],
                format!("method must be one of {}", HTTP_METHODS.join(", ")),
            ));
        }
    }
    if let Some(headers) = http.get("headers") {
        let Value::Object(headers) = headers else {
            return Err(ConfigError::at(
                &["http", "headers"],
                "headers must be a mapping of names to values",
            ));
        };
        for (name, value) in headers {
            if !value.is_string() && !value.is_number() {
                return Err(ConfigError::at(
                    &["http", "headers", name],
                    "header values must be strings",
                ));
            }
        }
    }
    if let Some(expect) = http.get("expect_status") {
        let valid = |v: &Value| v.as_u64().is_some_and(|n| (100..=599).contains(&n));
        let ok = match expect {
            Value::Array(codes) => !codes.is_empty() && codes.iter().all(valid),
            other => valid(other),
        };
        if !ok {
            return Err(ConfigError::at(
                &["http", "expect_status"],
                "expect_status must be a status code (100-599) or a list of them",
            ));
        }
    }
    if let Some(timeout) = http.get("timeout") {
        let ok = timeout
            .as_str()
            .is_some_and(|t| crate::duration::parse_duration(t).is_ok())
            || timeout
                .as_f64()
                .is_some_and(|n| crate::duration::from_seconds(n).is_ok());
        if !ok {
            return Err(ConfigError::at(
                &["http", "timeout"],
                "timeout must be a duration such as 30s, or a number of seconds from 0 to 1e10",
            ));
        }
    }
    Ok(())
}

const NOOP_KEYS: [&str; 3] = ["output", "sleep", "fail"];

fn check_noop(config: &Map<String, Value>) -> Result<(), ConfigError> {
    match config.get("noop") {
        Some(Value::Null) | Some(Value::Bool(true)) => Ok(()),
        Some(Value::Object(noop)) => {
            for key in noop.keys() {
                if !NOOP_KEYS.contains(&key.as_str()) {
                    let hint = crate::problem::did_you_mean(key, NOOP_KEYS);
                    return Err(ConfigError::at(
                        &["noop", key],
                        format!("unknown key `{key}` in noop{hint}"),
                    ));
                }
            }
            if let Some(sleep) = noop.get("sleep")
                && sleep
                    .as_str()
                    .is_none_or(|s| crate::duration::parse_duration(s).is_err())
            {
                return Err(ConfigError::at(
                    &["noop", "sleep"],
                    "sleep must be a duration such as 100ms",
                ));
            }
            if let Some(fail) = noop.get("fail")
                && !fail.is_boolean()
                && !fail.is_string()
            {
                return Err(ConfigError::at(
                    &["noop", "fail"],
                    "fail must be true/false or a template that renders to true/false",
                ));
            }
            Ok(())
        }
        _ => Err(ConfigError::at(
            &["noop"],
            "noop takes no value, `true`, or a mapping with output, sleep, fail",
        )),
    }
}

const CRAWL_KEYS: [&str; 3] = ["prefix", "database", "table"];

fn check_crawl(config: &Map<String, Value>) -> Result<(), ConfigError> {
    let crawl = match config.get("crawl") {
        Some(Value::String(_)) => return Ok(()), // shorthand: `crawl: PREFIX`
        Some(Value::Object(crawl)) => crawl,
        _ => {
            return Err(ConfigError::at(
                &["crawl"],
                "crawl must be a prefix or a mapping with prefix, database, table",
            ));
        }
    };
    for key in crawl.keys() {
        if !CRAWL_KEYS.contains(&key.as_str()) {
            let hint = crate::problem::did_you_mean(key, CRAWL_KEYS);
            return Err(ConfigError::at(
                &["crawl", key],
                format!("unknown key `{key}` in crawl{hint}"),
            ));
        }
    }
    if !crawl.get("prefix").is_some_and(Value::is_string) {
        return Err(ConfigError::at(
            &["crawl"],
            "crawl needs a `prefix`: the lake folder whose subfolders become tables",
        ));
    }
    for key in ["database", "table"] {
        match crawl.get(key) {
            None | Some(Value::Null) => {}
            // Templates are rendered when the task runs; the name is checked then.
            Some(Value::String(name)) if name.contains("{{") || is_identifier(name) => {}
            Some(_) => {
                return Err(ConfigError::at(
                    &["crawl", key],
                    format!(
                        "{key} must be a name of letters, digits and `_`, not starting with a digit"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `[A-Za-z_][A-Za-z0-9_]*`: database and table names that SQL needs no quotes for.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

const SQL_KEYS: [&str; 3] = ["query", "max_rows", "export"];

fn check_sql(config: &Map<String, Value>) -> Result<(), ConfigError> {
    let sql = match config.get("sql") {
        Some(Value::String(query)) if query.trim().is_empty() => {
            return Err(ConfigError::at(&["sql"], "sql is empty"));
        }
        Some(Value::String(_)) => return Ok(()),
        Some(Value::Object(sql)) => sql,
        _ => {
            return Err(ConfigError::at(
                &["sql"],
                "sql must be a statement or a mapping with query and max_rows",
            ));
        }
    };
    for key in sql.keys() {
        if !SQL_KEYS.contains(&key.as_str()) {
            let hint = crate::problem::did_you_mean(key, SQL_KEYS);
            return Err(ConfigError::at(
                &["sql", key],
                format!("unknown key `{key}` in sql{hint}"),
            ));
        }
    }
    match sql.get("query") {
        Some(Value::String(query)) if !query.trim().is_empty() => {}
        Some(_) => {
            return Err(ConfigError::at(
                &["sql", "query"],
                "query must be a non-empty SQL statement",
            ));
        }
        None => return Err(ConfigError::at(&["sql"], "sql needs a `query`")),
    }
    if let Some(max_rows) = sql.get("max_rows") {
        // A template (`{{ params.n }}`) renders at run time; anything else must be a count now.
        let ok = match max_rows {
            Value::Number(n) => n.as_u64().is_some(),
            Value::String(s) => s.contains("{{") || s.trim().parse::<u64>().is_ok(),
            _ => false,
        };
        if !ok {
            return Err(ConfigError::at(
                &["sql", "max_rows"],
                "max_rows must be a whole number of rows (0 or more)",
            ));
        }
    }
    crate::lake_actions::sql_export(sql, crate::lake_actions::Phase::Check)?;
    Ok(())
}

fn check_wait_for(config: &Map<String, Value>) -> Result<(), ConfigError> {
    crate::lake_actions::wait_for(config, crate::lake_actions::Phase::Check).map(|_| ())
}

fn check_copy(config: &Map<String, Value>) -> Result<(), ConfigError> {
    crate::lake_actions::copy(config, crate::lake_actions::Phase::Check).map(|_| ())
}

/// `function: NAME` and an optional `payload:` (any JSON; its strings are templates).
fn check_function(config: &Map<String, Value>) -> Result<(), ConfigError> {
    match config.get("function") {
        // A template names the function at run time; the name is checked then.
        Some(Value::String(name))
            if name.contains("{{") || crate::function::is_function_name(name) => {}
        Some(Value::String(name)) => {
            return Err(ConfigError::at(
                &["function"],
                format!(
                    "`{name}` is not a function name: functions are named by their file in functions/ (letters, digits, `-`, `_`)"
                ),
            ));
        }
        _ => {
            return Err(ConfigError::at(
                &["function"],
                "function must be the name of a function (a file functions/NAME.yaml)",
            ));
        }
    }
    Ok(())
}

/// `transform: NAME` or `transform: { name: NAME }`; the runner reads the recipe's file when the
/// task runs, so a recipe edited between runs takes effect at the next one.
fn check_transform(config: &Map<String, Value>) -> Result<(), ConfigError> {
    let (name, path): (_, &[&str]) = match config.get("transform") {
        Some(Value::Object(transform)) => {
            if let Some(key) = transform.keys().find(|k| k.as_str() != "name") {
                let hint = crate::problem::did_you_mean(key, ["name"]);
                return Err(ConfigError::at(
                    &["transform", key],
                    format!("unknown key `{key}` in transform{hint}"),
                ));
            }
            (transform.get("name"), &["transform", "name"])
        }
        other => (other, &["transform"]),
    };
    match name {
        // A template names the transform at run time; the name is checked then.
        Some(Value::String(name))
            if name.contains("{{") || crate::transform::is_transform_name(name) =>
        {
            Ok(())
        }
        Some(Value::String(name)) => Err(ConfigError::at(
            path,
            format!(
                "`{name}` is not a transform name: transforms are named by their file in transforms/ (letters, digits, `-`, `_`)"
            ),
        )),
        _ => Err(ConfigError::at(
            path,
            "transform must be the name of a transform (a file transforms/NAME.yaml)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn command_shapes() {
        assert!(check_command(&cfg(json!({"command": "echo hi"}))).is_ok());
        assert!(check_command(&cfg(json!({"command": ["echo", "hi"], "env": {"A": "1"}}))).is_ok());
        assert_eq!(
            check_command(&cfg(json!({"command": []})))
                .unwrap_err()
                .path,
            vec!["command"]
        );
        assert_eq!(
            check_command(&cfg(json!({"command": "x", "env": ["A"]})))
                .unwrap_err()
                .path,
            vec!["env"]
        );
    }

    #[test]
    fn http_shapes() {
        assert!(check_http(&cfg(json!({"http": "http://x"}))).is_ok());
        assert!(
            check_http(&cfg(
                json!({"http": {"url": "http://x", "method": "post", "expect_status": [200, 201]}})
            ))
            .is_ok()
        );
        let err =
            check_http(&cfg(json!({"http": {"url": "http://x", "methd": "GET"}}))).unwrap_err();
        assert!(
            err.message.contains("did you mean `method`"),
            "{}",
            err.message
        );
        assert!(check_http(&cfg(json!({"http": {"method": "GET"}}))).is_err());
        assert!(check_http(&cfg(json!({"http": {"url": "u", "expect_status": 700}}))).is_err());
    }

    #[test]
    fn crawl_shapes() {
        assert!(check_crawl(&cfg(json!({"crawl": "raw/"}))).is_ok());
        assert!(
            check_crawl(&cfg(
                json!({"crawl": {"prefix": "raw/{{ ds }}", "database": "raw", "table": "{{ params.t }}"}})
            ))
            .is_ok()
        );
        let err = check_crawl(&cfg(json!({"crawl": {"database": "raw"}}))).unwrap_err();
        assert_eq!(err.path, vec!["crawl"]);
        let err = check_crawl(&cfg(json!({"crawl": {"prefix": "p", "tabel": "t"}}))).unwrap_err();
        assert!(
            err.message.contains("did you mean `table`"),
            "{}",
            err.message
        );
        let err =
            check_crawl(&cfg(json!({"crawl": {"prefix": "p", "database": "my-db"}}))).unwrap_err();
        assert_eq!(err.path, vec!["crawl", "database"]);
        assert!(check_crawl(&cfg(json!({"crawl": 3}))).is_err());
        assert!(action_kind("crawl").is_some());
    }

    #[test]
    fn function_shapes() {
        assert!(check_function(&cfg(json!({"function": "score"}))).is_ok());
        assert!(
            check_function(&cfg(
                json!({"function": "{{ params.f }}", "payload": {"day": "{{ ds }}"}})
            ))
            .is_ok()
        );
        let err = check_function(&cfg(json!({"function": "a b"}))).unwrap_err();
        assert_eq!(err.path, vec!["function"]);
        assert!(check_function(&cfg(json!({"function": ["x"]}))).is_err());
        assert_eq!(action_kind("function").unwrap().extra_keys, ["payload"]);
    }

    #[test]
    fn transform_shapes() {
        assert!(check_transform(&cfg(json!({"transform": "clean_orders"}))).is_ok());
        assert!(check_transform(&cfg(json!({"transform": {"name": "clean-orders"}}))).is_ok());
        assert!(check_transform(&cfg(json!({"transform": "{{ params.t }}"}))).is_ok());
        assert_eq!(
            check_transform(&cfg(json!({"transform": "a b"})))
                .unwrap_err()
                .path,
            vec!["transform"]
        );
        assert_eq!(
            check_transform(&cfg(json!({"transform": {"name": 3}})))
                .unwrap_err()
                .path,
            vec!["transform", "name"]
        );
        let err = check_transform(&cfg(json!({"transform": {"nmae": "x"}}))).unwrap_err();
        assert_eq!(err.path, vec!["transform", "nmae"]);
        assert!(
            err.message.contains("did you mean `name`"),
            "{}",
            err.message
        );
        assert!(check_transform(&cfg(json!({"transform": null}))).is_err());
        assert!(action_kind("transform").is_some());
    }

    #[test]
    fn sql_shapes() {
        assert!(check_sql(&cfg(json!({"sql": "select 1"}))).is_ok());
        assert!(check_sql(&cfg(json!({"sql": {"query": "select 1", "max_rows": 10}}))).is_ok());
        assert!(
            check_sql(&cfg(
                json!({"sql": {"query": "select 1", "max_rows": "{{ params.n }}"}})
            ))
            .is_ok()
        );
        assert_eq!(
            check_sql(&cfg(json!({"sql": "  "}))).unwrap_err().path,
            vec!["sql"]
        );
        assert_eq!(
            check_sql(&cfg(json!({"sql": {"max_rows": 1}})))
                .unwrap_err()
                .path,
            vec!["sql"]
        );
        assert_eq!(
            check_sql(&cfg(json!({"sql": {"query": "x", "max_rows": -1}})))
                .unwrap_err()
                .path,
            vec!["sql", "max_rows"]
        );
        let err = check_sql(&cfg(json!({"sql": {"querry": "x"}}))).unwrap_err();
        assert!(
            err.message.contains("did you mean `query`"),
            "{}",
            err.message
        );
        assert!(check_sql(&cfg(json!({"sql": 3}))).is_err());
        assert!(
            check_sql(&cfg(
                json!({"sql": {"query": "select 1", "export": {"prefix": "out", "format": "json"}}})
            ))
            .is_ok()
        );
        assert_eq!(
            check_sql(&cfg(
                json!({"sql": {"query": "select 1", "export": {"prefix": "out", "format": "xls"}}})
            ))
            .unwrap_err()
            .path,
            vec!["sql", "export", "format"]
        );
    }

    #[test]
    fn wait_for_and_copy_kinds() {
        let wait = action_kind("wait_for").unwrap();
        assert!((wait.check)(&cfg(json!({"wait_for": {"object": "in/{{ ds }}.csv"}}))).is_ok());
        assert_eq!(
            (wait.check)(&cfg(json!({"wait_for": {"object": "a", "timeout": "x"}})))
                .unwrap_err()
                .path,
            vec!["wait_for", "timeout"]
        );
        let copy = action_kind("copy").unwrap();
        assert!(
            (copy.check)(&cfg(
                json!({"copy": {"from": "out/", "to": "file:///srv/x/"}})
            ))
            .is_ok()
        );
        assert_eq!(
            (copy.check)(&cfg(json!({"copy": {"from": "out/"}})))
                .unwrap_err()
                .path,
            vec!["copy", "to"]
        );
        // The query of a wait is SQL text: a substituted value is written as a literal.
        let spec = ActionSpec {
            kind: "wait_for".into(),
            config: cfg(
                json!({"wait_for": {"sql": "SELECT count(*) > 0 FROM t WHERE d = {{ v }}", "object": "{{ v }}"}}),
            ),
        };
        let rendered = render_config(&spec, &json!({"v": "it's"})).unwrap();
        assert_eq!(
            rendered["wait_for"]["sql"],
            "SELECT count(*) > 0 FROM t WHERE d = 'it''s'"
        );
        assert_eq!(rendered["wait_for"]["object"], "it's");
    }
}
