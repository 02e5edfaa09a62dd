//! Merging the schemas of a table's files into one. Columns keep the order in which they first
//! appear. Types widen silently where no value changes meaning (integers to `Int64`, integers and
//! floats to `Float64`, dates to timestamps, any string type to `Utf8`, null to anything);
//! anything else (a number in one file, text in another) is a *conflict*: the column becomes
//! `Utf8` and the crawler reports it. A column missing from some files is nullable.

use std::str::FromStr;

use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::catalog::Column;

/// A column whose types could not be merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub column: String,
    /// The types seen, in the order met.
    pub types: Vec<String>,
    /// The type the column was given.
    pub resolved: String,
    /// A file that brought a disagreeing type.
    pub file: String,
}

struct Field {
    name: String,
    data_type: DataType,
    nullable: bool,
}

/// Schemas merged so far.
#[derive(Default)]
pub(crate) struct Merger {
    fields: Vec<Field>,
    conflicts: Vec<Conflict>,
    /// Whether any schema has been merged (columns added after the first are nullable).
    started: bool,
}

impl Merger {
    /// Starts from a table's current columns (an incremental crawl keeps what earlier crawls saw).
    pub fn from_columns(columns: &[Column]) -> Merger {
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| Field {
                name: c.name.clone(),
                // A type written by an older weir and unknown now: keep the data readable as text.
                data_type: DataType::from_str(&c.data_type).unwrap_or(DataType::Utf8),
                nullable: c.nullable,
            })
            .collect();
        Merger {
            started: !fields.is_empty(),
            fields,
            conflicts: Vec::new(),
        }
    }

    /// Merges one file's schema.
    pub fn add(&mut self, schema: &Schema, file: &str) {
        for field in &self.fields_missing_from(schema) {
            self.fields[*field].nullable = true;
        }
        for incoming in schema.fields() {
            let incoming_type = normalize(incoming.data_type());
            let Some(index) = self.fields.iter().position(|f| f.name == *incoming.name()) else {
                self.fields.push(Field {
                    name: incoming.name().clone(),
                    data_type: incoming_type,
                    nullable: incoming.is_nullable() || self.started,
                });
                continue;
            };
            let field = &mut self.fields[index];
            field.nullable |= incoming.is_nullable();
            if field.data_type == incoming_type {
                continue;
            }
            match widen(&field.data_type, &incoming_type) {
                Some(wider) => field.data_type = wider,
                None => {
                    let (current, seen) = (field.data_type.to_string(), incoming_type.to_string());
                    field.data_type = DataType::Utf8;
                    record_conflict(&mut self.conflicts, &field.name, current, seen, file);
                }
            }
        }
        self.started = true;
    }

    fn fields_missing_from(&self, schema: &Schema) -> Vec<usize> {
        (0..self.fields.len())
            .filter(|&i| schema.field_with_name(&self.fields[i].name).is_err())
            .collect()
    }

    /// The merged columns, without those named in `partition_columns` (a file may repeat its
    /// partition's value as a column; the table takes it from the folder), and the conflicts.
    pub fn finish(self, partition_columns: &[String]) -> (Vec<Column>, Vec<Conflict>) {
        let columns = self
            .fields
            .into_iter()
            .filter(|f| !partition_columns.contains(&f.name))
            .map(|f| Column {
                name: f.name,
                data_type: type_name(&f.data_type),
                nullable: f.nullable,
            })
            .collect();
        (columns, self.conflicts)
    }
}

fn record_conflict(
    conflicts: &mut Vec<Conflict>,
    column: &str,
    current: String,
    seen: String,
    file: &str,
) {
    match conflicts.iter_mut().find(|c| c.column == column) {
        Some(conflict) => {
            for t in [current, seen] {
                if !conflict.types.contains(&t) {
                    conflict.types.push(t);
                }
            }
        }
        None => {
            let mut types = vec![current];
            if !types.contains(&seen) {
                types.push(seen);
            }
            conflicts.push(Conflict {
                column: column.to_string(),
                types,
                resolved: "Utf8".into(),
                file: file.to_string(),
            });
        }
    }
}

