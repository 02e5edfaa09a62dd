//! The rows kept so far: for every key, its best `k` rows by the order, as references into the
//! input batches that hold them.
//!
//! Each row's key is numbered with one hash lookup (`keys`), and its order value is compared in
//! Arrow's row format (`orders`): one lookup and one byte comparison decide each input row. Kept
//! rows stay in their input batches; a batch is released when none
//! of its rows is kept any more, and when the batches held carry more than twice the rows kept,
//! the kept rows are gathered into new batches (at most one copy per input row: a gather
//! happens only after more new rows than were kept arrived since the last one).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::interleave_record_batch;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::Result;
use datafusion::physical_expr::{PhysicalExpr, PhysicalSortExpr};

use super::keys::GroupIndex;
use super::orders::OrderValues;

pub(super) struct TopRows {
    k: usize,
    batch_size: usize,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    order: Vec<PhysicalSortExpr>,
    key_types: Vec<DataType>,
    order_types: Vec<DataType>,
    /// `None` without an order: every row ties and the first `k` seen of each key are kept.
    order_rows: Option<RowConverter>,
    groups: GroupIndex,
    /// Scratch: the group of each row of the batch being offered.
    row_groups: Vec<u32>,
    /// How many of each group's `k` slots are filled.
    filled: Vec<u8>,
    /// `k` slots per group, each group's filled ones in ascending order: their order values,
    /// and where their rows are (batch, row).
    orders: OrderValues,
    positions: Vec<(u32, u32)>,
    /// Input batches holding kept rows (`None` once none is).
    batches: Vec<Option<RecordBatch>>,
    kept_in_batch: Vec<u32>,
    held_rows: usize,
    held_bytes: usize,
    kept: usize,
    /// Rows offered since the state was last emptied.
    seen: usize,
}

impl TopRows {
    pub(super) fn new(
        schema: &Schema,
        keys: Vec<Arc<dyn PhysicalExpr>>,
        order: Vec<PhysicalSortExpr>,
        k: usize,
        batch_size: usize,
    ) -> Result<TopRows> {
        let key_types = keys
            .iter()
            .map(|e| e.data_type(schema))
            .collect::<Result<Vec<_>>>()?;
        let order_types = order
            .iter()
            .map(|e| e.expr.data_type(schema))
            .collect::<Result<Vec<_>>>()?;
        let order_rows = if order.is_empty() {
            None
        } else {
            Some(RowConverter::new(
                order
                    .iter()
                    .zip(&order_types)
                    .map(|(e, t)| SortField::new_with_options(t.clone(), e.options))
                    .collect(),
            )?)
        };
        Ok(TopRows {
            // `filled` counts in a u8; the rule never asks for more than `MAX_K`.
            k: k.clamp(1, usize::from(u8::MAX)),
            batch_size: batch_size.max(1),
            keys,
            order,
            groups: GroupIndex::new(&key_types)?,
            orders: OrderValues::new(&order_types),
            key_types,
            order_types,
            order_rows,
            row_groups: Vec::new(),
            filled: Vec::new(),
            positions: Vec::new(),
            batches: Vec::new(),
            kept_in_batch: Vec::new(),
            held_rows: 0,
            held_bytes: 0,
            kept: 0,
            seen: 0,
        })
    }

    pub(super) fn kept(&self) -> usize {
        self.kept
    }

    pub(super) fn seen(&self) -> usize {
        self.seen
    }

    /// Memory held: the input batches kept rows live in, the keys, and the slots.
    pub(super) fn size(&self) -> usize {
        self.held_bytes
            + self.groups.size()
            + self.orders.size()
            + self.positions.capacity() * size_of::<(u32, u32)>()
            + self.filled.capacity()
            + self.row_groups.capacity() * size_of::<u32>()
            + self.batches.capacity() * size_of::<Option<RecordBatch>>()
            + self.kept_in_batch.capacity() * size_of::<u32>()
            + self.order_rows.as_ref().map_or(0, RowConverter::size)
    }

