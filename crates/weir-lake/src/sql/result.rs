//! A statement's result and its renderings: JSON rows (REST API, task outputs), CSV and a text
//! table (CLI, task logs).

use std::time::Duration;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::*;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches_with_schema;
use serde_json::{Map, Number, Value};

use super::SqlError;

/// What a statement returned. For writing statements, `row_count` is the number of rows written
/// and the batches hold one `count` row.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    /// The rows kept (all of them unless a row limit was asked for).
    pub batches: Vec<RecordBatch>,
    /// Rows the statement produced (or wrote), whether kept or not.
    pub row_count: u64,
    /// True when `batches` hold fewer rows than `row_count`.
    pub truncated: bool,
    pub elapsed: Duration,
    /// Distinct files the scans read after partition pruning.
    pub files_scanned: usize,
}

/// A result column: its name and Arrow type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResultColumn {
    pub name: String,
    pub data_type: String,
}

impl QueryResult {
    pub fn columns(&self) -> Vec<ResultColumn> {
        self.schema
            .fields()
            .iter()
            .map(|f| ResultColumn {
                name: f.name().clone(),
                data_type: super::types::type_name(f.data_type()),
            })
            .collect()
    }

    /// Rows kept in the result.
    pub fn kept_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Rows as JSON objects keyed by column name. Timestamps are RFC 3339 (UTC when the column
    /// has no time zone), dates `YYYY-MM-DD`, non-finite floats null, 64-bit integers numbers.
    pub fn to_json_rows(&self) -> Vec<Map<String, Value>> {
        let mut rows = Vec::with_capacity(self.kept_rows());
        for batch in &self.batches {
            let schema = batch.schema();
            let columns: Vec<ArrayRef> = batch.columns().iter().map(decode_dictionary).collect();
            for row in 0..batch.num_rows() {
                let mut object = Map::new();
                for (field, column) in schema.fields().iter().zip(&columns) {
                    object.insert(field.name().clone(), json_value(column.as_ref(), row));
                }
                rows.push(object);
            }
        }
        rows
    }

    /// CSV with a header line.
    pub fn to_csv(&self) -> Result<String, SqlError> {
        let mut out = Vec::new();
        {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            if self.batches.is_empty() {
                let empty = RecordBatch::new_empty(self.schema.clone());
                writer
                    .write(&empty)
                    .map_err(|e| SqlError::new(e.to_string()))?;
            }
            for batch in &self.batches {
                writer
                    .write(batch)
                    .map_err(|e| SqlError::new(e.to_string()))?;
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A text table (DataFusion's pretty printer), with the header even when there are no rows.
    pub fn to_table(&self) -> Result<String, SqlError> {
        pretty_format_batches_with_schema(self.schema.clone(), &self.batches)
            .map(|t| t.to_string())
            .map_err(|e| SqlError::new(e.to_string()))
    }
}

/// A dictionary-encoded column as its plain values (one pass over the column), others as they
/// are: [`json_value`] on a dictionary resolves its keys on every call, which row by row costs
/// the whole column each time.
pub fn decode_dictionary(column: &ArrayRef) -> ArrayRef {
    match column.data_type() {
        DataType::Dictionary(_, value) => {
            datafusion::arrow::compute::cast(column, value).unwrap_or_else(|_| column.clone())
        }
        _ => column.clone(),
    }
}

/// One value as JSON.
pub fn json_value(array: &dyn Array, row: usize) -> Value {
    // Logical nulls: a NullArray (`SELECT NULL`) or a dictionary has no null bitmap of its own.
    if array
        .logical_nulls()
        .is_some_and(|nulls| nulls.is_null(row))
    {
        return Value::Null;
    }
    macro_rules! int {
        ($t:ty) => {
            Value::from(array.as_primitive::<$t>().value(row))
        };
    }
    macro_rules! float {
        ($t:ty) => {
            Number::from_f64(f64::from(array.as_primitive::<$t>().value(row)))
                .map(Value::Number)
                .unwrap_or(Value::Null)
        };
    }
    match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => float!(Float32Type),
        DataType::Float64 => float!(Float64Type),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
            // A number when it survives the trip through f64 as text would; else a string.
            let text = formatted(array, row);
            match text.parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) if text.len() <= 15 => Value::Number(n),
                _ => Value::String(text),
            }
        }
        DataType::Timestamp(unit, tz) => timestamp(array, row, *unit, tz.is_some())
            .map(Value::String)
            .unwrap_or_else(|| Value::String(formatted(array, row))),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let values = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(row),
                DataType::LargeList(_) => array.as_list::<i64>().value(row),
                _ => array.as_fixed_size_list().value(row),
            };
            Value::Array(
                (0..values.len())
                    .map(|i| json_value(values.as_ref(), i))
                    .collect(),
            )
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            Value::Object(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, c)| (f.name().clone(), json_value(c.as_ref(), row)))
                    .collect(),
            )
        }
        DataType::Dictionary(_, _) => {
            // Resolve the key and render the dictionary value.
            let dict = array.as_any_dictionary();
            let keys = dict.normalized_keys();
            match keys.get(row) {
                Some(&k) => json_value(dict.values().as_ref(), k),
                None => Value::Null,
            }
        }
        _ => Value::String(formatted(array, row)),
    }
}

/// RFC 3339 text of a timestamp: `Z` for columns without a time zone (weir stores UTC), the
/// zone's offset otherwise (Arrow stores instants in UTC; the zone is for display).
fn timestamp(array: &dyn Array, row: usize, unit: TimeUnit, has_zone: bool) -> Option<String> {
    if has_zone {
        // Arrow's formatter renders the zone offset in RFC 3339 form.
        return Some(formatted(array, row));
    }
    let value = match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
    };
    let at = match unit {
        TimeUnit::Second => chrono::DateTime::from_timestamp(value, 0),
        TimeUnit::Millisecond => chrono::DateTime::from_timestamp_millis(value),
        TimeUnit::Microsecond => chrono::DateTime::from_timestamp_micros(value),
        TimeUnit::Nanosecond => Some(chrono::DateTime::from_timestamp_nanos(value)),
    }?;
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Arrow's own text for a value (dates, times, intervals, binary, …).
fn formatted(array: &dyn Array, row: usize) -> String {
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array, &options) {
        Ok(f) => f.value(row).to_string(),
        Err(_) => String::new(),
    }
}
