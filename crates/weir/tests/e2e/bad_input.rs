//! Bad input through the real binary: `weir validate DIR` prints one `file:line:column: message`
//! line per problem on stdout and exits 1. Each test pins the exact position of one class of
//! mistake; a server started with a broken file serves the others and reports the problem.

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::*;

/// A project with the given files (paths relative to the project).
fn project(files: &[(&str, &str)]) -> Project {
    let project = Project::new();
    for (path, content) in files {
        project.write(path, content);
    }
    project
}

/// `weir validate DIR` with extra environment variables.
fn validate_with(project: &Project, env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .arg("validate")
        .arg(project.path())
        .env_remove("WEIR_SERVER")
        .envs(env.iter().copied())
        .output()
        .expect("run weir validate")
}

/// Validates and expects failure: returns the problem lines.
fn problems(project: &Project) -> Vec<String> {
    problems_with(project, &[])
}

fn problems_with(project: &Project, env: &[(&str, &str)]) -> Vec<String> {
    let output = validate_with(project, env);
    assert_eq!(
        output.status.code(),
        Some(1),
        "weir validate must exit 1 on problems:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    let lines: Vec<String> = stdout(&output).lines().map(String::from).collect();
    assert!(!lines.is_empty(), "no problem printed: {}", stderr(&output));
    lines
}

/// Asserts that `lines` are exactly one problem per `(position, fragments)`, in order: each line
/// starts with `position: ` and contains every fragment.
fn assert_problems(lines: &[String], expected: &[(&str, &[&str])]) {
    assert_eq!(
        lines.len(),
        expected.len(),
        "expected {} problems, got:\n{}",
        expected.len(),
        lines.join("\n")
    );
    for (line, (position, fragments)) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(&format!("{position}: ")),
            "expected a problem at {position}, got:\n{}",
            lines.join("\n")
        );
        for fragment in *fragments {
            assert!(
                line.contains(fragment),
                "the problem at {position} should mention {fragment:?}:\n{line}"
            );
        }
    }
}

#[test]
fn malformed_yaml_points_at_the_syntax_error() {
    let project = project(&[
        // `: ` inside a plain value: YAML reads a second mapping where none may start.
        (
            "pipelines/colon.yaml",
            "tasks:\n  a:\n    command: echo: hi: there\n",
        ),
        (
            "pipelines/quote.yaml",
            "tasks:\n  a:\n    command: \"echo hi\n",
        ),
    ]);
    assert_problems(
        &problems(&project),
        &[
            (
                "pipelines/colon.yaml:3:18",
                &["invalid YAML", "mapping values are not allowed"],
            ),
            (
                "pipelines/quote.yaml:3:14",
                &["invalid YAML", "quoted scalar"],
            ),
        ],
    );
}

#[test]
fn unknown_task_key_is_reported_with_a_suggestion_and_nothing_else() {
    let project = project(&[
        (
            "pipelines/typo.yaml",
            "tasks:\n  extract:\n    comand: echo hi\n    retries: 1\n",
        ),
        (
            "pipelines/http.yaml",
            "tasks:\n  call:\n    http:\n      url: http://127.0.0.1:1/x\n      methd: POST\n",
        ),
    ]);
    // A misspelt action key is one problem, not also "task has no action".
    assert_problems(
        &problems(&project),
        &[
            (
                "pipelines/http.yaml:5:7",
                &["unknown key `methd` in http", "did you mean `method`?"],
            ),
            (
                "pipelines/typo.yaml:3:5",
                &[
                    "unknown key `comand` in task `extract`",
                    "did you mean `command`?",
                ],
            ),
        ],
    );
}

#[test]
fn unknown_top_level_key_is_reported_with_a_suggestion() {
    let project = project(&[(
        "pipelines/daily.yaml",
        "description: daily\nschedul: \"@daily\"\ntasks:\n  a: { noop: true }\n",
    )]);
    assert_problems(
        &problems(&project),
        &[(
            "pipelines/daily.yaml:2:1",
            &[
                "unknown key `schedul` in pipeline `daily`",
                "did you mean `schedule`?",
            ],
        )],
    );
}

