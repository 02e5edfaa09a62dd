//! The statements that change the catalog: `CREATE [OR REPLACE] TABLE … [PARTITIONED BY (…)]
//! [AS SELECT …]`, `INSERT INTO|OVERWRITE … SELECT|VALUES`, `DROP TABLE`. A write goes to a
//! fresh write-id folder first; only then is the catalog changed, in one commit (the table and
//! its manifest together), so readers see all of it or none of it. A failed write or commit
//! deletes what it wrote and registers nothing.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::{Column as DFColumn, ScalarValue, TableReference};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::object_store::ObjectStoreExt;
use datafusion::prelude::{cast, lit};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::planner::object_name_to_table_reference;
use datafusion::sql::sqlparser::ast::{
    ColumnDef, CreateTable, DataType as SqlType, HiveDistributionStyle, Insert, ObjectName,
    Spanned, Statement, TableObject,
};

use super::SqlError;
use super::access::ObjectCreated;
use super::engine::SqlEngine;
use super::result::QueryResult;
use super::session::{CATALOG, DEFAULT_DATABASE};
use super::snapshot::find_table;
use super::types::{columns_of, parse_type, partition_columns, type_name};
use super::write::{Written, remove_prefix, write_id, write_parquet};
use crate::catalog::{Column, Format, Partitioning, Table, TableFile, TableStats};

/// `CREATE TABLE`, with or without `AS SELECT`.
pub(super) async fn create_table(
    engine: &SqlEngine,
    create: CreateTable,
    sql: &str,
) -> Result<QueryResult, SqlError> {
    let (database, name) = table_name(&create.name, sql)?;
    if create.external || create.temporary {
        return Err(at_node(
            "CREATE EXTERNAL/TEMPORARY TABLE is not supported: use CREATE TABLE … AS SELECT",
            &create.name,
        ));
    }
    let partition_defs = match &create.hive_distribution {
        HiveDistributionStyle::PARTITIONED { columns } => columns.clone(),
        HiveDistributionStyle::NONE => Vec::new(),
        _ => {
            return Err(at_node(
                "only PARTITIONED BY (columns) is supported",
                &create.name,
            ));
        }
    };
    let partition_names: Vec<String> = partition_defs.iter().map(|c| ident_name(&c.name)).collect();

    let catalog = &engine.lake.catalog;
    let existing = find_table(catalog, &database, &name).await?;
    // Replacing keeps the stored spelling of the name (lookups ignore case).
    let (database, name) = match &existing {
        Some(t) => (t.database.clone(), t.name.clone()),
        None => (database, name),
    };
    if existing.is_some() && !create.or_replace {
        if create.if_not_exists {
            return Ok(count_result(0));
        }
        return Err(at_node(
            format!("table {database}.{name} already exists (CREATE OR REPLACE TABLE replaces it)"),
            &create.name,
        ));
    }

    let (state, plan) = match create.query {
        Some(query) => {
            if !create.columns.is_empty() {
                return Err(at_node(
                    "give either a column list or AS SELECT, not both",
                    &create.name,
                ));
            }
            let statement = DFStatement::Statement(Box::new(Statement::Query(query)));
            engine.plan_read(statement, sql).await?
        }
        None => {
            // An empty table: plan a query that yields no rows of the declared types.
            let select = empty_select(&create.columns, &partition_defs, &create.name)?;
            let statement = parse_one(&select)?;
            engine
                .plan_read(statement, &select)
                .await
                .map_err(|e| at_node(e.message, &create.name))?
        }
    };

    let fields: Vec<FieldRef> = plan.schema().fields().iter().cloned().collect();
    check_columns(&fields, &partition_names, sql)?;
    let data: Vec<FieldRef> = fields
        .iter()
        .filter(|f| !partition_names.contains(f.name()))
        .cloned()
        .collect();
    let partitions: Vec<FieldRef> = partition_names
        .iter()
        .filter_map(|p| fields.iter().find(|f| f.name() == p).cloned())
        .collect();

    let location = format!("{database}/{name}");
    let table = Table {
        database: database.clone(),
        name: name.clone(),
        location: location.clone(),
        format: Format::Parquet,
        columns: columns_of(&data),
        partitioning: if partitions.is_empty() {
            Partitioning::None
        } else {
            Partitioning::Hive {
                columns: columns_of(&partitions),
            }
        },
        stats: TableStats::default(),
        created_at: now_micros(),
        updated_at: now_micros(),
    };
    let written = write(engine, &state, plan, &location, &partition_names).await?;
    let mut table = table;
    table.stats = stats(&written.files);
    let rows = written.rows;
    let commit = if create.or_replace {
        catalog
            .replace_table(table.clone(), written.files.clone())
            .await
    } else {
        catalog
            .create_table(table.clone(), written.files.clone())
            .await
            .map(|()| Vec::new())
    };
    finish(engine, &table, written, commit).await?;
    Ok(count_result(rows))
}

