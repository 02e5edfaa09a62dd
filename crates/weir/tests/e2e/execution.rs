//! Executing pipelines: retries with backoff, timeouts, trigger rules, pools, outputs and
//! templates, dynamic mapping, the http action, notifications.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

#[test]
fn retries_with_exponential_backoff_then_success() {
    let project = Project::new();
    // Fails on the first two attempts, succeeds on the third.
    project.pipeline(
        "flaky",
        r#"
tasks:
  flaky:
    command: echo "try $WEIR_TRY_NUMBER"; test "$WEIR_TRY_NUMBER" -ge 3
    retries: 3
    retry_delay: 200ms
    retry_exponential_backoff: true
    max_retry_delay: 300ms
"#,
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("flaky", &[]);
    assert_eq!(run["state"], "success", "{run}");
    let id = run["run_id"].as_str().unwrap();
    let attempts = server.attempts(id, "flaky");
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert_eq!(attempts[0]["state"], "failed");
    assert_eq!(attempts[0]["exit_code"], 1);
    assert_eq!(attempts[2]["state"], "success");
    let gap = |a: &Value, b: &Value| {
        (b["started_at_us"].as_i64().unwrap() - a["ended_at_us"].as_i64().unwrap()) as f64 / 1000.0
    };
    let first_delay = gap(&attempts[0], &attempts[1]);
    let second_delay = gap(&attempts[1], &attempts[2]);
    assert!(
        first_delay >= 190.0,
        "first retry waits retry_delay: {first_delay} ms"
    );
    assert!(
        second_delay >= 290.0,
        "second retry backs off, capped by max_retry_delay: {second_delay} ms"
    );
    assert!(
        second_delay < 1500.0,
        "max_retry_delay caps the backoff: {second_delay} ms"
    );
    let logs = server.cli(&["runs", "logs", id, "flaky"]);
    let text = stdout(&logs);
    for n in 1..=3 {
        assert!(
            text.contains(&format!("try {n}")),
            "logs of every attempt are kept:\n{text}"
        );
    }
    let events = server.get_json(&format!("/api/v1/runs/{id}/events"));
    assert_eq!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["state"] == "up_for_retry")
            .count(),
        2
    );
}

#[test]
fn a_timed_out_command_is_stopped_and_fails() {
    let project = Project::new();
    project.pipeline(
        "slow",
        r#"
tasks:
  slow:
    command: echo started; sleep 30; echo never
    timeout: 500ms
"#,
    );
    let server = Server::start(project.path());
    let started = std::time::Instant::now();
    let run = server.trigger_wait("slow", &[]);
    assert_eq!(run["state"], "failed", "{run}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the timeout stopped the task"
    );
    let id = run["run_id"].as_str().unwrap();
    let attempts = server.attempts(id, "slow");
    assert_eq!(attempts[0]["state"], "timed_out");
    let shown = server.run(id);
    assert!(
        server.task(&shown, "slow")["error"]
            .as_str()
            .unwrap()
            .contains("timed out")
    );
    // The shell and its sleep are gone: nothing carries this server's marker any more.
    let marker = format!(
        "WEIR_INSTANCE={}",
        server.data.canonicalize().unwrap().display()
    );
    assert!(
        eventually(Duration::from_secs(5), || !processes_with(&marker)),
        "the process group was killed"
    );
}

pub fn processes_with(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("environ"))
            .map(|env| env.split(|b| *b == 0).any(|v| v == marker.as_bytes()))
            .unwrap_or(false)
    })
}

