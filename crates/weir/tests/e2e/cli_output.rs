//! What the CLI prints, as a user reads it: closed pipes, counts, times, orders, colours.

use std::process::{Command, Stdio};

use crate::support::*;

/// Runs `weir` with its stdout a pipe whose reading end is already closed (`weir … | head` after
/// `head` has exited), and returns its exit status and stderr.
fn weir_into_closed_pipe(
    args: &[&str],
    server: Option<&Server>,
) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("WEIR_SERVER")
        .stdout(writer)
        .stderr(Stdio::piped());
    if let Some(server) = server {
        command
            .env("WEIR_SERVER", &server.url)
            .env("WEIR_TOKEN", server.token());
    }
    let output = command.output().expect("run weir");
    (output.status, stderr(&output))
}

#[test]
fn a_closed_pipe_ends_the_cli_quietly() {
    let project = Project::new();
    // Enough problems that validate writes several lines to stdout.
    project.pipeline(
        "broken",
        "tasks:\n  a:\n    comand: x\n  b:\n    depends_on: [nope]\n    command: y\n",
    );
    let (status, err) =
        weir_into_closed_pipe(&["validate", project.path().to_str().unwrap()], None);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "a closed pipe must end weir quietly:\n{err}"
    );
    assert_eq!(status.code(), Some(0), "{err}");

    std::fs::remove_file(project.path().join("pipelines/broken.yaml")).unwrap();
    project.pipeline("hello", "tasks:\n  a:\n    command: echo hi\n");
    let server = Server::start(project.path());
    for args in [
        &["pipelines", "list"][..],
        &["pipelines", "list", "--json"][..],
    ] {
        let (status, err) = weir_into_closed_pipe(args, Some(&server));
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "weir {} into a closed pipe:\n{err}",
            args.join(" ")
        );
        assert_eq!(status.code(), Some(0), "{err}");
    }
}

#[test]
fn counts_agree_with_their_nouns() {
    let project = Project::new();
    project.pipeline("hello", "tasks:\n  a:\n    command: echo hi\n");
    let ok = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(stderr(&ok).trim(), "ok: 1 pipeline, no problems");

    project.pipeline("hello", "tasks:\n  a:\n    comand: echo hi\n");
    let one = weir(&["validate", project.path().to_str().unwrap()]);
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(stderr(&one).trim(), "1 problem", "{}", stdout(&one));
}

#[test]
fn unknown_configuration_keys_get_a_suggestion() {
    let project = Project::new();
    project.write("weir.toml", "[executor]\nmax_paralel_tasks = 4\n");
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(
            "weir.toml:2:1: unknown key `max_paralel_tasks`; did you mean `max_parallel_tasks`?"
        ),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_help_advertises_only_what_exists() {
    let help = stdout(&weir(&["--help"]));
    for present in ["streams", "rules", "events", "queues"] {
        assert!(help.contains(present), "{help}");
    }
    // Each advertised command answers its own help (it exists, not only its name).
    for command in ["rules", "events", "queues"] {
        let output = weir(&[command, "--help"]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

#[test]
fn tasks_are_listed_in_graph_order_and_the_server_leaves_the_project_alone() {
    let project = Project::new();
    // File order and graph order agree, and both differ from alphabetical order.
    project.pipeline(
        "ordered",
        "tasks:\n  zeta:\n    command: echo one\n  alpha:\n    depends_on: [zeta]\n    command: echo two\n    pool: default\n  mid:\n    depends_on: [alpha]\n    command: echo three\n",
    );
    let server = Server::start(project.path());

    let shown = server.cli(&["pipelines", "show", "ordered"]);
    let text = stdout(&shown);
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("TASK"))
        .collect();
    assert!(rows[0].ends_with("POOL"), "{text}");
    let order: Vec<&str> = rows[1..]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(order, ["zeta", "alpha", "mid"], "{text}");
    assert!(rows[1].ends_with("default"), "{text}");

    let run = server.trigger_wait("ordered", &[]);
    assert_eq!(run["state"], "success", "{run}");
    let run_id = run["run_id"].as_str().unwrap();
    let shown = server.cli(&["runs", "show", run_id]);
    let text = stdout(&shown);
    let order: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("TASK"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(order, ["zeta", "alpha", "mid"], "{text}");
    let waited = stdout(&server.cli(&["runs", "wait", run_id]));
    let seconds = waited.trim().rsplit("  ").next().unwrap_or_default();
    let digits = seconds.trim_end_matches('s');
    assert!(
        digits.parse::<f64>().is_ok() && digits.split('.').nth(1).is_none_or(|d| d.len() <= 3),
        "a duration is rounded to the millisecond: {waited}"
    );

    // A server log written to a file has no colour codes.
    assert!(
        !server.log_text().contains('\u{1b}'),
        "ANSI escapes in a log file:\n{}",
        server.log_text()
    );

    // The server created no folder in the project; a folder made later is still watched.
    for folder in ["machines", "functions"] {
        assert!(
            !project.path().join(folder).exists(),
            "the server created {folder}/ in the project"
        );
    }
    project.write(
        "machines/later.asl.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    assert!(
        eventually(std::time::Duration::from_secs(10), || {
            stdout(&server.cli(&["machines", "list"])).contains("later")
        }),
        "a machines/ folder created after the start is watched:\n{}",
        server.log_text()
    );
}

#[test]
fn sql_output_keeps_column_names_and_rounds_times() {
    let project = Project::new();
    let server = Server::start(project.path());
    let output = server.cli(&["sql", "SELECT 1 AS \"MixedCase\", 'x' AS lower_name"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(
        text.lines().next().unwrap_or_default(),
        "MixedCase  lower_name",
        "{text}"
    );
    let summary = stderr(&output);
    let summary = summary.trim();
    let time = summary
        .strip_prefix("1 row in ")
        .and_then(|rest| rest.strip_suffix(" ms").or_else(|| rest.strip_suffix(" s")))
        .unwrap_or_else(|| panic!("summary: {summary}"));
    let significant = time.chars().filter(char::is_ascii_digit).count();
    assert!(
        time.parse::<f64>().is_ok() && significant <= 4,
        "an elapsed time is rounded: {summary}"
    );
}

#[test]
fn a_crawl_names_the_files_it_ignores() {
    let project = Project::new();
    project.write("orders.csv", "id,amount\n1,2.5\n");
    project.write("notes.txt", "not data\n");
    let server = Server::start(project.path());
    let csv = project.path().join("orders.csv");
    let txt = project.path().join("notes.txt");
    for (file, key) in [
        (&csv, "raw/orders/orders.csv"),
        (&txt, "raw/orders/notes.txt"),
    ] {
        let put = server.cli(&["lake", "put", file.to_str().unwrap(), key]);
        assert!(put.status.success(), "{}", stderr(&put));
    }
    let crawl = server.cli(&["crawl", "raw/", "--database", "raw"]);
    assert!(crawl.status.success(), "{}", stderr(&crawl));
    assert!(
        stderr(&crawl)
            .lines()
            .any(|l| l.starts_with("ignored raw/orders/notes.txt: ")),
        "{}",
        stderr(&crawl)
    );
}
