//! Pipeline files end to end: complete files parse into every field; each kind of mistake is
//! reported at its exact `file:line:column` with a helpful message.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use weir_model::pipeline::{
    DEFAULT_MAX_ACTIVE_RUNS, Notification, OnLost, RetryPolicy, TriggerRule, parse_pipeline,
};

const FILE: &str = "pipelines/p.yaml";

fn problems(source: &str) -> Vec<String> {
    match parse_pipeline(FILE, "p", source) {
        Ok(_) => panic!("expected problems in:\n{source}"),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

/// The single problem of `source`.
fn problem(source: &str) -> String {
    let all = problems(source);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.into_iter().next().unwrap_or_default()
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

const PRODUCT_EXAMPLE: &str = r#"# pipelines/daily_sales.yaml — the pipeline's name is the file's stem
schedule: "0 2 * * *"          # cron or @hourly/@daily/…; omit for triggered-only pipelines
timezone: Europe/Paris
start_date: 2026-01-01
catchup: false
params: { region: eu }
tasks:
  extract:
    command: ./extract.sh --day {{ ds }} --region {{ params.region }}
    retries: 3
    retry_delay: 30s
  load:
    depends_on: [extract]
    command: ./load.sh
"#;

#[test]
fn parses_the_product_example() {
    let p = parse_pipeline("pipelines/daily_sales.yaml", "daily_sales", PRODUCT_EXAMPLE).unwrap();
    assert_eq!(p.name, "daily_sales");
    assert_eq!(p.file, "pipelines/daily_sales.yaml");
    assert_eq!(p.source, PRODUCT_EXAMPLE);
    assert_eq!(p.version.len(), 64);
    assert!(
        p.version
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(p.description, None);
    assert!(p.tags.is_empty());
    assert_eq!(
        p.schedule.as_ref().map(|s| s.expr.as_str()),
        Some("0 2 * * *")
    );
    assert_eq!(p.timezone, chrono_tz::Europe::Paris);
    // Midnight in Paris (CET, UTC+1).
    assert_eq!(p.start_date, Some(utc("2025-12-31T23:00:00Z")));
    assert_eq!(p.end_date, None);
    assert!(!p.catchup);
    assert_eq!(
        serde_json::Value::Object(p.params.clone()),
        json!({"region": "eu"})
    );
    assert_eq!(p.max_active_runs, DEFAULT_MAX_ACTIVE_RUNS);
    assert_eq!(p.max_active_tasks, None);
    assert!(p.on_success.is_empty() && p.on_failure.is_empty());
    assert_eq!(p.tasks.keys().collect::<Vec<_>>(), vec!["extract", "load"]);

    let extract = &p.tasks["extract"];
    assert_eq!(extract.id, "extract");
    assert!(extract.depends_on.is_empty());
    assert_eq!(extract.action.kind, "command");
    assert_eq!(
        serde_json::Value::Object(extract.action.config.clone()),
        json!({"command": "./extract.sh --day {{ ds }} --region {{ params.region }}"})
    );
    assert_eq!(
        extract.retry,
        RetryPolicy {
            retries: 3,
            delay: Duration::from_secs(30),
            exponential_backoff: false,
            max_delay: None
        }
    );
    assert_eq!(extract.timeout, None);
    assert_eq!(extract.trigger_rule, TriggerRule::AllSuccess);
    assert_eq!(extract.pool, None);
    assert_eq!(extract.map_over, None);

    let load = &p.tasks["load"];
    assert_eq!(load.depends_on, vec!["extract"]);
    assert_eq!(
        serde_json::Value::Object(load.action.config.clone()),
        json!({"command": "./load.sh"})
    );
    assert_eq!(load.retry, RetryPolicy::default());

    // The version is the content's: the same text gives the same version, any change another.
    let again = parse_pipeline("elsewhere.yaml", "daily_sales", PRODUCT_EXAMPLE).unwrap();
    assert_eq!(again.version, p.version);
    let changed = parse_pipeline(
        "x.yaml",
        "daily_sales",
        &PRODUCT_EXAMPLE.replace("30s", "31s"),
    )
    .unwrap();
    assert_ne!(changed.version, p.version);
}

const COMPLETE: &str = r#"description: Nightly sales rollup
tags: [sales, finance]
schedule: "@daily"
timezone: America/New_York
start_date: 2026-03-01
end_date: 2026-12-31T23:59:59Z
catchup: true
max_active_runs: 2
max_active_tasks: 4
params:
  region: eu
  days: 3
  dry_run: false
  buckets: [a, b]
  limits: { max: 1.5, none: null }
default_args:
  retries: 2
  retry_delay: 1m
  retry_exponential_backoff: true
  max_retry_delay: 10m
  timeout: 1h
  pool: db
  trigger_rule: all_success
on_success: { webhook: "https://hooks.example.com/ok" }
on_failure:
  - webhook: https://hooks.example.com/fail?run={{ run_id }}
  - command: [./page.sh, "{{ pipeline }}"]
    env: { SEVERITY: high }
tasks:
  report:
    description: Summarize
    depends_on: process
    noop: { output: done }
    trigger_rule: all_done
  process:
    depends_on: [list]
    map_over: "{{ tasks.list.output.files }}"
    command: [./process.py, --file, "{{ item }}", --days, 3]
    env: { REGION: "{{ params.region }}", DEBUG: 1 }
    working_dir: jobs
    retries: 0
    timeout: 90
    pool: cpu
  list:
    http:
      url: https://api.example.com/files?day={{ ds }}
      method: post
      headers: { Authorization: "Bearer {{ params.region }}" }
      expect_status: [200, 201]
"#;

#[test]
fn parses_a_complete_pipeline() {
    let p = parse_pipeline("pipelines/sales.yaml", "sales", COMPLETE).unwrap();
    assert_eq!(p.description.as_deref(), Some("Nightly sales rollup"));
    assert_eq!(p.tags, vec!["sales", "finance"]);
    assert_eq!(p.schedule.as_ref().map(|s| s.expr.as_str()), Some("@daily"));
    assert_eq!(p.timezone, chrono_tz::America::New_York);
    // Midnight in New York (EST, UTC-5).
    assert_eq!(p.start_date, Some(utc("2026-03-01T05:00:00Z")));
    assert_eq!(p.end_date, Some(utc("2026-12-31T23:59:59Z")));
    assert!(p.catchup);
    assert_eq!(p.max_active_runs, 2);
    assert_eq!(p.max_active_tasks, Some(4));
    assert_eq!(
        serde_json::Value::Object(p.params.clone()),
        json!({"region": "eu", "days": 3, "dry_run": false, "buckets": ["a", "b"], "limits": {"max": 1.5, "none": null}})
    );
    assert_eq!(
        p.on_success,
        vec![Notification::Webhook {
            url: "https://hooks.example.com/ok".into()
        }]
    );
    assert_eq!(p.on_failure.len(), 2);
    assert_eq!(
        p.on_failure[0],
        Notification::Webhook {
            url: "https://hooks.example.com/fail?run={{ run_id }}".into()
        }
    );
    let Notification::Action(page) = &p.on_failure[1] else {
        panic!("{:?}", p.on_failure[1])
    };
    assert_eq!(page.kind, "command");
    assert_eq!(
        serde_json::Value::Object(page.config.clone()),
        json!({"command": ["./page.sh", "{{ pipeline }}"], "env": {"SEVERITY": "high"}})
    );

    // Topological order; ties would keep file order.
    assert_eq!(
        p.tasks.keys().collect::<Vec<_>>(),
        vec!["list", "process", "report"]
    );

    let list = &p.tasks["list"];
    assert_eq!(list.action.kind, "http");
    assert_eq!(
        serde_json::Value::Object(list.action.config.clone()),
        json!({"http": {"url": "https://api.example.com/files?day={{ ds }}", "method": "post",
                        "headers": {"Authorization": "Bearer {{ params.region }}"}, "expect_status": [200, 201]}})
    );
    // Everything from default_args.
    let defaults = RetryPolicy {
        retries: 2,
        delay: Duration::from_secs(60),
        exponential_backoff: true,
        max_delay: Some(Duration::from_secs(600)),
    };
    assert_eq!(list.retry, defaults);
    assert_eq!(list.timeout, Some(Duration::from_secs(3600)));
    assert_eq!(list.pool.as_deref(), Some("db"));
    assert_eq!(list.trigger_rule, TriggerRule::AllSuccess);
    assert!(list.depends_on.is_empty());

    let process = &p.tasks["process"];
    assert_eq!(process.depends_on, vec!["list"]);
    assert_eq!(process.map_over.as_deref(), Some("tasks.list.output.files"));
    assert_eq!(
        serde_json::Value::Object(process.action.config.clone()),
        json!({"command": ["./process.py", "--file", "{{ item }}", "--days", 3],
               "env": {"REGION": "{{ params.region }}", "DEBUG": 1}, "working_dir": "jobs"})
    );
    // Its own settings win over default_args, key by key.
    assert_eq!(
        process.retry,
        RetryPolicy {
            retries: 0,
            ..defaults.clone()
        }
    );
    assert_eq!(process.timeout, Some(Duration::from_secs(90)));
    assert_eq!(process.pool.as_deref(), Some("cpu"));

    let report = &p.tasks["report"];
    assert_eq!(report.description.as_deref(), Some("Summarize"));
    assert_eq!(report.depends_on, vec!["process"]);
    assert_eq!(report.trigger_rule, TriggerRule::AllDone);
    assert_eq!(report.action.kind, "noop");
    assert_eq!(
        serde_json::Value::Object(report.action.config.clone()),
        json!({"noop": {"output": "done"}})
    );
}

#[test]
fn minimal_pipelines_get_defaults() {
    let p = parse_pipeline(FILE, "p", "tasks:\n  only:\n    noop:\n").unwrap();
    assert!(p.schedule.is_none());
    assert_eq!(p.timezone, chrono_tz::UTC);
    assert_eq!(p.start_date, None);
    assert_eq!(p.max_active_runs, DEFAULT_MAX_ACTIVE_RUNS);
    assert_eq!(
        serde_json::Value::Object(p.tasks["only"].action.config.clone()),
        json!({"noop": null})
    );
    let p = parse_pipeline(
        FILE,
        "p",
        "schedule: null\ntasks: {a: {command: [\"true\"]}}\n",
    )
    .unwrap();
    assert!(p.schedule.is_none());
}

#[test]
fn topological_order_is_stable() {
    let source = "tasks:\n  d: {noop: , depends_on: [b, c]}\n  c: {noop: , depends_on: a}\n  b: {noop: , depends_on: a}\n  a: {noop: }\n  e: {noop: }\n";
    let p = parse_pipeline(FILE, "p", source).unwrap();
    assert_eq!(
        p.tasks.keys().collect::<Vec<_>>(),
        vec!["a", "c", "b", "d", "e"]
    );
}

// ---- problems, each at its position ----

#[test]
fn malformed_yaml() {
    assert_eq!(
        problem("tasks:\n\ta: {noop: }\n"),
        "pipelines/p.yaml:2:2: invalid YAML: tabs disallowed within this context (block indentation)"
    );
    assert_eq!(
        problem("tasks:\n  a:\n    noop:\n   retries: 1\n"),
        "pipelines/p.yaml:4:4: invalid YAML: while parsing a block mapping, did not find expected key"
    );
    assert_eq!(
        problem("tasks:\n  a:\n    command: x: y\n"),
        "pipelines/p.yaml:3:15: invalid YAML: mapping values are not allowed in this context"
    );
    assert_eq!(
        problem("tasks: {a: {noop: }}\ndescription: !!int nope\n"),
        "pipelines/p.yaml:2:14: `nope` is not a valid `!!int` value"
    );
    assert_eq!(
        problem("tasks:\n  a: [1, 2\n  b: 3\n"),
        "pipelines/p.yaml:3:4: invalid YAML: illegal placement of ':' indicator"
    );
}

#[test]
fn empty_file_and_wrong_top_level() {
    assert_eq!(
        problem(""),
        "pipelines/p.yaml:1:1: the file is empty: a pipeline needs at least `tasks`"
    );
    assert_eq!(
        problem("# only a comment\n"),
        "pipelines/p.yaml:1:1: the file is empty: a pipeline needs at least `tasks`"
    );
    assert_eq!(
        problem("\n- a\n- b\n"),
        "pipelines/p.yaml:2:1: a pipeline file must be a mapping of keys such as `schedule` and `tasks`, not a list"
    );
    assert_eq!(
        problem("schedule: \"@daily\"\n"),
        "pipelines/p.yaml:1:1: pipeline has no `tasks`: add a mapping of task ids to tasks"
    );
    assert_eq!(
        problem("tasks: {}\n"),
        "pipelines/p.yaml:1:1: `tasks` is empty: a pipeline needs at least one task"
    );
    assert_eq!(
        problem("tasks: [a, b]\n"),
        "pipelines/p.yaml:1:8: `tasks` must be a mapping of task ids to tasks, not a list"
    );
    assert_eq!(
        problem("tasks:\n  a: {noop: }\n---\ntasks: {}\n"),
        "pipelines/p.yaml:4:1: a pipeline file holds one YAML document: remove this one, or the `---` before it"
    );
}

#[test]
fn unknown_keys_with_suggestions() {
    assert_eq!(
        problem("tasks:\n  extract:\n    command: ./x.sh\n    retires: 3\n"),
        "pipelines/p.yaml:4:5: unknown key `retires` in task `extract`; did you mean `retries`?"
    );
    assert_eq!(
        problem("schedul: \"@daily\"\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:1: unknown key `schedul` in pipeline `p`; did you mean `schedule`?"
    );
    assert_eq!(
        problem("owner: me\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:1: unknown key `owner` in pipeline `p`"
    );
    assert_eq!(
        problem("default_args:\n  retry_dealy: 5m\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:2:3: unknown key `retry_dealy` in `default_args`; did you mean `retry_delay`?"
    );
    assert_eq!(
        problem("default_args:\n  owner: me\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:2:3: unknown key `owner` in `default_args` (it sets retries, retry_delay, retry_exponential_backoff, max_retry_delay, timeout, pool, trigger_rule, on_lost for every task)"
    );
    assert_eq!(
        problem("tasks:\n  a:\n    http: {url: \"http://x\", methd: GET}\n"),
        "pipelines/p.yaml:3:29: unknown key `methd` in http; did you mean `method`?"
    );
    assert_eq!(
        problem("on_failure: {webhok: \"http://x\"}\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:14: unknown key `webhok` in `on_failure` notification; did you mean `webhook`?"
    );
}

#[test]
fn all_problems_are_reported_at_once_in_file_order() {
    let source = "\
schedule: 0 2 * *
timezone: Europe/Pariss
tasks:
  a:
    command: x
    retries: -1
    retry_delay: 5 minutes
  b:
    depends_on: [c]
    noop:
";
    assert_eq!(
        problems(source),
        vec![
            "pipelines/p.yaml:1:11: a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; `0 2 * *` has 4",
            "pipelines/p.yaml:2:11: unknown timezone `Europe/Pariss`; did you mean `Europe/Paris`? (use an IANA name such as Europe/Paris, or UTC)",
            "pipelines/p.yaml:6:14: `retries` must be a whole number ≥ 0",
            "pipelines/p.yaml:7:18: invalid `retry_delay`: invalid duration `5 minutes`: unknown unit ` minutes` (ms, s, m, h or d)",
            "pipelines/p.yaml:9:18: task `b` depends on `c`, which is not a task of this pipeline",
        ]
    );
}

#[test]
fn wrong_types() {
    let with = |line: &str| format!("tasks:\n  a:\n    noop:\n    {line}\n");
    assert_eq!(
        problem(&with("retries: three")),
        "pipelines/p.yaml:4:14: `retries` must be a whole number ≥ 0"
    );
    assert_eq!(
        problem(&with("retries: 1.5")),
        "pipelines/p.yaml:4:14: `retries` must be a whole number ≥ 0"
    );
    assert_eq!(
        problem(&with("timeout: [1]")),
        "pipelines/p.yaml:4:14: `timeout` must be a duration such as 30s, 5m or 1h30m, or a number of seconds ≥ 0"
    );
    assert_eq!(
        problem(&with("timeout: 0s")),
        "pipelines/p.yaml:4:14: `timeout` must be greater than zero (leave it out for no timeout)"
    );
    assert_eq!(
        problem(&with("retry_exponential_backoff: yes")),
        "pipelines/p.yaml:4:32: `retry_exponential_backoff` must be true or false, not a string"
    );
    assert_eq!(
        problem(&with("pool: 3")),
        "pipelines/p.yaml:4:11: `pool` must be a string, not a number"
    );
    assert_eq!(
        problem(&with("trigger_rule: all_sucess")),
        "pipelines/p.yaml:4:19: unknown trigger rule `all_sucess`; did you mean `all_success`? (one of all_success, all_done, all_failed, one_success, one_failed, none_failed)"
    );
    assert_eq!(
        problem(&with("depends_on: [{x: 1}]")),
        "pipelines/p.yaml:4:18: `depends_on` must be a list of strings; this entry is a mapping"
    );
    assert_eq!(
        problem("catchup: 1\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:10: `catchup` must be true or false, not a number"
    );
    assert_eq!(
        problem("max_active_runs: 0\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:18: `max_active_runs` must be a whole number ≥ 1"
    );
    assert_eq!(
        problem("max_active_tasks: -2\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:19: `max_active_tasks` must be a whole number ≥ 1"
    );
    assert_eq!(
        problem("tags: [a, {b: 1}]\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:11: `tags` must be a list of strings; this entry is a mapping"
    );
    assert_eq!(
        problem("description: [x]\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:14: `description` must be a string, not a list"
    );
    assert_eq!(
        problem("tasks:\n  a: 3\n"),
        "pipelines/p.yaml:2:6: task `a` must be a mapping of task keys such as `command` and `depends_on`, not a number"
    );
    assert_eq!(
        problem("schedule: 5\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:11: `schedule` must be a cron expression such as \"0 2 * * *\" or a preset such as @daily, not a number"
    );
}

#[test]
fn duplicate_keys() {
    assert_eq!(
        problems(
            "tasks:\n  a:\n    noop:\n    retries: 1\n    retries: 2\n  b: {noop: }\n  a: {noop: }\n"
        ),
        vec![
            "pipelines/p.yaml:5:5: duplicate key `retries` (first set on line 4)",
            "pipelines/p.yaml:7:3: duplicate key `a` (first set on line 2)",
        ]
    );
    assert_eq!(
        problem("tasks: {a: {noop: }}\ntasks: {b: {noop: }}\n"),
        "pipelines/p.yaml:2:1: duplicate key `tasks` (first set on line 1)"
    );
}

#[test]
fn task_ids() {
    assert_eq!(
        problem("tasks:\n  \"my task\": {noop: }\n"),
        "pipelines/p.yaml:2:3: invalid task id `my task`: use letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_`"
    );
    assert!(
        parse_pipeline(
            FILE,
            "p",
            "tasks:\n  2024_load.v2-x: {noop: }\n  b: {noop: , depends_on: [2024_load.v2-x]}\n"
        )
        .is_ok()
    );
    assert!(
        parse_pipeline(
            FILE,
            "p",
            "tasks:\n  2024: {noop: }\n  b: {noop: , depends_on: [2024]}\n"
        )
        .is_ok()
    );
}

#[test]
fn dependencies() {
    assert_eq!(
        problem("tasks:\n  extract: {noop: }\n  load:\n    depends_on: [extarct]\n    noop:\n"),
        "pipelines/p.yaml:4:18: task `load` depends on `extarct`, which is not a task of this pipeline; did you mean `extract`?"
    );
    assert_eq!(
        problem("tasks:\n  a:\n    depends_on: a\n    noop:\n"),
        "pipelines/p.yaml:3:17: task `a` depends on itself"
    );
    assert_eq!(
        problem(
            "tasks:\n  a: {noop: , depends_on: [c]}\n  b: {noop: , depends_on: [a]}\n  c: {noop: , depends_on: [b]}\n  d: {noop: , depends_on: [c]}\n"
        ),
        "pipelines/p.yaml:2:3: cycle: a -> b -> c -> a (each task depends on the one before it)"
    );
}

#[test]
fn actions() {
    assert_eq!(
        problem("tasks:\n  x:\n    retries: 1\n"),
        "pipelines/p.yaml:2:3: task `x` has no action: add one of command, http, noop, crawl, sql, function, wait_for, copy, transform"
    );
    assert_eq!(
        problem("tasks:\n  x:\n"),
        "pipelines/p.yaml:2:3: task `x` has no action: add one of command, http, noop, crawl, sql, function, wait_for, copy, transform"
    );
    assert_eq!(
        problem("tasks:\n  x:\n    command: ./a\n    http: http://b\n"),
        "pipelines/p.yaml:4:5: task `x` has two actions, `command` and `http`: keep one"
    );
    assert_eq!(
        problem("tasks:\n  x:\n    http: http://b\n    env: {A: 1}\n"),
        "pipelines/p.yaml:4:5: `env` belongs to the `command` action, but task `x` runs `http`"
    );
    // The action's own check, at the key it names.
    assert_eq!(
        problem("tasks:\n  x:\n    command: []\n"),
        "pipelines/p.yaml:3:5: command list is empty: give the program first, then its arguments"
    );
    assert_eq!(
        problem("tasks:\n  x:\n    command: [a, {b: 1}]\n"),
        "pipelines/p.yaml:3:18: each command argument must be a string"
    );
    assert_eq!(
        problem("tasks:\n  x:\n    http:\n      url: http://x\n      expect_status: 700\n"),
        "pipelines/p.yaml:5:7: expect_status must be a status code (100-599) or a list of them"
    );
    assert_eq!(
        problem("tasks:\n  x:\n    command: a\n    env: [A]\n"),
        "pipelines/p.yaml:4:5: env must be a mapping of variable names to values"
    );
    assert_eq!(
        problem("tasks:\n  x:\n    command: [a, .nan]\n"),
        "pipelines/p.yaml:3:18: `.nan` is not a finite number"
    );
}

#[test]
fn notifications() {
    assert_eq!(
        problems("on_failure: {retries: 1}\ntasks: {a: {noop: }}\n"),
        vec![
            "pipelines/p.yaml:1:13: the `on_failure` notification has no action: add `webhook` or one of command, http, noop, crawl, sql, function, wait_for, copy, transform",
            "pipelines/p.yaml:1:14: unknown key `retries` in `on_failure` notification",
        ]
    );
    // A misspelled action is reported once, not also as a missing action.
    assert_eq!(
        problem("tasks:\n  a:\n    comand: ./x\n"),
        "pipelines/p.yaml:3:5: unknown key `comand` in task `a`; did you mean `command`?"
    );
    assert_eq!(
        problem("on_failure: {}\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:13: the `on_failure` notification has no action: add `webhook` or one of command, http, noop, crawl, sql, function, wait_for, copy, transform"
    );
    assert_eq!(
        problem("on_success:\n  - webhook: ftp://x\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:2:14: `webhook` must be an http:// or https:// URL, not `ftp://x`"
    );
    assert_eq!(
        problem("on_success: {webhook: \"http://x\", command: y}\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:35: the `on_success` notification has both `webhook` and `command`: a notification is a webhook or an action"
    );
    assert_eq!(
        problem("on_success: http://x\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:13: `on_success` must be a notification ({webhook: URL} or an action such as {command: ...}) or a list of them, not a string"
    );
    assert_eq!(
        problem("on_failure:\n  - command: \"notify {{ run_id \"\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:2:25: invalid template: syntax error: unexpected end of input, expected end of variable block"
    );
}

#[test]
fn schedules_and_timezones() {
    assert_eq!(
        problem("schedule: \"0 25 * * *\"\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:11: invalid cron expression `0 25 * * *`: hour `25` is out of range (0-23)"
    );
    assert_eq!(
        problem("schedule: \"@reboot\"\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:11: unsupported schedule preset `@reboot` (presets: @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually; or use a cron expression)"
    );
    assert_eq!(
        problem("timezone: europe/paris\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:11: unknown timezone `europe/paris`; did you mean `Europe/Paris`? (use an IANA name such as Europe/Paris, or UTC)"
    );
    assert!(
        parse_pipeline(
            FILE,
            "p",
            "schedule: \"*/15 * * * * *\"\ntasks: {a: {noop: }}\n"
        )
        .is_ok()
    );
}

#[test]
fn dates() {
    assert_eq!(
        problem("start_date: 2026-02-30\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:13: invalid `start_date` `2026-02-30`: expected a date (YYYY-MM-DD, midnight in the pipeline's timezone) or an RFC 3339 timestamp such as 2026-01-01T00:00:00Z"
    );
    assert_eq!(
        problem("start_date: 20260101\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:13: `start_date` must be a date (YYYY-MM-DD, midnight in the pipeline's timezone) or an RFC 3339 timestamp such as 2026-01-01T00:00:00Z, not a number"
    );
    assert_eq!(
        problem("start_date: 2026-02-01\nend_date: 2026-01-01\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:2:11: `end_date` (2026-01-01 00:00:00 UTC) is before `start_date` (2026-02-01 00:00:00 UTC)"
    );
    let p = parse_pipeline(
        FILE,
        "p",
        "start_date: 2026-01-01T06:30:00+02:00\ntasks: {a: {noop: }}\n",
    )
    .unwrap();
    assert_eq!(p.start_date, Some(utc("2026-01-01T04:30:00Z")));
}

#[test]
fn params() {
    assert_eq!(
        problem("params: [a]\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:1:9: `params` must be a mapping of param names to default values, not a list"
    );
    assert_eq!(
        problem("params:\n  my-param: 1\ntasks: {a: {noop: }}\n"),
        "pipelines/p.yaml:2:3: param name `my-param` is not an identifier: use letters, digits and `_`, not starting with a digit"
    );
    assert_eq!(
        problem(
            "params: {region: eu}\ntasks:\n  a:\n    command: run --region {{ params.regoin }}\n"
        ),
        "pipelines/p.yaml:4:37: `params.regoin` is not declared in `params`; did you mean `region`?"
    );
}

#[test]
fn map_over() {
    let ok = "tasks:\n  list: {noop: }\n  mid: {noop: , depends_on: [list]}\n  each:\n    depends_on: [mid]\n    map_over: tasks.list.output\n    noop:\n";
    assert_eq!(
        parse_pipeline(FILE, "p", ok).unwrap().tasks["each"]
            .map_over
            .as_deref(),
        Some("tasks.list.output")
    );
    // An expression without task references (e.g. over params) is fine.
    let params =
        "params: {days: [1, 2]}\ntasks:\n  each:\n    map_over: \"{{ params.days }}\"\n    noop:\n";
    assert_eq!(
        parse_pipeline(FILE, "p", params).unwrap().tasks["each"]
            .map_over
            .as_deref(),
        Some("params.days")
    );
    assert_eq!(
        problem("tasks:\n  list: {noop: }\n  each:\n    map_over: tasks.list.output\n    noop:\n"),
        "pipelines/p.yaml:4:21: `map_over` of task `each` uses `tasks.list`, which is not upstream of `each`: add `list` to its `depends_on`"
    );
    assert_eq!(
        problem(
            "tasks:\n  list: {noop: }\n  each:\n    depends_on: [list]\n    map_over: \"{{ tasks.lst.output }}\"\n    noop:\n"
        ),
        "pipelines/p.yaml:5:25: `map_over` of task `each` uses `tasks.lst`, which is not a task of this pipeline; did you mean `list`?"
    );
    assert_eq!(
        problem("tasks:\n  each:\n    map_over: \"tasks.x[\"\n    noop:\n"),
        "pipelines/p.yaml:3:23: invalid `map_over` expression: syntax error: unexpected end of input, expected expression"
    );
    assert_eq!(
        problem("tasks:\n  each:\n    map_over: \"{{ }}\"\n    noop:\n"),
        "pipelines/p.yaml:3:15: `map_over` is empty: give an expression such as tasks.list.output.files"
    );
}

#[test]
fn invalid_templates() {
    assert_eq!(
        problem("tasks:\n  a:\n    command: ./run.sh {{ ds }} {% if x %}\n"),
        "pipelines/p.yaml:3:40: invalid template: syntax error: unexpected end of input, expected end of block"
    );
    assert_eq!(
        problem("tasks:\n  a:\n    http:\n      url: http://x\n      body: \"{{ params. }}\"\n"),
        "pipelines/p.yaml:5:25: invalid template: syntax error: unexpected end of variable block, expected identifier or integer"
    );
    // A literal block: the error points into its line.
    assert_eq!(
        problem("tasks:\n  a:\n    command: |\n      echo one\n      echo {{ two\n"),
        "pipelines/p.yaml:5:15: invalid template: syntax error: unexpected end of input, expected end of variable block"
    );
    // A folded string cannot be mapped back: the error points at its start.
    assert_eq!(
        problem("tasks:\n  a:\n    command: >\n      echo one\n      echo {{ two\n"),
        "pipelines/p.yaml:4:7: invalid template: syntax error: unexpected end of input, expected end of variable block"
    );
}

#[test]
fn on_lost_says_what_a_lost_attempt_does() {
    let pipeline = parse_pipeline(
        "pipelines/p.yaml",
        "p",
        "default_args:\n  on_lost: fail\ntasks:\n  a: {noop: }\n  b: {noop: , on_lost: rerun}\n",
    )
    .expect("valid");
    assert_eq!(pipeline.tasks["a"].on_lost, OnLost::Fail);
    assert_eq!(pipeline.tasks["b"].on_lost, OnLost::Rerun);
    let default =
        parse_pipeline("pipelines/p.yaml", "p", "tasks:\n  a: {noop: }\n").expect("valid");
    assert_eq!(default.tasks["a"].on_lost, OnLost::Rerun);
    assert_eq!(
        problem("tasks:\n  a:\n    noop:\n    on_lost: fial\n"),
        "pipelines/p.yaml:4:14: unknown on_lost policy `fial`; did you mean `fail`? (one of rerun, fail)"
    );
}
