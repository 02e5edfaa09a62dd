//! Functions (weir's Lambda): `functions/*.yaml`, one command that receives a JSON event on
//! stdin and answers JSON on stdout. See `docs/functions.md` for the format.
//!
//! [`parse_function`] turns a file's text into a checked [`FunctionSpec`] or every problem found,
//! each at `file:line:column`, with the same positioned YAML tree the pipeline parser uses.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::pipeline::fields::{Ctx, unknown_key};
use crate::pipeline::yaml::{self, Node, Value};
use crate::problem::{Pos, Problem};

/// How long an invocation may run unless the file says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The keys a function file may have.
pub const FUNCTION_KEYS: [&str; 7] = [
    "description",
    "command",
    "env",
    "working_dir",
    "timeout",
    "max_concurrency",
    "event_sources",
];

/// Longest function name (Lambda's limit, so names fit in ARNs the way AWS clients expect).
const MAX_NAME_LEN: usize = 64;

/// A checked function definition.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// The file's stem.
    pub name: String,
    pub description: Option<String>,
    /// The program and its arguments. A YAML string `s` becomes `["sh", "-c", s]`.
    pub command: Vec<String>,
    /// Variables added to the invocation's environment.
    pub env: BTreeMap<String, String>,
    /// Where the command runs, relative to the project directory (the project when None).
    pub working_dir: Option<String>,
    /// Longest an invocation may run before its process group is stopped.
    pub timeout: Duration,
    /// Invocations of this function running at once (None: no limit); callers beyond it wait.
    pub max_concurrency: Option<u32>,
    /// The streams that invoke it (event source mappings), in file order.
    pub event_sources: Vec<crate::event_source::EventSourceConfig>,
}

