//! Invocations of real processes: the stdin/stdout round trip, env and working_dir, errors with
//! their causes, timeouts and the concurrency limit.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use weir_model::config::Config;

use super::*;

struct Fixture {
    project: tempfile::TempDir,
    data: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            project: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
        }
    }

    fn function(&self, name: &str, yaml: &str) -> &Fixture {
        let path = self
            .project
            .path()
            .join("functions")
            .join(format!("{name}.yaml"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, yaml).unwrap();
        self
    }

    fn functions(&self) -> Functions {
        let mut config = Config::default();
        config.executor.kill_grace = "1s".into();
        Functions::new(
            self.project.path(),
            self.data.path(),
            &config,
            std::sync::Arc::new(crate::secrets::Secrets::none()),
        )
    }

    fn path(&self, relative: &str) -> std::path::PathBuf {
        self.project.path().join(relative)
    }
}

/// Whether process `pid` has ended (gone, or a zombie waiting for its parent).
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

fn read_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test]
async fn the_event_goes_in_on_stdin_and_the_result_comes_out_on_stdout() {
    let fx = Fixture::new();
    fx.function("echo", "command: [cat]\n");
    fx.function(
        "double",
        "command: |\n  python3 -c 'import json,sys; e=json.load(sys.stdin); print(json.dumps({\"twice\": e[\"n\"] * 2}))'\n",
    );
    let functions = fx.functions();
    let payload = json!({"order": 7, "items": ["a", "b"], "note": "é\n\"quoted\""});
    let invocation = functions.invoke("echo", &payload).await.unwrap();
    assert_eq!(invocation.result, payload);
    assert!(!invocation.id.is_empty());
    let doubled = functions.invoke("double", &json!({"n": 21})).await.unwrap();
    assert_eq!(doubled.result, json!({"twice": 42}));
    // The log keeps the payload and the result.
    let log = std::fs::read_to_string(functions.log_path("echo", &invocation.id)).unwrap();
    assert!(log.contains(&payload.to_string()), "{log}");
    assert!(log.contains("== result"), "{log}");
    assert_eq!(functions.invocation_ids("echo", 10), vec![invocation.id]);
}

#[tokio::test]
async fn empty_stdout_is_null_and_other_text_is_invalid_output() {
    let fx = Fixture::new();
    fx.function("quiet", "command: 'true'\n");
    fx.function("chatty", "command: echo this is not JSON; echo warn >&2\n");
    let functions = fx.functions();
    assert_eq!(
        functions.invoke("quiet", &json!({})).await.unwrap().result,
        Value::Null
    );
    let error = functions.invoke("chatty", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::INVALID_OUTPUT);
    assert!(error.cause.contains("not JSON"), "{}", error.cause);
    assert!(error.cause.contains("this is not JSON"), "{}", error.cause);
    assert!(
        error.cause.ends_with("stderr:\nwarn\nexit status 0"),
        "{}",
        error.cause
    );
    assert!(error.invocation_id.is_some());
}

#[tokio::test]
async fn env_and_working_dir_apply() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.path("work/here")).unwrap();
    fx.function(
        "where",
        r#"command: |
  printf '{"dir": "%s", "model": "%s", "limit": "%s", "function": "%s"}' "$(pwd)" "$MODEL" "$LIMIT" "$WEIR_FUNCTION"
env: { MODEL: v2, LIMIT: 3 }
working_dir: work/here
"#,
    );
    fx.function("nowhere", "command: pwd\nworking_dir: missing\n");
    let functions = fx.functions();
    let result = functions.invoke("where", &json!({})).await.unwrap().result;
    assert!(
        result["dir"].as_str().unwrap().ends_with("/work/here"),
        "{result}"
    );
    assert_eq!(result["model"], "v2");
    assert_eq!(result["limit"], "3");
    assert_eq!(result["function"], "where");
    let error = functions.invoke("nowhere", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::FAILED);
    assert!(
        error
            .cause
            .contains("working_dir `missing` is not a directory"),
        "{}",
        error.cause
    );
}

