//! `docs/lake.md`, `docs/sql.md`, `docs/functions.md`, `docs/state-machines.md`,
//! `docs/configuration.md`, `docs/secrets.md`, `docs/streams.md`, `docs/events.md` and
//! `docs/queues.md` are shell sessions, and this runs them.
//!
//! A block with `file=PATH` in its info string is written into a fresh project. A ```console
//! block holds `$ command` lines, each followed by the output it prints: the command runs with
//! `sh` in the project, with the real `weir` first on `PATH` and `WEIR_SERVER` pointing at a
//! server the test started; its standard output (standard error when it fails, which the block
//! then must show) is compared line by line. In expected output, a line `...` stands for any
//! number of lines and `[..]` for any text within a line. The lake session runs twice: on the
//! local lake and on S3 (the moto server `scripts/moto.sh` starts).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::markdown::*;
use crate::support::*;

pub(crate) fn doc(name: &str) -> (PathBuf, String) {
    let path = manifest_dir().join("../../docs").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (path, text)
}

/// One `$ command` of a console block and the output shown after it.
pub(crate) struct Step {
    command: String,
    expected: Vec<String>,
    line: usize,
}

pub(crate) fn steps(block: &Block) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for (n, line) in block.text.lines().enumerate() {
        if let Some(command) = line.strip_prefix("$ ") {
            out.push(Step {
                command: command.to_string(),
                expected: Vec::new(),
                line: block.line + 1 + n,
            });
        } else if let Some(step) = out.last_mut() {
            step.expected.push(line.trim_end().to_string());
        } else {
            panic!(
                "docs line {}: a console block starts with a `$ ` command",
                block.line + 1 + n
            );
        }
    }
    out
}

/// Whether `actual` matches `pattern`, where `[..]` matches any text.
fn line_matches(pattern: &str, actual: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether the lines `actual` match `expected`, where a `...` line matches any lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, tail)| line_matches(first, line) && lines_match(rest, tail)),
    }
}

#[test]
fn expected_output_wildcards() {
    assert!(line_matches("a [..] c", "a b c"));
    assert!(line_matches("[..]z", "xyz"));
    assert!(!line_matches("a [..] c", "a b d"));
    assert!(!line_matches("abc", "abcd"));
    let expected = vec!["x".to_string(), "...".to_string(), "z".to_string()];
    assert!(lines_match(&expected, &["x", "y", "y", "z"]));
    assert!(lines_match(&expected, &["x", "z"]));
    assert!(!lines_match(&expected, &["x", "y"]));
}

/// Runs one `$ command` of a console block in `dir` with `sh`, the real `weir` first on `PATH`,
/// `WEIR_SERVER` pointing at `server` (when one runs) and the variables of `env`, and checks what
/// it printed against what the docs show (standard error when the command fails).
/// The longest one documented command may run (`timeout`'s argument).
const STEP_TIME_LIMIT: &str = "120";

pub(crate) fn run_step(
    doc_path: &Path,
    step: &Step,
    dir: &Path,
    server: Option<&Server>,
    env: &[(&str, &str)],
) {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Under a time limit, so a documented wait (`until …; do sleep …; done`) that never ends
    // fails the step instead of hanging the suite.
    let mut command = Command::new("timeout");
    command
        .args([STEP_TIME_LIMIT, "sh", "-c"])
        .arg(&step.command)
        .current_dir(dir)
        .env("PATH", &path)
        .env_remove("WEIR_SERVER")
        .envs(env.iter().copied());
    if let Some(server) = server {
        // What the docs tell readers to set: a token for curl, a key pair for AWS clients.
        command
            .env("WEIR_SERVER", &server.url)
            .env("WEIR_TOKEN", server.token())
            .envs(server.aws_env());
    }
    let output = command.output().expect("run sh");
    let shown = if output.status.success() {
        stdout(&output)
    } else {
        stderr(&output)
    };
    let actual: Vec<&str> = shown.lines().map(str::trim_end).collect();
    assert!(
        lines_match(&step.expected, &actual),
        "{}:{}: `{}` ({}) printed:\n{}\nthe docs show:\n{}\n(stderr: {})\nserver log:\n{}",
        doc_path.display(),
        step.line,
        step.command,
        output.status,
        shown,
        step.expected.join("\n"),
        stderr(&output),
        server.map(Server::log_text).unwrap_or_default()
    );
}

