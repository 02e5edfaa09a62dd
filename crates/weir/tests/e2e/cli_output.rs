//! What the CLI prints, as a user reads it: closed pipes, counts, times, orders, colours.

use std::process::{Command, Stdio};

use crate::support::*;

/// Runs `weir` with its stdout a pipe whose reading end is already closed (`weir … | head` after
/// `head` has exited), and returns its exit status and stderr.
fn weir_into_closed_pipe(
    args: &[&str],
    server: Option<&str>,
) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("WEIR_SERVER")
        .stdout(writer)
        .stderr(Stdio::piped());
    if let Some(url) = server {
        command.env("WEIR_SERVER", url);
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
        let (status, err) = weir_into_closed_pipe(args, Some(&server.url));
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "weir {} into a closed pipe:\n{err}",
            args.join(" ")
        );
        assert_eq!(status.code(), Some(0), "{err}");
    }
}
