//! The one suite every `Store` passes. Each case is written once against `Arc<dyn Store>` and runs
//! twice: on SQLite (a file in a temporary directory) and on PostgreSQL (a database of its own, on
//! the server `WEIR_TEST_POSTGRES_URL` names, dropped afterwards), so cases run in parallel.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use weir_store::fault::FaultyStore;
use weir_store::*;

/// The store under test, and how to open it again.
struct Db {
    url: String,
    store: Arc<dyn Store>,
}

impl Db {
    async fn open(url: String) -> Db {
        let store = weir_store::open(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        Db { url, store }
    }

    /// Drops this store and opens the same database anew, as a restarted server would.
    async fn reopen(self) -> Db {
        let Db { url, store } = self;
        drop(store);
        Db::open(url).await
    }

    fn backend(&self) -> &str {
        self.url.split(':').next().unwrap_or("?")
    }
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                crate::on_sqlite(super::$case).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                crate::on_postgres(super::$case).await
            })*
        }
    };
}

suite!(
    machines_and_executions_round_trip,
    long_histories_read_whole_and_in_order,
    every_mutation_round_trips,
    upserts_replace_whole_rows,
    events_keep_their_order,
    recovery_queries,
    run_listings_are_newest_first,
    run_for_logical_date_finds_scheduled_runs,
    one_scheduled_run_per_interval_and_failed_batches_leave_nothing,
    twenty_thousand_task_upserts_in_one_batch,
    data_survives_reopen,
    committer_gathers_concurrent_submissions,
    catalog_round_trips,
    catalog_upserts_and_drops,
    manifest_changes_apply_in_batch_order,
    ten_thousand_manifest_rows_replace_at_once,
    failed_catalog_batches_leave_nothing,
    credentials_round_trip_and_revoke,
    audit_log_appends_and_pages,
    ended_sessions_are_kept_until_they_expire,
    secrets_round_trip_replace_and_delete,
    secret_writes_keep_their_batch_order,
    leases_are_taken_renewed_and_stolen_only_when_expired,
    concurrent_claims_of_one_lease_have_one_winner,
    checkpoints_commit_with_their_batch_only_under_the_lease,
    event_source_mappings_round_trip_and_delete,
    streams_shards_and_consumers_round_trip,
    stream_deletion_takes_its_shards_and_consumers_in_batch_order,
    deliveries_round_trip_replace_and_delete,
    event_bus_metadata_round_trips_and_deletes_in_batch_order,
    archived_events_page_by_time_expire_and_go_with_their_archive,
    a_run_keeps_the_event_that_started_it,
    queues_messages_and_receipts_round_trip,
    queue_deletions_moves_and_purges_apply_in_batch_order,
    task_states_of_many_runs_in_one_read,
    fifty_thousand_task_states_read_fast,
    runs_page_back_through_a_pipeline,
    saved_queries_round_trip_order_and_delete,
    transform_bookmarks_round_trip_and_reset,
    a_bookmark_commits_with_the_manifest_or_not_at_all,
);

#[path = "store_suite/consumers.rs"]
mod consumers;
use consumers::*;

#[path = "store_suite/deliveries.rs"]
mod deliveries;
use deliveries::*;

#[path = "store_suite/events.rs"]
mod events;
use events::*;
#[path = "store_suite/queues.rs"]
mod queues;
use queues::*;

#[path = "store_suite/grid.rs"]
mod grid;
use grid::*;

#[path = "store_suite/queries.rs"]
mod queries;
use queries::*;

#[path = "store_suite/transforms.rs"]
mod transforms;
use transforms::*;

async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    // A directory that does not exist yet: opening must create it.
    let url = format!("sqlite://{}/data/weir.db", dir.path().display());
    case(Db::open(url).await).await;
}

