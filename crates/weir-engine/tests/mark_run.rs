//! Marking a whole run by hand (Airflow's "mark run as success/failed"): the tasks it changes,
//! the attempt it stops, the run's end, and the status broadcast that tells listeners. Real
//! engine, real SQLite, real processes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use weir_engine::actions::Registry;
use weir_engine::{Engine, EngineError, EngineOptions, StatusChange, TriggerRequest};
use weir_model::config::Config;
use weir_store::Store;

/// `slow` runs until stopped; `after` waits for it; `other` fails at once, so a run ends
/// `failed` with `downstream` upstream-failed.
const SLOW: &str = "tasks:\n  slow:\n    command: sleep 60\n  after:\n    depends_on: [slow]\n    command: 'true'\n";
const FAILING: &str = "tasks:\n  first:\n    command: 'true'\n  broken:\n    command: exit 3\n  downstream:\n    depends_on: [broken]\n    command: 'true'\n  quiet:\n    depends_on: [first]\n    command: 'true'\n";

struct Project {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    engine: Engine,
}

async fn project() -> Project {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("pipelines")).expect("pipelines dir");
    std::fs::write(dir.path().join("pipelines/slow.yaml"), SLOW).expect("file");
    std::fs::write(dir.path().join("pipelines/failing.yaml"), FAILING).expect("file");
    let url = format!("sqlite://{}", dir.path().join("weir.db").display());
    let store = weir_store::open(&url).await.expect("store");
    let engine = Engine::start(EngineOptions {
        project_dir: dir.path().to_path_buf(),
        data_dir: dir.path().join("data"),
        config: Config::default(),
        store: store.clone(),
        registry: Registry::builtin(),
        watch: false,
        public_url: "http://127.0.0.1:0".into(),
    })
    .await
    .expect("engine");
    Project { dir, store, engine }
}

fn trigger(pipeline: &str) -> TriggerRequest {
    TriggerRequest {
        pipeline: pipeline.into(),
        ..TriggerRequest::default()
    }
}

async fn states(store: &Arc<dyn Store>, run_id: &str) -> Vec<(String, String)> {
    let mut tasks: Vec<(String, String)> = store
        .task_instances(run_id)
        .await
        .expect("tasks")
        .into_iter()
        .map(|t| (t.task_id, t.state))
        .collect();
    tasks.sort();
    tasks
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(t, s)| (t.to_string(), s.to_string()))
        .collect()
}

