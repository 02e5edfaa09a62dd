//! The `wait_for` pipeline action (AWS Data Pipeline's preconditions, Airflow's sensors): a task
//! that succeeds once a lake object exists, a folder holds enough objects, a table has a
//! partition, or a query returns true, and fails at its timeout.
//!
//! ```yaml
//! tasks:
//!   orders_landed:
//!     wait_for: { object: "landing/orders/{{ ds }}.csv", timeout: 6h }
//! ```
//!
//! It does not poll to notice weir's own writes: it checks once, then sleeps until the lake says
//! an object was created (`Lake::subscribe`) or the catalog says a table changed
//! (`Catalog::subscribe`) and checks again. The subscriptions are taken before the first check,
//! so a write landing between a check and the wait still wakes it. `poke_interval` is only the
//! fallback for stores others write (an S3 lake fed by other tools). Only writes that can change
//! the answer wake it (the key, the folder, the table, the tables a query reads), and writes
//! check it at most once a second.
//!
//! A store that cannot answer is said in the task's log (each distinct error once): one that
//! refuses (access denied, no such bucket) fails the task, one that may answer later (a timeout,
//! a 503) is asked again at the next check.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;
use weir_engine::actions::{ActionContext, ActionOutcome, ActionRunner, FailureKind};
use weir_model::lake_actions::{Phase, WaitCondition, WaitFor};
use weir_model::sql_tables::TableName;

use crate::catalog::Partitioning;
use crate::catalog_store::{Catalog, TableChanged};
use crate::error::LakeError;
use crate::lake::{Lake, ObjectCreated};
use crate::sql::SqlEngine;

/// Keys of a prefix's objects named in the output.
const OUTPUT_KEYS: usize = 20;
/// The shortest time between two checks that writes prompted: a busy lake costs a wait at most
/// a check a second.
const EVENT_CHECK_GAP: Duration = Duration::from_secs(1);

/// Why a check could not answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckError {
    pub message: String,
    /// The wait can never succeed as written (a bad key, a query that fails, a store that
    /// refuses access): the task fails. Otherwise the store may answer at the next check.
    pub permanent: bool,
}

impl CheckError {
    fn permanent(message: impl Into<String>) -> CheckError {
        CheckError {
            message: message.into(),
            permanent: true,
        }
    }

    /// A store's error, permanent when asking again cannot help.
    fn of_store(what: &str, error: &LakeError) -> CheckError {
        CheckError {
            message: format!("{what}: {error}"),
            permanent: store_refuses(error),
        }
    }
}

/// Whether a store's error says it will refuse again (access denied, no such bucket, a bad
/// key), rather than that it could not answer now (a timeout, a 503, a dropped connection).
fn store_refuses(error: &LakeError) -> bool {
    match error {
        LakeError::Store { source, .. } => match source {
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. }
            | object_store::Error::InvalidPath { .. }
            | object_store::Error::NotSupported { .. }
            | object_store::Error::NotImplemented { .. }
            | object_store::Error::UnknownConfigurationKey { .. } => true,
            other => {
                let text = other.to_string();
                [
                    "NoSuchBucket",
                    "AccessDenied",
                    "InvalidAccessKeyId",
                    "SignatureDoesNotMatch",
                    "AllAccessDisabled",
                ]
                .iter()
                .any(|code| text.contains(code))
            }
        },
        LakeError::Metadata(_) | LakeError::Io { .. } => false,
        _ => true,
    }
}

/// Runs `wait_for:` tasks against one lake, catalog and SQL engine.
pub struct WaitForRunner {
    lake: Arc<Lake>,
    catalog: Catalog,
    sql: Arc<SqlEngine>,
}

impl WaitForRunner {
    pub fn new(lake: Arc<Lake>, catalog: Catalog, sql: Arc<SqlEngine>) -> WaitForRunner {
        WaitForRunner { lake, catalog, sql }
    }

