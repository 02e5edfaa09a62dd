//! The `sql` action: output shape, log, failures.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weir_engine::actions::{ActionContext, ActionRunner, AttemptId, FailureKind};
use weir_lake::catalog::Format;
use weir_lake::sql::SqlRunner;

use crate::fixtures::{TestLake, lake, sales};

fn context(lake: &TestLake, sql: Value) -> (ActionContext, std::path::PathBuf) {
    let log_path = lake.dir.path().join("task.log");
    let log = weir_engine::actions::LogFile::new(log_path.clone());
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    // Keep the sender alive for the attempt: a dropped sender reads as "never cancelled".
    std::mem::forget(_tx);
    let mut config = serde_json::Map::new();
    config.insert("sql".to_string(), sql);
    (
        ActionContext {
            config,
            attempt: AttemptId {
                run_id: "r1".to_string(),
                task_id: "q".to_string(),
                map_index: -1,
                try_number: 1,
            },
            log,
            output_path: lake.dir.path().join("out.json"),
            project_dir: lake.dir.path().to_path_buf(),
            env: Vec::new(),
            deadline: Some(tokio::time::Instant::now() + Duration::from_secs(60)),
            cancel,
            kill_grace: Duration::from_secs(1),
            max_output_bytes: 64 * 1024,
            on_spawn: None,
            masker: weir_engine::secrets::Masker::default(),
        },
        log_path,
    )
}

#[tokio::test]
async fn passes_row_count_and_first_rows_downstream() {
    let lake = lake();
    sales(&lake, Format::Parquet).await;
    let runner = SqlRunner::new(Arc::clone(&lake.engine));
    let (ctx, log_path) = context(
        &lake,
        json!({"query": "SELECT id, region FROM shop.sales ORDER BY id", "max_rows": 2}),
    );
    let outcome = runner.run(ctx).await;
    let output = outcome.result.expect("success").expect("output");
    assert_eq!(output["row_count"], json!(9));
    assert_eq!(
        output["rows"],
        json!([{"id": 1, "region": "eu"}, {"id": 2, "region": "us"}])
    );
    assert_eq!(output["columns"][0]["name"], json!("id"));
    assert_eq!(output["truncated"], json!(true));
    let log = std::fs::read_to_string(log_path).expect("log");
    assert!(log.contains("SELECT id, region"), "{log}");
    assert!(log.contains("| id | region |"), "{log}");
    assert!(log.contains("9 row(s)"), "{log}");
}

#[tokio::test]
async fn errors_fail_the_attempt_with_position() {
    let lake = lake();
    let runner = SqlRunner::new(Arc::clone(&lake.engine));
    let (ctx, _) = context(&lake, json!("SELECT * FROM shop.missing"));
    let outcome = runner.run(ctx).await;
    let err = outcome.result.expect_err("fails");
    assert_eq!(err.kind, FailureKind::Failed);
    assert!(
        err.message.starts_with("line 1, column 15:"),
        "{}",
        err.message
    );
}
