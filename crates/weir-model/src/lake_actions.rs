//! The settings of the lake's precondition and data-movement actions (AWS Data Pipeline's
//! preconditions and `CopyActivity`, Airflow's sensors): `wait_for`, `copy` and the `export` of
//! the `sql` action. One reading serves both sides: the model checks a task's shape when the
//! pipeline loads (templates, `{{ … }}`, are accepted there and rendered when the task runs), and
//! the runners in weir-lake read the rendered settings with the same functions.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::action::ConfigError;
use crate::problem::did_you_mean;
use crate::sql_tables::TableName;

/// Airflow's `BaseSensorOperator.timeout`: a week.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Airflow's `poke_interval`: a minute. Only a fallback here: weir's own writes wake a wait.
pub const DEFAULT_POKE_INTERVAL: Duration = Duration::from_secs(60);
/// The shortest `poke_interval`: a poke lists or queries a store, which costs requests.
pub const MIN_POKE_INTERVAL: Duration = Duration::from_secs(1);
/// Objects a copy moves at once unless it says otherwise.
pub const DEFAULT_COPY_PARALLEL: usize = 8;
/// The most objects a copy moves at once.
pub const MAX_COPY_PARALLEL: usize = 64;

/// Whether the settings are checked when the pipeline loads (templates not yet rendered, so a
/// value holding `{{` is taken on trust) or read when the task runs (everything rendered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Check,
    Run,
}

/// Refuses a key of `map` (the mapping at `path`) that is not one of `keys`, with the nearest.
fn known_keys(map: &Map<String, Value>, keys: &[&str], path: &[&str]) -> Result<(), ConfigError> {
    let Some(unknown) = map.keys().find(|k| !keys.contains(&k.as_str())) else {
        return Ok(());
    };
    let hint = did_you_mean(unknown, keys.iter().copied());
    let mut at = path.to_vec();
    at.push(unknown);
    let within = path.last().copied().unwrap_or("");
    Err(ConfigError::at(
        &at,
        format!("unknown key `{unknown}` in {within}{hint}"),
    ))
}

fn templated(phase: Phase, value: &Value) -> bool {
    phase == Phase::Check && value.as_str().is_some_and(|s| s.contains("{{"))
}

/// What a `wait_for` waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitCondition {
    /// The lake object at this key exists.
    Object(String),
    /// The lake folder holds at least `min_objects` objects.
    Prefix { prefix: String, min_objects: u64 },
    /// The table has a file in the partition with these values (column → value).
    Partition {
        table: TableName,
        values: Vec<(String, String)>,
    },
    /// The query's first value is true (a true boolean, a number other than 0, a string other
    /// than "", "0", "false"); no row or NULL is false. Read-only.
    Sql(String),
}

impl std::fmt::Display for WaitCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitCondition::Object(key) => write!(f, "object `{key}`"),
            WaitCondition::Prefix {
                prefix,
                min_objects,
            } => write!(f, "{min_objects} object(s) under `{prefix}`"),
            WaitCondition::Partition { table, values } => {
                let values: Vec<String> = values.iter().map(|(c, v)| format!("{c}={v}")).collect();
                write!(f, "partition {} of {table}", values.join("/"))
            }
            WaitCondition::Sql(query) => write!(f, "`{}` to return true", query.trim()),
        }
    }
}

/// A `wait_for` task's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitFor {
    pub condition: WaitCondition,
    pub timeout: Duration,
    pub poke_interval: Duration,
}

const WAIT_CONDITIONS: [&str; 4] = ["object", "prefix", "partition", "sql"];
const WAIT_KEYS: [&str; 7] = [
    "object",
    "prefix",
    "min_objects",
    "partition",
    "sql",
    "timeout",
    "poke_interval",
];