/// `[A-Za-z0-9_-]{1,64}`: the names Lambda accepts, which never need quoting in an ARN or a path.
pub fn is_function_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// Parses and checks the function `name` from `text`; `file` is the path problems show.
pub fn parse_function(file: &str, name: &str, text: &str) -> Result<FunctionSpec, Vec<Problem>> {
    let mut ctx = Ctx {
        file,
        source: text,
        problems: Vec::new(),
    };
    if !is_function_name(name) {
        ctx.problem(
            Pos::START,
            format!(
                "function name `{name}` (the file's name without .yaml) must be 1 to {MAX_NAME_LEN} letters, digits, `-` or `_`"
            ),
        );
    }
    let loaded = yaml::load(text);
    for (pos, message) in loaded.problems {
        ctx.problem(pos, message);
    }
    let spec = match &loaded.root {
        Some(root) => read_function(&mut ctx, name, root),
        None => {
            if ctx.problems.is_empty() {
                ctx.problem(
                    Pos::START,
                    "the file is empty: a function needs at least `command`",
                );
            }
            None
        }
    };
    let mut problems = ctx.problems;
    match spec {
        Some(spec) if problems.is_empty() => Ok(spec),
        _ => {
            if problems.is_empty() {
                // Every path that yields no spec records why; this only guards that promise.
                problems.push(Problem::new(
                    file,
                    Pos::START,
                    "the function could not be read",
                ));
            }
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

fn read_function(ctx: &mut Ctx<'_>, name: &str, root: &Node) -> Option<FunctionSpec> {
    let Some(entries) = root.as_map() else {
        let message = format!(
            "a function file must be a mapping of keys such as `command` and `timeout`, not {}",
            root.describe()
        );
        ctx.problem(root.pos, message);
        return None;
    };
    let mut description = None;
    let mut command = None;
    let mut env = BTreeMap::new();
    let mut working_dir = None;
    let mut timeout = DEFAULT_TIMEOUT;
    let mut max_concurrency = None;
    let mut event_sources = Vec::new();
    let mut has_command = false;
    for e in entries {
        let node = &e.value;
        match e.key.as_str() {
            "description" => description = ctx.string("description", node),
            "command" => {
                has_command = true;
                command = read_command(ctx, node);
            }
            "env" => env = read_env(ctx, node),
            "working_dir" => {
                working_dir = ctx.string("working_dir", node);
                if working_dir.as_deref().is_some_and(|d| d.trim().is_empty()) {
                    ctx.problem(
                        node.pos,
                        "`working_dir` must not be empty (leave it out to run in the project directory)",
                    );
                }
            }
            "timeout" => match ctx.duration("timeout", node) {
                Some(d) if d.is_zero() => ctx.problem(
                    node.pos,
                    "`timeout` must be greater than zero (the default is 60s)",
                ),
                Some(d) => timeout = d,
                None if node.is_null() => {}
                None => {}
            },
            "max_concurrency" => max_concurrency = ctx.whole("max_concurrency", node, 1),
            "event_sources" => {
                event_sources = crate::event_source::read_event_sources(ctx, node);
            }
            other => {
                unknown_key(
                    ctx,
                    other,
                    e.key_pos,
                    &format!("function `{name}`"),
                    &FUNCTION_KEYS,
                );
            }
        }
    }
    if !has_command {
        ctx.problem(
            root.pos,
            "function has no `command`: add a shell line (a string) or a list of program and arguments",
        );
    }
    Some(FunctionSpec {
        name: name.to_string(),
        description,
        command: command?,
        env,
        working_dir,
        timeout,
        max_concurrency,
        event_sources,
    })
}

/// `command: "shell line"` runs through `sh -c`; `command: [program, arg, …]` runs directly.
fn read_command(ctx: &mut Ctx<'_>, node: &Node) -> Option<Vec<String>> {
    match &node.value {
        Value::Str(line) if line.trim().is_empty() => {
            ctx.problem(node.pos, "`command` is empty");
            None
        }
        Value::Str(line) => Some(vec!["sh".into(), "-c".into(), line.clone()]),
        Value::Seq(items) if items.is_empty() => {
            ctx.problem(
                node.pos,
                "`command` list is empty: give the program first, then its arguments",
            );
            None
        }
        Value::Seq(items) => {
            let mut argv = Vec::with_capacity(items.len());
            for item in items {
                match &item.value {
                    Value::Str(s) => argv.push(s.clone()),
                    // A plain `3` or `true` is meant as the text written.
                    Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                        argv.push(item.text.clone())
                    }
                    _ => ctx.problem(
                        item.pos,
                        format!(
                            "each `command` argument must be a string, not {}",
                            item.describe()
                        ),
                    ),
                }
            }
            (argv.len() == items.len()).then_some(argv)
        }
        _ => {
            ctx.problem(
                node.pos,
                format!(
                    "`command` must be a shell line (a string) or a list of program and arguments, not {}",
                    node.describe()
                ),
            );
            None
        }
    }
}

fn read_env(ctx: &mut Ctx<'_>, node: &Node) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if node.is_null() {
        return env;
    }
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "`env` must be a mapping of variable names to values, not {}",
                node.describe()
            ),
        );
        return env;
    };
    for e in entries {
        if e.key.is_empty() || e.key.contains(['=', '\0']) {
            ctx.problem(
                e.key_pos,
                format!(
                    "invalid environment variable name `{}`: it must be non-empty, without `=`",
                    e.key
                ),
            );
            continue;
        }
        let value = match &e.value.value {
            Value::Str(s) => s.clone(),
            Value::Null => String::new(),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => e.value.text.clone(),
            _ => {
                ctx.problem(
                    e.value.pos,
                    format!(
                        "`env.{}` must be a string, number or true/false, not {}",
                        e.key,
                        e.value.describe()
                    ),
                );
                continue;
            }
        };
        if value.contains('\0') {
            ctx.problem(
                e.value.pos,
                format!("`env.{}` must not contain a NUL character", e.key),
            );
            continue;
        }
        if let Some(problem) = env_template_problem(&value) {
            ctx.problem(e.value.pos, format!("`env.{}`: {problem}", e.key));
            continue;
        }
        env.insert(e.key.clone(), value);
    }
    env
}

