//! The rewrite against DataFusion's own plan on the same data: equal answers, with the
//! operator in the plan where the shape qualifies and absent where it does not.

use std::sync::Arc;

use datafusion::arrow::array::{
    Float64Array, Int64Array, RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::KeepTopRowsPerKey;
use crate::sql::sorted_window::tests::run;
use crate::sql::tuning::WindowAfterSort;

/// `rows` rows of `keys` keys (some null), a unique `id`, a score with ties and nulls, and a
/// name, in batches of 1,000.
fn table(rows: usize, keys: i64) -> MemTable {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k1", DataType::Int64, true),
        Field::new("k2", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
        // Parquet strings are read as views: the order store and the gathering must take them.
        Field::new("name", DataType::Utf8View, true),
    ]));
    let mut rng = fastrand::Rng::with_seed(11);
    let mut batches = Vec::new();
    let mut id = 0i64;
    while (id as usize) < rows {
        let n = 1_000.min(rows - id as usize);
        let ids: Int64Array = (id..id + n as i64).collect();
        let k1: Int64Array = (0..n)
            .map(|_| (rng.u8(..) > 3).then(|| rng.i64(0..keys)))
            .collect();
        let k2: StringArray = (0..n)
            .map(|_| (rng.u8(..) > 3).then(|| ["a", "b", "c"][rng.usize(..3)].to_string()))
            .collect();
        let score: Float64Array = (0..n)
            .map(|_| (rng.u8(..) > 10).then(|| f64::from(rng.u8(..50))))
            .collect();
        let name: StringViewArray = (0..n)
            .map(|i| Some(format!("name-longer-than-twelve-{}", (id + i as i64) % 97)))
            .collect();
        batches.push(
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(ids),
                    Arc::new(k1),
                    Arc::new(k2),
                    Arc::new(score),
                    Arc::new(name),
                ],
            )
            .unwrap(),
        );
        id += n as i64;
    }
    MemTable::try_new(schema, vec![batches]).unwrap()
}

fn context(table: &Arc<MemTable>, with_rule: bool, memory: Option<usize>) -> SessionContext {
    let mut config = SessionConfig::new()
        .with_target_partitions(3)
        .with_batch_size(512);
    // Small enough that a sort under the test's small pool can spill rather than fail.
    config.options_mut().execution.sort_spill_reservation_bytes = 256 * 1024;
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = memory {
        runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
    }
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime.build_arc().unwrap())
        .with_default_features();
    if with_rule {
        builder = builder.with_physical_optimizer_rule(Arc::new(KeepTopRowsPerKey));
        // weir's window operators hold their whole input; DataFusion's streams it, which a
        // test of a small memory pool needs.
        if memory.is_none() {
            builder = builder.with_physical_optimizer_rule(Arc::new(WindowAfterSort));
        }
    }
    let ctx = SessionContext::new_with_state(builder.build());
    ctx.register_table("t", Arc::clone(table) as _).unwrap();
    ctx
}

/// Queries whose answers are the same whichever of tied rows is kept: either the order is
/// unique (`id`), or only keys and order values are selected.
const QUALIFYING: [&str; 9] = [
    "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY k1 ORDER BY id DESC) AS rn FROM t) \
     WHERE rn = 1 ORDER BY id",
    "SELECT id, k1, k2, name FROM (SELECT *, row_number() OVER (PARTITION BY k1, k2 ORDER BY id) \
     AS rn FROM t) WHERE rn <= 3 ORDER BY id",
    "SELECT k1, score FROM (SELECT k1, score, row_number() OVER (PARTITION BY k1 ORDER BY score \
     DESC NULLS FIRST) AS rn FROM t) WHERE rn < 3 ORDER BY k1, score",
    "SELECT k1, score FROM (SELECT k1, score, row_number() OVER (PARTITION BY k1 ORDER BY score \
     NULLS LAST) AS rn FROM t) WHERE 2 >= rn ORDER BY k1, score",
    "SELECT k2, name, rn FROM (SELECT k2, name, row_number() OVER (PARTITION BY k2 ORDER BY name, \
     id DESC) AS rn FROM t WHERE score IS NOT NULL) WHERE rn <= 5 AND name <> 'name-longer-than-twelve-3' \
     ORDER BY k2, rn",
    "SELECT k1, k2, score FROM (SELECT k1, k2, score, row_number() OVER (PARTITION BY k2, k1 \
     ORDER BY score DESC) AS rn FROM t) WHERE rn <= 2 ORDER BY k1, k2, score",
    "SELECT id, rn FROM (SELECT id, row_number() OVER (PARTITION BY k1 % 7 ORDER BY id) AS rn \
     FROM t) WHERE CAST(rn AS DOUBLE) <= 4.5 ORDER BY id",
    // No order: any two rows of each key; their count is what is certain.
    "SELECT k1, count(*) AS c FROM (SELECT k1, row_number() OVER (PARTITION BY k1) AS rn FROM t) \
     WHERE rn <= 2 GROUP BY k1 ORDER BY k1",
    "SELECT k1, r1, r2 FROM (SELECT k1, row_number() OVER (PARTITION BY k1 ORDER BY id) AS r1, \
     row_number() OVER (PARTITION BY k1 ORDER BY id) AS r2 FROM t) WHERE r1 <= 2 ORDER BY k1, r1",
];

async fn assert_same_answers(table: &Arc<MemTable>, memory: Option<usize>, queries: &[&str]) {
    for sql in queries {
        let (expected, _) = run(&context(table, false, None), sql).await;
        let (actual, plan) = run(&context(table, true, memory), sql).await;
        assert!(plan.contains("TopPerKeyExec"), "{sql}\n{plan}");
        assert_eq!(actual, expected, "{sql}");
    }
}