    /// What the condition found, or `None` while it does not hold.
    pub async fn check(&self, condition: &WaitCondition) -> Result<Option<Value>, CheckError> {
        match condition {
            WaitCondition::Object(key) => match self.lake.head(key).await {
                Ok(info) => Ok(Some(json!({
                    "key": info.key,
                    "size": info.size,
                    "last_modified": info.last_modified,
                }))),
                Err(LakeError::NotFound { .. }) => Ok(None),
                Err(LakeError::InvalidKey { .. }) => Err(CheckError::permanent(format!(
                    "object `{key}`: not a lake key"
                ))),
                Err(e) => Err(CheckError::of_store(&format!("object `{key}`"), &e)),
            },
            WaitCondition::Prefix {
                prefix,
                min_objects,
            } => {
                // Enough is enough: no need to list a large folder to its end.
                let enough = usize::try_from(*min_objects).unwrap_or(usize::MAX);
                let objects = match self.lake.list_at_most(prefix, enough).await {
                    Ok(objects) => objects,
                    Err(LakeError::InvalidKey { .. }) => {
                        return Err(CheckError::permanent(format!(
                            "prefix `{prefix}`: not a lake folder"
                        )));
                    }
                    Err(e) => return Err(CheckError::of_store(&format!("prefix `{prefix}`"), &e)),
                };
                if (objects.len() as u64) < *min_objects {
                    return Ok(None);
                }
                let keys: Vec<&str> = objects
                    .iter()
                    .take(OUTPUT_KEYS)
                    .map(|o| o.key.as_str())
                    .collect();
                Ok(Some(json!({
                    "prefix": prefix,
                    "objects": objects.len(),
                    "bytes": objects.iter().map(|o| o.size).sum::<u64>(),
                    "keys": keys,
                })))
            }
            WaitCondition::Partition { table, values } => {
                self.partition(&table.database, &table.name, values).await
            }
            WaitCondition::Sql(query) => self.query(query).await,
        }
    }

