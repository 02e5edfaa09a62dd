//! The DataFusion session every statement starts from, configured for analytical speed on the
//! machine's cores, with the lake's object store registered under one URL.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::object_store::ObjectStore;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::prelude::SessionConfig;

use super::SqlError;

/// The URL under which the lake's store is known to DataFusion. Table keys are paths in it.
pub const LAKE_URL: &str = "weir-lake://lake";

/// The catalog and schema names SQL resolves unqualified names against (`t` = `default.t`;
/// `db.t` = `weir.db.t`).
pub const CATALOG: &str = "weir";
pub const DEFAULT_DATABASE: &str = "default";

/// Tuning knobs, mostly for the benchmark.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Parallelism of scans, joins and aggregations; default: the number of cores.
    pub target_partitions: usize,
    pub batch_size: usize,
    /// Filter rows while decoding Parquet (late materialization) rather than after.
    pub parquet_pushdown_filters: bool,
    /// DataFusion settings by name (`datafusion.execution.…`), applied last; for experiments.
    pub settings: Vec<(String, String)>,
    /// Bytes every running statement together may hold in DataFusion's memory pool (sorts,
    /// joins, aggregations); past it, operators that can spill to disk do, and the others fail
    /// the statement. `None`: no limit.
    pub memory_limit: Option<usize>,
    /// Where spilled data goes (created when missing); `None`: the system's temporary directory.
    pub spill_dir: Option<PathBuf>,
    /// Longest a statement may run, its result's delivery included; `None`: no limit.
    pub timeout: Option<Duration>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            target_partitions: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            // Measured on the clickstream benchmark (2 cores): larger batches amortise per-batch
            // overhead; late materialisation in the Parquet reader (pushdown_filters) costs more
            // than it saves unless filters are very selective.
            batch_size: 32_768,
            parquet_pushdown_filters: false,
            settings: Vec::new(),
            memory_limit: None,
            spill_dir: None,
            timeout: None,
        }
    }
}

/// Builds the base session: the lake store registered at [`LAKE_URL`], information_schema on
/// (for SHOW TABLES and DESCRIBE), spans collected (for error positions).
pub fn base_state(
    store: Arc<dyn ObjectStore>,
    options: &SessionOptions,
) -> Result<(SessionState, ObjectStoreUrl), SqlError> {
    let url = ObjectStoreUrl::parse(LAKE_URL).map_err(|e| SqlError::new(e.to_string()))?;
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = options.memory_limit {
        // Fair: spilling operators share what unspillable ones leave, so one big sort cannot
        // starve a concurrent statement. Tracked: the error names the largest consumers.
        runtime = runtime.with_memory_pool(Arc::new(TrackConsumersPool::new(
            FairSpillPool::new(limit),
            NonZeroUsize::new(3).unwrap_or(NonZeroUsize::MIN),
        )));
    }
    if let Some(dir) = &options.spill_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            SqlError::new(format!(
                "cannot create the spill directory {}: {e}",
                dir.display()
            ))
        })?;
        runtime = runtime.with_temp_file_path(dir.clone());
    }
    let runtime = runtime
        .build_arc()
        .map_err(|e| SqlError::new(e.to_string()))?;
    runtime.register_object_store(url.as_ref(), store);

    let mut config = SessionConfig::new()
        .with_target_partitions(options.target_partitions.max(1))
        .with_batch_size(options.batch_size.max(1))
        .with_information_schema(true)
        .with_default_catalog_and_schema(CATALOG, DEFAULT_DATABASE)
        .with_create_default_catalog_and_schema(false)
        .with_repartition_joins(true)
        .with_repartition_aggregations(true)
        .with_repartition_windows(true)
        .with_repartition_file_scans(true);
    let opts = config.options_mut();
    opts.execution.parquet.pushdown_filters = options.parquet_pushdown_filters;
    opts.execution.parquet.reorder_filters = true;
    opts.execution.parquet.enable_page_index = true;
    opts.execution.parquet.pruning = true;
    opts.sql_parser.collect_spans = true;
    // A scan whose files are grouped by a partition column (`partition_groups`) satisfies an
    // aggregation keyed by that column and more, with as many partitions as we ever use.
    opts.optimizer.subset_repartition_threshold = 1;
    // Partial aggregation before the shuffle pays only when it shrinks the rows a lot: with
    // groups at half the rows or more (sessions, users), the final aggregation does the work
    // again (measured: `GROUP BY session_id` over 10M rows, 5.6M groups, 1.5 s → 0.95 s).
    opts.execution
        .skip_partial_aggregation_probe_ratio_threshold = 0.5;
    let (bytes, rows) = shared_build_limits(options.target_partitions);
    opts.optimizer.hash_join_single_partition_threshold = bytes;
    opts.optimizer.hash_join_single_partition_threshold_rows = rows;
    for (key, value) in &options.settings {
        opts.set(key, value)
            .map_err(|e| SqlError::new(format!("setting {key}: {e}")))?;
    }

    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_optimizer_rule(Arc::new(
            super::eager_aggregate::AggregateBeforeDimensionJoin,
        ))
        .with_physical_optimizer_rules(physical_rules())
        .build();
    Ok((state, url))
}