#[test]
fn missing_dependency_is_reported_where_it_is_named() {
    let project = project(&[
        (
            "pipelines/deps.yaml",
            "tasks:\n  extract:\n    noop: true\n  load:\n    depends_on: [extarct]\n    noop: true\n",
        ),
        (
            "pipelines/self.yaml",
            "tasks:\n  a:\n    depends_on: [a]\n    noop: true\n",
        ),
    ]);
    assert_problems(
        &problems(&project),
        &[
            (
                "pipelines/deps.yaml:5:18",
                &[
                    "task `load` depends on `extarct`, which is not a task of this pipeline",
                    "did you mean `extract`?",
                ],
            ),
            ("pipelines/self.yaml:3:18", &["task `a` depends on itself"]),
        ],
    );
}

#[test]
fn a_cycle_is_named_in_flow_order_at_its_first_task() {
    let project = project(&[(
        "pipelines/loop.yaml",
        "tasks:\n  start: { noop: true }\n  a:\n    depends_on: [start, c]\n    noop: true\n  b:\n    depends_on: [a]\n    noop: true\n  c:\n    depends_on: [b]\n    noop: true\n",
    )]);
    assert_problems(
        &problems(&project),
        &[("pipelines/loop.yaml:3:3", &["cycle: a -> b -> c -> a"])],
    );
}

#[test]
fn invalid_cron_expressions_and_presets() {
    let project = project(&[
        (
            "pipelines/hour.yaml",
            "schedule: \"0 25 * * *\"\ntasks:\n  a: { noop: true }\n",
        ),
        (
            "pipelines/fields.yaml",
            "tasks:\n  a: { noop: true }\nschedule: \"0 2 * *\"\n",
        ),
        (
            "pipelines/preset.yaml",
            "schedule: \"@dayly\"\ntasks:\n  a: { noop: true }\n",
        ),
        (
            "pipelines/never.yaml",
            "schedule: 0 0 31 2 *\ntasks:\n  a: { noop: true }\n",
        ),
    ]);
    assert_problems(
        &problems(&project),
        &[
            ("pipelines/fields.yaml:3:11", &["5 fields", "has 4"]),
            (
                "pipelines/hour.yaml:1:11",
                &["invalid cron expression `0 25 * * *`: hour `25` is out of range (0-23)"],
            ),
            ("pipelines/never.yaml:1:11", &["never fires"]),
            (
                "pipelines/preset.yaml:1:11",
                &[
                    "unsupported schedule preset `@dayly`",
                    "did you mean `@daily`?",
                ],
            ),
        ],
    );
}

#[test]
fn unknown_timezone_is_reported_with_a_suggestion() {
    let project = project(&[(
        "pipelines/tz.yaml",
        "schedule: \"@daily\"\ntimezone: Europe/Pariss\ntasks:\n  a: { noop: true }\n",
    )]);
    assert_problems(
        &problems(&project),
        &[(
            "pipelines/tz.yaml:2:11",
            &[
                "unknown timezone `Europe/Pariss`",
                "did you mean `Europe/Paris`?",
            ],
        )],
    );
}

#[test]
fn duplicate_keys_are_errors_at_the_second_occurrence() {
    let project = project(&[(
        "pipelines/dup.yaml",
        "tasks:\n  a:\n    noop: true\n    retries: 1\n    retries: 2\n  b:\n    noop: true\n  b:\n    noop: true\n",
    )]);
    assert_problems(
        &problems(&project),
        &[
            (
                "pipelines/dup.yaml:5:5",
                &["duplicate key `retries` (first set on line 4)"],
            ),
            (
                "pipelines/dup.yaml:8:3",
                &["duplicate key `b` (first set on line 6)"],
            ),
        ],
    );
}

