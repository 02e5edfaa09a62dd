//! Two engines' answers to one query compared value by value: columns brought to common types
//! (any integer width, strings in any Arrow layout, decimals of different scales, a decimal on
//! one side and a float on the other), rows sorted first when the query's order is not total,
//! floats equal within a relative 1e-9 (or within half a unit of the decimal's last place when
//! the other engine answered with a decimal), everything else exactly.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, make_comparator};
use datafusion::arrow::compute::kernels::sort::{SortColumn, SortOptions, lexsort_to_indices};
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// Relative tolerance for floats computed by both engines (sums in a different order).
const FLOAT_TOLERANCE: f64 = 1e-9;

/// `Ok(())` when both answers hold the same rows, else the first difference.
pub fn compare(weir: &[RecordBatch], duckdb: &[RecordBatch], ordered: bool) -> Result<(), String> {
    let weir_rows: usize = weir.iter().map(|b| b.num_rows()).sum();
    let duckdb_rows: usize = duckdb.iter().map(|b| b.num_rows()).sum();
    if weir_rows != duckdb_rows {
        return Err(format!("{weir_rows} rows, DuckDB {duckdb_rows}"));
    }
    let (Some(first_weir), Some(first_duckdb)) = (weir.first(), duckdb.first()) else {
        return Ok(());
    };
    let width = first_weir.num_columns();
    if width != first_duckdb.num_columns() {
        return Err(format!(
            "{width} columns, DuckDB {}",
            first_duckdb.num_columns()
        ));
    }
    let names: Vec<String> = first_weir
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut left = Vec::with_capacity(width);
    let mut right = Vec::with_capacity(width);
    let mut tolerances = Vec::with_capacity(width);
    for (column, name) in names.iter().enumerate() {
        let a = column_of(weir, column)?;
        let b = column_of(duckdb, column)?;
        let (a, b, tolerance) = common(&a, &b).map_err(|e| format!("{name}: {e}"))?;
        left.push(a);
        right.push(b);
        tolerances.push(tolerance);
    }
    if !ordered {
        left = sorted(left)?;
        right = sorted(right)?;
    }
    for row in 0..weir_rows {
        for column in 0..width {
            if !same(&left[column], &right[column], row, tolerances[column])? {
                return Err(format!(
                    "row {row}, column {}: weir {}, DuckDB {}",
                    names[column],
                    shown(&left[column], row),
                    shown(&right[column], row)
                ));
            }
        }
    }
    Ok(())
}

fn column_of(batches: &[RecordBatch], column: usize) -> Result<ArrayRef, String> {
    let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(column).as_ref()).collect();
    concat(&parts).map_err(|e| e.to_string())
}

/// How two values of a column may differ.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tolerance {
    Exact,
    /// Floats: relative, or absolute when a side is a decimal cut to that many places.
    Float {
        absolute: f64,
    },
}

/// Both columns cast to one type, and how they may differ.
fn common(a: &ArrayRef, b: &ArrayRef) -> Result<(ArrayRef, ArrayRef, Tolerance), String> {
    let a = plain(a)?;
    let b = plain(b)?;
    let (ta, tb) = (a.data_type().clone(), b.data_type().clone());
    let to = |array: &ArrayRef, t: &DataType| cast(array, t).map_err(|e| e.to_string());
    let float = |array: &ArrayRef| to(array, &DataType::Float64);
    Ok(match (&ta, &tb) {
        _ if ta == tb && !is_float(&ta) => (a, b, Tolerance::Exact),
        (DataType::Decimal128(_, sa), DataType::Decimal128(_, sb)) => {
            let t = DataType::Decimal128(38, (*sa).max(*sb));
            (to(&a, &t)?, to(&b, &t)?, Tolerance::Exact)
        }
        // DuckDB's HUGEINT (sums of integers) comes as a decimal without places.
        (DataType::Decimal128(_, 0), t) | (t, DataType::Decimal128(_, 0)) if t.is_integer() => (
            to(&a, &DataType::Int64)?,
            to(&b, &DataType::Int64)?,
            Tolerance::Exact,
        ),
        _ if ta.is_integer() && tb.is_integer() => (
            to(&a, &DataType::Int64)?,
            to(&b, &DataType::Int64)?,
            Tolerance::Exact,
        ),
        _ if is_numeric(&ta) && is_numeric(&tb) => {
            let places = |t: &DataType| match t {
                DataType::Decimal128(_, s) => Some(*s),
                _ => None,
            };
            let absolute = places(&ta)
                .or(places(&tb))
                .map_or(0.0, |s| 10f64.powi(-i32::from(s)));
            (float(&a)?, float(&b)?, Tolerance::Float { absolute })
        }
        _ if is_text(&ta) && is_text(&tb) => (
            to(&a, &DataType::Utf8)?,
            to(&b, &DataType::Utf8)?,
            Tolerance::Exact,
        ),
        _ => match cast(&b, &ta) {
            Ok(b) => (a, b, Tolerance::Exact),
            Err(_) => return Err(format!("types differ: weir {ta}, DuckDB {tb}")),
        },
    })
}

