//! [`SqlEngine`]: runs SQL text against the catalog. Statements that write (CREATE TABLE … AS,
//! INSERT, DROP) are recognised in the parsed AST and carried out here, against the lake and the
//! catalog; everything else is planned and run by DataFusion with writes disallowed, so SQL can
//! never touch a file outside a table's write path.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::TableReference;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::session_state::SessionState;
use datafusion::execution::{SessionStateBuilder, TaskContext};
use datafusion::logical_expr::{DescribeTable, LogicalPlan};
use datafusion::object_store::ObjectStore;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SQLOptions;
use datafusion::sql::parser::{DFParserBuilder, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{ObjectType, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use futures::StreamExt;
use weir_model::sql_tables::{SqlTables, TableName};

use super::access::{CatalogAccess, LakeContext, LakeRoot, ObjectCreated, ObjectListener};
use super::limits::Limits;
use super::result::QueryResult;
use super::session::{SessionOptions, base_state};
use super::snapshot::Snapshot;
use super::{SqlError, ddl};

/// Deepest nesting of expressions and subqueries the parser accepts (bounds its recursion).
const RECURSION_LIMIT: usize = 64;

/// Runs SQL over the catalog's tables. Cheap to share behind an `Arc`; statements run
/// concurrently, each on its own snapshot of the tables it names.
pub struct SqlEngine {
    /// Built on the first statement: an idle server never maps DataFusion's planner in.
    base: std::sync::OnceLock<SessionState>,
    options: SessionOptions,
    pub(crate) lake: Arc<LakeContext>,
    listener: Option<ObjectListener>,
}

impl SqlEngine {
    /// An engine over the lake in `store` under the object store path `root` (the lake's root
    /// directory or bucket prefix; "" for the store's root), with tables from `catalog`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        root: &str,
        catalog: Arc<dyn CatalogAccess>,
    ) -> Result<Self, SqlError> {
        Self::with_options(store, root, catalog, SessionOptions::default())
    }

    /// [`SqlEngine::new`] with tuned session options.
    pub fn with_options(
        store: Arc<dyn ObjectStore>,
        root: &str,
        catalog: Arc<dyn CatalogAccess>,
        options: SessionOptions,
    ) -> Result<Self, SqlError> {
        let url = datafusion::execution::object_store::ObjectStoreUrl::parse(super::LAKE_URL)
            .map_err(|e| SqlError::new(e.to_string()))?;
        Ok(SqlEngine {
            base: std::sync::OnceLock::new(),
            options,
            lake: Arc::new(LakeContext {
                store,
                root: LakeRoot::new(root),
                url,
                catalog,
                footers: Default::default(),
            }),
            listener: None,
        })
    }

    /// The base session, built on first use.
    fn base(&self) -> Result<&SessionState, SqlError> {
        if let Some(base) = self.base.get() {
            return Ok(base);
        }
        let (state, _) = base_state(Arc::clone(&self.lake.store), &self.options)?;
        Ok(self.base.get_or_init(|| state))
    }

    /// Calls `listener` for every object a statement writes, once the write has committed.
    pub fn with_listener(mut self, listener: ObjectListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Runs `sql` (one statement, or several separated by `;`, run in order; the result is the
    /// last one's) and keeps every row of the result.
    pub async fn execute(&self, sql: &str) -> Result<QueryResult, SqlError> {
        self.execute_limited(sql, None).await
    }

    /// Like [`SqlEngine::execute`], but keeps at most `max_rows` rows of a query's result (all
    /// rows are still produced and counted in `row_count`).
    pub async fn execute_limited(
        &self,
        sql: &str,
        max_rows: Option<usize>,
    ) -> Result<QueryResult, SqlError> {
        let started = Instant::now();
        let limits = self.limits();
        let mut result = limits
            .guarded(limits.deadline(), self.run(sql, max_rows))
            .await?;
        result.elapsed = started.elapsed();
        Ok(result)
    }

    /// The catalog tables `sql` reads and writes (every statement of it), worked out from the
    /// text alone, as this engine would parse and resolve it; nothing runs and the catalog is
    /// not asked. Fails as running it would on text that does not parse, no statement, or a
    /// writing statement with no valid table name. See [`SqlTables`] for what each part holds.
    pub fn sql_tables(&self, sql: &str) -> Result<SqlTables, SqlError> {
        super::tables::sql_tables(sql)
    }

    /// The memory and time limits statements run under.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            memory: self.options.memory_limit,
            timeout: self.options.timeout,
        }
    }

    async fn run(&self, sql: &str, max_rows: Option<usize>) -> Result<QueryResult, SqlError> {
        let statements = parse(sql)?;
        let mut last = None;
        for statement in statements {
            last = Some(self.statement(statement, sql, max_rows).await?);
        }
        last.ok_or_else(|| SqlError::new("no SQL statement given"))
    }

    pub(crate) async fn statement(
        &self,
        statement: DFStatement,
        sql: &str,
        max_rows: Option<usize>,
    ) -> Result<QueryResult, SqlError> {
        match statement {
            DFStatement::Statement(inner) => match *inner {
                Statement::CreateTable(create) => ddl::create_table(self, create, sql).await,
                Statement::Insert(insert) => ddl::insert(self, insert, sql).await,
                Statement::Drop {
                    object_type: ObjectType::Table,
                    if_exists,
                    names,
                    ..
                } => ddl::drop_tables(self, names, if_exists, sql).await,
                other => {
                    self.query(DFStatement::Statement(Box::new(other)), sql, max_rows)
                        .await
                }
            },
            DFStatement::Explain(_) => self.query(statement, sql, max_rows).await,
            DFStatement::CreateExternalTable(_) => Err(SqlError::new(
                "CREATE EXTERNAL TABLE is not supported: tables come from the crawler, the \
                 catalog API, or CREATE TABLE … AS SELECT",
            )),
            DFStatement::CopyTo(_) => Err(SqlError::new(
                "COPY is not supported: write results into the lake with CREATE TABLE … AS SELECT",
            )),
            DFStatement::Reset(_) => Err(SqlError::new("RESET is not supported")),
        }
    }

    /// A session whose catalog holds the tables `statement` names, fetched now.
    pub(crate) async fn state_for(
        &self,
        statement: &DFStatement,
    ) -> Result<SessionState, SqlError> {
        let sql = statement.to_string();
        let base = self.base()?;
        let references = base
            .resolve_table_references(statement)
            .map_err(|e| SqlError::from_datafusion(&e, &sql))?;
        let snapshot = Snapshot::load(&self.lake, &references).await?;
        Ok(SessionStateBuilder::new_from_existing(base.clone())
            .with_catalog_list(Arc::new(snapshot))
            .build())
    }

    /// A session whose catalog holds `tables` and the tables `query` names (fetched now, one
    /// snapshot), with `query` planned read-only in it: what a transform runs in (its source
    /// query, joined and unioned tables, the tables it writes).
    pub(crate) async fn session_with(
        &self,
        query: Option<&str>,
        tables: &[weir_model::sql_tables::TableName],
    ) -> Result<(SessionState, Option<LogicalPlan>), SqlError> {
        let base = self.base()?;
        let mut references: Vec<TableReference> = tables
            .iter()
            .map(|t| TableReference::partial(t.database.as_str(), t.name.as_str()))
            .collect();
        let statement = match query {
            Some(sql) => {
                let mut statements = parse(sql)?;
                let statement = statements
                    .pop_front()
                    .ok_or_else(|| SqlError::new("the query is empty"))?;
                if !statements.is_empty() {
                    return Err(SqlError::new("give one query, not several statements"));
                }
                references.extend(
                    base.resolve_table_references(&statement)
                        .map_err(|e| SqlError::from_datafusion(&e, sql))?,
                );
                Some((statement, sql))
            }
            None => None,
        };
        let snapshot = Snapshot::load(&self.lake, &references).await?;
        let state = SessionStateBuilder::new_from_existing(base.clone())
            .with_catalog_list(Arc::new(snapshot))
            .build();
        let plan = match statement {
            Some((statement, sql)) => {
                let plan = state
                    .statement_to_plan(statement)
                    .await
                    .map_err(|e| SqlError::from_datafusion(&e, sql))?;
                if !reads_only(&plan) {
                    return Err(SqlError::new(
                        "a transform's query must only read (SELECT, WITH, VALUES)",
                    ));
                }
                Some(plan)
            }
            None => None,
        };
        Ok((state, plan))
    }

    /// The lake as SQL reaches it (store, root, catalog).
    pub(crate) fn lake_context(&self) -> &Arc<LakeContext> {
        &self.lake
    }

    /// A session with the engine's settings, memory pool and physical rewrites whose catalog
    /// holds `tables`, fetched now: for plans built as DataFrames (transforms) rather than from
    /// SQL text. A name the catalog does not have is left out, so using it says "not found".
    pub async fn session_for_tables(&self, tables: &[TableName]) -> Result<SessionState, SqlError> {
        Ok(self.session_with(None, tables).await?.0)
    }

    /// Plans a read-only statement (anything that is not one of weir's writing statements).
    pub(crate) async fn plan_read(
        &self,
        statement: DFStatement,
        sql: &str,
    ) -> Result<(SessionState, LogicalPlan), SqlError> {
        let state = self.state_for(&statement).await?;
        let plan = state
            .statement_to_plan(statement)
            .await
            .map_err(|e| SqlError::from_datafusion(&e, sql))?;
        if !reads_only(&plan) {
            return Err(SqlError::new(
                "statement not supported: weir runs queries (SELECT, WITH, VALUES, EXPLAIN, SHOW, \
                 DESCRIBE), CREATE [OR REPLACE] TABLE … [AS SELECT], INSERT INTO|OVERWRITE … \
                 SELECT and DROP TABLE",
            ));
        }
        Ok((state, describe_logical_types(plan)))
    }

    /// Plans a read-only statement down to the plan to execute, with its task context.
    pub(crate) async fn plan_query(
        &self,
        statement: DFStatement,
        sql: &str,
    ) -> Result<(Arc<dyn ExecutionPlan>, Arc<TaskContext>), SqlError> {
        let (state, plan) = self.plan_read(statement, sql).await?;
        let physical = state
            .create_physical_plan(&plan)
            .await
            .map_err(|e| SqlError::from_datafusion(&e, sql))?;
        Ok((physical, state.task_ctx()))
    }

    async fn query(
        &self,
        statement: DFStatement,
        sql: &str,
        max_rows: Option<usize>,
    ) -> Result<QueryResult, SqlError> {
        let (physical, task) = self.plan_query(statement, sql).await?;
        let schema = physical.schema();
        let mut stream = execute_stream(Arc::clone(&physical), task)
            .map_err(|e| SqlError::from_datafusion(&e, sql))?;
        let mut batches: Vec<RecordBatch> = Vec::new();
        let mut row_count = 0u64;
        let mut kept = 0usize;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| SqlError::from_datafusion(&e, sql))?;
            row_count += batch.num_rows() as u64;
            let room = max_rows.map_or(usize::MAX, |m| m.saturating_sub(kept));
            if room == 0 || batch.num_rows() == 0 {
                continue;
            }
            let batch = if batch.num_rows() > room {
                batch.slice(0, room)
            } else {
                batch
            };
            kept += batch.num_rows();
            batches.push(batch);
        }
        Ok(QueryResult {
            schema,
            batches,
            row_count,
            truncated: (kept as u64) < row_count,
            elapsed: Default::default(),
            files_scanned: files_scanned(&physical),
        })
    }

    /// Announces committed objects to the listener.
    pub(crate) fn announce(&self, objects: impl IntoIterator<Item = ObjectCreated>) {
        if let Some(listener) = &self.listener {
            for object in objects {
                listener(object);
            }
        }
    }
}