/// Waits until the run's first attempt is running (its process started).
async fn until_running(store: &Arc<dyn Store>, run_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let attempts = store
            .attempts(run_id, Some("slow"))
            .await
            .expect("attempts");
        if attempts.iter().any(|a| a.pid.is_some()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the attempt of `slow` never started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_a_running_run_failed_stops_its_attempt_and_tells_listeners() {
    let Project {
        dir: _dir,
        store,
        engine,
    } = project().await;
    let mut status = engine.subscribe_status();
    let run = engine.trigger(trigger("slow")).await.expect("trigger");
    until_running(&store, &run.id).await;

    let marked = engine.mark_run(&run.id, "failed").await.expect("mark");
    assert_eq!(marked.state, "failed");
    assert!(marked.ended_at.is_some());
    // Durable when answered: the store says so already.
    let stored = store.run(&run.id).await.expect("read").expect("the run");
    assert_eq!(stored.state, "failed");
    assert_eq!(
        states(&store, &run.id).await,
        pairs(&[("after", "failed"), ("slow", "failed")])
    );
    let tasks = store.task_instances(&run.id).await.expect("tasks");
    assert!(
        tasks
            .iter()
            .all(|t| t.error.as_deref() == Some("marked failed by hand"))
    );
    // The `sleep 60` was stopped: its attempt ends long before the minute is up.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempts = store.attempts(&run.id, Some("slow")).await.expect("read");
        if attempts.iter().all(|a| a.ended_at.is_some()) {
            assert_eq!(attempts[0].state, "cancelled", "{attempts:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the attempt is still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Listeners heard the tasks (with their pipeline, although the run left memory in the
    // same turn) and the run's end.
    let mut heard_tasks = Vec::new();
    let mut heard_run = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while heard_run.is_none() || heard_tasks.len() < 2 {
        match tokio::time::timeout_at(deadline, status.recv()).await {
            Ok(Ok(StatusChange::Task { pipeline, task })) if task.state == "failed" => {
                heard_tasks.push((pipeline, task.task_id))
            }
            Ok(Ok(StatusChange::Run(r))) if r.id == run.id && r.state == "failed" => {
                heard_run = Some(r)
            }
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("status broadcast: {e}"),
            Err(_) => panic!("heard {heard_tasks:?} and {heard_run:?} only"),
        }
    }
    heard_tasks.sort();
    assert_eq!(
        heard_tasks,
        [
            ("slow".to_string(), "after".to_string()),
            ("slow".to_string(), "slow".to_string())
        ]
    );
    // The audit trail says it was done by hand.
    let events = store.run_events(&run.id).await.expect("events");
    assert!(events.iter().any(|e| e.task_id.is_none()
        && e.state == "failed"
        && e.message.as_deref() == Some("marked failed by hand")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_an_ended_run_success_amends_its_unsuccessful_tasks() {
    let Project {
        dir: _dir,
        store,
        engine,
    } = project().await;
    let run = engine.trigger(trigger("failing")).await.expect("trigger");
    let ended = engine
        .wait(&run.id, Duration::from_secs(20))
        .await
        .expect("wait");
    assert_eq!(ended.state, "failed");
    let before = states(&store, &run.id).await;
    assert_eq!(
        before,
        pairs(&[
            ("broken", "failed"),
            ("downstream", "upstream_failed"),
            ("first", "success"),
            ("quiet", "success")
        ])
    );
    let ended_at = |tasks: &[weir_store::TaskRecord], id: &str| {
        tasks
            .iter()
            .find(|t| t.task_id == id)
            .and_then(|t| t.ended_at)
    };
    let first_ended = ended_at(
        &store.task_instances(&run.id).await.expect("tasks"),
        "first",
    );

    let all_success = pairs(&[
        ("broken", "success"),
        ("downstream", "success"),
        ("first", "success"),
        ("quiet", "success"),
    ]);
    let marked = engine.mark_run(&run.id, "success").await.expect("mark");
    assert_eq!(marked.state, "success");
    assert_eq!(
        marked.ended_at, ended.ended_at,
        "an ended run keeps its end"
    );
    assert_eq!(states(&store, &run.id).await, all_success);
    let tasks = store.task_instances(&run.id).await.expect("tasks");
    assert!(tasks.iter().all(|t| t.error.is_none()), "{tasks:?}");
    assert_eq!(
        ended_at(&tasks, "first"),
        first_ended,
        "a task that succeeded is left as it was"
    );
    assert_eq!(
        store.run(&run.id).await.expect("read").expect("run").state,
        "success"
    );
    // Marked again: nothing to change, nothing written.
    let events = store.run_events(&run.id).await.expect("events").len();
    let again = engine.mark_run(&run.id, "success").await.expect("again");
    assert_eq!(again.state, "success");
    assert_eq!(
        store.run_events(&run.id).await.expect("events").len(),
        events
    );
    // Marked failed: every task had ended, so only the run changes.
    let failed = engine.mark_run(&run.id, "failed").await.expect("failed");
    assert_eq!(failed.state, "failed");
    assert_eq!(states(&store, &run.id).await, all_success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_refuses_other_states_and_unknown_runs() {
    let Project {
        dir: _dir,
        store: _store,
        engine,
    } = project().await;
    let run = engine.trigger(trigger("failing")).await.expect("trigger");
    engine
        .wait(&run.id, Duration::from_secs(20))
        .await
        .expect("wait");
    match engine.mark_run(&run.id, "skipped").await {
        Err(EngineError::Invalid(message)) => {
            assert!(message.contains("success or failed"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match engine.mark_run("absent", "success").await {
        Err(EngineError::NotFound(message)) => assert!(message.contains("absent"), "{message}"),
        other => panic!("{other:?}"),
    }
}
