//! The store, written once over `sqlx::Database`: SQLite and PostgreSQL share every statement
//! (see `statements.rs`), so the mapping of records to rows and the transaction around a batch
//! live here, and each backend only knows how to open its pools (`sqlite.rs`, `postgres.rs`).

use std::sync::Arc;

use sqlx::SqlStr;
use sqlx::database::HasStatementCache;
use sqlx::query::Query;
use sqlx::{
    Arguments, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type,
};

use crate::plan::{Plan, unique_files};
use crate::statements::{self as sql, DeleteFiles, OnConflict, Placeholders, Write};
use crate::{
    AttemptRecord, DatabaseRecord, EventRecord, ExecutionRecord, HistoryEventRecord, MachineRecord,
    Mutation, Result, RunRecord, ScheduleStateRecord, StepRecord, Store, StoreError,
    TableFileRecord, TableRecord, TaskRecord, VersionRecord,
};

/// A [`Store`] on the sqlx driver `DB`. Named through its aliases, `SqliteStore` and
/// `PostgresStore`, whose `open` sets up the pools.
pub struct SqlStore<DB: Database> {
    /// Used by `apply` only. On SQLite it holds the one connection that writes, so that writers
    /// never wait on each other's locks; on PostgreSQL it is the same pool as `readers`.
    pub(crate) writer: Pool<DB>,
    /// Used by queries, so that reads never wait behind a commit.
    pub(crate) readers: Pool<DB>,
    writes: Writes,
}

/// The write statements of every table, in the backend's placeholder style.
struct Writes {
    versions: Write,
    new_runs: Write,
    runs: Write,
    tasks: Write,
    attempts: Write,
    events: Write,
    schedules: Write,
    databases: Write,
    tables: Write,
    files: Write,
    delete_files: DeleteFiles,
    machines: Write,
    executions: Write,
    history: Write,
    steps: Write,
}

type Q<DB> = Query<'static, DB, <DB as Database>::Arguments>;

/// One multi-row statement, ready to run.
struct Chunk<DB: Database> {
    statement: SqlStr,
    args: DB::Arguments,
    /// The strings `args` shares, freed here once the statement has run.
    kept: Vec<Arc<str>>,
    rows: usize,
}

/// Fills the placeholders of one row. Text goes in as shared strings that the writer also keeps
/// (see [`shared`]).
type Binder<DB, R> = fn(&mut <DB as Database>::Arguments, &R, &mut Vec<Arc<str>>) -> Result<()>;

/// `text` as a string the statement's arguments share with `kept`, which the writer drops once the
/// statement has run. SQLite's driver runs statements on its own thread: a string it received
/// by value would be freed there, and glibc's allocator is slow when one thread keeps freeing
/// what another allocates (a third of the writer's time went to it); a shared one is freed
/// where it was made.
fn shared(text: &str, kept: &mut Vec<Arc<str>>) -> Arc<str> {
    let text: Arc<str> = Arc::from(text);
    kept.push(Arc::clone(&text));
    text
}

/// How one record is stored, declared once: its fields in column order, each with its kind.
/// Expands to the column list, the binder that fills one row's placeholders and the decoder of a
/// row, so the three cannot drift apart. Column names are the field names.
///
/// Kinds: `text` (`String`), `opt_text` (`Option<String>`), `value` (integers, booleans and their
/// options, bound as they are), `json` (`serde_json::Value` stored as text), `opt_json`.
macro_rules! mapping {
    ($columns:ident, $bind:ident, $decode:ident, $record:ident { $($field:ident: $kind:ident),+ $(,)? }) => {
        const $columns: &'static [&'static str] = &[$(stringify!($field)),+];

        fn $bind(args: &mut DB::Arguments, record: &$record, kept: &mut Vec<Arc<str>>) -> Result<()> {
            $(args
                .add(mapping!(@store $kind, record.$field, kept))
                .map_err(|e| StoreError::Encode(e.to_string()))?;)+
            Ok(())
        }

        fn $decode(row: &DB::Row) -> Result<$record> {
            Ok($record { $($field: mapping!(@load $kind, row, stringify!($field))),+ })
        }
    };
    (@store text, $value:expr, $kept:ident) => { shared(&$value, $kept) };
    (@store opt_text, $value:expr, $kept:ident) => {
        $value.as_deref().map(|text| shared(text, $kept))
    };
    (@store value, $value:expr, $kept:ident) => { $value };
    (@store json, $value:expr, $kept:ident) => { shared(&serde_json::to_string(&$value)?, $kept) };
    (@store opt_json, $value:expr, $kept:ident) => {
        $value.as_ref().map(serde_json::to_string).transpose()?.map(|text| shared(&text, $kept))
    };
    (@load json, $row:ident, $column:expr) => {
        serde_json::from_str(&$row.try_get::<String, _>($column)?)?
    };
    (@load opt_json, $row:ident, $column:expr) => {
        $row.try_get::<Option<String>, _>($column)?.as_deref().map(serde_json::from_str).transpose()?
    };
    (@load $kind:ident, $row:ident, $column:expr) => { $row.try_get($column)? };
}