/// `INSERT INTO t [(cols)] SELECT|VALUES …` appends; `INSERT OVERWRITE [TABLE] t …` replaces the
/// table's data. Columns match by position (or by the listed names), cast to the table's types.
pub(super) async fn insert(
    engine: &SqlEngine,
    insert: Insert,
    sql: &str,
) -> Result<QueryResult, SqlError> {
    let TableObject::TableName(object_name) = &insert.table else {
        return Err(SqlError::new(
            "INSERT INTO a table function is not supported",
        ));
    };
    let (database, name) = table_name(object_name, sql)?;
    let Some(source) = insert.source.clone() else {
        return Err(at_node("INSERT needs SELECT … or VALUES …", object_name));
    };
    if insert.partitioned.is_some() {
        return Err(at_node(
            "INSERT … PARTITION (…) is not supported: partition values come from the inserted columns",
            object_name,
        ));
    }
    let catalog = &engine.lake.catalog;
    let Some(table) = find_table(catalog, &database, &name).await? else {
        return Err(at_node(
            format!("table {database}.{name} not found"),
            object_name,
        ));
    };
    if table.format != Format::Parquet || matches!(table.partitioning, Partitioning::Pattern { .. })
    {
        return Err(at_node(
            format!(
                "table {database}.{name} is not a Parquet table with Hive partitions: weir writes \
                 only into those (CREATE TABLE … AS SELECT makes one)"
            ),
            object_name,
        ));
    }

    let statement = DFStatement::Statement(Box::new(Statement::Query(source)));
    let (state, plan) = engine.plan_read(statement, sql).await?;

    // The table's columns in write order: data, then partitions; with their catalog types.
    let partition_cols = partition_columns(&table).to_vec();
    let targets: Vec<Column> = table
        .columns
        .iter()
        .chain(&partition_cols)
        .cloned()
        .collect();
    let listed: Vec<String> = insert
        .columns
        .iter()
        .map(|c| {
            c.0.last()
                .and_then(|p| p.as_ident())
                .map(ident_name)
                .unwrap_or_default()
        })
        .collect();
    let plan = conform(plan, &targets, &listed, sql)?;

    let partition_names: Vec<String> = partition_cols.iter().map(|c| c.name.clone()).collect();
    let written = write(engine, &state, plan, &table.location, &partition_names).await?;
    let rows = written.rows;
    let commit = if insert.overwrite {
        let mut replaced = table.clone();
        replaced.stats = stats(&written.files);
        replaced.updated_at = now_micros();
        catalog.replace_table(replaced, written.files.clone()).await
    } else {
        catalog
            .add_files(&table.database, &table.name, written.files.clone())
            .await
            .map(|()| Vec::new())
    };
    finish(engine, &table, written, commit).await?;
    Ok(count_result(rows))
}

/// `DROP TABLE [IF EXISTS] a, b`: removes the tables from the catalog. Their files stay in the
/// lake (a table may have been crawled from data that others own).
pub(super) async fn drop_tables(
    engine: &SqlEngine,
    names: Vec<ObjectName>,
    if_exists: bool,
    sql: &str,
) -> Result<QueryResult, SqlError> {
    let catalog = &engine.lake.catalog;
    let mut dropped = 0u64;
    for object_name in &names {
        let (database, name) = table_name(object_name, sql)?;
        let found = find_table(catalog, &database, &name).await?;
        let removed = match &found {
            Some(t) => catalog
                .drop_table(&t.database, &t.name)
                .await
                .map_err(|e| SqlError::new(format!("catalog: {e}")))?,
            None => false,
        };
        if removed {
            dropped += 1;
        } else if !if_exists {
            return Err(at_node(
                format!("table {database}.{name} not found"),
                object_name,
            ));
        }
    }
    Ok(count_result(dropped))
}

/// Runs `plan` into Parquet files under `location/WRITE_ID/`.
async fn write(
    engine: &SqlEngine,
    state: &datafusion::execution::session_state::SessionState,
    plan: LogicalPlan,
    location: &str,
    partition_names: &[String],
) -> Result<Written, SqlError> {
    let physical = state
        .create_physical_plan(&plan)
        .await
        .map_err(|e| SqlError::new(e.find_root().message()))?;
    let prefix = format!("{location}/{}", write_id());
    write_parquet(
        physical,
        state.task_ctx(),
        &engine.lake,
        &prefix,
        partition_names,
    )
    .await
}