#[test]
fn trigger_rules_decide_downstream_tasks() {
    let project = Project::new();
    project.pipeline(
        "rules",
        r#"
tasks:
  ok: { noop: true }
  bad: { noop: { fail: true } }
  all_success: { noop: true, depends_on: [ok, bad] }
  all_done: { noop: true, depends_on: [ok, bad], trigger_rule: all_done }
  all_failed: { noop: true, depends_on: [bad], trigger_rule: all_failed }
  one_success: { noop: true, depends_on: [ok, bad], trigger_rule: one_success }
  one_failed: { noop: true, depends_on: [ok, bad], trigger_rule: one_failed }
  none_failed: { noop: true, depends_on: [ok, bad], trigger_rule: none_failed }
  after_skip: { noop: true, depends_on: [all_failed_skip] }
  all_failed_skip: { noop: true, depends_on: [ok], trigger_rule: all_failed }
  none_failed_after_skip: { noop: true, depends_on: [all_failed_skip, ok], trigger_rule: none_failed }
"#,
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("rules", &[]);
    assert_eq!(run["state"], "failed", "a failed task fails the run");
    let states = task_states(&server.run(run["run_id"].as_str().unwrap()));
    let expect = [
        ("ok", "success"),
        ("bad", "failed"),
        ("all_success", "upstream_failed"),
        ("all_done", "success"),
        ("all_failed", "success"),
        ("one_success", "success"),
        ("one_failed", "success"),
        ("none_failed", "upstream_failed"),
        ("all_failed_skip", "skipped"),
        ("after_skip", "skipped"),
        ("none_failed_after_skip", "success"),
    ];
    for (task, state) in expect {
        assert_eq!(
            states.get(task).map(String::as_str),
            Some(state),
            "task {task}: {states:?}"
        );
    }
}

#[test]
fn a_pool_limits_concurrency_across_pipelines() {
    let project = Project::new();
    project.write("weir.toml", "[pools]\nsingle = 1\n");
    let task = |name: &str| {
        format!(
            "  {name}:\n    command: echo start $(date +%s%N) >> ../journal; sleep 0.2; echo end $(date +%s%N) >> ../journal\n    pool: single\n    working_dir: pipelines\n"
        )
    };
    project.pipeline("one", &format!("tasks:\n{}{}", task("a"), task("b")));
    project.pipeline("two", &format!("tasks:\n{}{}", task("c"), task("d")));
    let server = Server::start(project.path());
    let first = server.json(&["pipelines", "trigger", "one"]);
    let second = server.json(&["pipelines", "trigger", "two"]);
    assert_eq!(
        server.wait_run(first["run_id"].as_str().unwrap())["state"],
        "success"
    );
    assert_eq!(
        server.wait_run(second["run_id"].as_str().unwrap())["state"],
        "success"
    );
    let journal = project.read("journal");
    let mut depth = 0;
    let mut max_depth = 0;
    let mut events: Vec<(u128, i32)> = journal
        .lines()
        .map(|l| {
            let (kind, at) = l.split_once(' ').unwrap();
            (
                at.trim().parse().unwrap(),
                if kind == "start" { 1 } else { -1 },
            )
        })
        .collect();
    events.sort_by_key(|(at, delta)| (*at, *delta));
    for (_, delta) in events {
        depth += delta;
        max_depth = max_depth.max(depth);
    }
    assert_eq!(journal.lines().count(), 8, "{journal}");
    assert_eq!(
        max_depth, 1,
        "pool `single` ran more than one task at a time:\n{journal}"
    );
}

#[test]
fn outputs_templates_and_dynamic_mapping() {
    let project = Project::new();
    project.pipeline(
        "mapping",
        r#"
params: { prefix: item, count: 3 }
tasks:
  list:
    command: >-
      python3 -c "import json; print(json.dumps({'files': ['{{ params.prefix }}-%d' % i for i in range({{ params.count }})]}))" > "$WEIR_OUTPUT"
  each:
    depends_on: [list]
    map_over: "{{ tasks.list.output.files }}"
    command: echo "{{ item }}|{{ map_index }}" > "$WEIR_OUTPUT"
  total:
    depends_on: [each]
    command: [echo, "{{ tasks.each.output | join(',') }} on {{ ds }} run {{ run_id }}"]
"#,
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait(
        "mapping",
        &["--param", "count=4", "--logical-date", "2026-03-15"],
    );
    assert_eq!(run["state"], "success", "{run}");
    let id = run["run_id"].as_str().unwrap();
    let shown = server.run(id);
    assert_eq!(
        server.task(&shown, "list")["output"]["files"]
            .as_array()
            .unwrap()
            .len(),
        4,
        "the typed param override (count=4) was used"
    );
    let each = server.task(&shown, "each");
    assert_eq!(
        each["output"],
        serde_json::json!(["item-0|0", "item-1|1", "item-2|2", "item-3|3"])
    );
    let logs = stdout(&server.cli(&["runs", "logs", id, "total"]));
    assert!(
        logs.contains(
            "item-0|0,item-1|1,item-2|2,item-3|3 on 2026-03-15 run mapping__manual__20260315T000000"
        ),
        "{logs}"
    );
}

#[test]
fn an_unknown_param_is_rejected_with_a_suggestion() {
    let project = Project::new();
    project.pipeline("p", "params: { region: eu }\ntasks:\n  a: { noop: true }\n");
    let server = Server::start(project.path());
    let output = server.cli(&["pipelines", "trigger", "p", "--param", "regoin=us"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("did you mean `region`"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        server.json(&["runs", "list"])["runs"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing was created"
    );
}

#[test]
fn the_http_action_succeeds_on_2xx_and_fails_otherwise() {
    let ok = Recorder::start(200, r#"{"rows": 42}"#);
    let broken = Recorder::start(500, r#"{"error": "boom"}"#);
    let project = Project::new();
    project.pipeline(
        "calls",
        &format!(
            r#"
tasks:
  post:
    http:
      url: {ok}/load?day={{{{ ds }}}}
      method: POST
      headers: {{ X-Run: "{{{{ run_id }}}}" }}
      body: {{ day: "{{{{ ds }}}}" }}
  use_output:
    depends_on: [post]
    command: [echo, "rows={{{{ tasks.post.output.body.rows }}}}"]
  fail:
    http: {broken}/x
"#,
            ok = ok.url,
            broken = broken.url
        ),
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("calls", &["--logical-date", "2026-02-01"]);
    assert_eq!(run["state"], "failed");
    let id = run["run_id"].as_str().unwrap();
    let states = task_states(&server.run(id));
    assert_eq!(states["post"], "success");
    assert_eq!(states["use_output"], "success");
    assert_eq!(states["fail"], "failed");
    assert!(stdout(&server.cli(&["runs", "logs", id, "use_output"])).contains("rows=42"));
    let bodies = ok.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(&bodies[0]).unwrap(),
        serde_json::json!({"day": "2026-02-01"})
    );
    let requests = ok.requests.lock().unwrap().clone();
    assert!(
        requests[0].0.starts_with("POST /load?day=2026-02-01"),
        "{:?}",
        requests[0]
    );
    let error = server.task(&server.run(id), "fail")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("HTTP 500"), "{error}");
}

#[test]
fn notifications_on_failure_and_success() {
    let hook = Recorder::start(200, "{}");
    let project = Project::new();
    project.pipeline(
        "notified",
        &format!(
            r#"
params: {{ fail: "yes" }}
on_failure:
  - webhook: {hook}
on_success:
  command: echo "{{{{ pipeline }}}} {{{{ state }}}}" > ../succeeded
  working_dir: pipelines
tasks:
  work:
    command: echo "something broke here"; test "{{{{ params.fail }}}}" = "no"
"#,
            hook = hook.url
        ),
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("notified", &[]);
    assert_eq!(run["state"], "failed");
    assert!(
        eventually(Duration::from_secs(10), || !hook.bodies().is_empty()),
        "the webhook was called"
    );
    let body: Value = serde_json::from_str(&hook.bodies()[0]).unwrap();
    assert_eq!(body["state"], "failed");
    assert_eq!(body["failed_task"], "work");
    assert!(
        body["failed_tasks"][0]["log_tail"]
            .as_str()
            .unwrap()
            .contains("something broke here"),
        "{body}"
    );
    assert!(
        body["link"]
            .as_str()
            .unwrap()
            .contains(run["run_id"].as_str().unwrap())
    );
    let ok = server.trigger_wait("notified", &["--param", "fail=no"]);
    assert_eq!(ok["state"], "success");
    assert!(
        eventually(Duration::from_secs(10), || project
            .read("succeeded")
            .contains("notified success")),
        "on_success ran its command"
    );
    assert_eq!(
        hook.bodies().len(),
        1,
        "on_failure is not called for a success"
    );
}

#[test]
fn commands_get_env_working_dir_and_their_output_is_the_log() {
    let project = Project::new();
    project.write("data/marker.txt", "found-me\n");
    project.pipeline(
        "cmd",
        r#"
params: { who: world }
tasks:
  shell_line:
    command: echo "to stdout $GREETING {{ params.who }}"; echo "to stderr" >&2; cat marker.txt
    env: { GREETING: hello }
    working_dir: data
  argv:
    command: [printf, "%s|", "a b", "{{ params.who }}", "$NOT_EXPANDED"]
  exit_code:
    command: [sh, -c, "exit 3"]
  untemplated:
    command: echo "ds=$WEIR_DS logical=$WEIR_LOGICAL_DATE"
  items:
    command: >-
      echo '["x.csv", {"k": 1}]' > "$WEIR_OUTPUT"
  each_item:
    depends_on: [items]
    map_over: tasks.items.output
    command: echo "item=$WEIR_ITEM"
"#,
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("cmd", &["--logical-date", "2026-05-04"]);
    assert_eq!(run["state"], "failed", "exit code 3 fails the task");
    let id = run["run_id"].as_str().unwrap();
    let log = stdout(&server.cli(&["runs", "logs", id, "shell_line"]));
    assert!(log.contains("to stdout hello world"), "{log}");
    assert!(log.contains("to stderr"), "stderr is captured too: {log}");
    assert!(
        log.contains("found-me"),
        "working_dir is relative to the project: {log}"
    );
    let argv = stdout(&server.cli(&["runs", "logs", id, "argv"]));
    assert!(
        argv.contains("a b|world|$NOT_EXPANDED|"),
        "a list runs without a shell: {argv}"
    );
    let untemplated = stdout(&server.cli(&["runs", "logs", id, "untemplated"]));
    assert!(
        untemplated.contains("ds=2026-05-04 logical=2026-05-04T00:00:00+00:00"),
        "{untemplated}"
    );
    let items = stdout(&server.cli(&["runs", "logs", id, "each_item"]));
    assert!(
        items.contains("item=x.csv\n") && items.contains("item={\"k\":1}"),
        "strings bare, others JSON: {items}"
    );
    let attempts = server.attempts(id, "exit_code");
    assert_eq!(attempts[0]["exit_code"], 3);
    assert!(
        server.task(&server.run(id), "exit_code")["error"]
            .as_str()
            .unwrap()
            .contains("exited with code 3")
    );
}
