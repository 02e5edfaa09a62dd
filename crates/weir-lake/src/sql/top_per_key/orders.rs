//! The order value of every slot, in Arrow's row format (bytes that compare as the values
//! sort, nulls and descending orders included).
//!
//! Numbers, dates and timestamps encode to the same width every time, so their values sit
//! side by side in one buffer and a comparison reads memory next to the slot's; texts vary and
//! each slot has its own buffer.

use std::ops::Range;

use datafusion::arrow::datatypes::DataType;

pub(super) enum OrderValues {
    Fixed {
        width: usize,
        bytes: Vec<u8>,
        slots: usize,
    },
    Varying {
        values: Vec<Vec<u8>>,
        bytes: usize,
    },
}

impl OrderValues {
    /// For order columns of `types` (none: every row ties).
    pub(super) fn new(types: &[DataType]) -> OrderValues {
        // A fixed-width value's row format: a byte for null, then the value's bytes.
        let width: Option<usize> = types.iter().map(|t| Some(1 + t.primitive_width()?)).sum();
        match width {
            Some(width) => OrderValues::Fixed {
                width,
                bytes: Vec::new(),
                slots: 0,
            },
            None => OrderValues::Varying {
                values: Vec::new(),
                bytes: 0,
            },
        }
    }

    /// `count` more (empty) slots.
    pub(super) fn add_slots(&mut self, count: usize) {
        match self {
            OrderValues::Fixed {
                width,
                bytes,
                slots,
            } => {
                bytes.resize(bytes.len() + count * *width, 0);
                *slots += count;
            }
            OrderValues::Varying { values, .. } => {
                values.resize_with(values.len() + count, Vec::new)
            }
        }
    }

    pub(super) fn get(&self, slot: usize) -> &[u8] {
        match self {
            OrderValues::Fixed { width, bytes, .. } => &bytes[slot * width..(slot + 1) * width],
            OrderValues::Varying { values, .. } => &values[slot],
        }
    }

    pub(super) fn set(&mut self, slot: usize, value: &[u8]) {
        if let OrderValues::Fixed { width, .. } = self
            && value.len() != *width
        {
            // Not the width the types promised: keep going with a buffer per slot.
            self.make_varying();
        }
        match self {
            OrderValues::Fixed { width, bytes, .. } => {
                bytes[slot * *width..(slot + 1) * *width].copy_from_slice(value);
            }
            OrderValues::Varying { values, bytes } => {
                let old = &mut values[slot];
                *bytes = *bytes + value.len() - old.len();
                old.clear();
                old.extend_from_slice(value);
            }
        }
    }

    /// Moves the last slot of `slots` to its start, shifting the others up by one.
    pub(super) fn rotate_right(&mut self, slots: Range<usize>) {
        match self {
            OrderValues::Fixed { width, bytes, .. } => {
                bytes[slots.start * *width..slots.end * *width].rotate_right(*width);
            }
            OrderValues::Varying { values, .. } => values[slots].rotate_right(1),
        }
    }

    pub(super) fn size(&self) -> usize {
        match self {
            OrderValues::Fixed { bytes, .. } => bytes.capacity(),
            OrderValues::Varying { values, bytes } => {
                bytes + values.capacity() * size_of::<Vec<u8>>()
            }
        }
    }

    fn make_varying(&mut self) {
        if let OrderValues::Fixed {
            width,
            bytes,
            slots,
        } = self
        {
            let values: Vec<Vec<u8>> = (0..*slots)
                .map(|i| bytes[i * *width..(i + 1) * *width].to_vec())
                .collect();
            let total = bytes.len();
            *self = OrderValues::Varying {
                values,
                bytes: total,
            };
        }
    }
}