/// After a write: on a failed commit, deletes the new files; on success, deletes the files the
/// commit replaced (only those weir wrote itself) and announces the new ones.
async fn finish(
    engine: &SqlEngine,
    table: &Table,
    written: Written,
    commit: Result<Vec<TableFile>, super::access::CatalogError>,
) -> Result<(), SqlError> {
    let lake = &engine.lake;
    let replaced = match commit {
        Ok(replaced) => replaced,
        Err(e) => {
            for file in &written.files {
                let _ = lake.store.delete(&lake.root.path(&file.key)).await;
            }
            if let Some(first) = written.files.first()
                && let Some(dir) = write_dir(&first.key, &table.location)
            {
                remove_prefix(&lake.store, &lake.root.path(&dir)).await;
            }
            return Err(SqlError::new(format!("catalog: {e}")));
        }
    };
    let new_keys: std::collections::HashSet<&str> =
        written.files.iter().map(|f| f.key.as_str()).collect();
    for old in replaced {
        if !new_keys.contains(old.key.as_str())
            && write_dir(&old.key, &table.location).is_some()
            && let Err(e) = lake.store.delete(&lake.root.path(&old.key)).await
        {
            tracing::warn!(key = %old.key, "cannot delete a replaced file: {e}");
        }
    }
    engine.announce(created_objects(table, &written.files));
    Ok(())
}

/// What the lake announces for files committed to a table (with their partition, `a=1/b=x`).
pub(crate) fn created_objects(table: &Table, files: &[TableFile]) -> Vec<ObjectCreated> {
    let qualified = format!("{}.{}", table.database, table.name);
    let names: Vec<String> = partition_columns(table)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    files
        .iter()
        .map(|f| ObjectCreated {
            key: f.key.clone(),
            size: f.size.max(0) as u64,
            table: Some(qualified.clone()),
            delivery: None,
            partition: (!names.is_empty()).then(|| {
                names
                    .iter()
                    .zip(&f.partition_values)
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("/")
            }),
        })
        .collect()
}

/// The write-id folder (`location/wID`) a key sits in, when weir wrote it; None for files that
/// came from elsewhere (a crawled table), which weir never deletes.
pub(crate) fn write_dir(key: &str, location: &str) -> Option<String> {
    let rest = key.strip_prefix(location)?.strip_prefix('/')?;
    let first = rest.split('/').next()?;
    let looks_like_write_id = first.len() > 20
        && first.starts_with('w')
        && first.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
        && first.contains('-');
    looks_like_write_id.then(|| format!("{location}/{first}"))
}

/// Casts and orders the query's columns into the table's columns.
fn conform(
    plan: LogicalPlan,
    targets: &[Column],
    listed: &[String],
    sql: &str,
) -> Result<LogicalPlan, SqlError> {
    let input = plan.schema().clone();
    let width = input.fields().len();
    let expected = if listed.is_empty() {
        targets.len()
    } else {
        listed.len()
    };
    if width != expected {
        return Err(SqlError::new(format!(
            "INSERT gives {width} columns, the target has {expected}"
        )));
    }
    let mut exprs = Vec::with_capacity(targets.len());
    for target in targets {
        let dtype = parse_type(&target.data_type)?;
        let position = if listed.is_empty() {
            targets.iter().position(|t| t.name == target.name)
        } else {
            listed
                .iter()
                .position(|l| l.eq_ignore_ascii_case(&target.name))
        };
        let expr = match position {
            Some(i) => {
                let (qualifier, field) = input.qualified_field(i);
                cast(
                    Expr::Column(DFColumn::new(qualifier.cloned(), field.name())),
                    dtype,
                )
            }
            None => lit(ScalarValue::try_from(&dtype).map_err(|e| SqlError::new(e.to_string()))?),
        };
        exprs.push(expr.alias(&target.name));
    }
    for name in listed {
        if !targets.iter().any(|t| t.name.eq_ignore_ascii_case(name)) {
            return Err(SqlError::at_ident(
                format!("the table has no column `{name}`"),
                sql,
                name,
            ));
        }
    }
    LogicalPlanBuilder::from(plan)
        .project(exprs)
        .and_then(|b| b.build())
        .map_err(|e| SqlError::from_datafusion(&e, sql))
}

