//! The README's quickstart runs as written: the commands of its `sh` blocks (with the real `weir`
//! for `cargo run --release --`) against a server on a copy of `examples/quickstart`, in order.
//! A command whose comment says it `fails` must fail; every other one must succeed. `<RUN_ID>` is
//! the id the last `trigger` printed.

use std::path::Path;
use std::process::Command;

use crate::markdown::*;
use crate::support::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == ".weir" || name == "approved" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

#[test]
fn the_readme_quickstart_runs_as_written() {
    let repo = manifest_dir().join("../..");
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("README.md");
    let root = tempfile::tempdir().expect("tempdir");
    let project = root.path().join("examples/quickstart");
    copy_dir(&repo.join("examples/quickstart"), &project);
    let server = Server::start(&project);

    let mut run_id = String::new();
    let mut ran = 0;
    // Where the commands run: a `cd DIR` line moves it, as it would in the reader's shell.
    let mut cwd = root.path().to_path_buf();
    let mut failed_then_retried = false;
    for block in blocks(&readme).iter().filter(|b| b.language() == "sh") {
        for line in block.text.lines() {
            let line = line.trim();
            let (command, comment) = match line.split_once(" #") {
                Some((command, comment)) => (command.trim(), comment),
                None => (line, ""),
            };
            // The server is the test's; the suite is not run from inside itself.
            if command.is_empty()
                || line.starts_with('#')
                || command.contains(" server ")
                || command.starts_with("scripts/")
            {
                continue;
            }
            if let Some(dir) = command.strip_prefix("cd ") {
                cwd = cwd.join(dir.trim());
                assert!(cwd.is_dir(), "README: `{line}`: no such directory");
                continue;
            }
            let command = command
                .replace("cargo run --release --", BIN)
                .replace("<RUN_ID>", &run_id);
            let output = Command::new("sh")
                .arg("-c")
                .arg(&command)
                .current_dir(&cwd)
                .env("WEIR_SERVER", &server.url)
                .env_remove("WEIR_TOKEN")
                .output()
                .expect("run sh");
            let must_fail = comment.contains("fails");
            assert_eq!(
                !output.status.success(),
                must_fail,
                "README: `{line}` {} ({}):\n{}{}\nserver log:\n{}",
                if must_fail { "should fail" } else { "failed" },
                output.status,
                stdout(&output),
                stderr(&output),
                server.log_text()
            );
            if command.contains(" trigger ") {
                run_id = stdout(&output)
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                assert!(!run_id.is_empty(), "`{line}` printed no run id");
            }
            if command.contains(" runs retry ") {
                failed_then_retried = stdout(&output).contains("success");
            }
            ran += 1;
        }
    }
    assert!(ran >= 6, "the README shows only {ran} quickstart commands");
    assert!(
        failed_then_retried,
        "the README's `runs retry` must retry a failed run to success"
    );
    let shown = server.json(&["runs", "show", &run_id]);
    let attempts: Vec<(String, String)> = shown["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["task_id"].as_str().unwrap().into(),
                t["try_number"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        vec![("build".into(), "1".into()), ("publish".into(), "2".into())],
        "the retry reran only the failed task: {shown}"
    );
}