/// Whether a plan only reads (no DDL, DML or session statements): what DataFusion itself may run.
fn reads_only(plan: &LogicalPlan) -> bool {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(plan)
        .is_ok()
}

/// `DESCRIBE` shows a column's logical type: strings that every file stores dictionary-encoded
/// are read as Arrow dictionaries (a reading strategy, see `footers.rs`), but they are `Utf8` to
/// users, as the catalog says.
fn describe_logical_types(plan: LogicalPlan) -> LogicalPlan {
    let LogicalPlan::DescribeTable(describe) = plan else {
        return plan;
    };
    let fields: Vec<Field> = describe
        .schema
        .fields()
        .iter()
        .map(|field| match field.data_type() {
            DataType::Dictionary(_, value) => {
                field.as_ref().clone().with_data_type((**value).clone())
            }
            _ => field.as_ref().clone(),
        })
        .collect();
    LogicalPlan::DescribeTable(DescribeTable {
        schema: Arc::new(Schema::new_with_metadata(
            fields,
            describe.schema.metadata().clone(),
        )),
        output_schema: describe.output_schema,
    })
}

/// Parses `sql` into statements; errors carry the parser's line and column.
pub(crate) fn parse(sql: &str) -> Result<VecDeque<DFStatement>, SqlError> {
    super::guard::check_links(sql)?;
    let dialect = GenericDialect {};
    let mut parser = DFParserBuilder::new(sql)
        .with_dialect(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .build()
        .map_err(|e| SqlError::from_datafusion(&e, sql))?;
    parser
        .parse_statements()
        .map_err(|e| SqlError::from_datafusion(&e, sql))
}

/// Distinct files the plan's scans read (a file split into ranges counts once).
pub fn files_scanned(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let mut files = HashSet::new();
    let _ = plan.apply(|node| {
        if let Some(exec) = node.downcast_ref::<DataSourceExec>()
            && let Some(config) = exec.data_source().downcast_ref::<FileScanConfig>()
        {
            for group in &config.file_groups {
                for file in group.iter() {
                    files.insert(file.object_meta.location.clone());
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    files.len()
}
