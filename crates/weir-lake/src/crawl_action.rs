//! The `crawl` pipeline action: crawls a prefix of the lake into catalog tables, as `weir crawl`
//! does, and passes the report downstream as the task's output.
//!
//! ```yaml
//! tasks:
//!   catalog_raw:
//!     crawl: { prefix: raw/{{ ds }}, database: raw, table: events }
//! ```

use std::io::Write;
use std::sync::Arc;

use serde_json::Value;
use weir_engine::actions::{ActionContext, ActionOutcome, ActionRunner, FailureKind};

use crate::catalog_store::Catalog;
use crate::crawler::{CrawlReport, TableStatus, crawl};
use crate::lake::Lake;

/// The database tables go to when the action names none (and `weir crawl` without `--database`).
pub const DEFAULT_DATABASE: &str = "default";

/// Runs `crawl:` tasks against one lake and catalog.
pub struct CrawlRunner {
    lake: Arc<Lake>,
    catalog: Catalog,
}

impl CrawlRunner {
    pub fn new(lake: Arc<Lake>, catalog: Catalog) -> CrawlRunner {
        CrawlRunner { lake, catalog }
    }
}

/// The action's settings, from `crawl: PREFIX` or `crawl: { prefix, database, table }`.
struct Settings {
    prefix: String,
    database: String,
    table: Option<String>,
}

fn settings(config: &serde_json::Map<String, Value>) -> Result<Settings, String> {
    let text = |v: Option<&Value>, what: &str| -> Result<Option<String>, String> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Some(_) => Err(format!("crawl.{what} must be a string")),
        }
    };
    match config.get("crawl") {
        Some(Value::String(prefix)) => Ok(Settings {
            prefix: prefix.trim().to_string(),
            database: DEFAULT_DATABASE.to_string(),
            table: None,
        }),
        Some(Value::Object(crawl)) => Ok(Settings {
            prefix: match crawl.get("prefix") {
                Some(Value::String(prefix)) => prefix.trim().to_string(),
                _ => return Err("crawl needs a `prefix` (a string)".into()),
            },
            database: text(crawl.get("database"), "database")?
                .unwrap_or_else(|| DEFAULT_DATABASE.to_string()),
            table: text(crawl.get("table"), "table")?,
        }),
        _ => Err("crawl must be a prefix or a mapping with prefix, database, table".into()),
    }
}

/// The lines a crawl leaves in the attempt's log.
pub fn summary(report: &CrawlReport) -> String {
    let mut out = format!(
        "crawled `{}` into database {} in {:.2}s: {} table(s)\n",
        report.prefix,
        report.database,
        report.seconds,
        report.tables.len()
    );
    for table in &report.tables {
        out += &format!(
            "  {} ({}) at {}: {} read, {} unchanged, {} removed; {} column(s), {} partition(s)\n",
            table.name,
            status_name(table.status),
            table.location,
            table.files_read,
            table.files_skipped,
            table.files_removed,
            table.columns.len(),
            table.partitions,
        );
        for conflict in &table.conflicts {
            out += &format!(
                "    conflict: column `{}` is {} in different files; stored as {} (first seen in {})\n",
                conflict.column,
                conflict.types.join(" and "),
                conflict.resolved,
                conflict.file
            );
        }
        for problem in &table.problems {
            out += &format!("    problem: {problem}\n");
        }
    }
    if report.ignored_count > 0 {
        out += &format!("  {} object(s) ignored:\n", report.ignored_count);
        for ignored in &report.ignored {
            out += &format!("    {ignored}\n");
        }
    }
    out
}

fn status_name(status: TableStatus) -> &'static str {
    match status {
        TableStatus::Created => "created",
        TableStatus::Updated => "updated",
        TableStatus::Unchanged => "unchanged",
        TableStatus::Skipped => "skipped",
    }
}

#[async_trait::async_trait]
impl ActionRunner for CrawlRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let settings = match settings(&ctx.config) {
            Ok(settings) => settings,
            Err(message) => return ActionOutcome::failure(FailureKind::Failed, message),
        };
        let crawling = crawl(
            &self.lake,
            &self.catalog,
            &settings.prefix,
            &settings.database,
            settings.table.as_deref(),
        );
        let deadline = ctx.deadline;
        // Each table commits on its own, so stopping between tables leaves every table whole.
        let result = tokio::select! {
            result = crawling => result,
            _ = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => return ActionOutcome::failure(FailureKind::TimedOut, "timed out"),
            _ = ctx.cancel.wait_for(|c| *c) => {
                return ActionOutcome::failure(FailureKind::Cancelled, "cancelled")
            }
        };
        match result {
            Ok(report) => {
                // The log is a convenience: a failed write must not fail a crawl that committed.
                let _ = ctx.log.write_all(summary(&report).as_bytes());
                match serde_json::to_value(&report) {
                    Ok(output) => ActionOutcome::success(Some(output)),
                    Err(e) => ActionOutcome::failure(FailureKind::Failed, e.to_string()),
                }
            }
            Err(error) => {
                let message = format!("crawl of `{}` failed: {error}", settings.prefix);
                let _ = writeln!(ctx.log, "{message}");
                ActionOutcome::failure(FailureKind::Failed, message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Settings, String> {
        settings(v.as_object().unwrap())
    }

    #[test]
    fn settings_take_both_shapes() {
        let s = parse(json!({"crawl": "raw/"})).unwrap();
        assert_eq!(
            (s.prefix.as_str(), s.database.as_str(), s.table),
            ("raw/", "default", None)
        );
        let s = parse(json!({"crawl": {"prefix": "raw", "database": "db", "table": "t"}})).unwrap();
        assert_eq!(
            (s.prefix.as_str(), s.database.as_str(), s.table.as_deref()),
            ("raw", "db", Some("t"))
        );
        assert!(parse(json!({"crawl": {"database": "db"}})).is_err());
        assert!(parse(json!({"crawl": {"prefix": "p", "table": 3}})).is_err());
    }
}
