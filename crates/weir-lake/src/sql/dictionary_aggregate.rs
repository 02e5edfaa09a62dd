//! Grouping by dictionary-encoded columns without hashing every row.
//!
//! DataFusion's hash aggregation turns dictionary group keys into rows and hashes each one. When
//! the group columns are dictionaries (strings read as dictionaries, see `footers`), a row's key
//! already names its value: this plan maps each distinct value of a dictionary to a group once
//! (usually once per file, as a file's batches share its dictionary) and then finds each row's
//! group by indexing with its key. The aggregate functions are DataFusion's own group
//! accumulators, fed exactly as `AggregateExec` feeds them, so results and the partial states
//! handed to the final aggregation are the same.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayData, ArrayRef, AsArray, DictionaryArray, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{DataType, Int32Type, SchemaRef, UInt32Type};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode, aggregate_expressions};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt;

use super::whole_result::stream_whole_result;

/// Dictionaries whose codes a group column remembers.
const REMEMBERED_DICTIONARIES: usize = 4;

/// At most this many group columns (their codes are packed into one `u128`).
const MAX_COLUMNS: usize = 4;

/// An `AggregateExec` (partial or single) whose group columns are dictionaries (and integer-like
/// columns beside them, such as a date), run by dictionary key. Everything but `execute` is the wrapped plan's.
#[derive(Debug)]
pub struct DictionaryAggregateExec {
    inner: Arc<AggregateExec>,
    /// Input column of each group expression.
    group_columns: Vec<usize>,
    metrics: ExecutionPlanMetricsSet,
}