#[test]
fn duplicate_pipeline_names_are_reported_on_the_second_file() {
    let task = "tasks:\n  a: { noop: true }\n";
    let project = project(&[
        ("pipelines/sales.yaml", task),
        ("pipelines/sales.yml", task),
    ]);
    assert_problems(
        &problems(&project),
        &[(
            "pipelines/sales.yml:1:1",
            &["duplicate pipeline name `sales`: pipelines/sales.yaml defines it too"],
        )],
    );
    let output = Command::new(BIN)
        .args(["validate", "--json"])
        .arg(project.path())
        .output()
        .unwrap();
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["pipelines"], 1, "the first file still counts: {body}");
}

#[test]
fn bad_params_are_reported_where_they_are_written() {
    let project = project(&[
        (
            "pipelines/list.yaml",
            "params: [region]\ntasks:\n  a: { noop: true }\n",
        ),
        (
            "pipelines/name.yaml",
            "params:\n  region: eu\n  my-region: eu\ntasks:\n  a: { noop: true }\n",
        ),
        (
            "pipelines/undeclared.yaml",
            "params:\n  region: eu\ntasks:\n  a:\n    command: echo {{ params.regoin }}\n",
        ),
        (
            "pipelines/map.yaml",
            "params:\n  region: eu\ntasks:\n  a:\n    map_over: params.files\n    noop: true\n",
        ),
    ]);
    assert_problems(
        &problems(&project),
        &[
            (
                "pipelines/list.yaml:1:9",
                &["`params` must be a mapping of param names to default values, not a list"],
            ),
            (
                "pipelines/map.yaml:5:22",
                &["`params.files` is not declared in `params`"],
            ),
            (
                "pipelines/name.yaml:3:3",
                &["param name `my-region` is not an identifier"],
            ),
            (
                "pipelines/undeclared.yaml:5:29",
                &[
                    "`params.regoin` is not declared in `params`",
                    "did you mean `region`?",
                ],
            ),
        ],
    );
}

#[test]
fn values_of_the_wrong_type_are_reported_at_the_value() {
    let project = project(&[(
        "pipelines/types.yaml",
        r#"catchup: maybe
max_active_runs: 0
start_date: yesterday
tasks:
  a:
    noop: true
    retries: three
    retry_delay: soon
    depends_on: {x: 1}
  b:
    noop: true
    trigger_rule: all_sucess
    timeout: 0
  c:
    command: []
"#,
    )]);
    assert_problems(
        &problems(&project),
        &[
            (
                "pipelines/types.yaml:1:10",
                &["`catchup` must be true or false, not a string"],
            ),
            (
                "pipelines/types.yaml:2:18",
                &["`max_active_runs` must be a whole number ≥ 1"],
            ),
            (
                "pipelines/types.yaml:3:13",
                &["invalid `start_date` `yesterday`"],
            ),
            (
                "pipelines/types.yaml:7:14",
                &["`retries` must be a whole number ≥ 0"],
            ),
            (
                "pipelines/types.yaml:8:18",
                &["invalid `retry_delay`", "`soon`"],
            ),
            (
                "pipelines/types.yaml:9:17",
                &["`depends_on` must be a list of strings; this entry is a mapping"],
            ),
            (
                "pipelines/types.yaml:12:19",
                &[
                    "unknown trigger rule `all_sucess`",
                    "did you mean `all_success`?",
                ],
            ),
            (
                "pipelines/types.yaml:13:14",
                &["`timeout` must be greater than zero"],
            ),
            ("pipelines/types.yaml:15:5", &["command list is empty"]),
        ],
    );
}

#[test]
fn a_task_with_two_actions_is_reported_at_the_second() {
    let project = project(&[(
        "pipelines/two.yaml",
        "tasks:\n  a:\n    command: echo hi\n    noop: true\n",
    )]);
    assert_problems(
        &problems(&project),
        &[(
            "pipelines/two.yaml:4:5",
            &["task `a` has two actions, `command` and `noop`: keep one"],
        )],
    );
}

