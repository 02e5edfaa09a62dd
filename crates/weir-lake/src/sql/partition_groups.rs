//! Reading a table's files grouped by partition value, so that an aggregation grouped by a
//! partition column needs no shuffle.
//!
//! A scan normally spreads its files (and byte ranges of them) evenly over the target partitions,
//! and an aggregation then hashes every group to a partition (`RepartitionExec`) before combining
//! the partial results. When the aggregation groups by a partition column (`GROUP BY day`, or
//! `count(DISTINCT user_id) … GROUP BY day`, which groups by `(day, user_id)` first), the rows of a
//! group all come from the files of one partition value. Reading each value's files in one scan
//! partition then makes every group local to one stream: DataFusion aggregates each stream once
//! (`SinglePartitioned`) instead of partially, shuffling and again.
//!
//! [`GroupFilesByPartition`] runs before DataFusion's distribution rules. It regroups a scan when
//! an aggregation above it, through single-input operators only, groups by one of the table's
//! partition columns, and the values' files balance over the partitions (so no stream reads much
//! more than its share). The scan then declares `Hash(partition column)` output partitioning,
//! which DataFusion accepts for the aggregation's key (a subset of it satisfies the requirement:
//! `subset_repartition_threshold` in the session).
//!
//! The declared partitioning says "equal values are in one partition", not "partition = hash of
//! the value". Operators with one input only need the former; a join or a union compares the
//! partitioning of two inputs and would need the latter, so plans that contain any operator with
//! several inputs are left alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning, PhysicalExpr};

/// How much more than an even share one partition may read for the regrouping to be worth it:
/// the slowest stream sets the time of the scan.
const MAX_IMBALANCE: f64 = 1.10;

#[derive(Debug, Default)]
pub struct GroupFilesByPartition;

impl PhysicalOptimizerRule for GroupFilesByPartition {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if has_several_inputs(&plan) {
            return Ok(plan);
        }
        regroup_below(plan, &HashSet::new())
    }

    fn name(&self) -> &str {
        "weir_group_files_by_partition"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn has_several_inputs(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.children().len() > 1 || plan.children().into_iter().any(has_several_inputs)
}

/// `plan` with the scans below it regrouped where an aggregation wants it. `grouped_by` holds
/// the names, in `plan`'s output, of the columns an aggregation above groups by.
fn regroup_below(
    plan: Arc<dyn ExecutionPlan>,
    grouped_by: &HashSet<String>,
) -> Result<Arc<dyn ExecutionPlan>> {
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>() {
        return Ok(regroup_scan(scan, grouped_by).unwrap_or(plan));
    }
    let below: HashSet<String> = if let Some(aggregate) = plan.downcast_ref::<AggregateExec>() {
        if aggregate.group_expr().has_grouping_set() {
            HashSet::new()
        } else {
            // Its own group columns; they include every column an aggregation above could
            // group by, as nothing else passes through.
            aggregate
                .group_expr()
                .input_exprs()
                .iter()
                .filter_map(column_name)
                .collect()
        }
    } else if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        projection
            .expr()
            .iter()
            .filter(|p| grouped_by.contains(&p.alias))
            .filter_map(|p| column_name(&p.expr))
            .collect()
    } else if plan.is::<FilterExec>() {
        grouped_by.clone()
    } else {
        HashSet::new()
    };
    let children = plan.children();
    if children.len() != 1 {
        return Ok(plan);
    }
    let child = Arc::clone(children[0]);
    let new_child = regroup_below(child, &below)?;
    replace_children_if_necessary(plan, vec![new_child])
}

fn column_name(expr: &Arc<dyn PhysicalExpr>) -> Option<String> {
    expr.downcast_ref::<Column>().map(|c| c.name().to_string())
}

/// The scan with its files grouped by the values of the partition columns in `grouped_by`, or
/// `None` where that does not apply or would not balance.
fn regroup_scan(
    scan: &DataSourceExec,
    grouped_by: &HashSet<String>,
) -> Option<Arc<dyn ExecutionPlan>> {
    let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
    if grouped_by.is_empty() || config.output_partitioning.is_some() || config.preserve_order {
        return None;
    }
    let table_schema = config.file_source().table_schema().table_schema();
    let file_columns = config.file_schema().fields().len();
    // Positions among the partition values, and the columns in the table schema.
    let keys: Vec<(usize, Arc<dyn PhysicalExpr>)> = config
        .table_partition_cols()
        .iter()
        .enumerate()
        .filter(|(_, field)| grouped_by.contains(field.name()))
        .filter_map(|(i, field)| {
            let index = table_schema.index_of(field.name()).ok()?;
            (index == file_columns + i).then(|| {
                (
                    i,
                    Arc::new(Column::new(field.name(), index)) as Arc<dyn PhysicalExpr>,
                )
            })
        })
        .collect();
    if keys.is_empty() {
        return None;
    }
    let partitions = config.file_groups.len();
    let files: Vec<PartitionedFile> = config
        .file_groups
        .iter()
        .flat_map(|g| g.files().iter().cloned())
        .collect();
    let positions: Vec<usize> = keys.iter().map(|(i, _)| *i).collect();
    let groups = balanced_groups(files, &positions, partitions)?;
    let exprs = keys.into_iter().map(|(_, e)| e).collect();
    let mut regrouped = config.clone();
    regrouped.file_groups = groups;
    regrouped.output_partitioning = Some(Partitioning::Hash(exprs, partitions));
    Some(DataSourceExec::from_data_source(regrouped))
}

/// The files in `partitions` groups, all files with equal partition values at `positions` in one
/// group, the groups' sizes as even as the values allow (largest value first into the smallest
/// group). `None` when there are too few values, or the largest group would read more than
/// [`MAX_IMBALANCE`] times an even share.
fn balanced_groups(
    files: Vec<PartitionedFile>,
    positions: &[usize],
    partitions: usize,
) -> Option<Vec<FileGroup>> {
    if partitions < 2 {
        return None;
    }
    let mut by_value: HashMap<Vec<ScalarValue>, (u64, Vec<PartitionedFile>)> = HashMap::new();
    for file in files {
        let value: Vec<ScalarValue> = positions
            .iter()
            .map(|&i| file.partition_values.get(i).cloned())
            .collect::<Option<_>>()?;
        let entry = by_value.entry(value).or_default();
        entry.0 += file.effective_size();
        entry.1.push(file);
    }
    if by_value.len() < partitions {
        return None;
    }
    let mut values: Vec<(u64, Vec<PartitionedFile>)> = by_value.into_values().collect();
    // Largest first; equal sizes in path order, so one table always groups the same way.
    values.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| first_path(&a.1).cmp(first_path(&b.1)))
    });
    let total: u64 = values.iter().map(|(size, _)| size).sum();
    let mut groups: Vec<(u64, Vec<PartitionedFile>)> = vec![(0, Vec::new()); partitions];
    for (size, files) in values {
        let smallest = groups
            .iter_mut()
            .min_by_key(|(group_size, _)| *group_size)?;
        smallest.0 += size;
        smallest.1.extend(files);
    }
    let largest = groups.iter().map(|(size, _)| *size).max()? as f64;
    let even = total as f64 / partitions as f64;
    if largest > even * MAX_IMBALANCE {
        return None;
    }
    Some(
        groups
            .into_iter()
            .map(|(_, files)| FileGroup::new(files))
            .collect(),
    )
}

fn first_path(files: &[PartitionedFile]) -> &str {
    files.first().map(|f| f.path().as_ref()).unwrap_or("")
}
