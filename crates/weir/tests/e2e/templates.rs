//! Templates are checked against the context they will get, before anything runs; what still
//! goes wrong at run time names the undefined value, and the log shows the rendered command.

use crate::support::*;

#[test]
fn validate_checks_templates_against_their_context() {
    let project = Project::new();
    project.pipeline(
        "checked",
        r#"tasks:
  extract:
    command: echo "{{ ds | lenght }}"
  load:
    depends_on: [extract]
    command: echo "{{ undefined_thing }} {{ tasks.nosuch.output }} {{ tasks.extract.outptu }}"
  report:
    command: echo "{{ tasks.load.output }} {{ item }} {{ 3 is nmber }}"
on_failure:
  command: echo "{{ failed_task }} {{ tasks.load.output }}"
"#,
    );
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let file = "pipelines/checked.yaml";
    for expected in [
        format!("{file}:3:28: unknown filter `lenght`; did you mean `length`?"),
        format!("{file}:6:23: `undefined_thing` is not defined in the templates of task `load`"),
        format!("{file}:6:51: `tasks.nosuch` is not a task of this pipeline"),
        format!(
            "{file}:6:85: `tasks.extract.outptu`: a task's entry has only `output` and `state`; did you mean `output`?"
        ),
        format!(
            "{file}:8:29: task `report` reads `tasks.load`, which is not upstream of `report` (it may not have run yet): add `load` to its `depends_on`"
        ),
        format!(
            "{file}:8:47: `item` is not defined in the templates of task `report`; `item` is defined only in a task with `map_over`"
        ),
        format!("{file}:8:63: unknown test `nmber`; did you mean `number`?"),
        format!("{file}:10:39: `tasks` is not defined in the templates of a notification"),
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&expected)),
            "missing `{expected}` in:\n{text}"
        );
    }
    assert_eq!(
        stderr(&output).trim(),
        "8 problems",
        "every problem of the file at once:\n{text}"
    );
}

#[test]
fn every_documented_context_name_validates_and_renders() {
    let project = Project::new();
    project.pipeline(
        "names",
        r#"params: { region: eu }
tasks:
  first:
    command: echo '["x"]' > "$WEIR_OUTPUT"
  each:
    depends_on: [first]
    map_over: tasks.first.output
    command: >-
      echo "{{ ds }} {{ ds_nodash }} {{ ts }} {{ ts_nodash }} {{ logical_date }}
      {{ data_interval_start }} {{ data_interval_end }} {{ run_id }} {{ run_type }}
      {{ pipeline }} {{ params.region }} {{ tasks.first.state }} {{ task }}
      {{ try_number }} {{ map_index }} {{ item }}
      {% for n in range(2) %}{{ loop.index }}{% endfor %}"
on_success:
  command: >-
    echo "{{ event }} {{ pipeline }} {{ run_id }} {{ state }} {{ run_type }} {{ logical_date }}
    {{ ds }} {{ params.region }} {{ started_at }} {{ ended_at }} {{ failed_tasks | length }}
    {{ failed_task }} {{ link }}" > notified.txt
"#,
    );
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("names", &[]);
    assert_eq!(run["state"], "success", "{run}");
    assert!(
        eventually(std::time::Duration::from_secs(10), || project
            .read("notified.txt")
            .starts_with("run_succeeded names ")),
        "{}",
        server.log_text()
    );
}

#[test]
fn a_run_time_template_error_names_the_undefined_value_and_the_log_shows_the_command() {
    let project = Project::new();
    // `tasks.list.output` is null (the task writes no output), so `.files` is undefined.
    project.pipeline(
        "nulls",
        r#"tasks:
  list:
    command: echo listed
  count:
    depends_on: [list]
    command: echo "{{ tasks.list.output.files | length }}"
  greet:
    command: echo "hello {{ ds }}"
"#,
    );
    let server = Server::start(project.path());
    let run = server.trigger_wait("nulls", &[]);
    assert_eq!(run["state"], "failed", "{run}");
    let run_id = run["run_id"].as_str().unwrap();
    let shown = server.run(run_id);
    let error = server.task(&shown, "count")["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let why = "`tasks.list.output.files` is undefined because `tasks.list.output` is null";
    assert!(error.contains(why), "{error}");
    let logs = stdout(&server.cli(&["runs", "logs", run_id, "count"]));
    assert!(logs.contains(why), "the attempt's log names it:\n{logs}");

    let logs = stdout(&server.cli(&["runs", "logs", run_id, "greet"]));
    let ds = shown["logical_date"].as_str().unwrap_or_default();
    let ds = &ds[..10.min(ds.len())];
    assert!(
        logs.contains(&format!("[weir] command: echo \"hello {ds}\"")),
        "the log shows the rendered command:\n{logs}"
    );
}

/// A param rendered into a shell line is quoted for where it lands: the value that broke out of
/// `"…"` and ran `exit 3` (issue 11) is now text, in every quoting, and `| safe` is the way to
/// insert shell text on purpose.
#[test]
fn a_param_in_a_shell_line_is_text_not_shell() {
    let project = Project::new();
    project.pipeline(
        "greet",
        r#"params: { greeting: hello, flags: "" }
tasks:
  double:
    command: echo "{{ params.greeting }}" > double.txt
  single:
    command: echo '{{ params.greeting }}' > single.txt
  bare:
    command: printf '%s\n' {{ params.greeting }} > bare.txt
  list:
    command: [printf, "%s", "{{ params.greeting }}"]
  raw:
    command: echo raw {{ params.flags | safe }} > raw.txt
"#,
    );
    let server = Server::start(project.path());
    let greeting = r#"oops"; exit 3; echo "$(touch pwned)`touch pwned`'"#;
    let run = server.trigger_wait(
        "greet",
        &[
            "--param",
            &format!("greeting={greeting}"),
            "--param",
            "flags=; echo raw again",
        ],
    );
    assert_eq!(run["state"], "success", "{run}\n{}", server.log_text());
    for file in ["double.txt", "single.txt", "bare.txt"] {
        assert_eq!(project.read(file), format!("{greeting}\n"), "{file}");
    }
    assert!(
        !project.path().join("pwned").exists(),
        "nothing in the value ran"
    );
    assert_eq!(
        project.read("raw.txt"),
        "raw again\n",
        "`| safe` inserted `; echo raw again` as shell text: its `;` ended the first echo"
    );
    let run_id = run["run_id"].as_str().unwrap();
    let logs = stdout(&server.cli(&["runs", "logs", run_id, "list"]));
    assert!(
        logs.contains(greeting),
        "an argument list passes the value as one argument, unquoted:\n{logs}"
    );
    let logs = stdout(&server.cli(&["runs", "logs", run_id, "bare"]));
    assert!(
        logs.contains(
            r#"[weir] command: printf '%s\n' 'oops"; exit 3; echo "$(touch pwned)`touch pwned`'"#
        ),
        "the log shows the command as quoted:\n{logs}"
    );
}