#[tokio::test]
async fn a_failure_names_its_error_type_and_ends_with_stderr_and_the_exit_status() {
    let fx = Fixture::new();
    fx.function(
        "reject",
        r#"command: |
  echo "checking the amount" >&2
  echo '{"errorType": "ValueError", "errorMessage": "amount must be positive"}'
  exit 3
"#,
    );
    fx.function("crash", "command: echo boom >&2; exit 2\n");
    fx.function("missing", "command: [./no-such-program]\n");
    let functions = fx.functions();
    let error = functions.invoke("reject", &json!({})).await.unwrap_err();
    assert_eq!(error.error, "ValueError");
    assert_eq!(
        error.cause,
        "amount must be positive\nstderr:\nchecking the amount\nexit status 3"
    );
    let log = std::fs::read_to_string(
        functions.log_path("reject", error.invocation_id.as_deref().unwrap()),
    )
    .unwrap();
    assert!(log.contains("checking the amount"), "{log}");
    assert!(log.contains("== error ValueError"), "{log}");

    let error = functions.invoke("crash", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::FAILED);
    assert_eq!(error.cause, "stderr:\nboom\nexit status 2");

    let error = functions.invoke("missing", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::FAILED);
    assert!(
        error.cause.contains("cannot start `./no-such-program`"),
        "{}",
        error.cause
    );

    let error = functions.invoke("nobody", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::NOT_FOUND);
    assert_eq!(error.invocation_id, None);
}

#[tokio::test]
async fn the_cause_quotes_only_the_tail_of_a_long_stderr() {
    let fx = Fixture::new();
    fx.function(
        "noisy",
        r#"command: |
  echo FIRST-LINE >&2
  i=0
  while [ $i -lt 500 ]; do echo "line $i of filler text for the log" >&2; i=$((i+1)); done
  echo LAST-LINE >&2
  exit 1
"#,
    );
    let functions = fx.functions();
    let error = functions.invoke("noisy", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::FAILED);
    assert!(
        error.cause.ends_with("LAST-LINE\nexit status 1"),
        "{}",
        error.cause
    );
    assert!(!error.cause.contains("FIRST-LINE"), "{}", error.cause);
    assert!(
        error.cause.len() <= invoke::STDERR_TAIL_BYTES as usize + 64,
        "{} bytes",
        error.cause.len()
    );
    // The cut falls on a line boundary.
    assert!(
        error.cause.starts_with("stderr:\nline "),
        "{}",
        &error.cause[..80]
    );
    // The log keeps all of it.
    let log = std::fs::read_to_string(
        functions.log_path("noisy", error.invocation_id.as_deref().unwrap()),
    )
    .unwrap();
    assert!(log.contains("FIRST-LINE") && log.contains("LAST-LINE"));
}

#[tokio::test]
async fn a_timeout_stops_the_whole_process_group() {
    let fx = Fixture::new();
    fx.function(
        "slow",
        "command: echo $$ > leader.pid; sleep 60 & echo $! > child.pid; echo started >&2; wait\ntimeout: 500ms\n",
    );
    let functions = fx.functions();
    let started = Instant::now();
    let error = functions.invoke("slow", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.cause.starts_with("timed out after 500ms"),
        "{}",
        error.cause
    );
    assert!(error.cause.contains("stderr:\nstarted"), "{}", error.cause);
    let leader = read_pid(&fx.path("leader.pid"));
    let child = read_pid(&fx.path("child.pid"));
    assert!(eventually(Duration::from_secs(3), || ended(leader) && ended(child)));
}

#[tokio::test]
async fn a_caller_that_stops_waiting_stops_the_processes() {
    let fx = Fixture::new();
    fx.function("hang", "command: echo $$ > hang.pid; exec sleep 60\n");
    let functions = fx.functions();
    let gave_up = tokio::time::timeout(
        Duration::from_millis(500),
        functions.invoke("hang", &json!({})),
    )
    .await;
    assert!(gave_up.is_err());
    let pid = read_pid(&fx.path("hang.pid"));
    assert!(eventually(Duration::from_secs(3), || ended(pid)));
}

