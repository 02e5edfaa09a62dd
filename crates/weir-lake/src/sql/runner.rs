//! The `sql` pipeline action: runs a statement (templates already rendered by the executor) and
//! passes a small result downstream: `{ "row_count": N, "columns": [...], "rows": [...] }` with
//! at most `max_rows` rows (default 100). The statement and the result table go to the log.
//! With `export: { prefix, format, compression }` the whole result goes to a lake object instead
//! (`export_objects.rs`), and the output is `{ "row_count", "objects", "bytes" }`.

use std::io::Write;
use std::sync::Arc;

use serde_json::{Value, json};
use weir_engine::actions::{ActionContext, ActionOutcome, ActionRunner, FailureKind};

use super::engine::SqlEngine;

/// Rows passed downstream unless the task says otherwise.
pub const DEFAULT_MAX_ROWS: usize = 100;
/// Rows of the result written to the task's log.
const LOG_ROWS: usize = 50;

/// Runs `sql` tasks on a shared engine.
pub struct SqlRunner {
    engine: Arc<SqlEngine>,
    /// Where `export:` writes (none: an export is refused).
    lake: Option<Arc<crate::lake::Lake>>,
}

impl SqlRunner {
    pub fn new(engine: Arc<SqlEngine>) -> Self {
        SqlRunner { engine, lake: None }
    }

    /// Lets tasks `export:` their results to `lake`.
    pub fn with_lake(mut self, lake: Arc<crate::lake::Lake>) -> Self {
        self.lake = Some(lake);
        self
    }

    /// Runs `query` into the objects `export` says, under the attempt's deadline and cancel.
    async fn export(
        &self,
        ctx: &mut ActionContext,
        query: &str,
        export: &weir_model::lake_actions::SqlExport,
    ) -> ActionOutcome {
        let Some(lake) = &self.lake else {
            return ActionOutcome::failure(FailureKind::Failed, "this server cannot export");
        };
        let work = super::export_to_lake(&self.engine, lake, query, export);
        let result = tokio::select! {
            r = work => r,
            stopped = crate::stop::stopped(ctx.deadline, ctx.cancel.clone()) => return stopped,
        };
        match result {
            Ok(exported) => {
                let _ = writeln!(
                    ctx.log,
                    "exported {} row(s), {} byte(s) to {}",
                    exported.row_count,
                    exported.bytes,
                    exported.objects.join(", ")
                );
                ActionOutcome::success(serde_json::to_value(&exported).ok())
            }
            Err(e) => {
                let _ = writeln!(ctx.log, "error: {e}");
                ActionOutcome::failure(FailureKind::Failed, e.to_string())
            }
        }
    }
}

/// The task's statement and row limit: `sql: "…"` or `sql: { query: "…", max_rows: N }`.
fn settings(config: &serde_json::Map<String, Value>) -> Result<(String, usize), String> {
    match config.get("sql") {
        Some(Value::String(query)) => Ok((query.clone(), DEFAULT_MAX_ROWS)),
        Some(Value::Object(sql)) => {
            let query = sql
                .get("query")
                .and_then(Value::as_str)
                .ok_or("sql needs a `query`")?
                .to_string();
            let max_rows = match sql.get("max_rows") {
                None | Some(Value::Null) => DEFAULT_MAX_ROWS,
                Some(Value::Number(n)) => {
                    n.as_u64().ok_or("max_rows must be a whole number")? as usize
                }
                Some(Value::String(s)) => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("max_rows `{s}` is not a whole number"))?,
                Some(_) => return Err("max_rows must be a whole number".to_string()),
            };
            Ok((query, max_rows))
        }
        _ => Err("sql must be a statement or a mapping with query and max_rows".to_string()),
    }
}