    /// Offers every row of `batch`.
    pub(super) fn insert(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(());
        }
        let batch_number = u32::try_from(self.batches.len()).map_err(|_| {
            datafusion::common::DataFusionError::ResourcesExhausted(
                "more than 4 billion batches held for a top-rows-per-key filter".into(),
            )
        })?;
        let key_columns = evaluate(&self.keys, batch)?;
        let mut row_groups = std::mem::take(&mut self.row_groups);
        self.groups.assign(&key_columns, &mut row_groups)?;
        let new_groups = self.groups.len() - self.filled.len();
        self.filled.resize(self.groups.len(), 0);
        self.orders.add_slots(new_groups * self.k);
        self.positions
            .resize(self.positions.len() + new_groups * self.k, (0, 0));
        let orders: Option<Rows> = match &self.order_rows {
            Some(converter) => {
                let columns = self
                    .order
                    .iter()
                    .map(|e| e.expr.evaluate(batch)?.into_array(rows))
                    .collect::<Result<Vec<ArrayRef>>>()?;
                Some(converter.convert_columns(&columns)?)
            }
            None => None,
        };
        self.batches.push(Some(batch.clone()));
        self.kept_in_batch.push(0);
        for (row, &group) in row_groups.iter().enumerate() {
            let order: &[u8] = match &orders {
                Some(orders) => orders.row(row).data(),
                None => &[],
            };
            self.offer(group as usize, order, batch_number, row as u32);
        }
        self.row_groups = row_groups;
        self.seen += rows;
        let index = batch_number as usize;
        if self.kept_in_batch[index] == 0 {
            self.batches[index] = None;
        } else {
            self.held_rows += rows;
            self.held_bytes += batch.get_array_memory_size();
        }
        if self.held_rows > 2 * self.kept + 4 * self.batch_size {
            self.gather()?;
        }
        Ok(())
    }

    /// Keeps the row when its group has a free slot or it orders before the group's worst.
    fn offer(&mut self, group: usize, order: &[u8], batch: u32, row: u32) {
        let base = group * self.k;
        let filled = usize::from(self.filled[group]);
        let end = if filled < self.k {
            self.filled[group] += 1;
            self.kept += 1;
            base + filled
        } else {
            let worst = base + self.k - 1;
            // Ties keep the row seen first.
            if order >= self.orders.get(worst) {
                return;
            }
            self.release(self.positions[worst].0 as usize);
            worst
        };
        // The new row's place among the group's ordered slots; ties go after their equals. The
        // slot rotated into place is the one freed (empty, or the evicted worst row's).
        let place = (base..end)
            .find(|&i| order < self.orders.get(i))
            .unwrap_or(end);
        self.orders.rotate_right(place..end + 1);
        self.positions[place..=end].rotate_right(1);
        self.orders.set(place, order);
        self.positions[place] = (batch, row);
        self.kept_in_batch[batch as usize] += 1;
    }

    /// One row of `batch` is no longer kept; the batch goes when none is.
    fn release(&mut self, batch: usize) {
        self.kept_in_batch[batch] -= 1;
        // The batch being offered (the last) is settled when its offering ends.
        if self.kept_in_batch[batch] == 0
            && batch + 1 < self.batches.len()
            && let Some(gone) = self.batches[batch].take()
        {
            self.held_rows -= gone.num_rows();
            self.held_bytes -= gone.get_array_memory_size();
        }
    }

    /// Where every kept row is, group by group.
    fn kept_positions(&self) -> Vec<(usize, usize)> {
        let mut positions = Vec::with_capacity(self.kept);
        for (group, &filled) in self.filled.iter().enumerate() {
            let base = group * self.k;
            for &(batch, row) in &self.positions[base..base + usize::from(filled)] {
                positions.push((batch as usize, row as usize));
            }
        }
        positions
    }

    /// The kept rows copied into new batches, and the old ones released.
    fn gather(&mut self) -> Result<()> {
        let gathered = self.gathered_batches()?;
        self.batches = gathered.into_iter().map(Some).collect();
        self.kept_in_batch = self
            .batches
            .iter()
            .flatten()
            .map(|b| b.num_rows() as u32)
            .collect();
        self.held_rows = self.kept;
        self.held_bytes = self
            .batches
            .iter()
            .flatten()
            .map(RecordBatch::get_array_memory_size)
            .sum();
        // The gathered rows are in group order: renumber the slots in the same walk.
        let mut next = 0usize;
        for (group, &filled) in self.filled.iter().enumerate() {
            let base = group * self.k;
            for position in &mut self.positions[base..base + usize::from(filled)] {
                *position = (
                    (next / self.batch_size) as u32,
                    (next % self.batch_size) as u32,
                );
                next += 1;
            }
        }
        Ok(())
    }

    /// The kept rows, `batch_size` to a batch, in group order.
    fn gathered_batches(&self) -> Result<Vec<RecordBatch>> {
        let positions = self.kept_positions();
        let held: Vec<&RecordBatch> = self.batches.iter().flatten().collect();
        // Positions name batches by their index in `self.batches`; `held` skips released ones.
        let mut renumbered = vec![usize::MAX; self.batches.len()];
        let mut next = 0;
        for (i, batch) in self.batches.iter().enumerate() {
            if batch.is_some() {
                renumbered[i] = next;
                next += 1;
            }
        }
        let mut out = Vec::with_capacity(positions.len().div_ceil(self.batch_size));
        for chunk in positions.chunks(self.batch_size) {
            let indices: Vec<(usize, usize)> = chunk
                .iter()
                .map(|&(batch, row)| (renumbered[batch], row))
                .collect();
            out.push(compacted(interleave_record_batch(&held, &indices)?)?);
        }
        Ok(out)
    }

    /// Every kept row, and the state emptied for what comes next.
    pub(super) fn take(&mut self) -> Result<Vec<RecordBatch>> {
        let out = if self.kept == 0 {
            Vec::new()
        } else {
            self.gathered_batches()?
        };
        self.groups = GroupIndex::new(&self.key_types)?;
        self.orders = OrderValues::new(&self.order_types);
        self.filled = Vec::new();
        self.positions = Vec::new();
        self.batches = Vec::new();
        self.kept_in_batch = Vec::new();
        self.held_rows = 0;
        self.held_bytes = 0;
        self.kept = 0;
        self.seen = 0;
        Ok(out)
    }
}

/// `batch` with its string and binary views copied into buffers of their own: gathered views
/// still point into every input batch they came from, which would keep those alive (and be
/// counted once per batch sharing them).
fn compacted(batch: RecordBatch) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => Arc::new(column.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(column.as_binary_view().gc()) as ArrayRef,
            _ => Arc::clone(column),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

fn evaluate(exprs: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}
