//! The first path a user takes: help, init, validate, server, trigger, show, logs.

use serde_json::Value;

use crate::support::*;

#[test]
fn every_command_has_help_with_an_example() {
    let top = weir(&["--help"]);
    assert!(top.status.success());
    let text = stdout(&top);
    for command in ["init", "validate", "server", "pipelines", "runs", "bench"] {
        assert!(
            text.contains(command),
            "--help does not list {command}:\n{text}"
        );
        let help = weir(&[command, "--help"]);
        assert!(
            stdout(&help).contains("Example"),
            "weir {command} --help has no example:\n{}",
            stdout(&help)
        );
    }
    for (group, subs) in [
        (
            "pipelines",
            &[
                "list", "show", "trigger", "backfill", "runs", "pause", "unpause", "reload",
            ][..],
        ),
        (
            "runs",
            &["list", "show", "logs", "retry", "cancel", "mark", "wait"][..],
        ),
    ] {
        for sub in subs {
            let help = weir(&[group, sub, "--help"]);
            assert!(
                help.status.success() && stdout(&help).contains("Example"),
                "weir {group} {sub} --help has no example"
            );
        }
    }
}

#[test]
fn init_validate_serve_trigger_show_logs() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("demo");
    let init = weir(&["init", dir.to_str().unwrap()]);
    assert!(init.status.success(), "{}", stderr(&init));
    let again = weir(&["init", dir.to_str().unwrap()]);
    assert!(!again.status.success(), "init must not overwrite a project");
    let validate = weir(&["validate", dir.to_str().unwrap()]);
    assert!(
        validate.status.success(),
        "{}{}",
        stdout(&validate),
        stderr(&validate)
    );

    let server = Server::start(&dir);
    let list = server.json(&["pipelines", "list"]);
    assert_eq!(list["pipelines"][0]["name"], "example");

    let run = server.trigger_wait("example", &["--param", "greeting=bonjour"]);
    assert_eq!(run["state"], "success", "{run}");
    let run_id = run["run_id"].as_str().unwrap().to_string();

    let shown = server.json(&["runs", "show", &run_id]);
    let states = task_states(&shown);
    assert_eq!(states.get("extract").map(String::as_str), Some("success"));
    assert_eq!(states.get("process").map(String::as_str), Some("success"));
    assert_eq!(states.get("report").map(String::as_str), Some("success"));
    let mapped = shown["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["task_id"] == "process" && t["map_index"].as_i64() >= Some(0))
        .count();
    assert_eq!(mapped, 3, "one instance per element of extract's output");
    let events: Vec<&Value> = shown["events"].as_array().unwrap().iter().collect();
    assert!(
        events
            .iter()
            .any(|e| e["state"] == "queued" && e["task_id"].is_null()),
        "audit trail has the run being queued"
    );
    assert!(
        events.iter().filter(|e| e["task_id"] == "extract").count() >= 2,
        "audit trail has extract running and succeeding"
    );
    assert!(
        events.iter().all(|e| e["at"].as_str().is_some()),
        "every event has a timestamp"
    );

    let logs = server.cli(&["runs", "logs", &run_id, "extract"]);
    assert!(
        stdout(&logs).contains("bonjour for "),
        "the param override reached the command:\n{}",
        stdout(&logs)
    );
    let report = server.cli(&["runs", "logs", &run_id, "report"]);
    assert!(
        stdout(&report).contains("processed 3 items on "),
        "{}",
        stdout(&report)
    );

    let human = server.cli(&["runs", "show", &run_id]);
    assert!(
        stdout(&human).contains("STATE"),
        "human output is a table:\n{}",
        stdout(&human)
    );
}

#[test]
fn health_metrics_openapi_and_errors() {
    let project = Project::new();
    project.pipeline("hello", "tasks:\n  a: { noop: true }\n");
    let server = Server::start(project.path());
    let health = server.get_json("/healthz");
    assert_eq!(health["status"], "ok");
    let run = server.trigger_wait("hello", &[]);
    assert_eq!(run["state"], "success");
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("weir_task_attempts_total"), "{metrics}");
    assert!(metrics.contains("weir_runs_total"), "{metrics}");
    let openapi = server.get_json("/api/v1/openapi.json");
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/v1/runs/{run_id}/retry"]["post"].is_object());
    let (status, body) = server.post("/api/v1/pipelines/nope/runs", "{}");
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.post("/api/v1/pipelines/hello/runs", "{\"parms\": {}}");
    assert_eq!(status, 400);
    assert!(body.contains("parms"), "the error names the field: {body}");
    let (status, body) = server.post(
        "/api/v1/pipelines/hello/backfill",
        "{\"from\": \"yesterday\", \"to\": \"2026-01-02\"}",
    );
    assert_eq!(status, 400);
    assert!(body.contains("`from`"), "{body}");
    let (status, _) = server.get("/");
    assert_eq!(status, 200);
    let (status, body) = server.post("/", "{}");
    assert_eq!(status, 400);
    assert!(body.contains("__type"), "AWS error shape: {body}");
}

#[test]
fn client_reports_an_unreachable_server() {
    let output = std::process::Command::new(BIN)
        .args(["pipelines", "list"])
        .env("WEIR_SERVER", format!("http://127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot reach the weir server"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn configuration_layers_file_then_environment_then_flags() {
    let project = Project::new();
    project.pipeline("hello", "tasks:\n  a: { noop: true }\n");
    let file_port = free_port();
    let env_port = free_port();
    project.write(
        "weir.toml",
        &format!("[server]\nlisten = \"127.0.0.1:{file_port}\"\ndata_dir = \"state\"\n"),
    );
    let start = |env: &[(&str, String)]| {
        let mut command = std::process::Command::new(BIN);
        command
            .args(["server", "--project"])
            .arg(project.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        command.spawn().unwrap()
    };
    let up = |port: u16| {
        eventually(std::time::Duration::from_secs(20), || {
            http("GET", &format!("http://127.0.0.1:{port}/healthz"), None).is_some()
        })
    };
    let mut from_file = start(&[]);
    assert!(up(file_port), "server.listen from weir.toml");
    assert!(
        project.path().join("state/weir.db").exists(),
        "server.data_dir from weir.toml, relative to the project"
    );
    from_file.kill().unwrap();
    from_file.wait().unwrap();
    let mut from_env = start(&[("WEIR_SERVER_LISTEN", format!("127.0.0.1:{env_port}"))]);
    assert!(up(env_port), "WEIR_SERVER_LISTEN overrides the file");
    from_env.kill().unwrap();
    from_env.wait().unwrap();
    let bad = std::process::Command::new(BIN)
        .args(["server", "--project"])
        .arg(project.path())
        .env("WEIR_EXECUTOR_MAX_PARALLEL_TASKS", "lots")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("$WEIR_EXECUTOR_MAX_PARALLEL_TASKS"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn the_quickstart_and_the_documented_configuration_are_valid() {
    let root = manifest_dir().join("../..");
    let quickstart = weir(&[
        "validate",
        root.join("examples/quickstart").to_str().unwrap(),
    ]);
    assert!(
        quickstart.status.success(),
        "{}{}",
        stdout(&quickstart),
        stderr(&quickstart)
    );
    let doc = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let toml = doc
        .split("```toml file=weir.toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a weir.toml block in docs/configuration.md");
    let project = Project::new();
    project.write("weir.toml", toml);
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "docs/configuration.md's weir.toml is not valid: {}",
        stdout(&output)
    );
}