/// Reads `wait_for: { object | prefix (+ min_objects) | partition | sql, timeout,
/// poke_interval }`. At [`Phase::Check`] the condition's values may be templates (then the
/// returned condition holds them unrendered).
pub fn wait_for(config: &Map<String, Value>, phase: Phase) -> Result<WaitFor, ConfigError> {
    let Some(Value::Object(wait)) = config.get("wait_for") else {
        return Err(ConfigError::at(
            &["wait_for"],
            "wait_for must be a mapping with one of object, prefix, partition, sql (and timeout, poke_interval)",
        ));
    };
    known_keys(wait, &WAIT_KEYS, &["wait_for"])?;
    let named: Vec<&str> = WAIT_CONDITIONS
        .into_iter()
        .filter(|k| wait.contains_key(*k))
        .collect();
    let condition = match named.as_slice() {
        [one] => *one,
        [] => {
            return Err(ConfigError::at(
                &["wait_for"],
                "wait_for needs what to wait for: object, prefix, partition or sql",
            ));
        }
        [_, second, ..] => {
            return Err(ConfigError::at(
                &["wait_for", second],
                format!(
                    "wait_for waits for one thing: {} are given",
                    named.join(" and ")
                ),
            ));
        }
    };
    if wait.contains_key("min_objects") && condition != "prefix" {
        return Err(ConfigError::at(
            &["wait_for", "min_objects"],
            "min_objects goes with prefix",
        ));
    }
    let text = |key: &str, what: &str| -> Result<String, ConfigError> {
        match wait.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(ConfigError::at(&["wait_for", key], what.to_string())),
        }
    };
    let condition = match condition {
        "object" => {
            let key = text(
                "object",
                "object must be a lake key such as landing/orders.csv",
            )?;
            check_lake_key(&key, phase, &["wait_for", "object"])?;
            WaitCondition::Object(key)
        }
        "prefix" => {
            let prefix = text("prefix", "prefix must be a lake folder such as landing/")?;
            check_lake_key(prefix.trim_end_matches('/'), phase, &["wait_for", "prefix"])?;
            let min_objects = match wait.get("min_objects") {
                None => 1,
                Some(v) if templated(phase, v) => 1,
                Some(v) => whole(v).filter(|n| *n >= 1).ok_or_else(|| {
                    ConfigError::at(
                        &["wait_for", "min_objects"],
                        "min_objects must be a whole number, 1 or more",
                    )
                })?,
            };
            WaitCondition::Prefix {
                prefix,
                min_objects,
            }
        }
        "partition" => partition(wait.get("partition"), phase)?,
        _ => WaitCondition::Sql(text(
            "sql",
            "sql must be a query such as SELECT count(*) > 0 FROM db.t",
        )?),
    };
    let duration = |key: &str, default: Duration| -> Result<Duration, ConfigError> {
        match wait.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) if templated(phase, v) => Ok(default),
            Some(v) => duration_of(v).filter(|d| !d.is_zero()).ok_or_else(|| {
                ConfigError::at(
                    &["wait_for", key],
                    format!("{key} must be a duration such as 30s or 1h (more than 0)"),
                )
            }),
        }
    };
    let poke_interval = duration("poke_interval", DEFAULT_POKE_INTERVAL)?;
    if poke_interval < MIN_POKE_INTERVAL {
        return Err(ConfigError::at(
            &["wait_for", "poke_interval"],
            format!(
                "poke_interval must be at least {}s: each poke lists or queries the store",
                MIN_POKE_INTERVAL.as_secs()
            ),
        ));
    }
    Ok(WaitFor {
        condition,
        timeout: duration("timeout", DEFAULT_WAIT_TIMEOUT)?,
        poke_interval,
    })
}

