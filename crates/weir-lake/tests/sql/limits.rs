//! Statements run under a memory pool and a time limit: past either, the statement fails with an
//! error naming the limit, and the engine goes on serving others.

use std::time::{Duration, Instant};

use weir_lake::sql::{SessionOptions, SqlErrorKind};

use crate::fixtures::lake_with;

/// A join whose build side (two million rows) cannot spill.
const BIG_JOIN: &str = "SELECT count(*) AS n FROM generate_series(1, 2000000) a \
                        JOIN generate_series(1, 2000000) b ON a.value = b.value";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_the_memory_limit_fails_naming_it() {
    let lake = lake_with(SessionOptions {
        memory_limit: Some(1 << 20),
        ..SessionOptions::default()
    });
    let error = lake.engine.execute(BIG_JOIN).await.expect_err("over 1 MiB");
    assert_eq!(error.kind, SqlErrorKind::MemoryLimit, "{error}");
    assert!(
        error.message.contains("memory limit of 1 MiB") && error.message.contains("memory_limit"),
        "{error}"
    );
    // The pool is whole again: small statements run.
    let rows = lake
        .engine
        .execute("SELECT count(*) AS n FROM generate_series(1, 1000)")
        .await
        .expect("a small statement")
        .to_json_rows();
    assert_eq!(rows[0]["n"], 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sort_past_the_memory_limit_spills_to_disk() {
    let spill = tempfile::tempdir().expect("spill dir");
    let lake = lake_with(SessionOptions {
        memory_limit: Some(16 << 20),
        spill_dir: Some(spill.path().to_path_buf()),
        target_partitions: 1,
        ..SessionOptions::default()
    });
    // Three million 8-byte keys sorted: more than 16 MiB to hold, so the sort spills.
    let result = lake
        .engine
        .execute("SELECT value * 7 % 3000017 AS v FROM generate_series(1, 3000000) ORDER BY v")
        .await
        .expect("spills instead of failing");
    assert_eq!(result.row_count, 3_000_000);
    let rows = weir_lake::sql::QueryResult {
        batches: result.batches[..1].to_vec(),
        ..result
    }
    .to_json_rows();
    assert!(
        rows.windows(2)
            .all(|w| w[0]["v"].as_i64() <= w[1]["v"].as_i64()),
        "sorted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_the_time_limit_is_stopped_naming_it() {
    let lake = lake_with(SessionOptions {
        timeout: Some(Duration::from_millis(300)),
        ..SessionOptions::default()
    });
    let started = Instant::now();
    let error = lake
        .engine
        .execute("SELECT count(*) FROM generate_series(1, 100000000000)")
        .await
        .expect_err("runs for hours");
    assert_eq!(error.kind, SqlErrorKind::Timeout, "{error}");
    assert!(
        error.message.contains("time limit of 300ms") && error.message.contains("timeout"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let rows = lake
        .engine
        .execute("SELECT 1 AS one")
        .await
        .expect("the engine goes on")
        .to_json_rows();
    assert_eq!(rows[0]["one"], 1);
}

/// A window over sorted input is evaluated on the whole input at once (`SortedWindowExec`): that
/// input counts against the pool, so past the limit the statement fails instead of growing the
/// server without bound (the sort before it spills).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_past_the_memory_limit_fails_naming_it() {
    let spill = tempfile::tempdir().expect("spill dir");
    let lake = lake_with(SessionOptions {
        memory_limit: Some(16 << 20),
        spill_dir: Some(spill.path().to_path_buf()),
        target_partitions: 1,
        ..SessionOptions::default()
    });
    let window = "SELECT sum(p) AS s FROM (SELECT lag(value) OVER (PARTITION BY value % 1000 \
                  ORDER BY value) AS p FROM generate_series(1, 3000000))";
    let plan = lake
        .engine
        .execute(&format!("EXPLAIN {window}"))
        .await
        .expect("explain")
        .to_table()
        .expect("text");
    assert!(plan.contains("SortedWindowExec"), "{plan}");
    let error = lake.engine.execute(window).await.expect_err("over 16 MiB");
    assert_eq!(error.kind, SqlErrorKind::MemoryLimit, "{error}");
    assert!(error.message.contains("SortedWindowExec"), "{error}");
}