/// An `env` value may be a template that reads secrets (`{{ secrets.api_token }}`), nothing else:
/// a function has no run whose names it could read.
fn env_template_problem(value: &str) -> Option<String> {
    if let Err(e) = crate::template::check_template(value) {
        return Some(format!("invalid template: {}", e.message));
    }
    let paths = crate::template::context_paths(value);
    if let Some(other) = paths
        .iter()
        .find(|p| crate::template::root_of(p) != crate::secret::ROOT)
    {
        let root = crate::template::root_of(other);
        return Some(format!(
            "`{root}` is not defined here: a function's env templates can read `secrets` only"
        ));
    }
    paths
        .iter()
        .filter_map(|p| p.split('.').nth(1))
        .find(|name| !crate::secret::is_secret_name(name))
        .map(|name| format!("`secrets.{name}`: {}", crate::secret::name_rule()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_templates_read_secrets_only() {
        assert_eq!(env_template_problem("plain"), None);
        assert_eq!(env_template_problem("Bearer {{ secrets.api_token }}"), None);
        let problem = env_template_problem("{{ ds }}").unwrap();
        assert!(problem.contains("`ds` is not defined here"), "{problem}");
        assert!(
            env_template_problem("{{ oops")
                .unwrap()
                .contains("invalid template")
        );
    }

    fn messages(text: &str) -> Vec<String> {
        parse_function("functions/f.yaml", "f", text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reads_every_key() {
        let text = "description: Scores an order\ncommand: [python3, score.py, 3]\nenv: { MODEL: v2, RETRIES: 3, DEBUG: true }\nworking_dir: functions\ntimeout: 1m30s\nmax_concurrency: 2\n";
        let spec = parse_function("functions/score.yaml", "score", text).unwrap();
        assert_eq!(spec.name, "score");
        assert_eq!(spec.description.as_deref(), Some("Scores an order"));
        assert_eq!(spec.command, vec!["python3", "score.py", "3"]);
        assert_eq!(spec.env["MODEL"], "v2");
        assert_eq!(spec.env["RETRIES"], "3");
        assert_eq!(spec.env["DEBUG"], "true");
        assert_eq!(spec.working_dir.as_deref(), Some("functions"));
        assert_eq!(spec.timeout, Duration::from_secs(90));
        assert_eq!(spec.max_concurrency, Some(2));
    }

    #[test]
    fn a_string_command_is_a_shell_line_and_defaults_apply() {
        let spec = parse_function("f.yaml", "f", "command: cat | tr a b\n").unwrap();
        assert_eq!(spec.command, vec!["sh", "-c", "cat | tr a b"]);
        assert_eq!(spec.timeout, DEFAULT_TIMEOUT);
        assert_eq!(spec.max_concurrency, None);
        assert!(spec.env.is_empty());
        assert!(spec.event_sources.is_empty());
    }

    #[test]
    fn event_sources_read_lambdas_settings() {
        use crate::event_source::StartingPosition;
        let text = "command: cat\nevent_sources:\n  - stream: orders\n  - stream: arn:aws:kinesis:us-east-1:000000000000:stream/clicks\n    batch_size: 10\n    batching_window: 5s\n    starting_position: LATEST\n    maximum_retry_attempts: 2\n    maximum_record_age: 1h\n    bisect_batch_on_function_error: true\n    report_batch_item_failures: true\n    on_failure: arn:aws:kinesis:us-east-1:000000000000:stream/dlq\n    parallelization_factor: 2\n    tumbling_window: 30s\n    enabled: false\n";
        let spec = parse_function("functions/f.yaml", "f", text).unwrap();
        let [orders, clicks] = spec.event_sources.as_slice() else {
            panic!("two event sources: {:?}", spec.event_sources);
        };
        assert_eq!(orders.stream, "orders");
        assert_eq!(orders.batch_size, 100, "Lambda's default for Kinesis");
        assert_eq!(orders.starting_position, StartingPosition::TrimHorizon);
        assert_eq!(
            (
                orders.maximum_retry_attempts,
                orders.maximum_record_age_seconds
            ),
            (-1, -1)
        );
        assert!(orders.enabled);
        assert_eq!(clicks.stream, "clicks");
        assert_eq!((clicks.batch_size, clicks.batching_window_seconds), (10, 5));
        assert_eq!(clicks.starting_position, StartingPosition::Latest);
        assert_eq!(
            (
                clicks.maximum_retry_attempts,
                clicks.maximum_record_age_seconds
            ),
            (2, 3600)
        );
        assert!(clicks.bisect_batch_on_function_error && clicks.report_batch_item_failures);
        assert_eq!(
            clicks.on_failure.as_deref(),
            Some("arn:aws:kinesis:us-east-1:000000000000:stream/dlq")
        );
        assert_eq!(
            (
                clicks.parallelization_factor,
                clicks.tumbling_window_seconds
            ),
            (2, 30)
        );
        assert!(!clicks.enabled);
    }

    #[test]
    fn event_source_problems_have_positions() {
        assert_eq!(
            messages(
                "command: cat\nevent_sources:\n  - stream: orders\n    batch_size: 0\n    starting_position: OLDEST\n    maximum_record_age: 10s\n    on_failure: arn:aws:sqs:us-east-1:0:q\n    bach_size: 3\n  - batch_size: 1\n"
            ),
            vec![
                "functions/f.yaml:4:17: `batch_size` must be a whole number from 1 to 10000",
                "functions/f.yaml:5:24: `starting_position` must be TRIM_HORIZON, LATEST or AT_TIMESTAMP, not `OLDEST`",
                "functions/f.yaml:6:25: `maximum_record_age` must be -1 (no limit) or from 1m to 7d",
                "functions/f.yaml:7:17: `on_failure`: `arn:aws:sqs:us-east-1:0:q` must be a stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME) or a lake prefix (s3://BUCKET/PREFIX)",
                "functions/f.yaml:8:5: unknown key `bach_size` in an event source; did you mean `batch_size`?",
                "functions/f.yaml:9:5: an event source needs `stream` (a stream's name or ARN) or `queue` (a queue's name or ARN)",
            ]
        );
        assert_eq!(
            messages(
                "command: cat\nevent_sources:\n  - stream: orders\n    starting_position: AT_TIMESTAMP\n"
            ),
            vec![
                "functions/f.yaml:3:5: StartingPositionTimestamp must be set when StartingPosition is AT_TIMESTAMP"
            ]
        );
    }

    #[test]
    fn problems_have_positions_and_hints() {
        assert_eq!(
            messages("command: cat\ntimout: 5s\n"),
            vec![
                "functions/f.yaml:2:1: unknown key `timout` in function `f`; did you mean `timeout`?"
            ]
        );
        assert_eq!(
            messages("description: x\n"),
            vec![
                "functions/f.yaml:1:1: function has no `command`: add a shell line (a string) or a list of program and arguments"
            ]
        );
        assert_eq!(
            messages("command: []\ntimeout: 0s\nmax_concurrency: 0\nenv: [A]\n"),
            vec![
                "functions/f.yaml:1:10: `command` list is empty: give the program first, then its arguments",
                "functions/f.yaml:2:10: `timeout` must be greater than zero (the default is 60s)",
                "functions/f.yaml:3:18: `max_concurrency` must be a whole number ≥ 1",
                "functions/f.yaml:4:6: `env` must be a mapping of variable names to values, not a list",
            ]
        );
        assert_eq!(
            messages("command: [cat, [x]]\nenv: { A: [1] }\ntimeout: soon\n"),
            vec![
                "functions/f.yaml:1:16: each `command` argument must be a string, not a list",
                "functions/f.yaml:2:11: `env.A` must be a string, number or true/false, not a list",
                "functions/f.yaml:3:10: invalid `timeout`: invalid duration `soon`: expected a number before `soon` (e.g. 30s, 5m, 1h30m)",
            ]
        );
        assert_eq!(
            messages("command: cat\ncommand: tac\n"),
            vec!["functions/f.yaml:2:1: duplicate key `command` (first set on line 1)"]
        );
        assert_eq!(
            messages("- cat\n"),
            vec![
                "functions/f.yaml:1:1: a function file must be a mapping of keys such as `command` and `timeout`, not a list"
            ]
        );
        assert_eq!(
            messages(""),
            vec!["functions/f.yaml:1:1: the file is empty: a function needs at least `command`"]
        );
    }

    #[test]
    fn names_must_fit_arns() {
        assert!(is_function_name("score_order-2"));
        assert!(!is_function_name("a.b"));
        assert!(!is_function_name("a:b"));
        assert!(!is_function_name(""));
        assert!(!is_function_name(&"x".repeat(65)));
        let problems = parse_function("functions/a.b.yaml", "a.b", "command: cat\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("must be 1 to 64 letters"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn queue_event_sources_take_sqs_settings_only() {
        let text = "command: cat\nevent_sources:\n  - queue: jobs\n  - queue: arn:aws:sqs:us-east-1:000000000000:big\n    batch_size: 100\n    batching_window: 2s\n    report_batch_item_failures: true\n    maximum_concurrency: 5\n    enabled: false\n";
        let spec = parse_function("functions/f.yaml", "f", text).unwrap();
        let [jobs, big] = spec.event_sources.as_slice() else {
            panic!("{:?}", spec.event_sources)
        };
        assert_eq!(jobs.queue.as_deref(), Some("jobs"));
        assert_eq!(jobs.batch_size, 10);
        assert_eq!(big.queue.as_deref(), Some("big"));
        assert_eq!(
            (
                big.batch_size,
                big.batching_window_seconds,
                big.maximum_concurrency
            ),
            (100, 2, Some(5))
        );
        assert!(big.report_batch_item_failures && !big.enabled);
        let problems = |text: &str| -> Vec<String> {
            parse_function("functions/f.yaml", "f", text)
                .unwrap_err()
                .iter()
                .map(|p| p.to_string())
                .collect()
        };
        assert_eq!(
            problems("command: cat\nevent_sources:\n  - queue: jobs\n    stream: s\n"),
            [
                "functions/f.yaml:3:5: an event source reads either a `stream` or a `queue`, not both"
            ]
        );
        let found = problems(
            "command: cat\nevent_sources:\n  - queue: jobs\n    starting_position: LATEST\n    batch_size: 50\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with(
            "functions/f.yaml:4:5: `starting_position` applies to stream sources only"
        ));
        let found = problems("command: cat\nevent_sources:\n  - queue: jobs\n    batch_size: 50\n");
        assert_eq!(
            found,
            [
                "functions/f.yaml:3:5: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
            ]
        );
        let found = problems("command: cat\nevent_sources:\n  - queue: a.b\n");
        assert!(found[0].contains("is neither a queue name"), "{found:?}");
        let found =
            problems("command: cat\nevent_sources:\n  - stream: s\n    maximum_concurrency: 5\n");
        assert!(
            found[0].contains("applies to queue sources only"),
            "{found:?}"
        );
    }
}
