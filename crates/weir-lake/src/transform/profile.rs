//! A data-quality profile of a catalog table (DataBrew's profile job): rows, and per column its
//! nulls, approximate distinct count, min, max and five most frequent values. Two statements:
//! one aggregation for the counts and bounds of every column, and one grouping-sets
//! aggregation for the frequent values of every column over the first 20,000 rows.

use datafusion::arrow::datatypes::DataType;
use serde::Serialize;
use serde_json::Value;
use weir_model::sql_tables::TableName;

use super::compile::ident;
use crate::sql::{SqlEngine, SqlError, type_name};

/// How many frequent values a column's profile lists.
pub const TOP_VALUES: usize = 5;

/// The rows the frequent values are counted on: the first 20,000, DataBrew's default sample for
/// a profile job. Counting every value of every column of a wide, high-cardinality table by
/// grouping sets holds every distinct value of every column at once.
pub const TOP_VALUES_SAMPLE: u64 = 20_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub database: String,
    pub table: String,
    pub rows: u64,
    /// The rows the top values were counted on: the first [`TOP_VALUES_SAMPLE`] (all of a
    /// smaller table).
    pub top_values_rows: u64,
    pub columns: Vec<ColumnProfile>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    pub name: String,
    pub data_type: String,
    pub nulls: u64,
    /// Distinct non-null values, approximate (HyperLogLog: within a few percent); none for types
    /// it cannot count (lists, structs).
    pub distinct_approx: Option<u64>,
    /// Smallest and largest values (JSON as the SQL API renders them); none for types without an
    /// order or a table without values.
    pub min: Value,
    pub max: Value,
    /// The most frequent non-null values of the sample ([`Profile::top_values_rows`]), most
    /// frequent first (ties by value), as text.
    pub top: Vec<TopValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopValue {
    pub value: String,
    pub count: u64,
}

/// What can be said of a column of a type.
struct Kind {
    /// Ordered and printable: min, max and top values.
    ordered: bool,
    /// The SQL text approx_distinct counts (floats and dictionaries as text), if any.
    distinct: Option<String>,
}

fn kind(name: &str, data_type: &DataType) -> Kind {
    let column = ident(name);
    let text = format!("CAST({column} AS VARCHAR)");
    match data_type {
        DataType::Dictionary(_, value) => Kind {
            ordered: matches!(
                value.as_ref(),
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
            ),
            distinct: Some(text),
        },
        DataType::Float16 | DataType::Float32 | DataType::Float64 => Kind {
            ordered: true,
            distinct: Some(text),
        },
        t if t.is_nested() => Kind {
            ordered: false,
            distinct: None,
        },
        DataType::Binary
        | DataType::BinaryView
        | DataType::LargeBinary
        | DataType::FixedSizeBinary(_) => Kind {
            ordered: false,
            distinct: Some(column),
        },
        DataType::Null => Kind {
            ordered: false,
            distinct: None,
        },
        _ => Kind {
            ordered: true,
            distinct: Some(column),
        },
    }
}

/// The profile of `table`.
pub async fn profile(engine: &SqlEngine, table: &TableName) -> Result<Profile, SqlError> {
    let state = engine
        .session_for_tables(std::slice::from_ref(table))
        .await?;
    let session = datafusion::prelude::SessionContext::new_with_state(state);
    let reference =
        datafusion::common::TableReference::partial(table.database.as_str(), table.name.as_str());
    let frame = session
        .table(reference)
        .await
        .map_err(|_| SqlError::new(format!("no table `{table}` in the catalog")))?;
    let fields: Vec<(String, DataType)> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let from = format!("{}.{}", ident(&table.database), ident(&table.name));

    let mut aggregates = vec!["count(*) AS rows".to_string()];
    for (i, (name, data_type)) in fields.iter().enumerate() {
        let column = ident(name);
        let kind = kind(name, data_type);
        aggregates.push(format!("count({column}) AS c{i}_values"));
        if let Some(distinct) = &kind.distinct {
            aggregates.push(format!("approx_distinct({distinct}) AS c{i}_distinct"));
        }
        if kind.ordered {
            aggregates.push(format!("min({column}) AS c{i}_min"));
            aggregates.push(format!("max({column}) AS c{i}_max"));
        }
    }
    let counts = engine
        .execute(&format!("SELECT {} FROM {from}", aggregates.join(", ")))
        .await?;
    let counts = counts.to_json_rows().into_iter().next().unwrap_or_default();
    let number = |key: &str| counts.get(key).and_then(Value::as_u64).unwrap_or(0);
    let rows = number("rows");

    let sample = format!("(SELECT * FROM {from} LIMIT {TOP_VALUES_SAMPLE}) AS sample");
    let top = top_values(engine, &sample, &fields).await?;
    let columns = fields
        .iter()
        .enumerate()
        .map(|(i, (name, data_type))| ColumnProfile {
            name: name.clone(),
            data_type: type_name(data_type),
            nulls: rows.saturating_sub(number(&format!("c{i}_values"))),
            distinct_approx: counts
                .get(&format!("c{i}_distinct"))
                .and_then(Value::as_u64),
            min: counts
                .get(&format!("c{i}_min"))
                .cloned()
                .unwrap_or(Value::Null),
            max: counts
                .get(&format!("c{i}_max"))
                .cloned()
                .unwrap_or(Value::Null),
            top: top.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(Profile {
        database: table.database.clone(),
        table: table.name.clone(),
        rows,
        top_values_rows: rows.min(TOP_VALUES_SAMPLE),
        columns,
    })
}

/// The most frequent values of every ordered column, from one aggregation by grouping sets.
async fn top_values(
    engine: &SqlEngine,
    from: &str,
    fields: &[(String, DataType)],
) -> Result<Vec<Vec<TopValue>>, SqlError> {
    let mut found = vec![Vec::new(); fields.len()];
    let listed: Vec<usize> = (0..fields.len())
        .filter(|&i| kind(&fields[i].0, &fields[i].1).ordered)
        .collect();
    if listed.is_empty() {
        return Ok(found);
    }
    let mut set = String::from("CASE");
    let mut value = String::from("CASE");
    let mut sets = Vec::new();
    for &i in &listed {
        let column = ident(&fields[i].0);
        set.push_str(&format!(" WHEN grouping({column}) = 0 THEN {i}"));
        value.push_str(&format!(
            " WHEN grouping({column}) = 0 THEN CAST({column} AS VARCHAR)"
        ));
        sets.push(format!("({column})"));
    }
    set.push_str(" END");
    value.push_str(" END");
    let sql = format!(
        "SELECT s, v, n FROM (\
           SELECT s, v, n, row_number() OVER (PARTITION BY s ORDER BY n DESC, v) AS r FROM (\
             SELECT {set} AS s, {value} AS v, count(*) AS n FROM {from} \
             GROUP BY GROUPING SETS ({})\
           ) WHERE v IS NOT NULL\
         ) WHERE r <= {TOP_VALUES} ORDER BY s, r",
        sets.join(", ")
    );
    let result = engine.execute(&sql).await?;
    for row in result.to_json_rows() {
        let index = row
            .get("s")
            .and_then(Value::as_u64)
            .and_then(|s| usize::try_from(s).ok());
        let value = row.get("v").and_then(Value::as_str);
        let count = row.get("n").and_then(Value::as_u64);
        if let (Some(index), Some(value), Some(count)) = (index, value, count)
            && let Some(list) = found.get_mut(index)
        {
            list.push(TopValue {
                value: value.to_string(),
                count,
            });
        }
    }
    Ok(found)
}