/// Dictionaries decoded, strings as `Utf8`.
fn plain(array: &ArrayRef) -> Result<ArrayRef, String> {
    match array.data_type() {
        DataType::Dictionary(_, value) => cast(array, value).map_err(|e| e.to_string()),
        DataType::Utf8View | DataType::LargeUtf8 => {
            cast(array, &DataType::Utf8).map_err(|e| e.to_string())
        }
        _ => Ok(Arc::clone(array)),
    }
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64)
}

fn is_numeric(t: &DataType) -> bool {
    t.is_integer() || is_float(t) || matches!(t, DataType::Decimal128(_, _))
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// The columns' rows in ascending order of all columns, first to last.
fn sorted(columns: Vec<ArrayRef>) -> Result<Vec<ArrayRef>, String> {
    let keys: Vec<SortColumn> = columns
        .iter()
        .map(|values| SortColumn {
            values: Arc::clone(values),
            options: Some(SortOptions::default()),
        })
        .collect();
    let order = lexsort_to_indices(&keys, None).map_err(|e| e.to_string())?;
    columns
        .iter()
        .map(|c| take(c.as_ref(), &order, None).map_err(|e| e.to_string()))
        .collect()
}

fn same(a: &ArrayRef, b: &ArrayRef, row: usize, tolerance: Tolerance) -> Result<bool, String> {
    match (a.is_null(row), b.is_null(row)) {
        (true, true) => return Ok(true),
        (true, false) | (false, true) => return Ok(false),
        _ => {}
    }
    if let Tolerance::Float { absolute } = tolerance {
        let (Some(a), Some(b)) = (
            a.as_any().downcast_ref::<Float64Array>(),
            b.as_any().downcast_ref::<Float64Array>(),
        ) else {
            return Err("float column is not Float64".to_string());
        };
        let (x, y) = (a.value(row), b.value(row));
        if x.is_nan() || y.is_nan() {
            return Ok(x.is_nan() && y.is_nan());
        }
        // At least 1: values near zero (a correlation of independent columns) are compared
        // absolutely, as rounding in either engine leaves them anywhere near 1e-30.
        let scale = x.abs().max(y.abs()).max(1.0);
        return Ok(x == y || (x - y).abs() <= (FLOAT_TOLERANCE * scale).max(absolute));
    }
    let comparator = make_comparator(a.as_ref(), b.as_ref(), SortOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(comparator(row, row) == Ordering::Equal)
}

fn shown(array: &ArrayRef, row: usize) -> String {
    ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default().with_null("NULL"))
        .map(|f| f.value(row).to_string())
        .unwrap_or_else(|e| format!("({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Decimal128Array, Int64Array, StringArray, StringViewArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    fn batch(columns: Vec<ArrayRef>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    }

    #[test]
    fn unordered_rows_are_sorted_and_types_reconciled() {
        let weir = batch(vec![
            Arc::new(StringViewArray::from(vec!["b", "a"])),
            Arc::new(Int64Array::from(vec![2, 1])),
            Arc::new(
                Decimal128Array::from(vec![250, 125])
                    .with_precision_and_scale(19, 2)
                    .unwrap(),
            ),
        ]);
        let duckdb = batch(vec![
            Arc::new(StringArray::from(vec!["a", "b"])),
            Arc::new(
                Decimal128Array::from(vec![1, 2])
                    .with_precision_and_scale(38, 0)
                    .unwrap(),
            ),
            Arc::new(Float64Array::from(vec![1.249_999, 2.5])),
        ]);
        assert_eq!(
            compare(
                std::slice::from_ref(&weir),
                std::slice::from_ref(&duckdb),
                false
            ),
            Ok(())
        );
        assert!(compare(&[weir], &[duckdb], true).is_err());
    }

    #[test]
    fn the_first_difference_is_named() {
        let weir = batch(vec![Arc::new(Float64Array::from(vec![1.0, 2.0]))]);
        let duckdb = batch(vec![Arc::new(Float64Array::from(vec![1.0, 2.0001]))]);
        assert_eq!(
            compare(&[weir], &[duckdb], true),
            Err("row 1, column c0: weir 2.0, DuckDB 2.0001".to_string())
        );
    }
}