    async fn partition(
        &self,
        database: &str,
        name: &str,
        values: &[(String, String)],
    ) -> Result<Option<Value>, CheckError> {
        let what = format!("table {database}.{name}");
        let Some(table) = self
            .catalog
            .table(database, name)
            .await
            .map_err(|e| CheckError::of_store(&what, &e))?
        else {
            return Ok(None); // not created yet
        };
        let columns: Vec<String> = match &table.partitioning {
            Partitioning::None => Vec::new(),
            Partitioning::Hive { columns } | Partitioning::Pattern { columns, .. } => columns
                .iter()
                .map(|c| c.name.to_ascii_lowercase())
                .collect(),
        };
        let mut wanted = Vec::new();
        for (column, value) in values {
            let Some(index) = columns.iter().position(|c| c == column) else {
                return Err(CheckError::permanent(format!(
                    "{database}.{name} has no partition column `{column}` (its partition columns: {})",
                    if columns.is_empty() {
                        "none".to_string()
                    } else {
                        columns.join(", ")
                    }
                )));
            };
            wanted.push((index, value.as_str()));
        }
        let files = self
            .catalog
            .files(database, name)
            .await
            .map_err(|e| CheckError::of_store(&what, &e))?;
        let matching: Vec<_> = files
            .iter()
            .filter(|f| {
                wanted
                    .iter()
                    .all(|(i, v)| f.partition_values.get(*i).map(String::as_str) == Some(*v))
            })
            .collect();
        if matching.is_empty() {
            return Ok(None);
        }
        Ok(Some(json!({
            "table": format!("{database}.{name}"),
            "partition": values.iter().map(|(c, v)| (c.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "files": matching.len(),
            "rows": matching.iter().filter_map(|f| f.row_count).sum::<i64>(),
        })))
    }

    async fn query(&self, query: &str) -> Result<Option<Value>, CheckError> {
        let tables = self
            .sql
            .sql_tables(query)
            .map_err(|e| CheckError::permanent(e.to_string()))?;
        if !tables.read_only {
            return Err(CheckError::permanent(
                "the query of a wait must only read (SELECT, WITH, VALUES)",
            ));
        }
        // A query that fails (a table not created yet, a type error) is a wait that cannot
        // succeed as written.
        let result = self
            .sql
            .execute_limited(query, Some(1))
            .await
            .map_err(|e| CheckError::permanent(e.to_string()))?;
        let first = result
            .batches
            .iter()
            .find(|b| b.num_rows() > 0 && b.num_columns() > 0)
            .map(|b| crate::sql::json_value(b.column(0).as_ref(), 0));
        Ok(first
            .filter(truthy)
            .map(|value| json!({ "query": query.trim(), "value": value })))
    }
}

/// A query's first value as Airflow's `SqlSensor` reads it: true, a number other than zero, a
/// string other than "", "0" and "false".
fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !matches!(s.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"),
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The tables a wait's answer depends on: the partition's table, the tables its query reads
/// (none for an object or a prefix).
fn tables_read(condition: &WaitCondition, sql: &SqlEngine) -> Vec<TableName> {
    match condition {
        WaitCondition::Partition { table, .. } => vec![table.clone()],
        WaitCondition::Sql(query) => sql.sql_tables(query).map(|t| t.reads).unwrap_or_default(),
        WaitCondition::Object(_) | WaitCondition::Prefix { .. } => Vec::new(),
    }
}

fn reads(tables: &[TableName], database: &str, name: &str) -> bool {
    tables
        .iter()
        .any(|t| t.database.eq_ignore_ascii_case(database) && t.name.eq_ignore_ascii_case(name))
}

/// Whether a created object may change the condition's answer (`tables`: [`tables_read`]).
fn object_matters(condition: &WaitCondition, tables: &[TableName], event: &ObjectCreated) -> bool {
    match condition {
        WaitCondition::Object(key) => event.key == *key,
        WaitCondition::Prefix { prefix, .. } => {
            let folder = prefix.trim_end_matches('/');
            folder.is_empty()
                || event
                    .key
                    .strip_prefix(folder)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        WaitCondition::Partition { .. } | WaitCondition::Sql(_) => event
            .table
            .as_deref()
            .and_then(|t| t.split_once('.'))
            .is_some_and(|(database, name)| reads(tables, database, name)),
    }
}

/// Whether a table change may change the condition's answer (`tables`: [`tables_read`]).
fn table_matters(tables: &[TableName], change: &TableChanged) -> bool {
    reads(tables, &change.database, &change.table)
}

/// Waits for the next event `matters` says is relevant (a missed event, when the receiver fell
/// behind, is relevant), then takes whatever else is already queued so that a burst of writes
/// costs one check. Never returns once the sender is gone.
async fn next_relevant<T: Clone>(
    events: &mut broadcast::Receiver<T>,
    matters: impl Fn(&T) -> bool,
) {
    loop {
        match events.recv().await {
            Ok(event) if matters(&event) => break,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => break,
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
    while events.try_recv().is_ok() {}
}

fn seconds(d: Duration) -> String {
    weir_model::duration::format_duration(d)
}

/// How a wait ends before its condition holds.
enum GivesUp {
    TimedOut,
    Stopped(ActionOutcome),
}

#[async_trait::async_trait]
impl ActionRunner for WaitForRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let masker = ctx.masker.clone();
        let WaitFor {
            condition,
            timeout,
            poke_interval,
        } = match weir_model::lake_actions::wait_for(&ctx.config, Phase::Run) {
            Ok(spec) => spec,
            Err(e) => {
                // Rendered templates are only checked now: say which setting is wrong.
                let message = masker.mask(&format!("{}: {}", e.path.join("."), e.message));
                let _ = writeln!(ctx.log, "{message}");
                return ActionOutcome::failure(FailureKind::Failed, message);
            }
        };
        let tables = tables_read(&condition, &self.sql);
        // Before the first check: what is written from here on wakes the wait.
        let mut objects = self.lake.subscribe();
        let mut table_changes = self.catalog.subscribe();
        let started = Instant::now();
        let gives_up = started + timeout;
        let (deadline, cancel) = (ctx.deadline, ctx.cancel.clone());
        let end = async move {
            tokio::select! {
                _ = tokio::time::sleep_until(gives_up) => GivesUp::TimedOut,
                stopped = crate::stop::stopped(deadline, cancel) => GivesUp::Stopped(stopped),
            }
        };
        tokio::pin!(end);
        let _ = writeln!(
            ctx.log,
            "{}",
            masker.mask(&format!(
                "waiting for {condition} (timeout {}, checked again on lake and catalog writes and every {})",
                seconds(timeout),
                seconds(poke_interval)
            ))
        );
        let mut checks = 0u64;
        let mut troubles = HashSet::new();
        let ended = loop {
            checks += 1;
            let checked_at = Instant::now();
            match self.check(&condition).await {
                Ok(Some(found)) => {
                    let waited = started.elapsed();
                    let _ = writeln!(
                        ctx.log,
                        "{}",
                        masker.mask(&format!(
                            "found {condition} after {:.3}s ({checks} check(s))",
                            waited.as_secs_f64()
                        ))
                    );
                    let mut output = json!({
                        "found": masker.mask_json(&found),
                        "waited_ms": waited.as_millis() as u64,
                        "checks": checks,
                    });
                    if output.to_string().len() > ctx.max_output_bytes {
                        output["found"] = Value::Null;
                    }
                    return ActionOutcome::success(Some(output));
                }
                Ok(None) => {}
                Err(error) if error.permanent => {
                    let message =
                        masker.mask(&format!("cannot wait for {condition}: {}", error.message));
                    let _ = writeln!(ctx.log, "{message}");
                    return ActionOutcome::failure(FailureKind::Failed, message);
                }
                Err(error) => {
                    // Said once per distinct error, then asked again at the next check.
                    if troubles.insert(error.message.clone()) {
                        let _ = writeln!(
                            ctx.log,
                            "{}",
                            masker.mask(&format!(
                                "cannot check now, will check again: {}",
                                error.message
                            ))
                        );
                    }
                }
            }
            let woken_by_write = tokio::select! {
                _ = next_relevant(&mut objects, |e| object_matters(&condition, &tables, e)) => true,
                _ = next_relevant(&mut table_changes, |c| table_matters(&tables, c)) => true,
                _ = tokio::time::sleep(poke_interval) => false,
                ended = &mut end => break ended,
            };
            if woken_by_write {
                tokio::select! {
                    _ = tokio::time::sleep_until(checked_at + EVENT_CHECK_GAP) => {}
                    ended = &mut end => break ended,
                }
            }
        };
        match ended {
            GivesUp::TimedOut => {
                let message = masker.mask(&format!(
                    "timed out waiting for {condition} after {} ({checks} check(s))",
                    seconds(timeout)
                ));
                let _ = writeln!(ctx.log, "{message}");
                // Not retried (Airflow does not retry `AirflowSensorTimeout`): another try
                // would only wait as long again.
                ActionOutcome::final_failure(FailureKind::TimedOut, message)
            }
            GivesUp::Stopped(outcome) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::context;
    use weir_engine::secrets::Masker;
    use weir_model::sql_tables::TableName;

    fn created(key: &str, table: Option<&str>) -> ObjectCreated {
        ObjectCreated {
            key: key.into(),
            size: 1,
            table: table.map(str::to_string),
            partition: None,
            delivery: None,
        }
    }

    async fn engine(dir: &std::path::Path) -> (Arc<Lake>, Catalog, Arc<SqlEngine>) {
        let url = format!("sqlite://{}", dir.join("weir.db").display());
        let store = weir_store::open(&url).await.unwrap();
        let lake = Arc::new(Lake::open_local(&dir.join("lake")).unwrap());
        let catalog = Catalog::new(store);
        let sql = Arc::new(SqlEngine::for_lake(lake.clone(), Arc::new(catalog.clone())).unwrap());
        (lake, catalog, sql)
    }

    #[tokio::test]
    async fn only_relevant_writes_wake_a_wait() {
        let dir = tempfile::tempdir().unwrap();
        let (_, _, sql) = engine(dir.path()).await;
        let object = WaitCondition::Object("in/a.csv".into());
        let none = tables_read(&object, &sql);
        assert!(object_matters(&object, &none, &created("in/a.csv", None)));
        assert!(!object_matters(&object, &none, &created("in/b.csv", None)));
        let prefix = WaitCondition::Prefix {
            prefix: "in/".into(),
            min_objects: 2,
        };
        assert!(object_matters(&prefix, &none, &created("in/x/y.csv", None)));
        assert!(!object_matters(
            &prefix,
            &none,
            &created("inbox/y.csv", None)
        ));
        let partition = WaitCondition::Partition {
            table: TableName::new("sales", "orders"),
            values: vec![("day".into(), "1".into())],
        };
        let orders = tables_read(&partition, &sql);
        assert!(object_matters(
            &partition,
            &orders,
            &created("k", Some("sales.orders"))
        ));
        assert!(!object_matters(
            &partition,
            &orders,
            &created("k", Some("sales.other"))
        ));
        let change = |d: &str, t: &str| TableChanged {
            database: d.into(),
            table: t.into(),
        };
        assert!(table_matters(&orders, &change("sales", "orders")));
        assert!(!table_matters(&orders, &change("sales", "x")));
        assert!(!table_matters(&none, &change("sales", "orders")));
        // A query wakes for the tables it reads, its joins and subqueries included, only.
        let query = WaitCondition::Sql(
            "SELECT count(*) > 0 FROM sales.orders o JOIN (SELECT * FROM ref.days) d ON o.day = d.day"
                .into(),
        );
        let read = tables_read(&query, &sql);
        assert!(table_matters(&read, &change("sales", "orders")));
        assert!(table_matters(&read, &change("ref", "days")));
        assert!(!table_matters(&read, &change("sales", "returns")));
        assert!(object_matters(
            &query,
            &read,
            &created("k", Some("ref.days"))
        ));
        assert!(!object_matters(&query, &read, &created("k", Some("a.b"))));
        assert!(!object_matters(&query, &read, &created("loose.csv", None)));
    }

    #[tokio::test]
    async fn each_condition_is_checked_and_commits_are_announced() {
        let dir = tempfile::tempdir().unwrap();
        let (lake, catalog, sql) = engine(dir.path()).await;
        let runner = WaitForRunner::new(lake.clone(), catalog.clone(), sql.clone());
        let mut changes = catalog.subscribe();

        let object = WaitCondition::Object("in/a.csv".into());
        assert_eq!(runner.check(&object).await, Ok(None));
        lake.put("in/a.csv", bytes::Bytes::from_static(b"a\n1\n"))
            .await
            .unwrap();
        let found = runner.check(&object).await.unwrap().unwrap();
        assert_eq!(
            (found["key"].as_str(), found["size"].as_u64()),
            (Some("in/a.csv"), Some(4))
        );
        let two = WaitCondition::Prefix {
            prefix: "in/".into(),
            min_objects: 2,
        };
        assert_eq!(runner.check(&two).await, Ok(None));
        lake.put("in/deeper/b.csv", bytes::Bytes::from_static(b"b"))
            .await
            .unwrap();
        assert_eq!(runner.check(&two).await.unwrap().unwrap()["objects"], 2);
        // Listing stops once there are enough.
        lake.put("in/c.csv", bytes::Bytes::from_static(b"c"))
            .await
            .unwrap();
        assert_eq!(lake.list("in").await.unwrap().len(), 3);
        assert_eq!(runner.check(&two).await.unwrap().unwrap()["objects"], 2);

        let partition = |day: &str| WaitCondition::Partition {
            table: TableName::new("s", "t"),
            values: vec![("day".into(), day.into())],
        };
        assert_eq!(
            runner.check(&partition("d1")).await,
            Ok(None),
            "no table yet"
        );
        sql.execute("CREATE TABLE s.t PARTITIONED BY (day) AS SELECT * FROM (VALUES (1, 'd1')) AS v(id, day)")
            .await
            .unwrap();
        let change = changes.try_recv().unwrap();
        assert_eq!(
            (change.database.as_str(), change.table.as_str()),
            ("s", "t")
        );
        assert_eq!(runner.check(&partition("d2")).await, Ok(None));
        let found = runner.check(&partition("d1")).await.unwrap().unwrap();
        assert_eq!(
            (found["files"].as_u64(), found["rows"].as_u64()),
            (Some(1), Some(1))
        );
        let wrong = WaitCondition::Partition {
            table: TableName::new("s", "t"),
            values: vec![("month".into(), "1".into())],
        };
        assert!(
            runner
                .check(&wrong)
                .await
                .unwrap_err()
                .message
                .contains("no partition column `month`")
        );

        let two_rows = WaitCondition::Sql("SELECT count(*) > 1 FROM s.t".into());
        assert_eq!(runner.check(&two_rows).await, Ok(None));
        sql.execute("INSERT INTO s.t SELECT * FROM (VALUES (2, 'd2')) AS v(id, day)")
            .await
            .unwrap();
        assert!(
            changes.try_recv().is_ok(),
            "the insert's commit is announced"
        );
        assert_eq!(
            runner.check(&two_rows).await.unwrap().unwrap()["value"],
            true
        );
        assert_eq!(
            runner.check(&partition("d2")).await.unwrap().unwrap()["files"],
            1
        );
        let write = WaitCondition::Sql("INSERT INTO s.t SELECT 3, 'd3'".into());
        assert!(
            runner
                .check(&write)
                .await
                .unwrap_err()
                .message
                .contains("must only read")
        );
        assert!(
            runner
                .check(&WaitCondition::Sql("SELECT * FROM s.missing".into()))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_timed_out_wait_is_final_names_its_settings_and_hides_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let (lake, catalog, sql) = engine(dir.path()).await;
        let runner = WaitForRunner::new(lake, catalog, sql);
        let masker = Masker::new(["hunter2"]);
        let outcome = runner
            .run(context(
                dir.path(),
                "wait_for",
                json!({"object": "in/hunter2.csv", "timeout": "1s", "poke_interval": "1h"}),
                masker.clone(),
            ))
            .await;
        let error = outcome.result.unwrap_err();
        assert_eq!(error.kind, FailureKind::TimedOut);
        assert!(error.final_, "a wait's own timeout is not retried");
        assert!(
            error
                .message
                .starts_with("timed out waiting for object `in/"),
            "{}",
            error.message
        );
        assert!(!error.message.contains("hunter2"), "{}", error.message);
        let log = std::fs::read_to_string(dir.path().join("task.log")).unwrap();
        assert!(
            log.contains("waiting for object") && !log.contains("hunter2"),
            "{log}"
        );
        // What a template rendered is checked when the task runs, and named.
        let bad = runner
            .run(context(
                dir.path(),
                "wait_for",
                json!({"object": "/etc/hunter2"}),
                masker,
            ))
            .await
            .result
            .unwrap_err()
            .message;
        assert!(bad.starts_with("wait_for.object: "), "{bad}");
        assert!(!bad.contains("hunter2"), "{bad}");
    }

    #[test]
    fn refusals_fail_a_wait_and_outages_do_not() {
        let store = |source: object_store::Error| LakeError::Store {
            operation: "head",
            key: "k".into(),
            source,
        };
        let generic = |text: &str| {
            store(object_store::Error::Generic {
                store: "S3",
                source: text.to_string().into(),
            })
        };
        assert!(store_refuses(&store(
            object_store::Error::PermissionDenied {
                path: "k".into(),
                source: "denied".into(),
            }
        )));
        assert!(store_refuses(&generic(
            "Error performing list request: NoSuchBucket: The specified bucket does not exist"
        )));
        assert!(store_refuses(&generic("AccessDenied: Access Denied")));
        assert!(!store_refuses(&generic(
            "Error after 10 retries: 503 Service Unavailable"
        )));
        assert!(!store_refuses(&generic("connection reset by peer")));
        let error = CheckError::of_store("object `k`", &generic("timeout"));
        assert!(!error.permanent && error.message.starts_with("object `k`: "));
    }

    #[test]
    fn truthy_as_airflow_reads_it() {
        for yes in [json!(true), json!(1), json!(0.5), json!("yes"), json!("t")] {
            assert!(truthy(&yes), "{yes}");
        }
        for no in [
            json!(false),
            json!(0),
            json!(""),
            json!("0"),
            json!("False"),
            Value::Null,
        ] {
            assert!(!truthy(&no), "{no}");
        }
    }
}
