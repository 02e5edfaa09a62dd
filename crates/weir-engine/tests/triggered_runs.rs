//! A run started by an event keeps the event on its record, and its tasks read it as `event` in
//! their templates; a run started by hand sees null. Real engine, real SQLite, real processes.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weir_engine::actions::Registry;
use weir_engine::{Engine, EngineOptions, TriggerRequest};
use weir_model::config::Config;
use weir_store::Store;

const PIPELINE: &str = r#"params:
  day: null
triggers:
  - event: {source: [weir.glue], detail-type: [Partition Added]}
    input_transformer:
      input_paths: {day: $.detail.partition.day}
      input_template: '{"day": <day>}'
tasks:
  show:
    env:
      EVENT: "{{ event | tojson }}"
      TABLE: "{{ event.detail.table if event else 'none' }}"
      DAY: "{{ params.day }}"
    command: |
      printf '{"event": %s, "table": "%s", "day": "%s"}' "$EVENT" "$TABLE" "$DAY" > "$WEIR_OUTPUT"
"#;

async fn start(dir: &std::path::Path, store: Arc<dyn Store>) -> Engine {
    Engine::start(EngineOptions {
        project_dir: dir.to_path_buf(),
        data_dir: dir.join("data"),
        config: Config::default(),
        store,
        registry: Registry::builtin(),
        watch: false,
        public_url: "http://127.0.0.1:0".into(),
    })
    .await
    .expect("engine")
}

/// The output of the run's one task, once the run has ended in success.
async fn task_output(engine: &Engine, store: &Arc<dyn Store>, request: TriggerRequest) -> Value {
    let run = engine.trigger(request).await.expect("trigger");
    let done = engine
        .wait(&run.id, Duration::from_secs(20))
        .await
        .expect("wait");
    assert_eq!(done.state, "success", "{done:?}");
    let tasks = store.task_instances(&run.id).await.expect("tasks");
    tasks[0].output.clone().expect("the task's output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_triggered_runs_tasks_read_the_event() {
    let parsed = weir_model::pipeline::parse_pipeline("agg.yaml", "agg", PIPELINE);
    assert_eq!(parsed.expect("the pipeline parses").triggers.len(), 1);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("pipelines")).expect("pipelines dir");
    std::fs::write(dir.path().join("pipelines/agg.yaml"), PIPELINE).expect("pipeline file");
    let url = format!("sqlite://{}", dir.path().join("weir.db").display());
    let store = weir_store::open(&url).await.expect("store");
    let engine = start(dir.path(), store.clone()).await;

    let event = json!({
        "version": "0", "id": "0d6a5b1c-7e3f-4a8a-9d52-2c1f0e9b7a11",
        "detail-type": "Partition Added", "source": "weir.glue", "account": "123456789012",
        "time": "2026-01-02T03:04:05Z", "region": "eu-west-1", "resources": [],
        "detail": {"table": "clicks", "partition": {"day": "2026-01-01"}}
    });
    // The params are what the trigger's input rendered; the event rides along.
    let mut params = serde_json::Map::new();
    params.insert("day".into(), json!("2026-01-01"));
    let request = TriggerRequest {
        pipeline: "agg".into(),
        params,
        event: Some(event.clone()),
        ..TriggerRequest::default()
    };
    let output = task_output(&engine, &store, request).await;
    assert_eq!(output["event"], event);
    assert_eq!(output["table"], "clicks");
    assert_eq!(output["day"], "2026-01-01");
    let runs = store.runs(Some("agg"), 10).await.expect("runs");
    assert_eq!(runs[0].event.as_ref(), Some(&event));

    // A run started by hand has no event: null in its templates and on its record.
    let manual = TriggerRequest {
        pipeline: "agg".into(),
        ..TriggerRequest::default()
    };
    let output = task_output(&engine, &store, manual).await;
    assert_eq!(output["event"], Value::Null);
    assert_eq!(output["table"], "none");
    let runs = store.runs(Some("agg"), 10).await.expect("runs");
    assert_eq!(runs[0].event, None);
    engine.shutdown(Duration::from_secs(5)).await;
}