fn partition(value: Option<&Value>, phase: Phase) -> Result<WaitCondition, ConfigError> {
    let path = ["wait_for", "partition"];
    let Some(Value::Object(partition)) = value else {
        return Err(ConfigError::at(
            &path,
            "partition must be a mapping with table (db.table) and values (column: value)",
        ));
    };
    known_keys(partition, &["table", "values"], &path)?;
    let table = match partition.get("table") {
        Some(v) if templated(phase, v) => TableName::new("db", "table"),
        Some(Value::String(name)) => table_name(name).ok_or_else(|| {
            ConfigError::at(
                &["wait_for", "partition", "table"],
                format!("`{name}` is not a table name: write database.table"),
            )
        })?,
        _ => {
            return Err(ConfigError::at(
                &["wait_for", "partition", "table"],
                "partition needs a table (database.table)",
            ));
        }
    };
    let Some(Value::Object(values)) = partition.get("values") else {
        return Err(ConfigError::at(
            &["wait_for", "partition", "values"],
            "partition needs values: a mapping of partition columns to values",
        ));
    };
    if values.is_empty() {
        return Err(ConfigError::at(
            &["wait_for", "partition", "values"],
            "values names no partition column",
        ));
    }
    let mut pairs = Vec::new();
    for (column, value) in values {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(ConfigError::at(
                    &["wait_for", "partition", "values", column],
                    "a partition value must be a string or a number",
                ));
            }
        };
        pairs.push((column.to_ascii_lowercase(), text));
    }
    Ok(WaitCondition::Partition {
        table,
        values: pairs,
    })
}

/// `database.table`, lower-cased as SQL reads unquoted names.
fn table_name(name: &str) -> Option<TableName> {
    let (database, table) = name.trim().split_once('.')?;
    let ok = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    (ok(database) && ok(table))
        .then(|| TableName::new(database.to_ascii_lowercase(), table.to_ascii_lowercase()))
}

fn whole(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn duration_of(value: &Value) -> Option<Duration> {
    match value {
        Value::String(s) => crate::duration::parse_duration(s).ok(),
        Value::Number(n) => n
            .as_f64()
            .and_then(|n| crate::duration::from_seconds(n).ok()),
        _ => None,
    }
}

/// A lake key or folder: relative, `/`-separated, no `.` or `..` segments.
fn check_lake_key(key: &str, phase: Phase, path: &[&str]) -> Result<(), ConfigError> {
    if phase == Phase::Check && key.contains("{{") {
        return Ok(());
    }
    let bad = |why: &str| {
        Err(ConfigError::at(
            path,
            format!("`{key}` is not a lake key: {why}"),
        ))
    };
    if key.starts_with('/') {
        return bad("keys are relative to the lake's root (no leading `/`)");
    }
    if key.split('/').any(|s| s == "." || s == "..") {
        return bad("`.` and `..` are not allowed");
    }
    if key.chars().any(char::is_control) {
        return bad("control characters are not allowed");
    }
    Ok(())
}

/// One end of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A key or folder of weir's lake.
    Lake(String),
    /// `s3://BUCKET/KEY…` in an S3-compatible store.
    S3 { bucket: String, key: String },
    /// `file:///ABSOLUTE/PATH`, under one of `copy.local_roots`.
    Local(String),
}

impl Location {
    /// Reads `from` or `to`: `s3://BUCKET/…`, `file:///PATH`, or a lake key or folder.
    pub fn parse(text: &str) -> Result<Location, String> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("`{text}` names no bucket"));
            }
            return Ok(Location::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            });
        }
        if let Some(path) = text.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "`{text}` is not an absolute path: write file:///ABSOLUTE/PATH"
                ));
            }
            if path.split('/').any(|s| s == "." || s == "..") {
                return Err(format!("`{text}`: `.` and `..` are not allowed"));
            }
            return Ok(Location::Local(path.to_string()));
        }
        if text.contains("://") {
            return Err(format!(
                "`{text}`: a copy reads and writes lake keys, s3://BUCKET/KEY or file:///PATH"
            ));
        }
        if text.is_empty() {
            return Err("the location is empty".into());
        }
        check_lake_key(text.trim_end_matches('/'), Phase::Run, &[]).map_err(|e| e.message)?;
        Ok(Location::Lake(text.to_string()))
    }
}

/// A `copy` task's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    pub from: Location,
    pub to: Location,
    /// Objects moved at once.
    pub parallel: usize,
    /// Copy objects the target already holds (same size, written after the source).
    pub overwrite: bool,
    /// Succeed when `from` matches no object (otherwise that fails the task).
    pub allow_empty: bool,
}

const COPY_KEYS: [&str; 5] = ["from", "to", "parallel", "overwrite", "allow_empty"];

