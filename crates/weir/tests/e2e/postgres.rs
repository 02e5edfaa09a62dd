//! The same server on PostgreSQL: configured through the environment (`WEIR_STORE_URL`), surviving
//! kill -9 like the embedded store.

use std::time::Duration;

use crate::support::*;

/// A fresh database on the test server (`scripts/postgres.sh` prints its URL).
fn fresh_database() -> String {
    let admin = std::env::var("WEIR_TEST_POSTGRES_URL")
        .expect("WEIR_TEST_POSTGRES_URL is not set: run `eval \"$(scripts/postgres.sh)\"` first");
    let name = format!(
        "weir_e2e_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let output = std::process::Command::new("psql")
        .arg(&admin)
        .args([
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("psql");
    assert!(
        output.status.success(),
        "cannot create a database: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (base, _) = admin.rsplit_once('/').expect("URL with a database");
    format!("{base}/{name}")
}

#[test]
fn runs_survive_kill_9_on_postgresql() {
    let url = fresh_database();
    let project = Project::new();
    project.pipeline(
        "pg",
        r#"
tasks:
  first:
    command: sleep 1; echo first
    retries: 2
    retry_delay: 100ms
  second:
    depends_on: [first]
    command: echo second-ran >> ../journal
    working_dir: pipelines
"#,
    );
    let mut server = Server::start_with(project.path(), &[("WEIR_STORE_URL", &url)]);
    assert!(
        !project.path().join(".weir/weir.db").exists(),
        "the metadata went to PostgreSQL, not SQLite"
    );
    let ok = server.trigger_wait("pg", &[]);
    assert_eq!(ok["state"], "success", "{ok}");
    let run_id = server.json(&["pipelines", "trigger", "pg"])["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(eventually(Duration::from_secs(10), || server
        .task(&server.run(&run_id), "first")["state"]
        == "running"));
    server.kill9();
    server.restart();
    let done = server.wait_run(&run_id);
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(server.attempts(&run_id, "first")[0]["state"], "lost");
    assert_eq!(project.read("journal").matches("second-ran").count(), 2);
    let events = server.get_json(&format!("/api/v1/runs/{run_id}/events"));
    assert!(events["events"].as_array().unwrap().len() >= 6);
}

#[test]
fn a_second_server_on_the_same_postgresql_database_is_refused() {
    let url = fresh_database();
    let first_project = Project::new();
    let server = Server::start_with(first_project.path(), &[("WEIR_STORE_URL", &url)]);
    // Another project directory, so only the database is shared.
    let second_project = Project::new();
    let second = std::process::Command::new(BIN)
        .args(["server", "--project"])
        .arg(second_project.path())
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .env("WEIR_STORE_URL", &url)
        .output()
        .expect("second server");
    assert!(!second.status.success());
    let message = stderr(&second);
    assert!(
        message.contains(&format!("pid {}", server.pid())),
        "the refusal names the holder: {message}"
    );
    assert_eq!(server.get("/healthz").0, 200, "the first one is untouched");
}