impl DictionaryAggregateExec {
    /// The aggregate run by dictionary key, or `None` when it does not qualify: not a partial or
    /// single aggregation, grouping sets, a group expression that is not a dictionary column, an
    /// aggregate that needs ordered input or lacks a group accumulator, a limit, or an ordered
    /// input the plan relies on.
    // `dynamic_filter_expr`: an aggregate that publishes a dynamic filter (a grouped top-K) keeps
    // DataFusion's own execution, which updates it.
    #[allow(deprecated)]
    pub fn try_wrap(aggregate: Arc<AggregateExec>) -> Option<DictionaryAggregateExec> {
        let qualifies = matches!(
            aggregate.mode(),
            AggregateMode::Partial | AggregateMode::Single | AggregateMode::SinglePartitioned
        ) && aggregate.group_expr().is_single()
            && aggregate.limit_options().is_none()
            && aggregate.dynamic_filter_expr().is_none()
            && *aggregate.input_order_mode() == InputOrderMode::Linear
            && aggregate
                .aggr_expr()
                .iter()
                .all(|a| a.groups_accumulator_supported() && a.order_bys().is_empty());
        if !qualifies {
            return None;
        }
        let groups = aggregate.group_expr().expr();
        if groups.is_empty() || groups.len() > MAX_COLUMNS {
            return None;
        }
        let input_schema = aggregate.input().schema();
        let mut dictionaries = 0;
        let group_columns = groups
            .iter()
            .map(|(expr, _)| {
                let column = expr.downcast_ref::<Column>()?;
                let field = input_schema.fields().get(column.index())?;
                match field.data_type() {
                    DataType::Dictionary(_, _) => dictionaries += 1,
                    t if integer_width(t).is_some() => {}
                    _ => return None,
                }
                Some(column.index())
            })
            .collect::<Option<Vec<_>>>()?;
        // Without a dictionary, DataFusion's own grouping is as fast.
        if dictionaries == 0 {
            return None;
        }
        Some(DictionaryAggregateExec {
            inner: aggregate,
            group_columns,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for DictionaryAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DictionaryAggregateExec over ")?;
        self.inner.fmt_as(t, f)
    }
}

impl ExecutionPlan for DictionaryAggregateExec {
    fn name(&self) -> &str {
        "DictionaryAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inner.children()
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn required_input_ordering(
        &self,
    ) -> Vec<Option<datafusion::physical_expr::OrderingRequirements>> {
        self.inner.required_input_ordering()
    }

    fn input_distribution_requirements(
        &self,
    ) -> datafusion::physical_plan::InputDistributionRequirements {
        self.inner.input_distribution_requirements()
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let inner = Arc::clone(&self.inner).with_new_children(children)?;
        let wrapped = inner
            .downcast_ref::<AggregateExec>()
            .map(|a| Arc::new(a.clone()))
            .and_then(DictionaryAggregateExec::try_wrap);
        Ok(match wrapped {
            Some(plan) => Arc::new(plan),
            None => inner,
        })
    }

    fn execute(
        &self,
        partition_index: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let batch_size = context.session_config().batch_size().max(1);
        let mut input = self
            .inner
            .input()
            .execute(partition_index, Arc::clone(&context))?;
        let schema = self.inner.schema();
        let aggregates = self.inner.aggr_expr();
        let mut state = GroupingState {
            columns: self
                .group_columns
                .iter()
                .map(|_| ColumnCodes::default())
                .collect(),
            group_columns: self.group_columns.clone(),
            tuples: TupleGroups::default(),
            arguments: aggregate_expressions(aggregates, self.inner.mode(), 0)?,
            filters: self.inner.filter_expr().to_vec(),
            accumulators: aggregates
                .iter()
                .map(|a| a.create_groups_accumulator())
                .collect::<Result<_>>()?,
            final_values: matches!(
                self.inner.mode(),
                AggregateMode::Single | AggregateMode::SinglePartitioned
            ),
            schema: Arc::clone(&schema),
            reservation: MemoryConsumer::new(format!("DictionaryAggregateExec[{partition_index}]"))
                .register(context.memory_pool()),
            group_indices: Vec::new(),
        };
        let metrics = BaselineMetrics::new(&self.metrics, partition_index);
        let compute_time = metrics.elapsed_compute().clone();
        Ok(stream_whole_result(
            schema,
            batch_size,
            metrics,
            async move {
                while let Some(batch) = input.next().await {
                    let batch = batch?;
                    let timer = compute_time.timer();
                    state.update(&batch)?;
                    timer.done();
                }
                let timer = compute_time.timer();
                let result = state.emit();
                timer.done();
                result
            },
        ))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Bytes per value of the integer-like types grouped beside dictionaries (dates, times,
/// integers: their bits are their identity; floats are left out, as -0.0 and NaN are not).
fn integer_width(t: &DataType) -> Option<usize> {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Date32
        | DataType::Date64
        | DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Timestamp(_, _)
        | DataType::Duration(_) => t.primitive_width(),
        _ => None,
    }
}

/// The bytes a dictionary value is known by.
enum ValueBytes<'a> {
    Strings(&'a StringArray),
    Rows(Rows),
}

impl ValueBytes<'_> {
    fn get(&self, i: usize) -> &[u8] {
        match self {
            ValueBytes::Strings(strings) => strings.value(i).as_bytes(),
            ValueBytes::Rows(rows) => rows.row(i).data(),
        }
    }
}

/// The distinct values seen in one group column, each with a code (its index in `values`).
#[derive(Default)]
struct ColumnCodes {
    /// Codes of an integer-like column's values, by their bits.
    integers: HashMap<u64, u32, BuildHasherDefault<MixHasher>>,
    /// Codes by the value's row encoding (which makes any type hashable and comparable).
    codes: HashMap<Box<[u8]>, u32, BuildHasherDefault<MixHasher>>,
    /// Code `i`'s value, as a one-element slice of the dictionary it was first seen in.
    values: Vec<ArrayRef>,
    null_code: Option<u32>,
    converter: Option<RowConverter>,
    /// The last dictionaries seen (the latest last) and the code of each of their values:
    /// batches of one file share one.
    recent: Vec<(ArrayData, Vec<u32>)>,
}

impl ColumnCodes {
    /// Each row's code, appended to `out`.
    fn codes_of(&mut self, column: &ArrayRef, out: &mut Vec<u32>) -> Result<()> {
        let Some(dictionary) = column.as_any_dictionary_opt() else {
            return match integer_width(column.data_type()) {
                Some(width) => self.integer_codes(column, width, out),
                None => Err(DataFusionError::Internal(format!(
                    "DictionaryAggregateExec: cannot group by a column of type {}",
                    column.data_type()
                ))),
            };
        };
        let values = dictionary.values();
        // Batches of one column chunk share its dictionary's buffers, though the reader and
        // operators that copy batches wrap them in new arrays; a filter's coalescer alternates
        // between a chunk's dictionary and the concatenation of two, so a few are remembered.
        let data = values.to_data();
        match self
            .recent
            .iter()
            .position(|(seen, _)| seen.ptr_eq(&data) || *seen == data)
        {
            Some(i) => {
                let seen = self.recent.remove(i);
                self.recent.push(seen);
            }
            None => {
                let mapping = self.map_values(values)?;
                if self.recent.len() >= REMEMBERED_DICTIONARIES {
                    self.recent.remove(0);
                }
                self.recent.push((data, mapping));
            }
        }
        let null_code = match dictionary.keys().null_count() {
            0 => u32::MAX,
            _ => self.null_code(values.data_type()),
        };
        let Some((_, mapping)) = self.recent.last() else {
            return Err(DataFusionError::Internal(
                "DictionaryAggregateExec: no codes for the dictionary".to_string(),
            ));
        };
        let nulls = dictionary.keys().logical_nulls();
        out.reserve(column.len());
        let code = |k: usize| mapping.get(k).copied().unwrap_or(null_code);
        // Int32 keys (what the Parquet reader produces) are read in place; other key types are
        // normalized first.
        match (column.as_dictionary_opt::<Int32Type>(), nulls) {
            (Some(d), None) => out.extend(d.keys().values().iter().map(|&k| code(k as usize))),
            (Some(d), Some(nulls)) => out.extend(
                d.keys()
                    .values()
                    .iter()
                    .zip(nulls.iter())
                    .map(|(&k, valid)| if valid { code(k as usize) } else { null_code }),
            ),
            (None, None) => out.extend(dictionary.normalized_keys().into_iter().map(code)),
            (None, Some(nulls)) => out.extend(
                dictionary
                    .normalized_keys()
                    .into_iter()
                    .zip(nulls.iter())
                    .map(|(k, valid)| if valid { code(k) } else { null_code }),
            ),
        }
        Ok(())
    }

    /// Codes of an integer-like column. Such columns beside dictionaries are usually partition
    /// values or dates, constant over long runs, so a value is looked up only where it changes.
    fn integer_codes(&mut self, column: &ArrayRef, width: usize, out: &mut Vec<u32>) -> Result<()> {
        let nulls = column.logical_nulls();
        let null_code = match &nulls {
            Some(n) if n.null_count() > 0 => self.null_code(column.data_type()),
            _ => u32::MAX,
        };
        let data = column.to_data();
        let Some(buffer) = data.buffers().first() else {
            return Err(DataFusionError::Internal(
                "DictionaryAggregateExec: an integer column without values".to_string(),
            ));
        };
        let start = data.offset() * width;
        let Some(bytes) = buffer.as_slice().get(start..start + data.len() * width) else {
            return Err(DataFusionError::Internal(
                "DictionaryAggregateExec: an integer column shorter than its length".to_string(),
            ));
        };
        out.reserve(data.len());
        match width {
            1 => self.integer_runs::<1>(column, bytes, nulls.as_ref(), null_code, out),
            2 => self.integer_runs::<2>(column, bytes, nulls.as_ref(), null_code, out),
            4 => self.integer_runs::<4>(column, bytes, nulls.as_ref(), null_code, out),
            _ => self.integer_runs::<8>(column, bytes, nulls.as_ref(), null_code, out),
        }
        Ok(())
    }

    /// [`ColumnCodes::integer_codes`] for values of `W` bytes.
    fn integer_runs<const W: usize>(
        &mut self,
        column: &ArrayRef,
        bytes: &[u8],
        nulls: Option<&datafusion::arrow::buffer::NullBuffer>,
        null_code: u32,
        out: &mut Vec<u32>,
    ) {
        let mut last: Option<(u64, u32)> = None;
        for (i, value) in bytes.chunks_exact(W).enumerate() {
            if nulls.is_some_and(|n| n.is_null(i)) {
                out.push(null_code);
                continue;
            }
            let mut word = [0u8; 8];
            word[..W].copy_from_slice(value);
            let bits = u64::from_le_bytes(word);
            let code = match last {
                Some((seen, code)) if seen == bits => code,
                _ => {
                    let code = match self.integers.get(&bits) {
                        Some(&code) => code,
                        None => {
                            let code = self.values.len() as u32;
                            self.integers.insert(bits, code);
                            self.values.push(column.slice(i, 1));
                            code
                        }
                    };
                    last = Some((bits, code));
                    code
                }
            };
            out.push(code);
        }
    }

    /// The code of every value of a dictionary, new values getting new codes.
    fn map_values(&mut self, values: &ArrayRef) -> Result<Vec<u32>> {
        // Strings are keyed by their bytes; other types by their row encoding.
        let keys = match values.as_string_opt::<i32>() {
            Some(strings) => ValueBytes::Strings(strings),
            None => {
                let converter = match &mut self.converter {
                    Some(c) => c,
                    None => self.converter.insert(RowConverter::new(vec![SortField::new(
                        values.data_type().clone(),
                    )])?),
                };
                ValueBytes::Rows(converter.convert_columns(std::slice::from_ref(values))?)
            }
        };
        let mut mapping = Vec::with_capacity(values.len());
        for i in 0..values.len() {
            if values.is_null(i) {
                mapping.push(self.null_code(values.data_type()));
                continue;
            }
            let key = keys.get(i);
            let code = match self.codes.get(key) {
                Some(&code) => code,
                None => {
                    let code = self.values.len() as u32;
                    self.codes.insert(key.into(), code);
                    self.values.push(values.slice(i, 1));
                    code
                }
            };
            mapping.push(code);
        }
        Ok(mapping)
    }

    fn null_code(&mut self, data_type: &DataType) -> u32 {
        if let Some(code) = self.null_code {
            return code;
        }
        let code = self.values.len() as u32;
        self.values
            .push(datafusion::arrow::array::new_null_array(data_type, 1));
        self.null_code = Some(code);
        code
    }

    /// The column's output: `codes[g]` is group g's code, as a dictionary of `data_type`.
    fn output(&self, codes: UInt32Array, data_type: &DataType) -> Result<ArrayRef> {
        let parts: Vec<&dyn Array> = self.values.iter().map(|v| v.as_ref()).collect();
        let values = match parts.is_empty() {
            true => match data_type {
                DataType::Dictionary(_, v) => datafusion::arrow::array::new_empty_array(v),
                other => datafusion::arrow::array::new_empty_array(other),
            },
            false => concat(&parts)?,
        };
        let dictionary: ArrayRef = Arc::new(DictionaryArray::<UInt32Type>::try_new(codes, values)?);
        Ok(cast(&dictionary, data_type)?)
    }

    fn size(&self) -> usize {
        (self.codes.len() + self.integers.len()) * 48 + self.values.len() * 64
    }
}

/// The groups rows fell into: one per distinct code (one column) or tuple of codes (several).
/// A dictionary may hold values no row uses (a filter removed them), so groups come from rows,
/// not from dictionaries.
#[derive(Default)]
struct TupleGroups {
    /// One column: the group of each code, `u32::MAX` while no row had it.
    by_code: Vec<u32>,
    /// Several columns: the group of each tuple (codes packed 32 bits apart).
    by_tuple: HashMap<u128, usize, BuildHasherDefault<MixHasher>>,
    /// Group g's code or tuple.
    tuples: Vec<u128>,
    /// Several columns with few combinations of codes: the group of each, by index.
    dense: DenseGroups,
}

/// Most slots of a dense group table (4 MiB of `u32`).
const DENSE_BITS: u32 = 20;

/// Groups indexed by their codes, column j's code in bits `shifts[j]..shifts[j + 1]`;
/// `u32::MAX` where no row had the combination yet.
#[derive(Default)]
struct DenseGroups {
    shifts: Vec<u32>,
    table: Vec<u32>,
}

impl DenseGroups {
    /// The slot of a tuple (codes packed 32 bits apart).
    fn index(&self, tuple: u128) -> usize {
        self.shifts.windows(2).enumerate().fold(0, |index, (j, w)| {
            index | (((tuple >> (32 * j)) as u32 as usize) << w[0])
        })
    }
}

impl TupleGroups {
    /// Whether the dense table can hold codes up to `counts` (distinct values per column),
    /// laying it out again (wider) when a column outgrew its bits. False when the combinations
    /// are too many for a table.
    fn dense_fits(&mut self, counts: &[usize]) -> bool {
        let shifts = &self.dense.shifts;
        let fits = shifts.len() == counts.len() + 1
            && counts
                .iter()
                .zip(shifts.windows(2))
                .all(|(&n, w)| n <= 1usize << (w[1] - w[0]));
        if fits {
            return true;
        }
        // Room to grow: twice the values seen so far, at least 16, per column.
        let bits: Vec<u32> = counts
            .iter()
            .map(|&n| (n.max(8) * 2).next_power_of_two().trailing_zeros())
            .collect();
        if bits.iter().sum::<u32>() > DENSE_BITS {
            self.dense = DenseGroups::default();
            return false;
        }
        let mut shifts = Vec::with_capacity(bits.len());
        let mut at = 0;
        for b in &bits {
            shifts.push(at);
            at += b;
        }
        shifts.push(at);
        let mut dense = DenseGroups {
            shifts,
            table: vec![u32::MAX; 1usize << at],
        };
        for (group, &tuple) in self.tuples.iter().enumerate() {
            let index = dense.index(tuple);
            dense.table[index] = group as u32;
        }
        self.dense = dense;
        true
    }
}

/// A hasher for keys that are already well-spread integers (packed codes): one multiply and
/// fold instead of SipHash, which would cost more than the rest of the per-row work.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.write_u64(u64::from_le_bytes(last) ^ (bytes.len() as u64) << 56);
    }

    fn write_u64(&mut self, n: u64) {
        let product =
            u128::from(self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }

    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
}

struct GroupingState {
    columns: Vec<ColumnCodes>,
    group_columns: Vec<usize>,
    tuples: TupleGroups,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    filters: Vec<Option<Arc<dyn PhysicalExpr>>>,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    /// Single mode emits final values; partial mode emits states for a final aggregation.
    final_values: bool,
    schema: SchemaRef,
    reservation: MemoryReservation,
    group_indices: Vec<usize>,
}

impl GroupingState {
    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        self.group_indices.clear();
        let tuples = &mut self.tuples;
        if self.columns.len() == 1 {
            let mut codes = Vec::with_capacity(rows);
            self.columns[0].codes_of(batch.column(self.group_columns[0]), &mut codes)?;
            tuples
                .by_code
                .resize(self.columns[0].values.len(), u32::MAX);
            self.group_indices.extend(codes.iter().map(|&c| {
                let slot = &mut tuples.by_code[c as usize];
                if *slot == u32::MAX {
                    *slot = tuples.tuples.len() as u32;
                    tuples.tuples.push(u128::from(c));
                }
                *slot as usize
            }));
        } else {
            let mut codes: Vec<Vec<u32>> = Vec::with_capacity(self.columns.len());
            for (j, column) in self.columns.iter_mut().enumerate() {
                let mut column_codes = Vec::with_capacity(rows);
                column.codes_of(batch.column(self.group_columns[j]), &mut column_codes)?;
                codes.push(column_codes);
            }
            // A row's tuple: its codes packed 32 bits apart.
            let tuple = |row: usize| {
                codes
                    .iter()
                    .enumerate()
                    .fold(0u128, |key, (j, c)| key | (u128::from(c[row]) << (32 * j)))
            };
            let counts: Vec<usize> = self.columns.iter().map(|c| c.values.len()).collect();
            self.group_indices.reserve(rows);
            if tuples.dense_fits(&counts) {
                // Few combinations: index a table by the codes instead of hashing the tuple.
                let DenseGroups { shifts, table } = &mut tuples.dense;
                let mut index = vec![0usize; rows];
                for (column_codes, &shift) in codes.iter().zip(shifts.iter()) {
                    for (at, &code) in index.iter_mut().zip(column_codes) {
                        *at |= (code as usize) << shift;
                    }
                }
                let mut new_groups = Vec::new();
                for (row, &at) in index.iter().enumerate() {
                    let slot = &mut table[at];
                    if *slot == u32::MAX {
                        *slot = (tuples.tuples.len() + new_groups.len()) as u32;
                        new_groups.push(tuple(row));
                    }
                    self.group_indices.push(*slot as usize);
                }
                for key in new_groups {
                    tuples.by_tuple.insert(key, tuples.tuples.len());
                    tuples.tuples.push(key);
                }
            } else {
                self.group_indices.extend((0..rows).map(|row| {
                    let key = tuple(row);
                    *tuples.by_tuple.entry(key).or_insert_with(|| {
                        tuples.tuples.push(key);
                        tuples.tuples.len() - 1
                    })
                }));
            }
        }
        let groups = self.tuples.tuples.len();
        for ((accumulator, arguments), filter) in self
            .accumulators
            .iter_mut()
            .zip(&self.arguments)
            .zip(&self.filters)
        {
            let values = arguments
                .iter()
                .map(|e| e.evaluate(batch).and_then(|v| v.into_array(rows)))
                .collect::<Result<Vec<_>>>()?;
            let filter = match filter {
                Some(f) => Some(f.evaluate(batch)?.into_array(rows)?),
                None => None,
            };
            let filter = filter.as_ref().map(|f| f.as_boolean());
            accumulator.update_batch(&values, &self.group_indices, filter, groups)?;
        }
        let size = self.accumulators.iter().map(|a| a.size()).sum::<usize>()
            + self.columns.iter().map(ColumnCodes::size).sum::<usize>()
            + self.tuples.tuples.len() * 48
            + self.tuples.by_code.len() * 4
            + self.tuples.dense.table.len() * 4;
        self.reservation.try_resize(size)
    }

    fn emit(&mut self) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for (j, codes) in self.columns.iter().enumerate() {
            let data_type = self.schema.field(j).data_type();
            let keys: UInt32Array = self
                .tuples
                .tuples
                .iter()
                .map(|t| (t >> (32 * j)) as u32)
                .collect();
            columns.push(codes.output(keys, data_type)?);
        }
        for accumulator in &mut self.accumulators {
            if self.final_values {
                columns.push(accumulator.evaluate(EmitTo::All)?);
            } else {
                columns.extend(accumulator.state(EmitTo::All)?);
            }
        }
        // Aggregates may return types that differ only in metadata or nullability; the schema
        // is the plan's promise, so conform to it.
        let columns = columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(c, f)| match c.data_type() == f.data_type() {
                true => Ok(c),
                false => cast(&c, f.data_type()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        self.reservation.free();
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_table_grows_with_the_codes_and_keeps_its_groups() {
        let mut groups = TupleGroups::default();
        assert!(groups.dense_fits(&[3, 2]));
        let keys = [0u128, 1 | (1 << 32), 2 | (1 << 32)];
        for key in keys {
            groups.by_tuple.insert(key, groups.tuples.len());
            groups.tuples.push(key);
        }
        // Column 0 outgrows its bits: the table is laid out again with the same groups.
        assert!(groups.dense_fits(&[500, 2]));
        for (group, &key) in keys.iter().enumerate() {
            assert_eq!(groups.dense.table[groups.dense.index(key)], group as u32);
        }
        let taken = groups
            .dense
            .table
            .iter()
            .filter(|&&g| g != u32::MAX)
            .count();
        assert_eq!(taken, keys.len());
    }

    #[test]
    fn too_many_combinations_use_the_hash_map() {
        let mut groups = TupleGroups::default();
        assert!(!groups.dense_fits(&[1 << 15, 1 << 10]));
        assert!(groups.dense.table.is_empty());
        assert!(groups.dense_fits(&[16, 16, 16]));
    }
}
