//! The engine against faults it does not cause: an action runner that panics, a metadata store
//! that refuses a commit. Real engine, real SQLite, real files; the faults are injected.

use std::sync::Arc;
use std::time::Duration;

use weir_engine::actions::{ActionContext, ActionOutcome, ActionRunner, Registry};
use weir_engine::{Engine, EngineError, EngineOptions, TriggerRequest};
use weir_model::config::Config;
use weir_store::Store;
use weir_store::fault::FaultyStore;

struct Panicking;

#[async_trait::async_trait]
impl ActionRunner for Panicking {
    async fn run(&self, _ctx: ActionContext) -> ActionOutcome {
        panic!("the runner broke");
    }
}

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(pipelines: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("pipelines")).expect("pipelines dir");
        for (name, yaml) in pipelines {
            std::fs::write(dir.path().join(format!("pipelines/{name}.yaml")), yaml)
                .expect("pipeline file");
        }
        Project { dir }
    }

    async fn store(&self) -> Arc<dyn Store> {
        let url = format!("sqlite://{}", self.dir.path().join("weir.db").display());
        weir_store::open(&url).await.expect("store")
    }

    async fn engine(&self, store: Arc<dyn Store>, registry: Registry, config: Config) -> Engine {
        Engine::start(EngineOptions {
            project_dir: self.dir.path().to_path_buf(),
            data_dir: self.dir.path().join("data"),
            config,
            store,
            registry,
            watch: false,
            public_url: "http://127.0.0.1:0".into(),
        })
        .await
        .expect("engine")
    }
}

fn trigger(pipeline: &str) -> TriggerRequest {
    TriggerRequest {
        pipeline: pipeline.into(),
        ..TriggerRequest::default()
    }
}

/// Triggers `pipeline` and waits for the run to end.
async fn run_to_end(engine: &Engine, pipeline: &str) -> weir_store::RunRecord {
    let run = engine.trigger(trigger(pipeline)).await.expect("trigger");
    engine
        .wait(&run.id, Duration::from_secs(20))
        .await
        .expect("wait")
}

#[tokio::test]
async fn a_panicking_runner_fails_its_attempt_and_gives_back_its_slot() {
    let project = Project::new(&[(
        "breaks",
        "tasks:\n  boom:\n    noop: true\n    retries: 1\n    retry_delay: 10ms\n",
    )]);
    let mut registry = Registry::builtin();
    registry.register("noop", Arc::new(Panicking));
    // One slot in all: a slot held by a panicked attempt would stop the second run forever.
    let mut config = Config::default();
    config.executor.max_parallel_tasks = 1;
    let store = project.store().await;
    let engine = project.engine(store.clone(), registry, config).await;
    for _ in 0..2 {
        let done = run_to_end(&engine, "breaks").await;
        assert_eq!(done.state, "failed", "{done:?}");
        let attempts = store
            .attempts(&done.id, Some("boom"))
            .await
            .expect("attempts");
        assert_eq!(attempts.len(), 2, "one try and its retry: {attempts:?}");
        for attempt in &attempts {
            assert_eq!(attempt.state, "failed", "{attempt:?}");
            let error = attempt.error.as_deref().unwrap_or_default();
            assert!(error.contains("the runner broke"), "{error}");
        }
    }
}

#[tokio::test]
async fn a_trigger_whose_commit_failed_leaves_no_run_behind() {
    let project = Project::new(&[("one", "max_active_runs: 1\ntasks:\n  a:\n    noop: true\n")]);
    let real = project.store().await;
    let faulty = FaultyStore::new(real.clone());
    let engine = project
        .engine(faulty.clone(), Registry::builtin(), Config::default())
        .await;
    faulty.fail_commits(true);
    let refused = engine.trigger(trigger("one")).await;
    assert!(
        matches!(refused, Err(EngineError::Commit(_))),
        "{refused:?}"
    );
    faulty.fail_commits(false);
    // The caller was told the trigger failed: no run may appear later, nor hold the pipeline's
    // only active slot.
    let run = run_to_end(&engine, "one").await;
    assert_eq!(run.state, "success", "{run:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let runs = real.runs(Some("one"), 10).await.expect("runs");
    assert_eq!(
        runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [run.id.as_str()],
        "only the acknowledged run exists"
    );
}

#[tokio::test]
async fn run_ids_of_one_second_are_unique() {
    let project = Project::new(&[(
        "fast",
        "max_active_runs: 1000\ntasks:\n  a:\n    noop: true\n",
    )]);
    let store = project.store().await;
    let engine = project
        .engine(store.clone(), Registry::builtin(), Config::default())
        .await;
    let logical_date = Some(chrono::Utc::now());
    let mut ids = std::collections::HashSet::new();
    for _ in 0..300 {
        let run = engine
            .trigger(TriggerRequest {
                logical_date,
                ..trigger("fast")
            })
            .await
            .expect("trigger");
        assert!(ids.insert(run.id.clone()), "id {} handed out twice", run.id);
    }
    assert_eq!(
        store.runs(Some("fast"), 1000).await.expect("runs").len(),
        300
    );
}

/// A commit that fails after a run existed: the end of its task and the start of the next were
/// decided in memory but never reached the store. Memory is made to agree with the store again:
/// the task the store still says is running counts as lost and runs again (not as a retry), the
/// run goes on from there, and in the end store and engine tell the same story.
#[tokio::test]
async fn a_failed_commit_of_a_running_run_leaves_memory_and_store_agreeing() {
    let project = Project::new(&[]);
    let go = project.dir.path().join("go");
    let journal = project.dir.path().join("journal");
    std::fs::write(
        project.dir.path().join("pipelines/gated.yaml"),
        format!(
            "tasks:\n  a:\n    command: echo a >> {journal}; while [ ! -f {go} ]; do sleep 0.02; done\n  \
             b:\n    depends_on: [a]\n    command: echo b >> {journal}\n",
            journal = journal.display(),
            go = go.display()
        ),
    )
    .expect("pipeline");
    let real = project.store().await;
    let faulty = FaultyStore::new(real.clone());
    let engine = project
        .engine(faulty.clone(), Registry::builtin(), Config::default())
        .await;
    let run = engine.trigger(trigger("gated")).await.expect("trigger");
    let started = tokio::time::Instant::now();
    while std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // a ends while the store refuses commits: its end, and b's start, are lost.
    let applies = faulty.applies();
    faulty.fail_commits(true);
    std::fs::write(&go, "").expect("go");
    while faulty.applies() == applies {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing was committed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    faulty.fail_commits(false);

    let done = engine
        .wait(&run.id, Duration::from_secs(20))
        .await
        .expect("wait");
    assert_eq!(done.state, "success", "{done:?}");
    let tasks = real.task_instances(&run.id).await.expect("tasks");
    for task in &tasks {
        assert_eq!(task.state, "success", "{task:?}");
    }
    let attempts = real.attempts(&run.id, Some("a")).await.expect("attempts");
    let states: Vec<&str> = attempts.iter().map(|a| a.state.as_str()).collect();
    assert_eq!(states, ["lost", "success"], "{attempts:?}");
    let journal = std::fs::read_to_string(&journal).expect("journal");
    assert_eq!(
        journal.lines().filter(|l| *l == "b").count(),
        1,
        "{journal}"
    );
    // Nothing is left running, in the store or in the engine's capacity.
    let again = run_to_end(&engine, "gated").await;
    assert_eq!(again.state, "success", "{again:?}");
}