#[tokio::test]
async fn background_processes_do_not_outlive_the_invocation() {
    let fx = Fixture::new();
    fx.function(
        "leaky",
        "command: |\n  sleep 60 & echo $! > bg.pid\n  echo '{\"ok\": true}'\n",
    );
    let functions = fx.functions();
    let started = Instant::now();
    let result = functions.invoke("leaky", &json!({})).await.unwrap();
    assert_eq!(result.result, json!({"ok": true}));
    assert!(started.elapsed() < Duration::from_secs(5));
    let pid = read_pid(&fx.path("bg.pid"));
    assert!(eventually(Duration::from_secs(3), || ended(pid)));
}

/// The most spans of `spans` (start, end) that overlap at one instant.
fn max_overlap(spans: &[(u128, u128)]) -> usize {
    let mut points: Vec<(u128, i32)> = spans.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    // Ends sort before starts at the same instant.
    points.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, delta) in points {
        now += delta;
        most = most.max(now);
    }
    most as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_limits_parallel_invocations() {
    let fx = Fixture::new();
    let body = "command: s=$(date +%s%N); sleep 0.4; e=$(date +%s%N); echo \"$s $e\" >> spans-$WEIR_FUNCTION\n";
    fx.function("limited", &format!("{body}max_concurrency: 2\n"));
    fx.function("free", body);
    let functions = Arc::new(fx.functions());
    let spans = |name: &str| -> Vec<(u128, u128)> {
        std::fs::read_to_string(fx.path(&format!("spans-{name}")))
            .unwrap()
            .lines()
            .map(|l| {
                let (s, e) = l.split_once(' ').unwrap();
                (s.parse().unwrap(), e.parse().unwrap())
            })
            .collect()
    };
    for name in ["limited", "free"] {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..6 {
            let functions = functions.clone();
            set.spawn(async move { functions.invoke(name, &json!({ "i": i })).await });
        }
        while let Some(done) = set.join_next().await {
            done.unwrap().unwrap();
        }
    }
    let limited = spans("limited");
    assert_eq!(limited.len(), 6);
    assert_eq!(max_overlap(&limited), 2, "{limited:?}");
    // Without a limit the same invocations do overlap more: the limit is what held them back.
    assert!(max_overlap(&spans("free")) > 2);
}

#[tokio::test]
async fn definitions_are_reread_when_their_files_change() {
    let fx = Fixture::new();
    fx.function("v", "command: echo 1\n");
    let functions = fx.functions();
    assert_eq!(
        functions.invoke("v", &json!({})).await.unwrap().result,
        json!(1)
    );
    // A different size is a different file: no reload call needed.
    fx.function("v", "command: echo 22\n");
    assert_eq!(
        functions.invoke("v", &json!({})).await.unwrap().result,
        json!(22)
    );
    // A broken edit keeps the last good version and reports the problem.
    fx.function("v", "command: [echo\n");
    assert_eq!(
        functions.invoke("v", &json!({})).await.unwrap().result,
        json!(22)
    );
    let (list, problems) = functions.list();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].arn,
        "arn:aws:lambda:us-east-1:000000000000:function:v"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].file, "functions/v.yaml");
    // A new file with a problem names it when invoked.
    fx.function("w", "comand: echo\n");
    let error = functions.invoke("w", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::NOT_FOUND);
    assert!(
        error.cause.contains("unknown key `comand`"),
        "{}",
        error.cause
    );
    // v.yaml's problem, and w.yaml's two (the unknown key, and no `command`).
    assert_eq!(functions.reload().len(), 3);
}

#[tokio::test]
async fn a_result_larger_than_the_limit_is_refused_without_blocking_the_process() {
    let fx = Fixture::new();
    // 7 MiB of output: more than the 6 MiB a result may hold; the process must still finish.
    fx.function(
        "huge",
        "command: head -c 7340032 /dev/zero | tr '\\0' 'a'; echo done >&2\n",
    );
    let functions = fx.functions();
    let error = functions.invoke("huge", &json!({})).await.unwrap_err();
    assert_eq!(error.error, errors::TOO_LARGE);
    assert!(
        error.cause.ends_with("stderr:\ndone\nexit status 0"),
        "{}",
        error.cause
    );
}