#[test]
fn a_task_without_an_action_is_reported_at_its_id() {
    let project = project(&[(
        "pipelines/none.yaml",
        "tasks:\n  first: { noop: true }\n  second:\n    depends_on: [first]\n    retries: 2\n",
    )]);
    assert_problems(
        &problems(&project),
        &[(
            "pipelines/none.yaml:3:3",
            &["task `second` has no action: add one of command, http, noop"],
        )],
    );
}

#[test]
fn invalid_templates_are_reported_inside_the_string() {
    let project = project(&[
        (
            "pipelines/syntax.yaml",
            "tasks:\n  a:\n    command: echo {{ ds }\n",
        ),
        (
            "pipelines/upstream.yaml",
            "tasks:\n  list:\n    noop: { output: [1, 2] }\n  each:\n    map_over: tasks.list.output\n    noop: true\n",
        ),
    ]);
    assert_problems(
        &problems(&project),
        &[
            ("pipelines/syntax.yaml:3:25", &["invalid template"]),
            (
                "pipelines/upstream.yaml:5:21",
                &[
                    "`map_over` of task `each` uses `tasks.list`, which is not upstream of `each`",
                    "add `list` to its `depends_on`",
                ],
            ),
        ],
    );
}

#[test]
fn a_bad_weir_toml_is_reported_at_the_key() {
    let unknown = project(&[
        (
            "weir.toml",
            "[server]\nlisten = \"127.0.0.1:8080\"\nlisen = \"127.0.0.1:9090\"\n",
        ),
        ("pipelines/ok.yaml", "tasks:\n  a: { noop: true }\n"),
    ]);
    assert_problems(
        &problems(&unknown),
        &[(
            "weir.toml:3:1",
            &["unknown key `lisen`; did you mean `listen`?"],
        )],
    );
    let wrong_type = project(&[
        ("weir.toml", "[executor]\nmax_parallel_tasks = \"many\"\n"),
        ("pipelines/ok.yaml", "tasks:\n  a: { noop: true }\n"),
    ]);
    assert_problems(
        &problems(&wrong_type),
        &[("weir.toml:2:22", &["invalid type", "expected u32"])],
    );
}

#[test]
fn a_bad_weir_environment_variable_is_named() {
    let project = project(&[("pipelines/ok.yaml", "tasks:\n  a: { noop: true }\n")]);
    assert_problems(
        &problems_with(&project, &[("WEIR_EXECUTOR_MAX_PARALLEL_TASKS", "many")]),
        &[(
            "$WEIR_EXECUTOR_MAX_PARALLEL_TASKS:1:1",
            &["executor.max_parallel_tasks needs a whole number, got `many`"],
        )],
    );
    assert_problems(
        &problems_with(&project, &[("WEIR_POOLS_DB", "lots")]),
        &[(
            "$WEIR_POOLS_DB:1:1",
            &["pool `db` needs a whole number of slots, got `lots`"],
        )],
    );
    // A variable that names no setting (such as the client's WEIR_SERVER) is not a problem.
    let output = validate_with(&project, &[("WEIR_SERVER", "http://example.com")]);
    assert!(output.status.success(), "{}", stdout(&output));
}

