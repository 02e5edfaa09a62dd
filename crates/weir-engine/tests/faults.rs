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
        let run = engine.trigger(trigger("breaks")).await.expect("trigger");
        let done = engine
            .wait(&run.id, Duration::from_secs(10))
            .await
            .expect("wait");
        assert_eq!(done.state, "failed", "{done:?}");
        let attempts = store
            .attempts(&run.id, Some("boom"))
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
    let run = engine.trigger(trigger("one")).await.expect("trigger");
    let done = engine
        .wait(&run.id, Duration::from_secs(10))
        .await
        .expect("wait");
    assert_eq!(done.state, "success", "{done:?}");
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