/// Writes the doc's files into `project`, starts a server on it with `start`, and runs the doc's
/// console blocks against it. Returns the server for further checks.
fn run_session(
    doc_path: &Path,
    markdown: &str,
    project: &Project,
    start: impl FnOnce(&Path) -> Server,
) -> Server {
    let (server, ran) = run_blocks(doc_path, &blocks(markdown), project, start);
    assert!(ran > 5, "{} shows too few commands", doc_path.display());
    server
}

/// [`run_session`] over some blocks of a doc (a doc that holds more than one session marks
/// each one's blocks with `session=NAME`). Returns the server and how many commands ran.
pub fn run_blocks(
    doc_path: &Path,
    all: &[Block],
    project: &Project,
    start: impl FnOnce(&Path) -> Server,
) -> (Server, usize) {
    for block in all.iter().filter(|b| b.attribute("file").is_some()) {
        let path = block.attribute("file").unwrap();
        let full = project.write(path, &block.text);
        if path.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let server = start(project.path());
    let mut ran = 0;
    for block in all.iter().filter(|b| b.language() == "console") {
        for step in steps(block) {
            run_step(doc_path, &step, project.path(), Some(&server), &[]);
            ran += 1;
        }
    }
    (server, ran)
}

#[test]
fn the_lake_guide_runs_on_the_local_lake() {
    let (path, text) = doc("lake.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_lake_guide_runs_on_s3() {
    let endpoint = std::env::var("WEIR_TEST_S3_ENDPOINT").expect(
        "WEIR_TEST_S3_ENDPOINT is not set: start the S3-compatible test server with \
         `eval \"$(scripts/moto.sh)\"` first",
    );
    let bucket = std::env::var("WEIR_TEST_S3_BUCKET").unwrap_or_else(|_| "weir-test".into());
    let prefix = format!(
        "e2e-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let url = format!("s3://{bucket}/{prefix}");
    let (path, text) = doc("lake.md");
    let project = Project::new();
    let server = run_session(&path, &text, &project, |dir| {
        Server::start_with(
            dir,
            &[
                ("WEIR_LAKE_URL", &url),
                ("WEIR_LAKE_ENDPOINT", &endpoint),
                ("WEIR_LAKE_REGION", "us-east-1"),
                ("WEIR_LAKE_ACCESS_KEY_ID", "test"),
                ("WEIR_LAKE_SECRET_ACCESS_KEY", "test"),
                ("WEIR_LAKE_ALLOW_HTTP", "true"),
            ],
        )
    });
    // The objects are in the bucket (as another S3 client sees it), not on local disk.
    assert!(
        !server.data.join("lake").exists(),
        "an S3 lake writes nothing under the data directory's lake/"
    );
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, boto3\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                 aws_access_key_id='test', aws_secret_access_key='test')\n\
             pages = s3.get_paginator('list_objects_v2').paginate(Bucket=sys.argv[2], Prefix=sys.argv[3])\n\
             for page in pages:\n\
             \x20   for o in page.get('Contents', []): print(o['Key'])\n",
            &endpoint,
            &bucket,
            &format!("{prefix}/"),
        ])
        .output()
        .expect("python3 with boto3");
    let keys = stdout(&listing);
    assert!(listing.status.success(), "{}", stderr(&listing));
    assert!(
        keys.contains(&format!("{prefix}/raw/orders/")) && keys.contains(".parquet"),
        "the bucket holds the loaded files and the tables SQL wrote:\n{keys}"
    );
}

#[test]
fn the_sql_guide_runs() {
    let (path, text) = doc("sql.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_functions_guide_runs() {
    let (path, text) = doc("functions.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_state_machines_guide_runs() {
    let (path, text) = doc("state-machines.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

/// The security guide up to its TLS section (which `tls.rs` runs with a certificate).
#[test]
fn the_security_guide_runs() {
    let (path, text) = doc("security.md");
    let before_tls = text.split("\n## TLS\n").next().unwrap_or(&text).to_string();
    let project = Project::new();
    project.pipeline("etl_daily", "tasks:\n  a:\n    command: echo etl\n");
    run_session(&path, &before_tls, &project, Server::start);
}

#[test]
fn the_streams_guide_runs() {
    let (path, text) = doc("streams.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_events_guide_runs() {
    let (path, text) = doc("events.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_queues_guide_runs() {
    let (path, text) = doc("queues.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_secrets_guide_runs() {
    let (path, text) = doc("secrets.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_configuration_guide_runs() {
    let (path, text) = doc("configuration.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}

#[test]
fn the_transforms_guide_runs() {
    let (path, text) = doc("transforms.md");
    let project = Project::new();
    run_session(&path, &text, &project, Server::start);
}
