//! A bookmark's state as the store keeps it (JSON in `transform_bookmarks.state`): a column's
//! high-water mark with its type, or a count of a prefix's objects (the objects themselves are
//! rows of their own).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use serde_json::{Value, json};

use super::RunError;
use crate::sql::{parse_type, type_name};

/// The highest value of a bookmark column that a committed run has read.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMark {
    pub column: String,
    pub value: ScalarValue,
}

impl ColumnMark {
    /// `{"column": …, "type": …, "value": text}`: the value as Arrow casts it to text, read back
    /// with the same cast, so timestamps and decimals keep their exact value.
    pub fn to_json(&self) -> Result<Value, RunError> {
        let text = self
            .value
            .cast_to(&DataType::Utf8)
            .map_err(|e| RunError::new(format!("bookmark value: {e}")))?;
        let text = match text {
            ScalarValue::Utf8(Some(text)) => text,
            other => other.to_string(),
        };
        Ok(json!({
            "column": self.column,
            "type": type_name(&self.value.data_type()),
            "value": text,
        }))
    }

    /// The mark in `state`, which must be one for `column`: a bookmark left by a recipe that
    /// named another column, or kept objects or stream positions, is an error (ignoring it would
    /// read everything again and append it twice); resetting the bookmark of transform
    /// `transform` clears it.
    pub fn from_json(state: &Value, column: &str, transform: &str) -> Result<ColumnMark, RunError> {
        let reset = |what: String| {
            RunError::new(format!(
                "the stored bookmark of transform `{transform}` is {what}, not a mark of column \
                 `{column}`: the recipe's bookmark changed since it was stored; reset it \
                 (`weir transforms bookmark reset {transform}`) to read everything again"
            ))
        };
        let (Some(stored), Some(kind), Some(text)) = (
            state.get("column").and_then(Value::as_str),
            state.get("type").and_then(Value::as_str),
            state.get("value").and_then(Value::as_str),
        ) else {
            return Err(reset(format!("{state}")));
        };
        if stored != column {
            return Err(reset(format!("a mark of column `{stored}`")));
        }
        let data_type = parse_type(kind).map_err(|e| RunError::new(format!("bookmark: {e}")))?;
        let value = ScalarValue::try_from_string(text.to_string(), &data_type)
            .map_err(|e| RunError::new(format!("bookmark value `{text}`: {e}")))?;
        Ok(ColumnMark {
            column: column.to_string(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_through_their_text() {
        for value in [
            ScalarValue::Int64(Some(42)),
            ScalarValue::Utf8(Some("2024-05-01 10:00".into())),
            ScalarValue::TimestampMicrosecond(Some(1_714_557_600_123_456), None),
            ScalarValue::Date32(Some(19_844)),
        ] {
            let mark = ColumnMark {
                column: "c".into(),
                value,
            };
            let state = mark.to_json().unwrap_or(Value::Null);
            assert_eq!(
                ColumnMark::from_json(&state, "c", "t").ok(),
                Some(mark.clone()),
                "{state}"
            );
        }
    }

    /// A bookmark the recipe's column did not leave is an error that says to reset it: taken
    /// for no bookmark, the run would read everything again and append it twice.
    #[test]
    fn a_mark_of_another_column_or_kind_is_an_error() {
        let mark = ColumnMark {
            column: "id".into(),
            value: ScalarValue::Int64(Some(7)),
        };
        let state = mark.to_json().unwrap_or(Value::Null);
        let error = ColumnMark::from_json(&state, "updated_at", "clean")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "the stored bookmark of transform `clean` is a mark of column `id`, not a mark of \
             column `updated_at`: the recipe's bookmark changed since it was stored; reset it \
             (`weir transforms bookmark reset clean`) to read everything again"
        );
        let error = ColumnMark::from_json(&json!({"objects": 2}), "id", "clean")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("the stored bookmark of transform `clean` is {\"objects\":2}, not"),
            "{error}"
        );
    }
}