/// Reads `copy: { from, to, parallel, overwrite, allow_empty }`. At [`Phase::Check`], a templated `from` or
/// `to` is a lake location of its own text (checked when the task runs).
pub fn copy(config: &Map<String, Value>, phase: Phase) -> Result<Copy, ConfigError> {
    let Some(Value::Object(copy)) = config.get("copy") else {
        return Err(ConfigError::at(
            &["copy"],
            "copy must be a mapping with from, to (and parallel, overwrite, allow_empty)",
        ));
    };
    known_keys(copy, &COPY_KEYS, &["copy"])?;
    let location = |key: &str| -> Result<Location, ConfigError> {
        match copy.get(key) {
            Some(v) if templated(phase, v) => Ok(Location::Lake(String::new())),
            Some(Value::String(text)) => {
                Location::parse(text).map_err(|e| ConfigError::at(&["copy", key], e))
            }
            _ => Err(ConfigError::at(
                &["copy", key],
                format!("copy needs `{key}`: a lake folder, s3://BUCKET/PREFIX or file:///PATH"),
            )),
        }
    };
    let from = location("from")?;
    let to = location("to")?;
    let parallel = match copy.get("parallel") {
        None | Some(Value::Null) => DEFAULT_COPY_PARALLEL,
        Some(v) if templated(phase, v) => DEFAULT_COPY_PARALLEL,
        Some(v) => whole(v)
            .filter(|n| (1..=MAX_COPY_PARALLEL as u64).contains(n))
            .ok_or_else(|| {
                ConfigError::at(
                    &["copy", "parallel"],
                    format!("parallel must be a whole number from 1 to {MAX_COPY_PARALLEL}"),
                )
            })? as usize,
    };
    let flag = |key: &str| -> Result<bool, ConfigError> {
        match copy.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) if templated(phase, v) => Ok(false),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            Some(_) => Err(ConfigError::at(
                &["copy", key],
                format!("{key} must be true or false"),
            )),
        }
    };
    let overwrite = flag("overwrite")?;
    let allow_empty = flag("allow_empty")?;
    Ok(Copy {
        from,
        to,
        parallel,
        overwrite,
        allow_empty,
    })
}

/// How a `sql` task writes its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
    Parquet,
}

impl ExportFormat {
    /// The object name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::JsonLines => "json",
            ExportFormat::Parquet => "parquet",
        }
    }
}

/// Compression of exported objects: gzip for CSV and JSON lines (`.gz` added to the name);
/// snappy (Parquet's default), zstd, gzip or none for Parquet's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportCompression {
    None,
    Gzip,
    Snappy,
    Zstd,
}

/// `sql: { query, export: { prefix, format, compression } }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlExport {
    /// The lake folder the objects go to.
    pub prefix: String,
    pub format: ExportFormat,
    pub compression: ExportCompression,
}

const EXPORT_KEYS: [&str; 3] = ["prefix", "format", "compression"];