/// Checks a new table's columns: names unique and usable, partition columns present and of a
/// type that makes a sensible directory name, at least one data column.
fn check_columns(fields: &[FieldRef], partitions: &[String], sql: &str) -> Result<(), SqlError> {
    let mut seen = std::collections::HashSet::new();
    for field in fields {
        if field.name().is_empty() {
            return Err(SqlError::new("every column needs a name: add AS name"));
        }
        if !seen.insert(field.name().to_lowercase()) {
            return Err(SqlError::at_ident(
                format!(
                    "two columns are named `{}`: rename one with AS",
                    field.name()
                ),
                sql,
                field.name(),
            ));
        }
    }
    for name in partitions {
        let Some(field) = fields.iter().find(|f| f.name() == name) else {
            return Err(SqlError::at_ident(
                format!("partition column `{name}` is not a column of the query's result"),
                sql,
                name,
            ));
        };
        let ok = partitionable(field.data_type());
        if !ok {
            return Err(SqlError::at_ident(
                format!(
                    "cannot partition by `{name}` of type {}: use a string, integer, boolean or \
                     date (e.g. CAST(ts AS DATE))",
                    type_name(field.data_type())
                ),
                sql,
                name,
            ));
        }
    }
    if fields.len() <= partitions.len() {
        return Err(SqlError::new(
            "a table needs at least one column besides its partition columns",
        ));
    }
    Ok(())
}

/// Whether values of this type make partition paths: strings (also dictionary-encoded, as
/// repeating strings are read), integers, booleans and dates.
fn partitionable(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(_, value) => partitionable(value),
        t => matches!(
            t,
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Boolean
                | DataType::Date32
                | DataType::Date64
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
                | DataType::UInt64
        ),
    }
}

/// A SELECT that yields no rows of the declared column types (for CREATE TABLE without AS).
fn empty_select(
    columns: &[ColumnDef],
    partitions: &[ColumnDef],
    name: &ObjectName,
) -> Result<String, SqlError> {
    if columns.is_empty() {
        return Err(at_node(
            "CREATE TABLE needs columns (name type, …) or AS SELECT …",
            name,
        ));
    }
    let mut items = Vec::new();
    for column in columns.iter().chain(partitions) {
        if column.data_type == SqlType::Unspecified {
            return Err(at_node(
                format!("column `{}` needs a type", column.name.value),
                name,
            ));
        }
        let quoted = column.name.value.replace('"', "\"\"");
        items.push(format!(
            "CAST(NULL AS {}) AS \"{quoted}\"",
            column.data_type
        ));
    }
    Ok(format!("SELECT {} WHERE false", items.join(", ")))
}

fn parse_one(sql: &str) -> Result<DFStatement, SqlError> {
    let mut statements = datafusion::sql::parser::DFParser::parse_sql(sql)
        .map_err(|e| SqlError::from_datafusion(&e, sql))?;
    statements
        .pop_front()
        .ok_or_else(|| SqlError::new("empty statement"))
}

/// `db.t` (or `t`, in the default database) from a statement's table name, normalised as
/// DataFusion does (unquoted names in lower case). Names must be path-safe: they become the
/// table's location.
pub(super) fn table_name(
    object_name: &ObjectName,
    sql: &str,
) -> Result<(String, String), SqlError> {
    let reference = object_name_to_table_reference(object_name.clone(), true)
        .map_err(|e| SqlError::from_datafusion(&e, sql))?;
    let (database, name) = match &reference {
        TableReference::Bare { table } => (DEFAULT_DATABASE.to_string(), table.to_string()),
        TableReference::Partial { schema, table } => (schema.to_string(), table.to_string()),
        TableReference::Full {
            catalog,
            schema,
            table,
        } => {
            if catalog.as_ref() != CATALOG {
                return Err(at_node(
                    format!("unknown catalog `{catalog}`: tables are database.table"),
                    object_name,
                ));
            }
            (schema.to_string(), table.to_string())
        }
    };
    // The catalog's rule (names become the table's location in the lake).
    for part in [&database, &name] {
        let ok = part.len() <= 128
            && part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(at_node(
                format!(
                    "`{part}` is not a valid name: start with a letter or `_`, then letters, \
                     digits and `_`"
                ),
                object_name,
            ));
        }
    }
    Ok((database, name))
}

fn ident_name(ident: &datafusion::sql::sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// An error placed at an AST node's start.
fn at_node(message: impl Into<String>, node: &impl Spanned) -> SqlError {
    let start = node.span().start;
    SqlError::at(message, start.line, start.column)
}

/// The result of a writing statement: one row, `count`.
fn count_result(rows: u64) -> QueryResult {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(UInt64Array::from(vec![rows]))],
    )
    .map(|b| vec![b])
    .unwrap_or_default();
    QueryResult {
        schema,
        batches: batch,
        row_count: rows,
        truncated: false,
        elapsed: Default::default(),
        files_scanned: 0,
    }
}

fn stats(files: &[TableFile]) -> TableStats {
    TableStats {
        row_count: files.iter().map(|f| f.row_count).sum::<Option<i64>>(),
        size_bytes: files.iter().map(|f| f.size).sum(),
        file_count: files.len() as i64,
        last_modified: files.iter().map(|f| f.last_modified).max(),
    }
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