/// The largest build side (bytes, rows) a hash join builds once and shares between partitions
/// rather than shuffling both sides by key, for `partitions` partitions.
///
/// A shared build saves shuffling the probe side (every row hashed and copied into a partition),
/// which costs the most where the probe is large (a fact table) and the cores are few; it costs
/// building the hash table on one core while the others wait. Shuffling spreads that build over
/// the partitions, so its saving grows with them: the limits are 32 MiB and 1 Mi rows shared by
/// the other partitions. On 8 partitions that is 150 Ki rows (4.6 MiB), about DataFusion's own
/// 128 Ki rows (its byte limit is 1 MiB); on 2 it lets a join of lineitem with a year of TPC-H
/// orders (228,000 rows) build once (q03 and q05 measured 10-25 % faster).
fn shared_build_limits(partitions: usize) -> (usize, usize) {
    let others = partitions.saturating_sub(1).max(1);
    ((32 << 20) / others, (1 << 20) / others)
}

/// DataFusion's physical optimizer rules with weir's: file grouping before the distribution
/// rules (which it informs), operator replacements after every other rule.
fn physical_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    // Before dynamic filters are pushed down: each copy of a shared subplan would get its own.
    let post_pushdown = rules
        .iter()
        .position(|r| r.name() == "FilterPushdown(Post)")
        .unwrap_or(rules.len());
    rules.insert(
        post_pushdown,
        Arc::new(super::shared_subplans::ShareRepeatedAggregates),
    );
    rules.insert(0, Arc::new(super::partition_groups::GroupFilesByPartition));
    // Before the aggregations are wrapped by dictionary key, which hides them from it.
    rules.push(Arc::new(super::narrow_decimal::NarrowDecimalArithmetic));
    // Before the window rewrite, which looks for the sort this one keeps.
    rules.push(Arc::new(super::top_per_key::KeepTopRowsPerKey));
    rules.push(Arc::new(super::tuning::WindowAfterSort));
    rules.push(Arc::new(super::tuning::GroupByDictionaryKey));
    rules.push(Arc::new(super::dictionary_filter::CheaperFilters));
    rules.push(Arc::new(super::dynamic_filters::ApplyDynamicFilters));
    rules
}

#[cfg(test)]
mod tests {
    use super::shared_build_limits;

    #[test]
    fn shared_builds_shrink_as_partitions_grow() {
        assert_eq!(shared_build_limits(1), (32 << 20, 1 << 20));
        assert_eq!(shared_build_limits(2), (32 << 20, 1 << 20));
        // Eight partitions: about DataFusion's 128 Ki rows.
        assert_eq!(shared_build_limits(8), ((32 << 20) / 7, (1 << 20) / 7));
        assert!(shared_build_limits(64).1 < 20_000);
    }
}