/// Reads the `export` of a `sql` mapping, if it has one.
pub fn sql_export(
    sql: &Map<String, Value>,
    phase: Phase,
) -> Result<Option<SqlExport>, ConfigError> {
    let export = match sql.get("export") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(export)) => export,
        Some(_) => {
            return Err(ConfigError::at(
                &["sql", "export"],
                "export must be a mapping with prefix, format (csv, json, parquet), compression",
            ));
        }
    };
    known_keys(export, &EXPORT_KEYS, &["sql", "export"])?;
    let prefix = match export.get("prefix") {
        Some(Value::String(p)) if !p.trim().trim_matches('/').is_empty() => {
            let prefix = p.trim().trim_matches('/').to_string();
            check_lake_key(&prefix, phase, &["sql", "export", "prefix"])?;
            prefix
        }
        _ => {
            return Err(ConfigError::at(
                &["sql", "export", "prefix"],
                "export needs a prefix: the lake folder the result's objects go to",
            ));
        }
    };
    let format = match export.get("format").and_then(Value::as_str) {
        Some("csv") => ExportFormat::Csv,
        Some("json" | "jsonl" | "json_lines") => ExportFormat::JsonLines,
        Some("parquet") => ExportFormat::Parquet,
        Some(f) if phase == Phase::Check && f.contains("{{") => ExportFormat::Csv,
        _ => {
            return Err(ConfigError::at(
                &["sql", "export", "format"],
                "format must be csv, json (JSON lines) or parquet",
            ));
        }
    };
    let compression = match (export.get("compression").and_then(Value::as_str), format) {
        (None | Some("none"), ExportFormat::Parquet) if export.get("compression").is_none() => {
            ExportCompression::Snappy
        }
        (None | Some("none"), _) => ExportCompression::None,
        (Some("gzip"), _) => ExportCompression::Gzip,
        (Some("snappy"), ExportFormat::Parquet) => ExportCompression::Snappy,
        (Some("zstd"), ExportFormat::Parquet) => ExportCompression::Zstd,
        (Some(c), _) if phase == Phase::Check && c.contains("{{") => ExportCompression::None,
        _ => {
            return Err(ConfigError::at(
                &["sql", "export", "compression"],
                match format {
                    ExportFormat::Parquet => {
                        "compression of parquet must be snappy, zstd, gzip or none"
                    }
                    _ => "compression of csv and json must be gzip or none",
                },
            ));
        }
    };
    Ok(Some(SqlExport {
        prefix,
        format,
        compression,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn wait(v: Value) -> Result<WaitFor, ConfigError> {
        wait_for(&cfg(json!({ "wait_for": v })), Phase::Run)
    }

    #[test]
    fn wait_for_reads_each_condition() {
        let w =
            wait(json!({"object": "landing/a.csv", "timeout": "10m", "poke_interval": 5})).unwrap();
        assert_eq!(w.condition, WaitCondition::Object("landing/a.csv".into()));
        assert_eq!(w.timeout, Duration::from_secs(600));
        assert_eq!(w.poke_interval, Duration::from_secs(5));
        let w = wait(json!({"prefix": "landing/", "min_objects": 3})).unwrap();
        assert_eq!(
            w.condition,
            WaitCondition::Prefix {
                prefix: "landing/".into(),
                min_objects: 3
            }
        );
        assert_eq!(w.timeout, DEFAULT_WAIT_TIMEOUT);
        let w =
            wait(json!({"partition": {"table": "Sales.Orders", "values": {"day": "2024-01-01"}}}))
                .unwrap();
        assert_eq!(
            w.condition,
            WaitCondition::Partition {
                table: TableName::new("sales", "orders"),
                values: vec![("day".into(), "2024-01-01".into())]
            }
        );
        assert_eq!(
            w.condition.to_string(),
            "partition day=2024-01-01 of sales.orders"
        );
        let w = wait(json!({"sql": "select true"})).unwrap();
        assert_eq!(w.condition, WaitCondition::Sql("select true".into()));
    }

    #[test]
    fn wait_for_problems_name_the_key() {
        let path = |v: Value| wait(v).unwrap_err().path.join(".");
        assert_eq!(
            path(json!({"object": "a", "prefix": "b"})),
            "wait_for.prefix"
        );
        assert_eq!(path(json!({"timeout": "1h"})), "wait_for");
        assert_eq!(
            path(json!({"object": "a", "timeout": "soon"})),
            "wait_for.timeout"
        );
        assert_eq!(
            path(json!({"object": "a", "poke_interval": 0})),
            "wait_for.poke_interval"
        );
        let too_often = wait(json!({"object": "a", "poke_interval": "100ms"})).unwrap_err();
        assert_eq!(too_often.path.join("."), "wait_for.poke_interval");
        assert!(
            too_often.message.contains("at least 1s"),
            "{}",
            too_often.message
        );
        assert_eq!(path(json!({"object": "/etc/passwd"})), "wait_for.object");
        assert_eq!(
            path(json!({"prefix": "a", "min_objects": 0})),
            "wait_for.min_objects"
        );
        assert_eq!(
            path(json!({"object": "a", "min_objects": 2})),
            "wait_for.min_objects"
        );
        assert_eq!(
            path(json!({"partition": {"table": "orders", "values": {"d": 1}}})),
            "wait_for.partition.table"
        );
        assert_eq!(
            path(json!({"partition": {"table": "a.b", "values": {}}})),
            "wait_for.partition.values"
        );
        let typo = wait(json!({"objekt": "a"})).unwrap_err();
        assert!(
            typo.message.contains("did you mean `object`"),
            "{}",
            typo.message
        );
        assert!(wait_for(&cfg(json!({"wait_for": "a"})), Phase::Run).is_err());
    }

    #[test]
    fn templates_wait_for_the_run() {
        let w = wait_for(
            &cfg(json!({"wait_for": {"object": "in/{{ ds }}.csv", "timeout": "{{ params.t }}"}})),
            Phase::Check,
        )
        .unwrap();
        assert_eq!(w.timeout, DEFAULT_WAIT_TIMEOUT);
        assert!(
            wait_for(
                &cfg(json!({"wait_for": {"object": "a", "timeout": "{{ params.t }}"}})),
                Phase::Run
            )
            .is_err()
        );
    }

    #[test]
    fn copy_reads_locations() {
        let c = copy(
            &cfg(json!({"copy": {"from": "out/", "to": "s3://bucket/backup/", "parallel": 4}})),
            Phase::Run,
        )
        .unwrap();
        assert_eq!(c.from, Location::Lake("out/".into()));
        assert_eq!(
            c.to,
            Location::S3 {
                bucket: "bucket".into(),
                key: "backup/".into()
            }
        );
        assert_eq!((c.parallel, c.overwrite, c.allow_empty), (4, false, false));
        assert_eq!(
            Location::parse("file:///srv/x"),
            Ok(Location::Local("/srv/x".into()))
        );
        assert!(Location::parse("file://relative").is_err());
        assert!(Location::parse("file:///srv/../etc").is_err());
        assert!(Location::parse("http://x/y").is_err());
        assert!(Location::parse("s3:///key").is_err());
        let path = |v: Value| {
            copy(&cfg(json!({ "copy": v })), Phase::Run)
                .unwrap_err()
                .path
                .join(".")
        };
        assert_eq!(path(json!({"from": "a"})), "copy.to");
        assert_eq!(
            path(json!({"from": "a", "to": "b", "parallel": 0})),
            "copy.parallel"
        );
        assert_eq!(
            path(json!({"from": "a", "to": "b", "parallel": 65})),
            "copy.parallel"
        );
        assert_eq!(
            path(json!({"from": "a", "to": "b", "allow_empty": "yes"})),
            "copy.allow_empty"
        );
        assert_eq!(
            path(json!({"from": "a", "to": "b", "overwrite": 1})),
            "copy.overwrite"
        );
        assert_eq!(path(json!({"from": "../a", "to": "b"})), "copy.from");
        assert_eq!(
            path(json!({"from": "a", "to": "b", "paralel": 2})),
            "copy.paralel"
        );
    }

    #[test]
    fn export_reads_format_and_compression() {
        let read = |v: Value| sql_export(&cfg(json!({"query": "q", "export": v})), Phase::Run);
        assert_eq!(
            read(json!({"prefix": "/out/x/", "format": "parquet"})).unwrap(),
            Some(SqlExport {
                prefix: "out/x".into(),
                format: ExportFormat::Parquet,
                compression: ExportCompression::Snappy
            })
        );
        assert_eq!(
            read(json!({"prefix": "o", "format": "csv", "compression": "gzip"}))
                .unwrap()
                .map(|e| e.compression),
            Some(ExportCompression::Gzip)
        );
        let path = |v: Value| read(v).unwrap_err().path.join(".");
        assert_eq!(path(json!({"format": "csv"})), "sql.export.prefix");
        assert_eq!(
            path(json!({"prefix": "o", "format": "xml"})),
            "sql.export.format"
        );
        assert_eq!(
            path(json!({"prefix": "o", "format": "csv", "compression": "zstd"})),
            "sql.export.compression"
        );
        assert_eq!(
            sql_export(&cfg(json!({"query": "q"})), Phase::Run),
            Ok(None)
        );
    }
}