/// The name a type is stored under: Arrow's display form, which `DataType::from_str` reads back.
/// Types it cannot read back are stored as `Utf8`.
fn type_name(data_type: &DataType) -> String {
    let name = data_type.to_string();
    match DataType::from_str(&name) {
        Ok(parsed) if parsed == *data_type => name,
        _ => DataType::Utf8.to_string(),
    }
}

/// One spelling per family: the string types read by different writers are all `Utf8`.
fn normalize(data_type: &DataType) -> DataType {
    match data_type {
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::Dictionary(_, value) => normalize(value),
        other => other.clone(),
    }
}

/// The narrowest type holding values of both `a` and `b` without changing their meaning.
fn widen(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Null, other) | (other, Null) => Some(other.clone()),
        _ if a.is_integer() && b.is_integer() => Some(Int64),
        _ if is_number(a) && is_number(b) => Some(Float64),
        (Date32, Date64) | (Date64, Date32) => Some(Date64),
        (Date32 | Date64, Timestamp(unit, tz)) | (Timestamp(unit, tz), Date32 | Date64) => {
            Some(Timestamp(*unit, tz.clone()))
        }
        (Timestamp(u1, tz1), Timestamp(u2, tz2)) if tz1 == tz2 => {
            Some(Timestamp(finer(*u1, *u2), tz1.clone()))
        }
        _ => None,
    }
}

fn is_number(t: &DataType) -> bool {
    t.is_integer()
        || t.is_floating()
        || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..))
}

fn finer(a: TimeUnit, b: TimeUnit) -> TimeUnit {
    let rank = |u: TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    };
    if rank(a) >= rank(b) { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field as ArrowField;

    fn schema(fields: &[(&str, DataType, bool)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t, null)| ArrowField::new(*n, t.clone(), *null))
                .collect::<Vec<_>>(),
        )
    }

    fn names(columns: &[Column]) -> Vec<(&str, &str, bool)> {
        columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str(), c.nullable))
            .collect()
    }

    #[test]
    fn numbers_widen_silently_and_text_conflicts() {
        let mut merger = Merger::default();
        merger.add(
            &schema(&[
                ("id", DataType::Int32, false),
                ("amount", DataType::Int64, false),
                ("code", DataType::Int64, false),
                ("when", DataType::Date32, true),
            ]),
            "a.csv",
        );
        merger.add(
            &schema(&[
                ("id", DataType::Int64, false),
                ("amount", DataType::Float64, false),
                ("code", DataType::Utf8, false),
                (
                    "when",
                    DataType::Timestamp(TimeUnit::Microsecond, None),
                    true,
                ),
                ("extra", DataType::Boolean, false),
            ]),
            "b.csv",
        );
        let (columns, conflicts) = merger.finish(&[]);
        assert_eq!(
            names(&columns),
            [
                ("id", "Int64", false),
                ("amount", "Float64", false),
                ("code", "Utf8", false),
                ("when", "Timestamp(µs)", true),
                ("extra", "Boolean", true),
            ]
        );
        assert_eq!(
            conflicts,
            [Conflict {
                column: "code".into(),
                types: vec!["Int64".into(), "Utf8".into()],
                resolved: "Utf8".into(),
                file: "b.csv".into(),
            }]
        );
    }

    #[test]
    fn missing_columns_become_nullable_and_partitions_are_dropped() {
        let mut merger = Merger::from_columns(&[Column {
            name: "a".into(),
            data_type: "Int64".into(),
            nullable: false,
        }]);
        merger.add(
            &schema(&[("b", DataType::Utf8, false), ("day", DataType::Utf8, false)]),
            "x",
        );
        let (columns, conflicts) = merger.finish(&["day".to_string()]);
        assert_eq!(names(&columns), [("a", "Int64", true), ("b", "Utf8", true)]);
        assert!(conflicts.is_empty());
    }

    #[test]
    fn stored_type_names_read_back() {
        for t in [
            DataType::Int64,
            DataType::Float64,
            DataType::Utf8,
            DataType::Boolean,
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        ] {
            assert_eq!(DataType::from_str(&type_name(&t)).unwrap(), t);
        }
    }
}
