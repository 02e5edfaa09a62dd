//! Secrets through the real binary: set from standard input, used in a command, masked in the
//! log, never listed, sealed in the database file; from the environment and from files; in a
//! function's environment; and a wrong key.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

/// `weir secrets set NAME` with `value` on standard input.
fn set_secret(server: &Server, name: &str, value: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["secrets", "set", name])
        .env("WEIR_SERVER", &server.url)
        .env("WEIR_TOKEN", server.token())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weir secrets set");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(value.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const PASSWORD: &str = "s3cr3t-Pa55word";

#[test]
fn a_secret_set_from_stdin_reaches_the_command_and_is_masked_everywhere_else() {
    let project = Project::new();
    project.pipeline(
        "deploy",
        r#"tasks:
  use:
    command: |
      printf '%s' {{ secrets.db_password }} > seen.txt
      echo "password is {{ secrets.db_password }}"
      echo "env has $DB_PASSWORD" >&2
      echo '{"echo": "'"$DB_PASSWORD"'"}' > "$WEIR_OUTPUT"
    env:
      DB_PASSWORD: "{{ secrets.db_password }}"
"#,
    );
    let server = Server::start(project.path());
    let output = set_secret(&server, "db_password", &format!("{PASSWORD}\n"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "set secret db_password");

    let run = server.trigger_wait("deploy", &[]);
    assert_eq!(run["state"], "success", "{run}\n{}", server.log_text());
    assert_eq!(
        project.read("seen.txt"),
        PASSWORD,
        "the command got the real value, its trailing newline trimmed"
    );
    let run_id = run["run_id"].as_str().unwrap();
    let logs = stdout(&server.cli(&["runs", "logs", run_id, "use"]));
    assert!(!logs.contains(PASSWORD), "the log shows the value:\n{logs}");
    assert!(logs.contains("password is ***"), "{logs}");
    assert!(logs.contains("env has ***"), "{logs}");
    assert!(
        logs.contains("[weir] command: printf '%s' '***' > seen.txt"),
        "the command as shown:\n{logs}"
    );
    let shown = server.run(run_id).to_string();
    assert!(!shown.contains(PASSWORD), "the run's API answer: {shown}");
    assert_eq!(
        server.task(&server.run(run_id), "use")["output"]["echo"],
        "***"
    );

    let listed = server.cli(&["secrets", "list"]);
    let text = stdout(&listed);
    assert!(
        text.contains("db_password") && text.contains("store"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD));
    let json = server.json(&["secrets", "list"]);
    assert_eq!(json["secrets"][0]["name"], "db_password");
    assert!(!json.to_string().contains(PASSWORD));

    // At rest the database holds the sealed value only; the key is a file of its own.
    let database = std::fs::read(server.data.join("weir.db")).unwrap();
    let wal = std::fs::read(server.data.join("weir.db-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "the plaintext is in the database file"
        );
    }
    let key = server.data.join("secrets.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let removed = server.cli(&["secrets", "rm", "db_password"]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    let run = server.trigger_wait("deploy", &[]);
    assert_eq!(run["state"], "failed");
    let error =
        server.task(&server.run(run["run_id"].as_str().unwrap()), "use")["error"].to_string();
    assert!(error.contains("secret `db_password` is not set"), "{error}");
    let again = server.cli(&["secrets", "rm", "db_password"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("no secret `db_password`"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn secrets_from_the_environment_and_files_and_in_a_function_environment() {
    let project = Project::new();
    project.write("weir.toml", "[secrets]\ndir = \"mounted\"\n");
    project.write("mounted/api_token", "token-from-file\n");
    project.write(
        "functions/whoami.yaml",
        r#"command: |
  echo "using $TOKEN" >&2
  echo "{\"token\": \"$TOKEN\"}"
env:
  TOKEN: "{{ secrets.api_token }}"
"#,
    );
    project.pipeline(
        "both",
        r#"tasks:
  show:
    command: printf '%s|%s' "{{ secrets.api_token }}" "{{ secrets.region_key }}" > both.txt; env > env.txt
"#,
    );
    let server = Server::start_with(
        project.path(),
        &[("WEIR_SECRET_region_key", "eu-key-from-env")],
    );
    let run = server.trigger_wait("both", &[]);
    assert_eq!(run["state"], "success", "{run}\n{}", server.log_text());
    assert_eq!(project.read("both.txt"), "token-from-file|eu-key-from-env");
    let env = project.read("env.txt");
    assert!(
        !env.contains("WEIR_SECRET_") && !env.contains("eu-key-from-env"),
        "a task does not inherit the server's secrets:\n{env}"
    );

    let listed = server.json(&["secrets", "list"]);
    let sources: Vec<(String, String)> = listed["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().into(),
                s["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("api_token".to_string(), "file".to_string()),
            ("region_key".to_string(), "environment".to_string())
        ]
    );
    // The environment takes precedence over the store: setting it warns.
    let output = set_secret(&server, "region_key", "stored-value");
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("takes precedence"),
        "{}",
        stderr(&output)
    );

    let invoked = server.cli(&["functions", "invoke", "whoami"]);
    assert!(invoked.status.success(), "{}", stderr(&invoked));
    assert!(
        stdout(&invoked).contains("token-from-file"),
        "the function's result is its own"
    );
    let log = stdout(&server.cli(&["functions", "logs", "whoami"]));
    assert!(log.contains("using ***"), "{log}");
    assert!(!log.contains("using token-from-file"), "{log}");
}

#[test]
fn a_wrong_key_is_named_and_a_bad_name_is_refused() {
    let project = Project::new();
    project.pipeline("p", "tasks:\n  t:\n    command: echo {{ secrets.token }}\n");
    let mut server = Server::start(project.path());
    assert!(set_secret(&server, "token", "first-value").status.success());
    let refused = set_secret(&server, "bad-name", "x");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("not a secret name"),
        "{}",
        stderr(&refused)
    );
    std::fs::remove_file(server.data.join("secrets.key")).unwrap();
    server.restart();
    let run = server.trigger_wait("p", &[]);
    assert_eq!(run["state"], "failed");
    let error = server.task(&server.run(run["run_id"].as_str().unwrap()), "t")["error"].to_string();
    assert!(error.contains("sealed with another key"), "{error}");
    assert!(
        error.contains("secrets.key"),
        "the error names the key file: {error}"
    );
}
