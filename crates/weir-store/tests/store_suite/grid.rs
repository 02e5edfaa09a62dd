//! What a grid of runs × tasks reads: many runs' task states at once, and a pipeline's runs a
//! page at a time.

use std::time::Instant;

use serde_json::json;
use weir_store::*;

use crate::{Db, run, task};

pub async fn task_states_of_many_runs_in_one_read(db: Db) {
    let store = &db.store;
    // 1,100 runs: more than one list of run ids, so chunks are read and merged in order.
    let runs: Vec<String> = (0..1_100).map(|i| format!("r{i:04}")).collect();
    let mut batch: Vec<Mutation> = Vec::new();
    for (i, id) in runs.iter().enumerate() {
        batch.push(
            RunMutation::PutTask(TaskRecord {
                state: "success".into(),
                try_number: 2,
                started_at: Some(10),
                ended_at: Some(20 + i as i64),
                output: Some(json!({"big": "x".repeat(100)})),
                error: Some("an error the grid does not read".into()),
                ..task(id, "extract", -1)
            })
            .into(),
        );
        batch.push(RunMutation::PutTask(task(id, "load", -1)).into());
    }
    // A mapped task's instances, and one removed by a retry, which the grid does not show.
    batch.push(RunMutation::PutTask(task("r0001", "fan", -1)).into());
    batch.push(RunMutation::PutTask(task("r0001", "fan", 0)).into());
    batch.push(
        RunMutation::PutTask(TaskRecord {
            state: "removed".into(),
            ..task("r0001", "fan", 1)
        })
        .into(),
    );
    // Another run, not asked for.
    batch.push(RunMutation::PutTask(task("other", "extract", -1)).into());
    store.apply(&batch).await.unwrap();

    assert_eq!(store.task_states(&[]).await.unwrap(), vec![]);
    let one = store.task_states(&["r0001".to_string()]).await.unwrap();
    let keys: Vec<_> = one
        .iter()
        .map(|t| (t.task_id.as_str(), t.map_index))
        .collect();
    assert_eq!(
        keys,
        [("extract", -1), ("fan", -1), ("fan", 0), ("load", -1)],
        "by task id then map index, without removed instances"
    );
    assert_eq!(
        one[0],
        TaskState {
            run_id: "r0001".into(),
            task_id: "extract".into(),
            map_index: -1,
            state: "success".into(),
            try_number: 2,
            started_at: Some(10),
            ended_at: Some(21),
        }
    );
    // Asked in any order, with an unknown id and a repeat: every row once, in key order.
    let mut asked: Vec<String> = runs.iter().rev().cloned().collect();
    asked.push("absent".into());
    asked.push("r0005".into());
    let all = store.task_states(&asked).await.unwrap();
    assert_eq!(all.len(), 1_100 * 2 + 2);
    assert!(
        all.windows(2).all(|w| {
            (&w[0].run_id, &w[0].task_id, w[0].map_index)
                < (&w[1].run_id, &w[1].task_id, w[1].map_index)
        }),
        "sorted by key, without repeats"
    );
    assert!(all.iter().all(|t| t.run_id != "other"));
    assert_eq!(all.last().map(|t| t.run_id.as_str()), Some("r1099"));
}

/// A grid of 50 tasks × 1,000 runs: 50,000 rows in one call.
pub async fn fifty_thousand_task_states_read_fast(db: Db) {
    const RUNS: usize = 1_000;
    const TASKS: usize = 50;
    let store = &db.store;
    let runs: Vec<String> = (0..RUNS).map(|i| format!("grid__{i:05}")).collect();
    let batch: Vec<Mutation> = runs
        .iter()
        .flat_map(|id| {
            (0..TASKS).map(move |t| {
                RunMutation::PutTask(TaskRecord {
                    state: "success".into(),
                    try_number: 1,
                    started_at: Some(1_000),
                    ended_at: Some(2_000),
                    output: Some(json!({"rows": t})),
                    ..task(id, &format!("task_{t:02}"), -1)
                })
                .into()
            })
        })
        .collect();
    store.apply(&batch).await.unwrap();
    // The first read prepares the statement on a reader; a page load is the reads after.
    store.task_states(&runs).await.unwrap();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let states = store.task_states(&runs).await.unwrap();
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(states.len(), RUNS * TASKS);
    }
    println!(
        "{}: task states of {RUNS} runs × {TASKS} tasks ({} rows) in {best:.1} ms",
        db.backend(),
        RUNS * TASKS
    );
    // Generous for a debug build on a loaded machine; a read per run or a quadratic bind
    // would take seconds.
    assert!(best < 1_000.0, "50,000 task states took {best:.1} ms");
}

pub async fn runs_page_back_through_a_pipeline(db: Db) {
    let store = &db.store;
    // Two runs share a creation time: the id breaks the tie, so none is skipped or repeated.
    let batch: Vec<Mutation> = [
        run("a1", "etl", "manual", 1, 100),
        run("a2", "etl", "manual", 2, 200),
        run("a3", "etl", "manual", 3, 200),
        run("a4", "etl", "manual", 4, 300),
        run("b1", "other", "manual", 1, 250),
    ]
    .into_iter()
    .map(|r| RunMutation::InsertRun(r).into())
    .collect();
    store.apply(&batch).await.unwrap();
    let ids = |runs: &[RunRecord]| runs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let first = store.runs_page("etl", None, 2).await.unwrap();
    assert_eq!(ids(&first), ["a4", "a3"]);
    let last = first.last().unwrap();
    let second = store
        .runs_page("etl", Some((last.created_at, &last.id)), 2)
        .await
        .unwrap();
    assert_eq!(ids(&second), ["a2", "a1"]);
    let last = second.last().unwrap();
    let third = store
        .runs_page("etl", Some((last.created_at, &last.id)), 2)
        .await
        .unwrap();
    assert!(third.is_empty());
    assert!(store.runs_page("none", None, 10).await.unwrap().is_empty());
}
