//! Numbering each input row's key: one hash lookup per row, nulls one key as in a window's
//! partitions.
//!
//! One integer-like key column (ids, dates, timestamps: the common "latest row per id") is
//! looked up by its value; any other keys by their Arrow row format, which costs a conversion
//! and a byte comparison more per row.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::hash_map::EntryRef;
use datafusion::common::{HashMap, Result};

pub(super) struct GroupIndex {
    by: By,
    groups: usize,
}

enum By {
    Integer {
        values: HashMap<i64, u32>,
        null: Option<u32>,
    },
    Rows {
        converter: RowConverter,
        keys: HashMap<Vec<u8>, u32>,
        bytes: usize,
    },
}

impl GroupIndex {
    pub(super) fn new(types: &[DataType]) -> Result<GroupIndex> {
        let by = match types {
            [one] if integer_like(one) => By::Integer {
                values: HashMap::default(),
                null: None,
            },
            _ => By::Rows {
                converter: RowConverter::new(types.iter().cloned().map(SortField::new).collect())?,
                keys: HashMap::default(),
                bytes: 0,
            },
        };
        Ok(GroupIndex { by, groups: 0 })
    }

    /// How many keys have been seen; they are numbered from 0 in order of appearance.
    pub(super) fn len(&self) -> usize {
        self.groups
    }

    /// The number of each row's key in `groups` (cleared first).
    pub(super) fn assign(&mut self, columns: &[ArrayRef], groups: &mut Vec<u32>) -> Result<()> {
        groups.clear();
        // Group numbers are u32: refuse a batch that could take them past it.
        if self.groups + columns.first().map_or(0, |c| c.len()) > u32::MAX as usize {
            return Err(datafusion::common::DataFusionError::ResourcesExhausted(
                "more than 4 billion keys in a top-rows-per-key filter".into(),
            ));
        }
        let next = &mut self.groups;
        let mut number = |_: ()| {
            *next += 1;
            (*next - 1) as u32
        };
        match &mut self.by {
            By::Integer { values, null } => {
                let column = cast(&columns[0], &DataType::Int64)?;
                let column = column.as_primitive::<Int64Type>();
                for (i, value) in column.values().iter().enumerate() {
                    let group = if column.is_null(i) {
                        *null.get_or_insert_with(|| number(()))
                    } else {
                        *values.entry(*value).or_insert_with(|| number(()))
                    };
                    groups.push(group);
                }
            }
            By::Rows {
                converter,
                keys,
                bytes,
            } => {
                let rows = converter.convert_columns(columns)?;
                for row in rows.iter() {
                    let key = row.as_ref();
                    let group = match keys.entry_ref(key) {
                        EntryRef::Occupied(entry) => *entry.get(),
                        EntryRef::Vacant(entry) => {
                            *bytes += key.len();
                            *entry.insert(number(()))
                        }
                    };
                    groups.push(group);
                }
            }
        }
        Ok(())
    }

    /// Memory held by the index.
    pub(super) fn size(&self) -> usize {
        match &self.by {
            By::Integer { values, .. } => values.capacity() * (size_of::<(i64, u32)>() + 1),
            By::Rows {
                converter,
                keys,
                bytes,
            } => converter.size() + bytes + keys.capacity() * (size_of::<(Vec<u8>, u32)>() + 1),
        }
    }
}

/// Types whose values are integers that fit an `i64` exactly.
fn integer_like(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | Date32 | Date64 | Timestamp(_, _)
    )
}