#[test]
fn an_undefined_pool_is_reported_with_a_suggestion() {
    let project = project(&[
        ("weir.toml", "[pools]\ndb = 2\n"),
        (
            "pipelines/loads.yaml",
            "tasks:\n  a:\n    noop: true\n    pool: dbb\n  b:\n    noop: true\n    pool: db\n",
        ),
    ]);
    // Reported like every other problem (so `weir validate` exits 1); the pipeline still loads
    // and the pool runs one task at a time.
    assert_problems(
        &problems(&project),
        &[(
            "pipelines/loads.yaml:4:5",
            &[
                "task `a` uses pool `dbb`, which weir.toml does not define under [pools]",
                "did you mean `db`?",
                "one task at a time",
            ],
        )],
    );
    // The same pool defined by the environment is fine.
    let output = validate_with(&project, &[("WEIR_POOLS_DBB", "1")]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn a_server_serves_the_valid_pipelines_and_reports_the_invalid_one() {
    let project = project(&[
        (
            "pipelines/good.yaml",
            "tasks:\n  a:\n    noop: { output: fine }\n",
        ),
        (
            "pipelines/bad.yaml",
            "tasks:\n  a:\n    noop: true\n  b:\n    depends_on: [a]\n    comand: echo\n",
        ),
    ]);
    let server = Server::start(project.path());
    let list = server.json(&["pipelines", "list"]);
    let names: Vec<&str> = list["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["good"], "{list}");
    assert_eq!(
        list["problems"],
        json!([{
            "file": "pipelines/bad.yaml",
            "line": 6,
            "column": 5,
            "message": "unknown key `comand` in task `b`; did you mean `command`?",
        }]),
        "{list}"
    );
    let human = server.cli(&["pipelines", "list"]);
    assert!(
        stderr(&human).contains("pipelines/bad.yaml:6:5: unknown key `comand`"),
        "{}",
        stderr(&human)
    );
    let run = server.trigger_wait("good", &[]);
    assert_eq!(run["state"], "success", "{run}");
    let refused = server.cli(&["pipelines", "trigger", "bad"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("no pipeline `bad`"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_valid_project_validates_cleanly() {
    let project = project(&[
        ("weir.toml", "[pools]\nwarehouse = 2\n"),
        (
            "pipelines/hourly.yaml",
            "schedule: \"@hourly\"\ntimezone: Europe/Paris\nstart_date: 2026-01-01\ntasks:\n  a:\n    command: echo {{ ds }}\n    pool: warehouse\n",
        ),
        (
            "pipelines/manual.yml",
            "params: { n: 3 }\ntasks:\n  list:\n    noop: { output: [1, 2, 3] }\n  each:\n    depends_on: [list]\n    map_over: tasks.list.output\n    command: [echo, \"{{ item }} of {{ params.n }}\"]\n",
        ),
    ]);
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert_eq!(stdout(&output), "", "no problems printed");
    assert!(
        stderr(&output).contains("ok: 2 pipelines, no problems"),
        "{}",
        stderr(&output)
    );
    let output = weir(&["validate", project.path().to_str().unwrap(), "--json"]);
    assert!(output.status.success());
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        body,
        json!({"pipelines": 2, "functions": 0, "transforms": 0, "flows": 0, "problems": []})
    );
}

#[test]
fn durations_too_large_for_a_clock_are_refused_not_a_panic() {
    let project = project(&[(
        "pipelines/huge.yaml",
        "tasks:\n  call:\n    http:\n      url: http://127.0.0.1:9/\n      timeout: 1e300\n  wait:\n    noop: true\n    timeout: 1e300\n",
    )]);
    let lines = problems(&project);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("pipelines/huge.yaml:"), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("timeout")), "{lines:?}");

    // Through the API: a wait of 1e300 seconds is capped (as documented), not a dropped
    // connection; a negative one is refused with the rule.
    let project = project_with_pipeline();
    let server = Server::start(project.path());
    let run = server.trigger_wait("p", &[]);
    let id = run["run_id"].as_str().unwrap_or_default();
    let (status, body) = server.get(&format!("/api/v1/runs/{id}/wait?timeout=1e300"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.get(&format!("/api/v1/runs/{id}/wait?timeout=-1"));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("timeout"), "{body}");
    assert_eq!(server.get("/healthz").0, 200, "the server lives on");
}

fn project_with_pipeline() -> Project {
    project(&[("pipelines/p.yaml", "tasks:\n  a: { noop: true }\n")])
}