async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(Db) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(admin_url) = std::env::var("WEIR_TEST_POSTGRES_URL") else {
        panic!(
            "WEIR_TEST_POSTGRES_URL is not set. Start PostgreSQL with `eval \"$(scripts/postgres.sh)\"` \
             (from the repository root; it prints the export line), then run the tests again."
        );
    };
    let name = format!(
        "weir_test_{:016x}",
        RandomState::new().hash_one(std::process::id())
    );
    let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("cannot connect to {admin_url} (run scripts/postgres.sh?): {e}")
    });
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let url = with_database(&admin_url, &name);
    // Run the case on its own task so that a failing case still lets us drop its database.
    let outcome = tokio::spawn(async move { case(Db::open(url).await).await }).await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .expect("drop test database");
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// `url` with its database name replaced by `name`, keeping any `?options`.
fn with_database(url: &str, name: &str) -> String {
    let (base, options) = match url.split_once('?') {
        Some((base, options)) => (base, format!("?{options}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let server = rest.split_once('/').map_or(rest, |(server, _)| server);
    format!("{scheme}://{server}/{name}{options}")
}

// ---------------------------------------------------------------------------------------------
// Rows

fn version(pipeline: &str, version: &str) -> VersionRecord {
    VersionRecord {
        pipeline: pipeline.into(),
        version: version.into(),
        path: format!("pipelines/{pipeline}.yaml"),
        source: format!("name: {pipeline}\n# {version}\n"),
        created_at: 1_700_000_000_000_000,
    }
}

fn run(id: &str, pipeline: &str, run_type: &str, logical_date: i64, created_at: i64) -> RunRecord {
    RunRecord {
        id: id.into(),
        pipeline: pipeline.into(),
        version: "v1".into(),
        state: "queued".into(),
        run_type: run_type.into(),
        logical_date,
        interval_start: logical_date,
        interval_end: logical_date + 3_600_000_000,
        params: json!({}),
        created_at,
        started_at: None,
        ended_at: None,
        notified: false,
        event: None,
    }
}

fn task(run_id: &str, task_id: &str, map_index: i32) -> TaskRecord {
    TaskRecord {
        run_id: run_id.into(),
        task_id: task_id.into(),
        map_index,
        state: "pending".into(),
        try_number: 0,
        max_tries: 1,
        started_at: None,
        ended_at: None,
        next_try_at: None,
        output: None,
        item: None,
        error: None,
    }
}

fn attempt(run_id: &str, task_id: &str, try_number: i32, started_at: i64) -> AttemptRecord {
    AttemptRecord {
        run_id: run_id.into(),
        task_id: task_id.into(),
        map_index: -1,
        try_number,
        state: "running".into(),
        started_at,
        ended_at: None,
        pid: None,
        exit_code: None,
        error: None,
        log_path: format!("logs/{run_id}/{task_id}/{try_number}.log"),
    }
}

fn event(run_id: &str, at: i64, state: &str) -> EventRecord {
    EventRecord {
        run_id: run_id.into(),
        at,
        task_id: None,
        map_index: None,
        try_number: None,
        state: state.into(),
        message: None,
    }
}

fn database(name: &str) -> DatabaseRecord {
    DatabaseRecord {
        name: name.into(),
        description: None,
        created_at: 1_700_000_000_000_000,
    }
}

fn table(database: &str, name: &str) -> TableRecord {
    TableRecord {
        database: database.into(),
        name: name.into(),
        location: format!("{database}/{name}"),
        format: "parquet".into(),
        columns: json!([{"name": "id", "data_type": "Int64", "nullable": false}]),
        partitioning: json!({"style": "none"}),
        row_count: None,
        size_bytes: 0,
        file_count: 0,
        last_modified: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn file(database: &str, table: &str, key: &str, size: i64) -> TableFileRecord {
    TableFileRecord {
        database: database.into(),
        table_name: table.into(),
        key: format!("{database}/{table}/{key}"),
        size,
        last_modified: 100,
        etag: None,
        partition_values: json!([]),
        row_count: None,
    }
}

fn keys(files: &[TableFileRecord]) -> Vec<&str> {
    files.iter().map(|f| f.key.as_str()).collect()
}

fn ids(runs: &[RunRecord]) -> Vec<&str> {
    runs.iter().map(|r| r.id.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn every_mutation_round_trips(db: Db) {
    let store = &db.store;
    let v = version("etl", "abc123");
    let r = RunRecord {
        state: "running".into(),
        params: json!({"day": "2024-01-01", "n": 3, "nested": {"list": [1, 2.5, null, true]}}),
        // Every column gets a value of its own, so that columns bound out of order would show.
        interval_start: 900,
        interval_end: 1_100,
        started_at: Some(11),
        ended_at: Some(12),
        notified: true,
        event: Some(json!({"version": "0", "id": "e1", "detail-type": "T", "detail": {"x": [1]}})),
        ..run("r1", "etl", "scheduled", 1_000, 10)
    };
    let full_task = TaskRecord {
        state: "success".into(),
        try_number: 2,
        max_tries: 4,
        started_at: Some(20),
        ended_at: Some(21),
        next_try_at: Some(22),
        output: Some(json!({"rows": 42, "files": ["a", "b"]})),
        item: Some(json!("élément ✓")),
        error: Some("first try failed".into()),
        ..task("r1", "extract", 3)
    };
    let bare_task = task("r1", "load", -1);
    let full_attempt = AttemptRecord {
        map_index: 3,
        state: "failed".into(),
        ended_at: Some(31),
        pid: Some(4242),
        exit_code: Some(-9),
        error: Some("killed".into()),
        ..attempt("r1", "extract", 1, 30)
    };
    let run_event = EventRecord {
        message: Some("created by the scheduler".into()),
        ..event("r1", 40, "queued")
    };
    let task_event = EventRecord {
        task_id: Some("extract".into()),
        map_index: Some(3),
        try_number: Some(1),
        ..event("r1", 41, "running")
    };
    let schedule = ScheduleStateRecord {
        pipeline: "etl".into(),
        last_interval_end: Some(5_000),
        paused: true,
    };
    let fresh_schedule = ScheduleStateRecord {
        pipeline: "new".into(),
        last_interval_end: None,
        paused: false,
    };
    store
        .apply(&[
            RunMutation::PutVersion(v.clone()).into(),
            RunMutation::PutRun(r.clone()).into(),
            RunMutation::PutTask(full_task.clone()).into(),
            RunMutation::PutTask(bare_task.clone()).into(),
            RunMutation::PutAttempt(full_attempt.clone()).into(),
            RunMutation::Event(run_event.clone()).into(),
            RunMutation::Event(task_event.clone()).into(),
            RunMutation::PutScheduleState(schedule.clone()).into(),
            RunMutation::PutScheduleState(fresh_schedule.clone()).into(),
        ])
        .await
        .unwrap();
    store.apply(&[]).await.unwrap();

    assert_eq!(
        store.pipeline_version("etl", "abc123").await.unwrap(),
        Some(v)
    );
    assert_eq!(store.pipeline_version("etl", "other").await.unwrap(), None);
    assert_eq!(store.run("r1").await.unwrap(), Some(r.clone()));
    assert_eq!(store.run("missing").await.unwrap(), None);
    assert_eq!(store.runs(None, 10).await.unwrap(), vec![r]);
    assert_eq!(
        store.task_instances("r1").await.unwrap(),
        vec![full_task, bare_task]
    );
    assert_eq!(
        store.attempts("r1", None).await.unwrap(),
        vec![full_attempt.clone()]
    );
    assert_eq!(
        store.attempts("r1", Some("extract")).await.unwrap(),
        vec![full_attempt]
    );
    assert_eq!(store.attempts("r1", Some("load")).await.unwrap(), vec![]);
    assert_eq!(
        store.run_events("r1").await.unwrap(),
        vec![run_event, task_event]
    );
    assert_eq!(
        store.schedule_states().await.unwrap(),
        vec![schedule, fresh_schedule]
    );
}

async fn upserts_replace_whole_rows(db: Db) {
    let store = &db.store;
    let first = RunRecord {
        started_at: Some(1),
        params: json!({"a": 1}),
        ..run("r1", "etl", "manual", 0, 1)
    };
    let done_task = TaskRecord {
        output: Some(json!(1)),
        error: Some("x".into()),
        ..task("r1", "t", -1)
    };
    store
        .apply(&[
            RunMutation::PutVersion(version("etl", "v1")).into(),
            RunMutation::PutRun(first).into(),
            RunMutation::PutTask(done_task).into(),
            RunMutation::PutAttempt(attempt("r1", "t", 1, 5)).into(),
            RunMutation::PutScheduleState(ScheduleStateRecord {
                pipeline: "etl".into(),
                last_interval_end: Some(9),
                paused: true,
            })
            .into(),
        ])
        .await
        .unwrap();

    // Optional columns set back to NULL must be cleared, not kept.
    let second = RunRecord {
        state: "success".into(),
        params: json!({"b": [2]}),
        ended_at: Some(7),
        ..run("r1", "etl", "manual", 0, 1)
    };
    let retried = TaskRecord {
        state: "up_for_retry".into(),
        try_number: 1,
        next_try_at: Some(99),
        ..task("r1", "t", -1)
    };
    let ended = AttemptRecord {
        state: "success".into(),
        ended_at: Some(6),
        exit_code: Some(0),
        ..attempt("r1", "t", 1, 5)
    };
    let unpaused = ScheduleStateRecord {
        pipeline: "etl".into(),
        last_interval_end: None,
        paused: false,
    };
    let changed_version = VersionRecord {
        source: "changed".into(),
        ..version("etl", "v1")
    };
    store
        .apply(&[
            RunMutation::PutVersion(changed_version).into(),
            RunMutation::PutRun(second.clone()).into(),
            RunMutation::PutTask(retried.clone()).into(),
            RunMutation::PutAttempt(ended.clone()).into(),
            RunMutation::PutScheduleState(unpaused.clone()).into(),
        ])
        .await
        .unwrap();

    assert_eq!(
        store.pipeline_version("etl", "v1").await.unwrap(),
        Some(version("etl", "v1")),
        "versions are immutable"
    );
    assert_eq!(store.run("r1").await.unwrap(), Some(second));
    assert_eq!(store.task_instances("r1").await.unwrap(), vec![retried]);
    assert_eq!(store.attempts("r1", None).await.unwrap(), vec![ended]);
    assert_eq!(store.schedule_states().await.unwrap(), vec![unpaused]);

    // One key written several times in one batch: the last write wins (the first, for versions).
    let states = ["queued", "running", "success"];
    let mut batch: Vec<Mutation> = states
        .iter()
        .map(|s| {
            RunMutation::PutTask(TaskRecord {
                state: s.to_string(),
                ..task("r1", "t", -1)
            })
            .into()
        })
        .collect();
    batch.push(RunMutation::PutVersion(version("etl", "v2")).into());
    batch.push(
        RunMutation::PutVersion(VersionRecord {
            source: "later".into(),
            ..version("etl", "v2")
        })
        .into(),
    );
    store.apply(&batch).await.unwrap();
    assert_eq!(
        store.task_instances("r1").await.unwrap()[0].state,
        "success"
    );
    assert_eq!(
        store.pipeline_version("etl", "v2").await.unwrap(),
        Some(version("etl", "v2"))
    );
}

async fn events_keep_their_order(db: Db) {
    let store = &db.store;
    // Events of two runs interleaved across batches, with equal and decreasing timestamps: the
    // trail is in the order of writing, whatever `at` says.
    let mut expected = Vec::new();
    for batch_no in 0..3 {
        let mut batch = Vec::new();
        for i in 0..300 {
            let e = event("a", 1_000 - (i % 7), &format!("a-{batch_no}-{i}"));
            batch.push(RunMutation::Event(e.clone()).into());
            expected.push(e);
            batch.push(RunMutation::Event(event("b", 0, &format!("b-{batch_no}-{i}"))).into());
        }
        store.apply(&batch).await.unwrap();
    }
    assert_eq!(store.run_events("a").await.unwrap(), expected);
    let b = store.run_events("b").await.unwrap();
    assert_eq!(b.len(), 900);
    assert_eq!(b[0].state, "b-0-0");
    assert_eq!(b[899].state, "b-2-299");
    assert_eq!(store.run_events("none").await.unwrap(), vec![]);
}

async fn recovery_queries(db: Db) {
    let store = &db.store;
    let with = |id: &str, created: i64, state: &str, notified: bool| RunRecord {
        state: state.into(),
        notified,
        ..run(id, "etl", "manual", 0, created)
    };
    store
        .apply(&[
            RunMutation::PutRun(with("running", 3, "running", false)).into(),
            RunMutation::PutRun(with("queued", 1, "queued", false)).into(),
            RunMutation::PutRun(with("ok-told", 2, "success", true)).into(),
            RunMutation::PutRun(with("ok-untold", 5, "success", false)).into(),
            RunMutation::PutRun(with("failed-untold", 4, "failed", false)).into(),
            RunMutation::PutRun(with("cancelled-told", 6, "cancelled", true)).into(),
            RunMutation::PutAttempt(attempt("running", "a", 1, 30)).into(),
            RunMutation::PutAttempt(AttemptRecord {
                ended_at: Some(11),
                state: "failed".into(),
                ..attempt("running", "a", 0, 10)
            })
            .into(),
            RunMutation::PutAttempt(attempt("queued", "b", 1, 20)).into(),
        ])
        .await
        .unwrap();

    assert_eq!(
        ids(&store.unfinished_runs().await.unwrap()),
        ["queued", "running"]
    );
    assert_eq!(
        ids(&store.runs_pending_notification().await.unwrap()),
        ["failed-untold", "ok-untold"]
    );
    let open: Vec<_> = store
        .open_attempts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.run_id, a.try_number))
        .collect();
    assert_eq!(
        open,
        [("queued".to_string(), 1), ("running".to_string(), 1)]
    );

    // Finishing moves runs out of one list and into the other.
    store
        .apply(&[
            RunMutation::PutRun(with("running", 3, "success", true)).into(),
            RunMutation::PutAttempt(AttemptRecord {
                ended_at: Some(40),
                state: "success".into(),
                ..attempt("running", "a", 1, 30)
            })
            .into(),
        ])
        .await
        .unwrap();
    assert_eq!(ids(&store.unfinished_runs().await.unwrap()), ["queued"]);
    assert_eq!(store.open_attempts().await.unwrap().len(), 1);
}

async fn a_run_keeps_the_event_that_started_it(db: Db) {
    let store = &db.store;
    let event = json!({
        "version": "0", "id": "6a7e8feb", "detail-type": "Partition Added", "source": "weir.glue",
        "account": "123456789012", "time": "2026-01-02T03:04:05Z", "region": "eu-west-1",
        "resources": [], "detail": {"table": "clicks", "partition": {"day": "2026-01-01"}, "n": 1.5}
    });
    let triggered = RunRecord {
        run_type: "event".into(),
        event: Some(event.clone()),
        ..run("t1", "agg", "manual", 0, 1)
    };
    store
        .apply(&[
            RunMutation::InsertRun(triggered.clone()).into(),
            RunMutation::InsertRun(run("m1", "agg", "manual", 0, 2)).into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.run("t1").await.unwrap().unwrap().event,
        Some(event.clone())
    );
    assert_eq!(store.run("m1").await.unwrap().unwrap().event, None);
    // Later writes of the run (its state moving on) keep the event, as recovery reads it.
    let running = RunRecord {
        state: "running".into(),
        started_at: Some(5),
        ..triggered
    };
    store
        .apply(&[RunMutation::PutRun(running).into()])
        .await
        .unwrap();
    let unfinished = store.unfinished_runs().await.unwrap();
    let t1 = unfinished.iter().find(|r| r.id == "t1").unwrap();
    assert_eq!((t1.state.as_str(), &t1.event), ("running", &Some(event)));
}

async fn run_listings_are_newest_first(db: Db) {
    let store = &db.store;
    let batch: Vec<Mutation> = (0..10)
        .map(|i| {
            let pipeline = if i % 2 == 0 { "even" } else { "odd" };
            RunMutation::PutRun(run(&format!("r{i}"), pipeline, "manual", 0, 100 + i)).into()
        })
        .collect();
    store.apply(&batch).await.unwrap();
    assert_eq!(ids(&store.runs(None, 3).await.unwrap()), ["r9", "r8", "r7"]);
    assert_eq!(store.runs(None, 100).await.unwrap().len(), 10);
    assert_eq!(
        ids(&store.runs(Some("even"), 100).await.unwrap()),
        ["r8", "r6", "r4", "r2", "r0"]
    );
    assert_eq!(
        ids(&store.runs(Some("odd"), 2).await.unwrap()),
        ["r9", "r7"]
    );
    assert_eq!(store.runs(Some("none"), 10).await.unwrap(), vec![]);
    assert_eq!(store.runs(None, 0).await.unwrap(), vec![]);
}

async fn run_for_logical_date_finds_scheduled_runs(db: Db) {
    let store = &db.store;
    store
        .apply(&[
            RunMutation::PutRun(run("manual", "etl", "manual", 100, 1)).into(),
            RunMutation::PutRun(run("sched", "etl", "scheduled", 200, 2)).into(),
            RunMutation::PutRun(run("backfill", "etl", "backfill", 300, 3)).into(),
            RunMutation::PutRun(run("manual-same-day", "etl", "manual", 200, 4)).into(),
            RunMutation::PutRun(run("other", "other", "scheduled", 100, 5)).into(),
        ])
        .await
        .unwrap();
    let found = |pipeline: &'static str, date: i64| {
        let store = store.clone();
        async move {
            store
                .run_for_logical_date(pipeline, date)
                .await
                .unwrap()
                .map(|r| r.id)
        }
    };
    assert_eq!(
        found("etl", 100).await,
        None,
        "manual runs do not occupy an interval"
    );
    assert_eq!(found("etl", 200).await.as_deref(), Some("sched"));
    assert_eq!(found("etl", 300).await.as_deref(), Some("backfill"));
    assert_eq!(found("other", 100).await.as_deref(), Some("other"));
    assert_eq!(found("etl", 400).await, None);
}

async fn one_scheduled_run_per_interval_and_failed_batches_leave_nothing(db: Db) {
    let store = &db.store;
    store
        .apply(&[RunMutation::PutRun(run("first", "etl", "scheduled", 1_000, 1)).into()])
        .await
        .unwrap();

    for (id, run_type) in [("second", "scheduled"), ("filler", "backfill")] {
        let doomed = [
            RunMutation::PutVersion(version("etl", "v9")).into(),
            RunMutation::PutTask(task("first", "extract", -1)).into(),
            RunMutation::PutAttempt(attempt("first", "extract", 1, 5)).into(),
            RunMutation::Event(event("first", 2, "running")).into(),
            RunMutation::PutRun(RunRecord {
                state: "running".into(),
                ..run("first", "etl", "scheduled", 1_000, 1)
            })
            .into(),
            RunMutation::PutRun(run(id, "etl", run_type, 1_000, 2)).into(),
            RunMutation::PutScheduleState(ScheduleStateRecord {
                pipeline: "etl".into(),
                last_interval_end: Some(1),
                paused: false,
            })
            .into(),
        ];
        let result = store.apply(&doomed).await;
        assert!(
            result.is_err(),
            "a second {run_type} run for the interval must be refused"
        );

        // Nothing of the batch is visible, not even the writes before the failing one.
        assert_eq!(store.run(id).await.unwrap(), None);
        assert_eq!(store.run("first").await.unwrap().unwrap().state, "queued");
        assert_eq!(store.pipeline_version("etl", "v9").await.unwrap(), None);
        assert_eq!(store.task_instances("first").await.unwrap(), vec![]);
        assert_eq!(store.attempts("first", None).await.unwrap(), vec![]);
        assert_eq!(store.run_events("first").await.unwrap(), vec![]);
        assert_eq!(store.schedule_states().await.unwrap(), vec![]);
    }

    // The store still works after a failed batch; manual runs and other intervals are free.
    store
        .apply(&[
            RunMutation::PutRun(run("manual", "etl", "manual", 1_000, 3)).into(),
            RunMutation::PutRun(run("next", "etl", "scheduled", 2_000, 4)).into(),
            RunMutation::PutRun(run("elsewhere", "other", "scheduled", 1_000, 5)).into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.runs(None, 10).await.unwrap().len(), 4);
    assert_eq!(
        store
            .run_for_logical_date("etl", 1_000)
            .await
            .unwrap()
            .map(|r| r.id)
            .as_deref(),
        Some("first")
    );
}

async fn twenty_thousand_task_upserts_in_one_batch(db: Db) {
    const N: usize = 20_000;
    let store = &db.store;
    let insert: Vec<Mutation> = (0..N)
        .map(|i| {
            RunMutation::PutTask(TaskRecord {
                item: Some(json!({"i": i})),
                ..task("big", &format!("task-{:03}", i % 100), (i / 100) as i32)
            })
            .into()
        })
        .collect();
    let update: Vec<Mutation> = (0..N)
        .map(|i| {
            RunMutation::PutTask(TaskRecord {
                state: "success".into(),
                output: Some(json!(i)),
                ..task("big", &format!("task-{:03}", i % 100), (i / 100) as i32)
            })
            .into()
        })
        .collect();
    for (what, batch) in [("inserts", &insert), ("updates", &update)] {
        let started = Instant::now();
        store.apply(batch).await.unwrap();
        let elapsed = started.elapsed();
        println!(
            "{}: one batch of {N} task {what} in {:.1} ms = {:.0} rows/s",
            db.backend(),
            elapsed.as_secs_f64() * 1e3,
            N as f64 / elapsed.as_secs_f64()
        );
    }
    let tasks = store.task_instances("big").await.unwrap();
    assert_eq!(tasks.len(), N);
    assert!(
        tasks
            .iter()
            .all(|t| t.state == "success" && t.item.is_none())
    );
    assert_eq!(
        (tasks[0].task_id.as_str(), tasks[0].map_index),
        ("task-000", 0)
    );
    assert_eq!(
        (tasks[N - 1].task_id.as_str(), tasks[N - 1].map_index),
        ("task-099", 199)
    );
}

async fn data_survives_reopen(db: Db) {
    let r = run("r1", "etl", "scheduled", 1_000, 1);
    db.store
        .apply(&[
            RunMutation::PutVersion(version("etl", "v1")).into(),
            RunMutation::PutRun(r.clone()).into(),
            RunMutation::PutTask(task("r1", "t", -1)).into(),
            RunMutation::Event(event("r1", 1, "queued")).into(),
        ])
        .await
        .unwrap();
    let db = db.reopen().await;
    assert_eq!(db.store.run("r1").await.unwrap(), Some(r));
    assert!(
        db.store
            .pipeline_version("etl", "v1")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(db.store.task_instances("r1").await.unwrap().len(), 1);
    // Appending continues after the events written before the restart.
    db.store
        .apply(&[RunMutation::Event(event("r1", 2, "running")).into()])
        .await
        .unwrap();
    let states: Vec<_> = db
        .store
        .run_events("r1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(states, ["queued", "running"]);
}

async fn committer_gathers_concurrent_submissions(db: Db) {
    let counting = FaultyStore::new(db.store.clone());
    let committer = Committer::start(counting.clone());
    let submissions: Vec<_> = (0..100)
        .map(|i| {
            let id = format!("run-{i:03}");
            let batch: Vec<Mutation> = vec![
                RunMutation::PutRun(run(&id, "etl", "manual", 0, i)).into(),
                RunMutation::PutTask(task(&id, "t", -1)).into(),
                RunMutation::Event(event(&id, i, "queued")).into(),
            ];
            let committer = committer.clone();
            tokio::spawn(async move { committer.submit(batch).await })
        })
        .collect();
    for submission in submissions {
        submission.await.unwrap().unwrap();
    }
    let applies = counting.applies();
    println!(
        "{}: 100 concurrent submissions took {applies} commits",
        db.backend()
    );
    assert!(
        applies < 100,
        "submissions that wait together commit together"
    );
    assert_eq!(db.store.runs(None, 1_000).await.unwrap().len(), 100);
    for i in [0, 57, 99] {
        let id = format!("run-{i:03}");
        assert_eq!(db.store.task_instances(&id).await.unwrap().len(), 1);
        assert_eq!(db.store.run_events(&id).await.unwrap().len(), 1);
    }

    // Submissions from one caller apply in order; a failed commit fails its callers only.
    let first = committer.submit(vec![RunMutation::PutRun(run(
        "ordered", "etl", "manual", 0, 1,
    ))]);
    let second = committer.submit(vec![RunMutation::PutRun(RunRecord {
        state: "success".into(),
        ..run("ordered", "etl", "manual", 0, 1)
    })]);
    first.await.unwrap();
    second.await.unwrap();
    assert_eq!(
        db.store.run("ordered").await.unwrap().unwrap().state,
        "success"
    );
    let clash = committer.submit(vec![
        RunMutation::PutRun(run("s1", "etl", "scheduled", 5, 1)),
        RunMutation::PutRun(run("s2", "etl", "scheduled", 5, 1)),
    ]);
    assert!(matches!(clash.await, Err(StoreError::Commit(_))));
    committer
        .submit(vec![RunMutation::PutRun(run(
            "after", "etl", "manual", 0, 1,
        ))])
        .await
        .unwrap();
    assert!(db.store.run("after").await.unwrap().is_some());

    // A bad batch among many that share its group commit fails alone.
    let mut submissions = Vec::new();
    for i in 0..40 {
        let batch: Vec<Mutation> = if i == 20 {
            vec![
                RunMutation::PutRun(run("bad1", "etl", "scheduled", 7, 1)).into(),
                RunMutation::PutRun(run("bad2", "etl", "scheduled", 7, 1)).into(),
            ]
        } else {
            vec![RunMutation::PutRun(run(&format!("shared-{i}"), "etl", "manual", 0, 1)).into()]
        };
        submissions.push((i, committer.submit(batch)));
    }
    for (i, submission) in submissions {
        let result = submission.await;
        if i == 20 {
            assert!(matches!(result, Err(StoreError::Commit(_))), "{result:?}");
        } else {
            result.unwrap_or_else(|e| panic!("batch {i} failed with its neighbour: {e}"));
            assert!(
                db.store
                    .run(&format!("shared-{i}"))
                    .await
                    .unwrap()
                    .is_some()
            );
        }
    }
    assert!(db.store.run("bad1").await.unwrap().is_none());

    // Creating a run never overwrites one.
    committer
        .submit(vec![RunMutation::InsertRun(run(
            "created", "etl", "manual", 0, 1,
        ))])
        .await
        .unwrap();
    let again = committer
        .submit(vec![RunMutation::InsertRun(RunRecord {
            state: "failed".into(),
            ..run("created", "etl", "manual", 0, 2)
        })])
        .await;
    assert!(matches!(again, Err(StoreError::Commit(_))), "{again:?}");
    assert_eq!(
        db.store.run("created").await.unwrap().unwrap().state,
        "queued"
    );
    // A run inserted and moved on in one batch is written with its last state.
    committer
        .submit(vec![
            RunMutation::InsertRun(run("moved", "etl", "manual", 0, 1)),
            RunMutation::PutRun(RunRecord {
                state: "running".into(),
                ..run("moved", "etl", "manual", 0, 1)
            }),
        ])
        .await
        .unwrap();
    assert_eq!(
        db.store.run("moved").await.unwrap().unwrap().state,
        "running"
    );
}

async fn catalog_round_trips(db: Db) {
    let store = &db.store;
    let sales = DatabaseRecord {
        description: Some("ventes ✓".into()),
        ..database("sales")
    };
    let orders = TableRecord {
        format: "csv".into(),
        columns: json!([
            {"name": "id", "data_type": "Int64", "nullable": false},
            {"name": "amount", "data_type": "Float64", "nullable": true}
        ]),
        partitioning: json!({"style": "hive", "columns": [{"name": "day", "data_type": "Utf8", "nullable": false}]}),
        row_count: Some(42),
        size_bytes: 4_096,
        file_count: 2,
        last_modified: Some(77),
        created_at: 5,
        updated_at: 6,
        ..table("sales", "orders")
    };
    let full_file = TableFileRecord {
        last_modified: 77,
        etag: Some("\"abc\"".into()),
        partition_values: json!(["2024-01-01"]),
        row_count: Some(40),
        ..file("sales", "orders", "day=2024-01-01/a.csv", 4_000)
    };
    let bare_file = file("sales", "orders", "day=2024-01-02/b.csv", 96);
    store
        .apply(&[
            CatalogMutation::PutDatabase(sales.clone()).into(),
            CatalogMutation::PutDatabase(database("other")).into(),
            CatalogMutation::PutTable(orders.clone()).into(),
            CatalogMutation::PutTable(table("other", "t")).into(),
            CatalogMutation::PutTableFiles(vec![bare_file.clone(), full_file.clone()]).into(),
        ])
        .await
        .unwrap();

    assert_eq!(store.database("sales").await.unwrap(), Some(sales.clone()));
    assert_eq!(store.database("missing").await.unwrap(), None);
    assert_eq!(
        store.databases().await.unwrap(),
        vec![database("other"), sales]
    );
    assert_eq!(
        store.table("sales", "orders").await.unwrap(),
        Some(orders.clone())
    );
    assert_eq!(store.table("other", "orders").await.unwrap(), None);
    assert_eq!(
        store.tables(Some("sales")).await.unwrap(),
        vec![orders.clone()]
    );
    assert_eq!(
        store.tables(None).await.unwrap(),
        vec![table("other", "t"), orders]
    );
    assert_eq!(store.tables(Some("missing")).await.unwrap(), vec![]);
    // By key, whatever the order written.
    assert_eq!(
        store.table_files("sales", "orders").await.unwrap(),
        vec![full_file, bare_file]
    );
    assert_eq!(store.table_files("other", "t").await.unwrap(), vec![]);
}

async fn catalog_upserts_and_drops(db: Db) {
    let store = &db.store;
    store
        .apply(&[
            CatalogMutation::PutDatabase(database("d")).into(),
            CatalogMutation::PutTable(table("d", "t")).into(),
            CatalogMutation::PutTable(table("d", "u")).into(),
            CatalogMutation::PutTableFiles(vec![file("d", "t", "a", 1), file("d", "u", "a", 1)])
                .into(),
        ])
        .await
        .unwrap();
    let changed = TableRecord {
        format: "json".into(),
        file_count: 1,
        updated_at: 9,
        ..table("d", "t")
    };
    store
        .apply(&[
            CatalogMutation::PutDatabase(DatabaseRecord {
                description: Some("now described".into()),
                ..database("d")
            })
            .into(),
            CatalogMutation::PutTable(changed.clone()).into(),
            CatalogMutation::PutTableFiles(vec![file("d", "t", "a", 2)]).into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        store
            .database("d")
            .await
            .unwrap()
            .unwrap()
            .description
            .as_deref(),
        Some("now described")
    );
    assert_eq!(store.table("d", "t").await.unwrap(), Some(changed));
    assert_eq!(store.table_files("d", "t").await.unwrap()[0].size, 2);

    // Dropping a table drops its manifest, and only its own.
    store
        .apply(&[CatalogMutation::DropTable {
            database: "d".into(),
            name: "t".into(),
        }
        .into()])
        .await
        .unwrap();
    assert_eq!(store.table("d", "t").await.unwrap(), None);
    assert_eq!(store.table_files("d", "t").await.unwrap(), vec![]);
    assert_eq!(store.table_files("d", "u").await.unwrap().len(), 1);

    // Dropping a database removes its row only: its tables are the caller's business.
    store
        .apply(&[CatalogMutation::DropDatabase { name: "d".into() }.into()])
        .await
        .unwrap();
    assert_eq!(store.databases().await.unwrap(), vec![]);
    assert_eq!(store.tables(Some("d")).await.unwrap().len(), 1);

    // Dropping what does not exist is not an error.
    store
        .apply(&[
            CatalogMutation::DropDatabase { name: "d".into() }.into(),
            CatalogMutation::DropTable {
                database: "d".into(),
                name: "missing".into(),
            }
            .into(),
        ])
        .await
        .unwrap();
}

async fn manifest_changes_apply_in_batch_order(db: Db) {
    let store = &db.store;
    let replace = |names: &[&str]| {
        CatalogMutation::ReplaceTableFiles {
            database: "d".into(),
            table: "t".into(),
            files: names.iter().map(|n| file("d", "t", n, 1)).collect(),
        }
        .into()
    };
    let delete = |names: &[&str]| {
        CatalogMutation::DeleteTableFiles {
            database: "d".into(),
            table: "t".into(),
            keys: names.iter().map(|n| format!("d/t/{n}")).collect(),
        }
        .into()
    };
    store
        .apply(&[
            CatalogMutation::PutTable(table("d", "t")).into(),
            CatalogMutation::PutTable(table("d", "u")).into(),
            CatalogMutation::PutTableFiles(vec![
                file("d", "t", "old", 1),
                file("d", "u", "kept", 1),
            ])
            .into(),
        ])
        .await
        .unwrap();
    // A put before a replace is replaced; one after it stays. Duplicate keys keep the last row.
    store
        .apply(&[
            CatalogMutation::PutTableFiles(vec![file("d", "t", "lost", 1)]).into(),
            replace(&["a", "b", "c", "b"]),
            CatalogMutation::PutTableFiles(vec![
                file("d", "t", "later", 1),
                file("d", "t", "later", 5),
            ])
            .into(),
            delete(&["c", "never-there"]),
        ])
        .await
        .unwrap();
    let files = store.table_files("d", "t").await.unwrap();
    assert_eq!(keys(&files), ["d/t/a", "d/t/b", "d/t/later"]);
    assert_eq!(files[2].size, 5);
    // Other tables' manifests are untouched.
    assert_eq!(
        keys(&store.table_files("d", "u").await.unwrap()),
        ["d/u/kept"]
    );

    // A delete followed by a put of the same key leaves the put.
    store
        .apply(&[
            delete(&["a"]),
            CatalogMutation::PutTableFiles(vec![file("d", "t", "a", 7)]).into(),
            replace(&[]),
            CatalogMutation::PutTableFiles(vec![file("d", "t", "z", 1)]).into(),
        ])
        .await
        .unwrap();
    assert_eq!(keys(&store.table_files("d", "t").await.unwrap()), ["d/t/z"]);
}

async fn ten_thousand_manifest_rows_replace_at_once(db: Db) {
    const N: usize = 10_000;
    let store = &db.store;
    let manifest = |generation: i64| -> Vec<TableFileRecord> {
        (0..N)
            .map(|i| TableFileRecord {
                partition_values: json!([format!("{}", i % 100)]),
                row_count: Some(generation),
                ..file("d", "t", &format!("p={}/f{i:05}.csv", i % 100), 10)
            })
            .collect()
    };
    for generation in 1..=2 {
        let started = Instant::now();
        store
            .apply(&[
                CatalogMutation::PutTable(table("d", "t")).into(),
                CatalogMutation::ReplaceTableFiles {
                    database: "d".into(),
                    table: "t".into(),
                    files: manifest(generation),
                }
                .into(),
            ])
            .await
            .unwrap();
        println!(
            "{}: replaced a manifest of {N} files in {:.1} ms",
            db.backend(),
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let files = store.table_files("d", "t").await.unwrap();
    assert_eq!(files.len(), N);
    assert!(files.iter().all(|f| f.row_count == Some(2)));
    let keys: Vec<String> = files.iter().map(|f| f.key.clone()).collect();
    let started = Instant::now();
    store
        .apply(&[CatalogMutation::DeleteTableFiles {
            database: "d".into(),
            table: "t".into(),
            keys,
        }
        .into()])
        .await
        .unwrap();
    println!(
        "{}: deleted {N} manifest rows in {:.1} ms",
        db.backend(),
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(store.table_files("d", "t").await.unwrap(), vec![]);
}

async fn failed_catalog_batches_leave_nothing(db: Db) {
    let store = &db.store;
    store
        .apply(&[
            CatalogMutation::PutTable(table("d", "t")).into(),
            CatalogMutation::PutTableFiles(vec![file("d", "t", "a", 1)]).into(),
        ])
        .await
        .unwrap();
    // The scheduled-run clash fails the batch after the manifest was replaced inside it (the
    // store writes catalog mutations first).
    store
        .apply(&[RunMutation::PutRun(run("first", "etl", "scheduled", 1, 1)).into()])
        .await
        .unwrap();
    let doomed = [
        CatalogMutation::ReplaceTableFiles {
            database: "d".into(),
            table: "t".into(),
            files: vec![file("d", "t", "b", 1)],
        }
        .into(),
        CatalogMutation::PutTable(TableRecord {
            file_count: 99,
            ..table("d", "t")
        })
        .into(),
        RunMutation::PutRun(run("second", "etl", "scheduled", 1, 2)).into(),
    ];
    assert!(store.apply(&doomed).await.is_err());
    assert_eq!(keys(&store.table_files("d", "t").await.unwrap()), ["d/t/a"]);
    assert_eq!(store.table("d", "t").await.unwrap().unwrap().file_count, 0);
}

fn execution(arn: &str, machine: &str, status: &str, started_at: i64) -> ExecutionRecord {
    ExecutionRecord {
        arn: arn.into(),
        machine_arn: machine.into(),
        name: arn.rsplit(':').next().unwrap_or(arn).into(),
        status: status.into(),
        input: r#"{"a": 1}"#.into(),
        output: None,
        error: None,
        cause: None,
        definition: "{}".into(),
        started_at,
        stopped_at: None,
        redrive_count: 0,
        redriven_at: None,
    }
}

/// The executions of `machine`, newest first.
fn of_machine(machine: &str) -> ExecutionFilter<'_> {
    ExecutionFilter {
        machine_arn: Some(machine),
        ..ExecutionFilter::default()
    }
}

fn in_status(status: &str) -> ExecutionFilter<'_> {
    ExecutionFilter {
        status: Some(status),
        ..ExecutionFilter::default()
    }
}

/// A history of several thousand events (a Map's) reads back whole and in order, whatever its
/// details hold, with only its own execution's events.
async fn long_histories_read_whole_and_in_order(db: Db) {
    let store = &db.store;
    let details = |id: i64| match id % 5 {
        0 => json!({"stateEnteredEventDetails": {"name": "é \"q\" <x>", "input": "{\"a\":\n1}"}})
            .to_string(),
        1 => String::new(),
        2 => format!("not JSON \u{1f} with a unit separator {id}"),
        3 => "a | b , c ; d".into(),
        _ => json!({"n": id}).to_string(),
    };
    let event = |arn: &str, id: i64| HistoryEventRecord {
        execution_arn: arn.into(),
        id,
        previous_id: id - 1,
        at: 1_000 + id * 3,
        event_type: if id % 2 == 0 {
            "PassStateEntered"
        } else {
            "MapIterationStarted"
        }
        .into(),
        details: details(id),
    };
    let long: Vec<HistoryEventRecord> = (1..=2_500).map(|id| event("arn:x:long", id)).collect();
    let other: Vec<HistoryEventRecord> = (1..=3).map(|id| event("arn:x:other", id)).collect();
    let batch: Vec<Mutation> = long
        .iter()
        .chain(&other)
        .map(|e| MachineMutation::HistoryEvent(e.clone()).into())
        .collect();
    store.apply(&batch).await.unwrap();
    assert_eq!(store.history("arn:x:long").await.unwrap(), long);
    assert_eq!(store.history("arn:x:other").await.unwrap(), other);
    assert_eq!(store.history("arn:x:none").await.unwrap(), vec![]);
    // Details that hold the separator of events as well are read right too (one event a row).
    let odd = HistoryEventRecord {
        details: "x \u{1e} y \u{1f} z".into(),
        ..event("arn:x:odd", 1)
    };
    let odd = vec![odd, event("arn:x:odd", 2)];
    let batch: Vec<Mutation> = odd
        .iter()
        .map(|e| MachineMutation::HistoryEvent(e.clone()).into())
        .collect();
    store.apply(&batch).await.unwrap();
    assert_eq!(store.history("arn:x:odd").await.unwrap(), odd);
}

async fn machines_and_executions_round_trip(db: Db) {
    let store = &db.store;
    let machine = MachineRecord {
        arn: "arn:aws:states:us-east-1:0:stateMachine:m".into(),
        name: "m".into(),
        machine_type: "STANDARD".into(),
        definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#.into(),
        role_arn: "arn:aws:iam::0:role/r".into(),
        settings: json!({"tags": [{"key": "team", "value": "data"}]}),
        source: "api".into(),
        created_at: 1,
        updated_at: 1,
    };
    let first = execution("arn:x:e1", &machine.arn, "RUNNING", 10);
    let mut second = execution("arn:x:e2", &machine.arn, "RUNNING", 20);
    let event = |id: i64, kind: &str| HistoryEventRecord {
        execution_arn: first.arn.clone(),
        id,
        previous_id: id - 1,
        at: 100 + id,
        event_type: kind.into(),
        details: json!({"n": id}).to_string(),
    };
    let step = |name: &str, record: serde_json::Value| StepRecord {
        execution_arn: first.arn.clone(),
        step: "0".into(),
        state: name.into(),
        record: record.to_string(),
    };
    store
        .apply(&[
            MachineMutation::PutMachine(machine.clone()).into(),
            MachineMutation::PutExecution(first.clone()).into(),
            MachineMutation::PutExecution(second.clone()).into(),
            MachineMutation::HistoryEvent(event(1, "ExecutionStarted")).into(),
            MachineMutation::HistoryEvent(event(2, "PassStateEntered")).into(),
            MachineMutation::PutStep(step("A", json!({"waiting": true}))).into(),
        ])
        .await
        .unwrap();
    second.status = "SUCCEEDED".into();
    second.output = Some("[1]".into());
    second.stopped_at = Some(30);
    store
        .apply(&[
            MachineMutation::PutExecution(second.clone()).into(),
            // A repeated event id is ignored (a replay after a crash may send it again).
            MachineMutation::HistoryEvent(HistoryEventRecord {
                event_type: "Duplicate".into(),
                ..event(2, "x")
            })
            .into(),
            MachineMutation::HistoryEvent(event(3, "PassStateExited")).into(),
            MachineMutation::PutStep(step("A", json!({"output": 5}))).into(),
        ])
        .await
        .unwrap();

    assert_eq!(
        store.machine(&machine.arn).await.unwrap(),
        Some(machine.clone())
    );
    assert_eq!(store.machines().await.unwrap(), vec![machine.clone()]);
    assert_eq!(
        store.execution(&second.arn).await.unwrap(),
        Some(second.clone())
    );
    let all = store
        .executions(of_machine(&machine.arn), None, 10)
        .await
        .unwrap();
    assert_eq!(all, vec![second.clone(), first.clone()], "newest first");
    let running = store
        .executions(in_status("RUNNING"), None, 10)
        .await
        .unwrap();
    assert_eq!(running, vec![first.clone()]);
    // A redrive's count and date are on the execution's row, and listings filter by them.
    second.redrive_count = 2;
    second.redriven_at = Some(25);
    store
        .apply(&[MachineMutation::PutExecution(second.clone()).into()])
        .await
        .unwrap();
    let redriven = |redriven: bool| ExecutionFilter {
        redriven: Some(redriven),
        ..of_machine(&machine.arn)
    };
    assert_eq!(
        store.executions(redriven(true), None, 10).await.unwrap(),
        vec![second.clone()]
    );
    assert_eq!(
        store.executions(redriven(false), None, 10).await.unwrap(),
        vec![first.clone()]
    );
    // Pages continue after the execution that ended the last one, ties on the start time
    // broken by ARN: every execution once, newest first.
    let many: Vec<ExecutionRecord> = (0..7)
        .map(|i| {
            execution(
                &format!("arn:page:{i}"),
                "arn:paged",
                "SUCCEEDED",
                100 + i / 2,
            )
        })
        .collect();
    store
        .apply(
            &many
                .iter()
                .map(|e| MachineMutation::PutExecution(e.clone()).into())
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let mut paged = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = store
            .executions(
                in_status("SUCCEEDED"),
                after.as_ref().map(|(at, arn)| (*at, arn.as_str())),
                3,
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.started_at, last.arn.clone()));
        paged.extend(
            page.into_iter()
                .map(|e| e.arn)
                .filter(|a| a.starts_with("arn:page")),
        );
    }
    let mut expected: Vec<&ExecutionRecord> = many.iter().collect();
    expected.sort_by(|a, b| (b.started_at, &b.arn).cmp(&(a.started_at, &a.arn)));
    assert_eq!(
        paged,
        expected.iter().map(|e| e.arn.clone()).collect::<Vec<_>>()
    );
    let history = store.history(&first.arn).await.unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(store.last_event_id(&first.arn).await.unwrap(), 3);
    assert_eq!(store.last_event_id("arn:none").await.unwrap(), 0);
    assert_eq!(
        kinds,
        ["ExecutionStarted", "PassStateEntered", "PassStateExited"]
    );
    let steps = store.steps(&first.arn).await.unwrap();
    assert_eq!(steps, vec![step("A", json!({"output": 5}))]);

    store
        .apply(&[MachineMutation::DeleteMachine {
            arn: machine.arn.clone(),
        }
        .into()])
        .await
        .unwrap();
    assert_eq!(store.machine(&machine.arn).await.unwrap(), None);
    assert_eq!(
        store
            .executions(of_machine(&machine.arn), None, 10)
            .await
            .unwrap()
            .len(),
        2,
        "the machine's executions stay readable"
    );
}

fn credential(name: &str, role: &str) -> CredentialRecord {
    CredentialRecord {
        name: name.into(),
        role: role.into(),
        token_hash: format!("hash-of-{name}"),
        access_key_id: format!("AKID{name}"),
        grants: json!({"pipelines": ["etl_*"], "tables": [], "prefixes": []}),
        created_at: 1,
        expires_at: Some(99),
        revoked_at: None,
    }
}

async fn credentials_round_trip_and_revoke(db: Db) {
    let admin = credential("admin", "admin");
    let ci = credential("ci", "operator");
    let batch: Vec<Mutation> = vec![
        AccessMutation::PutCredential(ci.clone()).into(),
        AccessMutation::PutCredential(admin.clone()).into(),
    ];
    db.store.apply(&batch).await.unwrap();
    assert_eq!(
        db.store.credentials().await.unwrap(),
        [admin.clone(), ci.clone()]
    );

    let revoked = CredentialRecord {
        revoked_at: Some(50),
        ..ci.clone()
    };
    db.store
        .apply(&[AccessMutation::PutCredential(revoked.clone()).into()])
        .await
        .unwrap();
    let db = db.reopen().await;
    assert_eq!(
        db.store.credentials().await.unwrap(),
        [admin.clone(), revoked]
    );

    // A second credential may not reuse a token hash or an access key id: the batch fails whole.
    let clash = CredentialRecord {
        name: "other".into(),
        ..admin.clone()
    };
    let result = db
        .store
        .apply(&[AccessMutation::PutCredential(clash).into()])
        .await;
    assert!(
        result.is_err(),
        "{}: a duplicate token hash was stored",
        db.backend()
    );
    assert_eq!(db.store.credentials().await.unwrap().len(), 2);
}

async fn audit_log_appends_and_pages(db: Db) {
    let entry = |at: i64, outcome: &str| AuditRecord {
        at,
        credential: (outcome != "unauthenticated").then(|| "ci".to_string()),
        role: (outcome != "unauthenticated").then(|| "operator".to_string()),
        source: "127.0.0.1:5000".into(),
        action: "POST /api/v1/pipelines/{name}/runs".into(),
        target: "/api/v1/pipelines/etl/runs".into(),
        outcome: outcome.into(),
        status: if outcome == "ok" { 200 } else { 401 },
        detail: (outcome != "ok").then(|| "no credential".to_string()),
    };
    let records: Vec<AuditRecord> = (0..5)
        .map(|i| entry(100 + i, if i % 2 == 0 { "ok" } else { "unauthenticated" }))
        .collect();
    db.store
        .apply(&[AccessMutation::Audit(records[..3].to_vec()).into()])
        .await
        .unwrap();
    db.store
        .apply(&[AccessMutation::Audit(records[3..].to_vec()).into()])
        .await
        .unwrap();
    let all = db.store.audit(0, None, 100).await.unwrap();
    let read: Vec<AuditRecord> = all.iter().map(|e| e.record.clone()).collect();
    assert_eq!(read, records, "{}", db.backend());
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));

    let since = db.store.audit(103, None, 100).await.unwrap();
    assert_eq!(since.len(), 2);
    let first_page = db.store.audit(0, None, 2).await.unwrap();
    let next_page = db.store.audit(0, Some(first_page[1].id), 2).await.unwrap();
    assert_eq!(next_page[0].record, records[2]);
}

async fn ended_sessions_are_kept_until_they_expire(db: Db) {
    let ended = |id: &str, expires_at: i64| EndedSession {
        id: id.into(),
        expires_at,
    };
    db.store
        .apply(&[
            AccessMutation::EndSession(ended("a", 100)).into(),
            AccessMutation::EndSession(ended("b", 300)).into(),
            AccessMutation::EndSession(ended("b", 200)).into(),
        ])
        .await
        .unwrap();
    let db = db.reopen().await;
    assert_eq!(
        db.store.ended_sessions(0).await.unwrap(),
        [ended("a", 100), ended("b", 200)],
        "{}",
        db.backend()
    );
    assert_eq!(
        db.store.ended_sessions(100).await.unwrap(),
        [ended("b", 200)]
    );
}

fn secret(name: &str, sealed: &str, at: i64) -> SecretRecord {
    SecretRecord {
        name: name.into(),
        sealed: sealed.into(),
        key_id: "k1".into(),
        created_at: at,
        updated_at: at,
    }
}

async fn secrets_round_trip_replace_and_delete(db: Db) {
    let store = &db.store;
    assert_eq!(store.secrets().await.unwrap(), vec![]);
    store
        .apply(&[
            SecretMutation::PutSecret(secret("db_password", "c2VhbGVk", 1)).into(),
            SecretMutation::PutSecret(secret("API_TOKEN", "b3RoZXI=", 2)).into(),
        ])
        .await
        .unwrap();
    let names: Vec<String> = store
        .secrets()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["API_TOKEN", "db_password"], "by name, bytewise");
    let replaced = SecretRecord {
        sealed: "bmV3".into(),
        key_id: "k2".into(),
        updated_at: 5,
        ..secret("db_password", "", 1)
    };
    store
        .apply(&[SecretMutation::PutSecret(replaced.clone()).into()])
        .await
        .unwrap();
    assert_eq!(store.secret("db_password").await.unwrap(), Some(replaced));
    let db = db.reopen().await;
    let store = &db.store;
    assert_eq!(store.secrets().await.unwrap().len(), 2, "{}", db.backend());
    store
        .apply(&[
            SecretMutation::DeleteSecret {
                name: "db_password".into(),
            }
            .into(),
            SecretMutation::DeleteSecret {
                name: "never_set".into(),
            }
            .into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.secret("db_password").await.unwrap(), None);
    assert_eq!(
        store.secret("API_TOKEN").await.unwrap(),
        Some(secret("API_TOKEN", "b3RoZXI=", 2))
    );
}

async fn secret_writes_keep_their_batch_order(db: Db) {
    let store = &db.store;
    let delete =
        |name: &str| -> Mutation { SecretMutation::DeleteSecret { name: name.into() }.into() };
    store
        .apply(&[
            SecretMutation::PutSecret(secret("a", "1", 1)).into(),
            delete("a"),
            SecretMutation::PutSecret(secret("b", "1", 1)).into(),
            delete("b"),
            SecretMutation::PutSecret(secret("b", "2", 2)).into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.secret("a").await.unwrap(), None);
    assert_eq!(store.secret("b").await.unwrap(), Some(secret("b", "2", 2)));
    // A failing batch leaves the secrets as they were.
    store
        .apply(&[RunMutation::PutRun(run("first", "etl", "scheduled", 1, 1)).into()])
        .await
        .unwrap();
    let doomed = [
        delete("b"),
        RunMutation::PutRun(run("second", "etl", "scheduled", 1, 2)).into(),
    ];
    assert!(store.apply(&doomed).await.is_err());
    assert_eq!(store.secret("b").await.unwrap(), Some(secret("b", "2", 2)));
}

// ---------------------------------------------------------------------------------------------
// Streams

fn stream_record(name: &str, created_ms: i64) -> StreamRecord {
    StreamRecord {
        name: name.into(),
        arn: format!("arn:aws:kinesis:us-east-1:000000000000:stream/{name}"),
        mode: "PROVISIONED".into(),
        retention_hours: 24,
        status: "ACTIVE".into(),
        created_ms,
        tags: json!({"team": "data"}),
        storage_dir: format!("{name}-{created_ms}"),
    }
}

fn shard_record(stream: &str, shard: i64, hash_start: u128, hash_end: u128) -> ShardRecord {
    ShardRecord {
        stream: stream.into(),
        shard,
        parent: None,
        adjacent_parent: None,
        hash_start: hash_start.to_string(),
        hash_end: hash_end.to_string(),
        starting_offset: 0,
        ending_offset: None,
        created_ms: 1,
        closed_ms: None,
    }
}

fn consumer_record(stream: &str, name: &str) -> StreamConsumerRecord {
    StreamConsumerRecord {
        stream: stream.into(),
        name: name.into(),
        arn: format!("arn:aws:kinesis:us-east-1:000000000000:stream/{stream}/consumer/{name}:1"),
        status: "ACTIVE".into(),
        created_ms: 1_000,
    }
}

async fn streams_shards_and_consumers_round_trip(db: Db) {
    let store = &db.store;
    assert_eq!(store.streams().await.unwrap(), vec![]);
    let half = u128::MAX / 2;
    let orders = stream_record("orders", 1);
    let clicks = stream_record("Clicks", 2);
    let mut closed = shard_record("orders", 0, 0, half);
    let split_child = ShardRecord {
        parent: Some(0),
        ..shard_record("orders", 2, 0, half / 2)
    };
    let merged = ShardRecord {
        parent: Some(1),
        adjacent_parent: Some(2),
        ..shard_record("orders", 3, half / 2 + 1, u128::MAX)
    };
    store
        .apply(&[
            StreamMutation::PutStream(orders.clone()).into(),
            StreamMutation::PutStream(clicks.clone()).into(),
            StreamMutation::PutShard(closed.clone()).into(),
            StreamMutation::PutShard(shard_record("orders", 1, half + 1, u128::MAX)).into(),
            StreamMutation::PutShard(split_child.clone()).into(),
            StreamMutation::PutShard(merged.clone()).into(),
            StreamMutation::PutConsumer(consumer_record("orders", "b")).into(),
            StreamMutation::PutConsumer(consumer_record("orders", "a")).into(),
        ])
        .await
        .unwrap();
    // Closing a shard is an upsert of its whole row.
    closed.ending_offset = Some(1 << 40);
    closed.closed_ms = Some(7);
    store
        .apply(&[StreamMutation::PutShard(closed.clone()).into()])
        .await
        .unwrap();
    let db = db.reopen().await;
    let store = &db.store;
    let names: Vec<String> = store
        .streams()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        names,
        ["Clicks", "orders"],
        "by name, bytewise ({})",
        db.backend()
    );
    assert_eq!(store.stream("orders").await.unwrap(), Some(orders));
    assert_eq!(store.stream("nope").await.unwrap(), None);
    let shards = store.stream_shards("orders").await.unwrap();
    assert_eq!(shards.len(), 4);
    assert_eq!(shards[0], closed);
    assert_eq!(shards[2], split_child);
    assert_eq!(shards[3], merged);
    // 128-bit hash keys survive as text.
    assert_eq!(shards[1].hash_end.parse::<u128>().unwrap(), u128::MAX);
    assert_eq!(store.stream_shards("Clicks").await.unwrap(), vec![]);
    let consumers = store.stream_consumers("orders").await.unwrap();
    assert_eq!(
        consumers,
        vec![
            consumer_record("orders", "a"),
            consumer_record("orders", "b")
        ]
    );
}

async fn stream_deletion_takes_its_shards_and_consumers_in_batch_order(db: Db) {
    let store = &db.store;
    store
        .apply(&[
            StreamMutation::PutStream(stream_record("s", 1)).into(),
            StreamMutation::PutShard(shard_record("s", 0, 0, u128::MAX)).into(),
            StreamMutation::PutConsumer(consumer_record("s", "c")).into(),
            StreamMutation::PutStream(stream_record("other", 1)).into(),
            StreamMutation::PutShard(shard_record("other", 0, 0, u128::MAX)).into(),
            StreamMutation::PutConsumer(consumer_record("other", "c")).into(),
        ])
        .await
        .unwrap();
    // Deleted and created again in one batch: the new stream's rows stay, the old ones go.
    let again = stream_record("s", 9);
    store
        .apply(&[
            StreamMutation::PutShard(shard_record("s", 1, 0, 5)).into(),
            StreamMutation::DeleteStream { name: "s".into() }.into(),
            StreamMutation::PutStream(again.clone()).into(),
            StreamMutation::PutShard(shard_record("s", 0, 0, 7)).into(),
            StreamMutation::DeleteConsumer {
                stream: "other".into(),
                name: "c".into(),
            }
            .into(),
            StreamMutation::DeleteStream {
                name: "never".into(),
            }
            .into(),
        ])
        .await
        .unwrap();
    assert_eq!(store.stream("s").await.unwrap(), Some(again));
    assert_eq!(
        store.stream_shards("s").await.unwrap(),
        vec![shard_record("s", 0, 0, 7)]
    );
    assert_eq!(store.stream_consumers("s").await.unwrap(), vec![]);
    assert_eq!(store.stream_consumers("other").await.unwrap(), vec![]);
    assert_eq!(store.stream_shards("other").await.unwrap().len(), 1);
    // A failing batch leaves the streams as they were.
    store
        .apply(&[RunMutation::PutRun(run("first", "etl", "scheduled", 1, 1)).into()])
        .await
        .unwrap();
    let doomed = [
        StreamMutation::DeleteStream { name: "s".into() }.into(),
        RunMutation::PutRun(run("second", "etl", "scheduled", 1, 2)).into(),
    ];
    assert!(store.apply(&doomed).await.is_err());
    assert_eq!(store.stream_shards("s").await.unwrap().len(), 1);
}