#[tokio::test]
async fn answers_match_datafusion_over_many_small_keys() {
    // Thousands of keys, several rows each: slots fill, rows are replaced, batches released.
    let table = Arc::new(table(40_000, 4_000));
    assert_same_answers(&table, None, &QUALIFYING).await;
    // One row per key (and one for the null key) leaves the operator, not the 40,000.
    let handed_on = top_metric(&table, None, QUALIFYING[0], "output_rows").await;
    assert!(handed_on > 0.0 && handed_on <= 4_001.0, "{handed_on}");
}

#[tokio::test]
async fn answers_match_with_few_keys_and_long_runs() {
    // Few keys, thousands of rows each: held batches are gathered again and again.
    let table = Arc::new(table(60_000, 5));
    assert_same_answers(&table, None, &QUALIFYING).await;
}

#[tokio::test]
async fn keys_that_never_repeat_pass_through_with_the_same_answer() {
    // Past the first probe nearly every row is kept: the operator stops filtering.
    // 3 partitions of 150,000 rows: each passes the first probe (131,072 rows).
    let table = Arc::new(table(450_000, 100_000_000));
    let sql = "SELECT id, k1 FROM (SELECT id, k1, row_number() OVER (PARTITION BY id ORDER BY k1) \
               AS rn FROM t) WHERE rn = 1 ORDER BY id LIMIT 5 OFFSET 250000";
    assert_same_answers(&table, None, &[sql]).await;
    let passed = top_metric(&table, None, sql, "rows_passed_through").await;
    assert!(passed > 0.0, "{passed}");
}

#[tokio::test]
async fn under_memory_pressure_it_hands_on_early_with_the_same_answer() {
    // A pool too small to keep every key's rows: the operator hands on what it keeps and
    // starts over (so more rows leave it), and the sort above spills; the answer is the same.
    let table = Arc::new(table(1_000_000, 200_000));
    let pool = 8 * 1024 * 1024;
    // Narrow rows: DataFusion's own sort and merge need their share of the small pool too.
    let latest = "SELECT id, k1 FROM (SELECT id, k1, row_number() OVER (PARTITION BY k1 \
                  ORDER BY id DESC) AS rn FROM t) WHERE rn = 1 ORDER BY id";
    assert_same_answers(&table, Some(pool), &[latest]).await;
    let handed_on = |memory| top_metric(&table, memory, latest, "output_rows");
    let (relaxed, pressed) = (handed_on(None).await, handed_on(Some(pool)).await);
    assert!(relaxed > 0.0 && relaxed <= 200_001.0, "{relaxed}");
    assert!(pressed > relaxed, "pressed {pressed}, relaxed {relaxed}");
}

#[tokio::test]
async fn other_shapes_keep_datafusion_plans() {
    let table = Arc::new(table(5_000, 50));
    let untouched = [
        // rank counts ties: dropping tied rows would change it.
        "SELECT * FROM (SELECT id, rank() OVER (PARTITION BY k1 ORDER BY score) AS r FROM t) \
         WHERE r <= 2 ORDER BY id",
        // Another window function's value depends on every row.
        "SELECT * FROM (SELECT id, row_number() OVER (PARTITION BY k1 ORDER BY id) AS rn, \
         count(*) OVER (PARTITION BY k1) AS c FROM t) WHERE rn <= 2 ORDER BY id",
        // A lower bound keeps rows the top rows would drop.
        "SELECT * FROM (SELECT id, row_number() OVER (PARTITION BY k1 ORDER BY id) AS rn FROM t) \
         WHERE rn >= 2 ORDER BY id",
        // No partition: a plain top-k, which DataFusion already runs with a heap.
        "SELECT * FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t) WHERE rn <= 2",
        // A text comparison does not order numbers.
        "SELECT * FROM (SELECT id, row_number() OVER (PARTITION BY k1 ORDER BY id) AS rn FROM t) \
         WHERE CAST(rn AS VARCHAR) <= '2' ORDER BY id",
    ];
    for sql in untouched {
        let (expected, _) = run(&context(&table, false, None), sql).await;
        let (actual, plan) = run(&context(&table, true, None), sql).await;
        assert!(!plan.contains("TopPerKeyExec"), "{sql}\n{plan}");
        assert_eq!(actual, expected, "{sql}");
    }
}

/// The sum over the plan's `TopPerKeyExec`s of `metric`, from `EXPLAIN ANALYZE` of `sql`.
async fn top_metric(table: &Arc<MemTable>, memory: Option<usize>, sql: &str, metric: &str) -> f64 {
    let ctx = context(table, true, memory);
    let analyzed = ctx
        .sql(&format!("EXPLAIN ANALYZE {sql}"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let shown = pretty_format_batches(&analyzed).unwrap().to_string();
    let key = format!("{metric}=");
    shown
        .lines()
        .filter(|l| l.contains("TopPerKeyExec"))
        .filter_map(|l| l.split(key.as_str()).nth(1)?.split(',').next())
        .map(rows_shown)
        .sum::<f64>()
}

/// A row count as `EXPLAIN ANALYZE` shows it: `20`, `20.00 K`, `1.20 M`.
fn rows_shown(shown: &str) -> f64 {
    let (number, unit) = shown.trim().split_once(' ').unwrap_or((shown.trim(), ""));
    let scale = match unit {
        "K" => 1e3,
        "M" => 1e6,
        "B" => 1e9,
        _ => 1.0,
    };
    number.parse::<f64>().unwrap_or(0.0) * scale
}