// The driver capabilities the shared code uses. Rust does not carry such bounds along with a type
// or trait, so the list is written on both impls below; both drivers provide all of it.
impl<DB> SqlStore<DB>
where
    DB: Database + HasStatementCache,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> Arc<str>: Encode<'a, DB> + Type<DB>,
    for<'a> Option<Arc<str>>: Encode<'a, DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> Option<i64>: Encode<'a, DB>,
    for<'a> Option<i32>: Encode<'a, DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
{
    mapping!(
        VERSION_COLUMNS,
        bind_version,
        version_from,
        VersionRecord {
            pipeline: text,
            version: text,
            path: text,
            source: text,
            created_at: value,
        }
    );

    mapping!(
        RUN_COLUMNS,
        bind_run,
        run_from,
        RunRecord {
            id: text,
            pipeline: text,
            version: text,
            state: text,
            run_type: text,
            logical_date: value,
            interval_start: value,
            interval_end: value,
            params: json,
            created_at: value,
            started_at: value,
            ended_at: value,
            notified: value,
        }
    );

    mapping!(
        TASK_COLUMNS,
        bind_task,
        task_from,
        TaskRecord {
            run_id: text,
            task_id: text,
            map_index: value,
            state: text,
            try_number: value,
            max_tries: value,
            started_at: value,
            ended_at: value,
            next_try_at: value,
            output: opt_json,
            item: opt_json,
            error: opt_text,
        }
    );

    mapping!(
        ATTEMPT_COLUMNS,
        bind_attempt,
        attempt_from,
        AttemptRecord {
            run_id: text,
            task_id: text,
            map_index: value,
            try_number: value,
            state: text,
            started_at: value,
            ended_at: value,
            pid: value,
            exit_code: value,
            error: opt_text,
            log_path: text,
        }
    );

    mapping!(
        EVENT_COLUMNS,
        bind_event,
        event_from,
        EventRecord {
            run_id: text,
            at: value,
            task_id: opt_text,
            map_index: value,
            try_number: value,
            state: text,
            message: opt_text,
        }
    );

    mapping!(
        SCHEDULE_COLUMNS,
        bind_schedule,
        schedule_from,
        ScheduleStateRecord {
            pipeline: text,
            last_interval_end: value,
            paused: value,
        }
    );

    mapping!(
        DATABASE_COLUMNS,
        bind_database,
        database_from,
        DatabaseRecord {
            name: text,
            description: opt_text,
            created_at: value,
        }
    );

    mapping!(
        TABLE_COLUMNS,
        bind_table,
        table_from,
        TableRecord {
            database: text,
            name: text,
            location: text,
            format: text,
            columns: json,
            partitioning: json,
            row_count: value,
            size_bytes: value,
            file_count: value,
            last_modified: value,
            created_at: value,
            updated_at: value,
        }
    );

    mapping!(
        FILE_COLUMNS,
        bind_file,
        file_from,
        TableFileRecord {
            database: text,
            table_name: text,
            key: text,
            size: value,
            last_modified: value,
            etag: opt_text,
            partition_values: json,
            row_count: value,
        }
    );

    mapping!(
        MACHINE_COLUMNS,
        bind_machine,
        machine_from,
        MachineRecord {
            arn: text,
            name: text,
            machine_type: text,
            definition: text,
            role_arn: text,
            settings: json,
            source: text,
            created_at: value,
            updated_at: value,
        }
    );

    mapping!(
        EXECUTION_COLUMNS,
        bind_execution,
        execution_from,
        ExecutionRecord {
            arn: text,
            machine_arn: text,
            name: text,
            status: text,
            input: text,
            output: opt_text,
            error: opt_text,
            cause: opt_text,
            definition: text,
            started_at: value,
            stopped_at: value,
        }
    );

    mapping!(
        HISTORY_COLUMNS,
        bind_history,
        history_from,
        HistoryEventRecord {
            execution_arn: text,
            id: value,
            previous_id: value,
            at: value,
            event_type: text,
            details: text,
        }
    );

    mapping!(
        STEP_COLUMNS,
        bind_step,
        step_from,
        StepRecord {
            execution_arn: text,
            step: text,
            state: text,
            record: text,
        }
    );

    pub(crate) fn new(writer: Pool<DB>, readers: Pool<DB>, placeholders: Placeholders) -> Self {
        let write = |table, columns, key, on_conflict| {
            Write::new(table, columns, key, on_conflict, placeholders)
        };
        let writes = Writes {
            versions: write(
                "pipeline_versions",
                Self::VERSION_COLUMNS,
                &["pipeline", "version"],
                OnConflict::Ignore,
            ),
            new_runs: write("runs", Self::RUN_COLUMNS, &["id"], OnConflict::Refuse),
            runs: write("runs", Self::RUN_COLUMNS, &["id"], OnConflict::Update),
            tasks: write(
                "task_instances",
                Self::TASK_COLUMNS,
                &["run_id", "task_id", "map_index"],
                OnConflict::Update,
            ),
            attempts: write(
                "attempts",
                Self::ATTEMPT_COLUMNS,
                &["run_id", "task_id", "map_index", "try_number"],
                OnConflict::Update,
            ),
            events: write("run_events", Self::EVENT_COLUMNS, &[], OnConflict::Append),
            schedules: write(
                "schedule_state",
                Self::SCHEDULE_COLUMNS,
                &["pipeline"],
                OnConflict::Update,
            ),
            databases: write(
                "catalog_databases",
                Self::DATABASE_COLUMNS,
                &["name"],
                OnConflict::Update,
            ),
            tables: write(
                "catalog_tables",
                Self::TABLE_COLUMNS,
                &["database", "name"],
                OnConflict::Update,
            ),
            files: write(
                "catalog_files",
                Self::FILE_COLUMNS,
                &["database", "table_name", "key"],
                OnConflict::Update,
            ),
            delete_files: DeleteFiles::new(placeholders),
            machines: write(
                "state_machines",
                Self::MACHINE_COLUMNS,
                &["arn"],
                OnConflict::Update,
            ),
            executions: write(
                "executions",
                Self::EXECUTION_COLUMNS,
                &["arn"],
                OnConflict::Update,
            ),
            history: write(
                "execution_events",
                Self::HISTORY_COLUMNS,
                &["execution_arn", "id"],
                OnConflict::Ignore,
            ),
            steps: write(
                "execution_steps",
                Self::STEP_COLUMNS,
                &["execution_arn", "step"],
                OnConflict::Update,
            ),
        };
        SqlStore {
            writer,
            readers,
            writes,
        }
    }

    /// Writes `rows` with as few statements as the chunk sizes allow. The arguments of the next
    /// statement are prepared while the database runs the current one: on SQLite that is another
    /// thread, on PostgreSQL another process, so the two halves of the work overlap.
    async fn write<R: Sync>(
        conn: &mut DB::Connection,
        table: &Write,
        rows: &[&R],
        bind: Binder<DB, R>,
    ) -> Result<()> {
        let mut rest = rows;
        let mut next = Self::encode(table, rest, bind)?;
        while let Some(chunk) = next.take() {
            rest = &rest[chunk.rows..];
            let execute =
                sqlx::query_with::<DB, _>(chunk.statement, chunk.args).execute(&mut *conn);
            // `join` polls `execute` first, which hands the statement over, then encodes.
            let encode_next = async { Self::encode(table, rest, bind) };
            let (done, encoded) = futures::future::join(execute, encode_next).await;
            done?;
            drop(chunk.kept);
            next = encoded?;
        }
        Ok(())
    }

    /// The statement and arguments for the first chunk of `rows` (none when `rows` is empty).
    fn encode<R>(table: &Write, rows: &[&R], bind: Binder<DB, R>) -> Result<Option<Chunk<DB>>> {
        if rows.is_empty() {
            return Ok(None);
        }
        let (statement, count) = table.chunk(rows.len());
        // Sized once: growing a vector of thousands of values step by step costs more in the
        // allocator than the values themselves.
        let mut args = DB::Arguments::default();
        args.reserve(count * table.columns(), 0);
        let mut kept = Vec::with_capacity(count * table.columns());
        for row in &rows[..count] {
            bind(&mut args, row, &mut kept)?;
        }
        Ok(Some(Chunk {
            statement,
            args,
            kept,
            rows: count,
        }))
    }

    /// Applies one catalog mutation (see `plan.rs` for why they go one by one).
    async fn apply_catalog(&self, conn: &mut DB::Connection, mutation: &Mutation) -> Result<()> {
        let w = &self.writes;
        match mutation {
            Mutation::PutDatabase(database) => {
                Self::write(conn, &w.databases, &[database], Self::bind_database).await?
            }
            Mutation::DropDatabase { name } => {
                let query = sqlx::query(sql::DELETE_DATABASE).bind(name.as_str());
                query.execute(&mut *conn).await?;
            }
            Mutation::PutTable(table) => {
                Self::write(conn, &w.tables, &[table], Self::bind_table).await?
            }
            Mutation::DropTable { database, name } => {
                Self::delete_all_files(conn, database, name).await?;
                let query = sqlx::query(sql::DELETE_TABLE)
                    .bind(database.as_str())
                    .bind(name.as_str());
                query.execute(&mut *conn).await?;
            }
            Mutation::PutTableFiles(files) => {
                Self::write(conn, &w.files, &unique_files(files), Self::bind_file).await?
            }
            Mutation::DeleteTableFiles {
                database,
                table,
                keys,
            } => {
                let mut rest = keys.as_slice();
                while !rest.is_empty() {
                    let (statement, count) = w.delete_files.chunk(rest.len());
                    // Not a cached prepared statement: PostgreSQL would soon switch to a generic
                    // plan, which, before the table has statistics, scans every file of the
                    // table for each key (seconds for a large manifest instead of milliseconds).
                    let mut query = sqlx::query::<DB>(statement)
                        .persistent(false)
                        .bind(database.as_str())
                        .bind(table.as_str());
                    for key in &rest[..count] {
                        query = query.bind(key.as_str());
                    }
                    query.execute(&mut *conn).await?;
                    rest = &rest[count..];
                }
            }
            Mutation::ReplaceTableFiles {
                database,
                table,
                files,
            } => {
                Self::delete_all_files(conn, database, table).await?;
                Self::write(conn, &w.files, &unique_files(files), Self::bind_file).await?
            }
            Mutation::DeleteMachine { arn } => {
                let query = sqlx::query(sql::DELETE_MACHINE).bind(arn.as_str());
                query.execute(&mut *conn).await?;
            }
            // The other tables' rows are written from the plan's per-table lists.
            Mutation::PutMachine(_)
            | Mutation::PutExecution(_)
            | Mutation::HistoryEvent(_)
            | Mutation::PutStep(_)
            | Mutation::PutVersion(_)
            | Mutation::InsertRun(_)
            | Mutation::PutRun(_)
            | Mutation::PutTask(_)
            | Mutation::PutAttempt(_)
            | Mutation::Event(_)
            | Mutation::PutScheduleState(_) => {}
        }
        Ok(())
    }

    async fn delete_all_files(
        conn: &mut DB::Connection,
        database: &str,
        table: &str,
    ) -> Result<()> {
        let query = sqlx::query(sql::DELETE_ALL_TABLE_FILES)
            .bind(database)
            .bind(table);
        query.execute(&mut *conn).await?;
        Ok(())
    }

    async fn fetch_all<T>(
        &self,
        query: Q<DB>,
        decode: fn(&DB::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        query
            .fetch_all(&self.readers)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    async fn fetch_optional<T>(
        &self,
        query: Q<DB>,
        decode: fn(&DB::Row) -> Result<T>,
    ) -> Result<Option<T>> {
        query
            .fetch_optional(&self.readers)
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }
}

#[async_trait::async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Database + HasStatementCache,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> Arc<str>: Encode<'a, DB> + Type<DB>,
    for<'a> Option<Arc<str>>: Encode<'a, DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> Option<i64>: Encode<'a, DB>,
    for<'a> Option<i32>: Encode<'a, DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
{
    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let plan = Plan::new(batch);
        let w = &self.writes;
        // On any error `tx` is dropped uncommitted, which rolls the whole batch back.
        let mut tx = self.writer.begin().await?;
        // The catalog's tables and the runs' are disjoint, so either may go first.
        for mutation in &plan.catalog {
            self.apply_catalog(&mut tx, mutation).await?;
        }
        Self::write(&mut tx, &w.versions, &plan.versions, Self::bind_version).await?;
        // New runs first: an id that exists fails the insert instead of being overwritten by the
        // upsert of the same run's later state in this batch.
        Self::write(&mut tx, &w.new_runs, &plan.new_runs, Self::bind_run).await?;
        Self::write(&mut tx, &w.runs, &plan.runs, Self::bind_run).await?;
        Self::write(&mut tx, &w.tasks, &plan.tasks, Self::bind_task).await?;
        Self::write(&mut tx, &w.attempts, &plan.attempts, Self::bind_attempt).await?;
        Self::write(&mut tx, &w.events, &plan.events, Self::bind_event).await?;
        Self::write(&mut tx, &w.schedules, &plan.schedules, Self::bind_schedule).await?;
        Self::write(&mut tx, &w.machines, &plan.machines, Self::bind_machine).await?;
        Self::write(
            &mut tx,
            &w.executions,
            &plan.executions,
            Self::bind_execution,
        )
        .await?;
        Self::write(&mut tx, &w.history, &plan.history, Self::bind_history).await?;
        Self::write(&mut tx, &w.steps, &plan.steps, Self::bind_step).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pipeline_version(
        &self,
        pipeline: &str,
        version: &str,
    ) -> Result<Option<VersionRecord>> {
        let query = sqlx::query(sql::VERSION).bind(pipeline).bind(version);
        self.fetch_optional(query, Self::version_from).await
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        self.fetch_optional(sqlx::query(sql::RUN).bind(run_id), Self::run_from)
            .await
    }

    async fn runs(&self, pipeline: Option<&str>, limit: u32) -> Result<Vec<RunRecord>> {
        let query = match pipeline {
            Some(pipeline) => sqlx::query(sql::RUNS_OF_PIPELINE).bind(pipeline),
            None => sqlx::query(sql::RUNS),
        };
        self.fetch_all(query.bind(i64::from(limit)), Self::run_from)
            .await
    }

    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>> {
        self.fetch_all(sqlx::query(sql::UNFINISHED_RUNS), Self::run_from)
            .await
    }

    async fn runs_pending_notification(&self) -> Result<Vec<RunRecord>> {
        self.fetch_all(sqlx::query(sql::RUNS_PENDING_NOTIFICATION), Self::run_from)
            .await
    }

    async fn run_for_logical_date(
        &self,
        pipeline: &str,
        logical_date: i64,
    ) -> Result<Option<RunRecord>> {
        let query = sqlx::query(sql::RUN_FOR_LOGICAL_DATE)
            .bind(pipeline)
            .bind(logical_date);
        self.fetch_optional(query, Self::run_from).await
    }

    async fn task_instances(&self, run_id: &str) -> Result<Vec<TaskRecord>> {
        self.fetch_all(sqlx::query(sql::TASKS).bind(run_id), Self::task_from)
            .await
    }

    async fn attempts(&self, run_id: &str, task_id: Option<&str>) -> Result<Vec<AttemptRecord>> {
        let query = match task_id {
            Some(task_id) => sqlx::query(sql::ATTEMPTS_OF_TASK)
                .bind(run_id)
                .bind(task_id),
            None => sqlx::query(sql::ATTEMPTS).bind(run_id),
        };
        self.fetch_all(query, Self::attempt_from).await
    }

    async fn open_attempts(&self) -> Result<Vec<AttemptRecord>> {
        self.fetch_all(sqlx::query(sql::OPEN_ATTEMPTS), Self::attempt_from)
            .await
    }

    async fn run_events(&self, run_id: &str) -> Result<Vec<EventRecord>> {
        self.fetch_all(sqlx::query(sql::EVENTS).bind(run_id), Self::event_from)
            .await
    }

    async fn schedule_states(&self) -> Result<Vec<ScheduleStateRecord>> {
        self.fetch_all(sqlx::query(sql::SCHEDULE_STATES), Self::schedule_from)
            .await
    }

    async fn database(&self, name: &str) -> Result<Option<DatabaseRecord>> {
        let query = sqlx::query(sql::DATABASE).bind(name);
        self.fetch_optional(query, Self::database_from).await
    }

    async fn databases(&self) -> Result<Vec<DatabaseRecord>> {
        self.fetch_all(sqlx::query(sql::DATABASES), Self::database_from)
            .await
    }

    async fn table(&self, database: &str, name: &str) -> Result<Option<TableRecord>> {
        let query = sqlx::query(sql::TABLE).bind(database).bind(name);
        self.fetch_optional(query, Self::table_from).await
    }

    async fn tables(&self, database: Option<&str>) -> Result<Vec<TableRecord>> {
        let query = match database {
            Some(database) => sqlx::query(sql::TABLES_OF_DATABASE).bind(database),
            None => sqlx::query(sql::TABLES),
        };
        self.fetch_all(query, Self::table_from).await
    }

    async fn table_files(&self, database: &str, table: &str) -> Result<Vec<TableFileRecord>> {
        let query = sqlx::query(sql::TABLE_FILES).bind(database).bind(table);
        self.fetch_all(query, Self::file_from).await
    }

    async fn machine(&self, arn: &str) -> Result<Option<MachineRecord>> {
        self.fetch_optional(sqlx::query(sql::MACHINE).bind(arn), Self::machine_from)
            .await
    }

    async fn machines(&self) -> Result<Vec<MachineRecord>> {
        self.fetch_all(sqlx::query(sql::MACHINES), Self::machine_from)
            .await
    }

    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        self.fetch_optional(sqlx::query(sql::EXECUTION).bind(arn), Self::execution_from)
            .await
    }

    async fn executions(
        &self,
        machine_arn: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ExecutionRecord>> {
        let query = sqlx::query(sql::EXECUTIONS)
            .bind(machine_arn)
            .bind(status)
            .bind(i64::from(limit));
        self.fetch_all(query, Self::execution_from).await
    }

    async fn history(&self, execution_arn: &str) -> Result<Vec<HistoryEventRecord>> {
        let query = sqlx::query(sql::HISTORY).bind(execution_arn);
        self.fetch_all(query, Self::history_from).await
    }

    async fn last_event_id(&self, execution_arn: &str) -> Result<i64> {
        let row = sqlx::query::<DB>(sql::LAST_EVENT_ID)
            .bind(execution_arn)
            .fetch_one(&self.readers)
            .await?;
        Ok(row.try_get("last_id")?)
    }

    async fn steps(&self, execution_arn: &str) -> Result<Vec<StepRecord>> {
        let query = sqlx::query(sql::STEPS).bind(execution_arn);
        self.fetch_all(query, Self::step_from).await
    }
}
