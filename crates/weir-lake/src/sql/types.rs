//! Between the catalog's text schema (`Column { name, data_type: "Int64", … }`, partition values
//! as text) and Arrow's types and scalars. Kept in one place so reading and writing agree.

use std::str::FromStr;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use datafusion::common::ScalarValue;

use super::SqlError;
use crate::catalog::{Column, Format, Partitioning, Table};

/// Hive's name for a NULL (or empty) partition value in a path and in a manifest.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Arrow type for a catalog type name: Arrow's own names (`Int64`, `Timestamp(µs)`,
/// `Timestamp(Microsecond, None)`), plus common SQL/Hive spellings a crawler or a person may use.
pub fn parse_type(name: &str) -> Result<DataType, SqlError> {
    if let Ok(t) = DataType::from_str(name.trim()) {
        return Ok(t);
    }
    let t = match name.trim().to_ascii_lowercase().as_str() {
        "string" | "text" | "varchar" | "utf8" => DataType::Utf8,
        "int" | "integer" | "int32" => DataType::Int32,
        "bigint" | "long" | "int64" => DataType::Int64,
        "smallint" | "int16" => DataType::Int16,
        "tinyint" | "int8" => DataType::Int8,
        "double" | "float64" => DataType::Float64,
        "float" | "real" | "float32" => DataType::Float32,
        "boolean" | "bool" => DataType::Boolean,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "binary" | "bytes" => DataType::Binary,
        _ => {
            return Err(SqlError::new(format!(
                "unknown column type `{name}` in the catalog"
            )));
        }
    };
    Ok(t)
}

/// The catalog's name for an Arrow type. String and binary representations (view, large) are
/// one logical type to the catalog, so they share one name.
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => "Utf8".to_string(),
        DataType::BinaryView | DataType::LargeBinary => "Binary".to_string(),
        DataType::Dictionary(_, value) => type_name(value),
        other => other.to_string(),
    }
}

/// The type a column is read as. Parquet strings are read as views (no copy of the bytes, faster
/// filters and hashing), as DataFusion does for its own Parquet tables.
fn read_type(t: DataType, format: Format) -> DataType {
    match (format, t) {
        (Format::Parquet, DataType::Utf8 | DataType::LargeUtf8) => DataType::Utf8View,
        (Format::Parquet, DataType::Binary | DataType::LargeBinary) => DataType::BinaryView,
        (_, t) => t,
    }
}

/// The table's partition columns (empty when unpartitioned).
pub fn partition_columns(table: &Table) -> &[Column] {
    match &table.partitioning {
        Partitioning::None => &[],
        Partitioning::Hive { columns } | Partitioning::Pattern { columns, .. } => columns,
    }
}

/// The schema of the data inside the files, and the partition columns appended after it.
pub fn scan_schema(table: &Table) -> Result<(SchemaRef, Vec<FieldRef>), SqlError> {
    let field = |c: &Column, read_as: &dyn Fn(DataType) -> DataType| {
        parse_type(&c.data_type).map(|t| Arc::new(Field::new(&c.name, read_as(t), c.nullable)))
    };
    let files = table
        .columns
        .iter()
        .map(|c| field(c, &|t| read_type(t, table.format)))
        .collect::<Result<Vec<_>, _>>()?;
    // Partition values come from the manifest, may be NULL, and are never views.
    let partitions = partition_columns(table)
        .iter()
        .map(|c| parse_type(&c.data_type).map(|t| Arc::new(Field::new(&c.name, t, true))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((Arc::new(Schema::new(files)), partitions))
}

/// A manifest's partition value (text) as a scalar of the column's type.
pub fn partition_scalar(text: &str, t: &DataType) -> Result<ScalarValue, SqlError> {
    if text == NULL_PARTITION {
        return ScalarValue::try_from(t).map_err(|e| SqlError::new(e.to_string()));
    }
    ScalarValue::try_from_string(text.to_string(), t).map_err(|e| {
        SqlError::new(format!(
            "partition value `{text}` is not a valid {}: {}",
            type_name(t),
            e.find_root().message()
        ))
    })
}

/// Catalog columns for Arrow fields.
pub fn columns_of(fields: &[FieldRef]) -> Vec<Column> {
    fields
        .iter()
        .map(|f| Column {
            name: f.name().clone(),
            data_type: type_name(f.data_type()),
            nullable: f.is_nullable(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for t in [
            DataType::Int64,
            DataType::Float64,
            DataType::Utf8,
            DataType::Boolean,
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            DataType::Decimal128(10, 2),
        ] {
            assert_eq!(parse_type(&type_name(&t)).ok(), Some(t.clone()), "{t}");
        }
        assert_eq!(
            parse_type("Timestamp(Microsecond, None)").ok(),
            Some(DataType::Timestamp(TimeUnit::Microsecond, None))
        );
        assert_eq!(parse_type("string").ok(), Some(DataType::Utf8));
        assert_eq!(type_name(&DataType::Utf8View), "Utf8");
        assert!(parse_type("no such type").is_err());
    }

    #[test]
    fn partition_values() {
        assert_eq!(
            partition_scalar("42", &DataType::Int32).ok(),
            Some(ScalarValue::Int32(Some(42)))
        );
        assert_eq!(
            partition_scalar(NULL_PARTITION, &DataType::Int32).ok(),
            Some(ScalarValue::Int32(None))
        );
        assert!(partition_scalar("x", &DataType::Int32).is_err());
        assert!(partition_scalar("2024-03-01", &DataType::Date32).is_ok());
    }
}