#[async_trait::async_trait]
impl ActionRunner for SqlRunner {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let (query, max_rows) = match settings(&ctx.config) {
            Ok(s) => s,
            Err(message) => return ActionOutcome::failure(FailureKind::Failed, message),
        };
        let _ = writeln!(ctx.log, "sql:\n{}\n", query.trim());
        if let Some(Value::Object(sql)) = ctx.config.get("sql") {
            match weir_model::lake_actions::sql_export(sql, weir_model::lake_actions::Phase::Run) {
                Ok(Some(export)) => return self.export(&mut ctx, &query, &export).await,
                Ok(None) => {}
                Err(e) => return ActionOutcome::failure(FailureKind::Failed, e.message),
            }
        }
        let work = self
            .engine
            .execute_limited(&query, Some(max_rows.max(LOG_ROWS)));
        // Dropping the statement's future stops DataFusion's work; a write cut short leaves
        // nothing in the catalog (its files are in a write-id folder no manifest lists).
        let result = tokio::select! {
            r = work => r,
            stopped = crate::stop::stopped(ctx.deadline, ctx.cancel.clone()) => return stopped,
        };
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(ctx.log, "error: {e}");
                return ActionOutcome::failure(FailureKind::Failed, e.to_string());
            }
        };

        let mut logged = result.clone();
        truncate(&mut logged.batches, LOG_ROWS);
        let table = logged.to_table().unwrap_or_default();
        let _ = writeln!(ctx.log, "{table}");
        let _ = writeln!(
            ctx.log,
            "{} row(s) in {:.3}s, {} file(s) scanned{}",
            result.row_count,
            result.elapsed.as_secs_f64(),
            result.files_scanned,
            if result.row_count as usize > LOG_ROWS {
                " (log shows the first rows)"
            } else {
                ""
            }
        );

        let mut passed = result;
        truncate(&mut passed.batches, max_rows);
        let mut rows = passed.to_json_rows();
        let columns = serde_json::to_value(passed.columns()).unwrap_or(Value::Null);
        // Keep the output under the executor's limit: drop rows from the end until it fits.
        loop {
            let output = json!({
                "row_count": passed.row_count,
                "columns": columns,
                "rows": rows,
                "truncated": (rows.len() as u64) < passed.row_count,
            });
            let size = output.to_string().len();
            if size <= ctx.max_output_bytes || rows.is_empty() {
                return ActionOutcome::success(Some(output));
            }
            let keep = rows.len() / 2;
            rows.truncate(keep);
        }
    }
}

/// Keeps the first `rows` rows of `batches`.
fn truncate(batches: &mut Vec<datafusion::arrow::array::RecordBatch>, rows: usize) {
    let mut left = rows;
    let mut kept = Vec::new();
    for batch in batches.drain(..) {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        kept.push(batch.slice(0, take));
        left -= take;
    }
    *batches = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_shapes() {
        let config = json!({"sql": "select 1"});
        let config = config.as_object().cloned().unwrap_or_default();
        assert_eq!(
            settings(&config),
            Ok(("select 1".to_string(), DEFAULT_MAX_ROWS))
        );
        let config = json!({"sql": {"query": "select 2", "max_rows": 5}});
        let config = config.as_object().cloned().unwrap_or_default();
        assert_eq!(settings(&config), Ok(("select 2".to_string(), 5)));
        let config = json!({"sql": {"max_rows": 5}});
        let config = config.as_object().cloned().unwrap_or_default();
        assert!(settings(&config).is_err());
    }

    /// A value substituted into the `sql` action's text reads back, through the SQL parser's own
    /// tokenizer, as exactly one literal (or quoted name) equal to the value, wherever it lands:
    /// no value can end its literal and add SQL of its own.
    mod substituted_values {
        use datafusion::sql::sqlparser::dialect::GenericDialect;
        use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
        use proptest::prelude::*;
        use serde_json::json;

        fn tokens(sql: &str) -> Vec<Token> {
            Tokenizer::new(&GenericDialect {}, sql)
                .tokenize()
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .filter(|t| !matches!(t, Token::Whitespace(_)))
                .collect()
        }

        proptest! {
            #[test]
            fn reads_back_as_one_literal(value in "\\PC{0,24}", n in any::<i64>()) {
                let context = json!({"v": value, "n": n, "list": [value.clone(), n]});
                let template = "SELECT {{ v }}, '{{ v }}', \"x{{ v }}\", -{{ n }} FROM t WHERE a IN ({{ list }})";
                let sql = weir_model::template::render_sql_text(template, &context);
                if value.contains('\0') {
                    // A quoted name cannot carry NUL: refused, never passed on.
                    prop_assert!(sql.is_err());
                    return Ok(());
                }
                let sql = sql.map_err(TestCaseError::fail)?;
                let got = tokens(&sql);
                let literal = Token::SingleQuotedString(value.clone());
                let number = if n < 0 {
                    vec![Token::LParen, Token::Minus, Token::Number(n.unsigned_abs().to_string(), false), Token::RParen]
                } else {
                    vec![Token::Number(n.to_string(), false)]
                };
                let mut expected = vec![
                    Token::make_keyword("SELECT"),
                    literal.clone(),
                    Token::Comma,
                    literal.clone(),
                    Token::Comma,
                    Token::make_word(&format!("x{value}"), Some('"')),
                    Token::Comma,
                    Token::Minus,
                ];
                expected.extend(number.clone());
                expected.extend([
                    Token::make_keyword("FROM"),
                    Token::make_word("t", None),
                    Token::make_keyword("WHERE"),
                    Token::make_word("a", None),
                    Token::make_keyword("IN"),
                    Token::LParen,
                    literal,
                    Token::Comma,
                ]);
                expected.extend(number);
                expected.push(Token::RParen);
                prop_assert_eq!(got, expected, "{}", sql);
            }
        }
    }
}
