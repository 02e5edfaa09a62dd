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

    /// The mark in `state`, when it is one for `column` (a bookmark left by a recipe that named
    /// another column is ignored: the run starts from the beginning).
    pub fn from_json(state: &Value, column: &str) -> Result<Option<ColumnMark>, RunError> {
        let (Some(stored), Some(kind), Some(text)) = (
            state.get("column").and_then(Value::as_str),
            state.get("type").and_then(Value::as_str),
            state.get("value").and_then(Value::as_str),
        ) else {
            return Ok(None);
        };
        if stored != column {
            return Ok(None);
        }
        let data_type = parse_type(kind).map_err(|e| RunError::new(format!("bookmark: {e}")))?;
        let value = ScalarValue::try_from_string(text.to_string(), &data_type)
            .map_err(|e| RunError::new(format!("bookmark value `{text}`: {e}")))?;
        Ok(Some(ColumnMark {
            column: column.to_string(),
            value,
        }))
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
                ColumnMark::from_json(&state, "c").ok().flatten(),
                Some(mark.clone()),
                "{state}"
            );
            assert_eq!(ColumnMark::from_json(&state, "other").ok().flatten(), None);
        }
    }
}
