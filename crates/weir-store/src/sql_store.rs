//! The store, written once over `sqlx::Database`: SQLite and PostgreSQL share every statement
//! (see `statements.rs`), so binding rows, decoding them and the transaction around a batch live
//! here, and each backend only knows how to open its pools (`sqlite.rs`, `postgres.rs`).

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use crate::plan::Plan;
use crate::statements::{self as sql, Write};
use crate::{
    AttemptRecord, EventRecord, Mutation, Result, RunRecord, ScheduleStateRecord, Store, TaskRecord,
    VersionRecord,
};

/// A [`Store`] on the sqlx driver `DB`. Named through its aliases, `SqliteStore` and
/// `PostgresStore`, whose `open` sets up the pools.
pub struct SqlStore<DB: Database> {
    /// Used by `apply` only. On SQLite it holds the one connection that writes, so that writers
    /// never wait on each other's locks; on PostgreSQL it is the same pool as `readers`.
    writer: Pool<DB>,
    /// Used by queries, so that reads never wait behind a commit.
    readers: Pool<DB>,
}

type Q<DB> = Query<'static, DB, <DB as Database>::Arguments>;

/// Fills the placeholders of one row, in the column order of its table in `statements.rs`.
type Binder<DB, R> = fn(Q<DB>, &R) -> Result<Q<DB>>;

impl<DB: Database> SqlStore<DB> {
    pub(crate) fn new(writer: Pool<DB>, readers: Pool<DB>) -> Self {
        SqlStore { writer, readers }
    }
}

// The driver capabilities the shared code uses. Rust does not carry such bounds along with a trait,
// so the list is written on both impls below; both drivers provide all of it.
impl<DB> SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> Option<i64>: Encode<'a, DB>,
    for<'a> Option<i32>: Encode<'a, DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
{
    /// Writes `rows` with as few statements as the chunk sizes allow.
    async fn write<R>(conn: &mut DB::Connection, table: &'static Write, rows: &[&R], bind: Binder<DB, R>) -> Result<()>
    where
        R: Sync,
    {
        let mut rest = rows;
        while !rest.is_empty() {
            let (statement, count) = table.chunk(rest.len());
            let mut query = sqlx::query::<DB>(statement);
            for row in &rest[..count] {
                query = bind(query, row)?;
            }
            query.execute(&mut *conn).await?;
            rest = &rest[count..];
        }
        Ok(())
    }

    async fn fetch_all<T>(&self, query: Q<DB>, decode: fn(&DB::Row) -> Result<T>) -> Result<Vec<T>> {
        query.fetch_all(&self.readers).await?.iter().map(decode).collect()
    }

    async fn fetch_optional<T>(&self, query: Q<DB>, decode: fn(&DB::Row) -> Result<T>) -> Result<Option<T>> {
        query.fetch_optional(&self.readers).await?.as_ref().map(decode).transpose()
    }

    fn bind_version(query: Q<DB>, v: &VersionRecord) -> Result<Q<DB>> {
        Ok(query.bind(v.pipeline.as_str()).bind(v.version.as_str()).bind(v.path.as_str()).bind(v.source.as_str()).bind(v.created_at))
    }

    fn bind_run(query: Q<DB>, r: &RunRecord) -> Result<Q<DB>> {
        let params = serde_json::to_string(&r.params)?;
        Ok(query
            .bind(r.id.as_str())
            .bind(r.pipeline.as_str())
            .bind(r.version.as_str())
            .bind(r.state.as_str())
            .bind(r.run_type.as_str())
            .bind(r.logical_date)
            .bind(r.interval_start)
            .bind(r.interval_end)
            .bind(params.as_str())
            .bind(r.created_at)
            .bind(r.started_at)
            .bind(r.ended_at)
            .bind(r.notified))
    }

    fn bind_task(query: Q<DB>, t: &TaskRecord) -> Result<Q<DB>> {
        let output = t.output.as_ref().map(serde_json::to_string).transpose()?;
        let item = t.item.as_ref().map(serde_json::to_string).transpose()?;
        Ok(query
            .bind(t.run_id.as_str())
            .bind(t.task_id.as_str())
            .bind(t.map_index)
            .bind(t.state.as_str())
            .bind(t.try_number)
            .bind(t.max_tries)
            .bind(t.started_at)
            .bind(t.ended_at)
            .bind(t.next_try_at)
            .bind(output.as_deref())
            .bind(item.as_deref())
            .bind(t.error.as_deref()))
    }

    fn bind_attempt(query: Q<DB>, a: &AttemptRecord) -> Result<Q<DB>> {
        Ok(query
            .bind(a.run_id.as_str())
            .bind(a.task_id.as_str())
            .bind(a.map_index)
            .bind(a.try_number)
            .bind(a.state.as_str())
            .bind(a.started_at)
            .bind(a.ended_at)
            .bind(a.pid)
            .bind(a.exit_code)
            .bind(a.error.as_deref())
            .bind(a.log_path.as_str()))
    }

    fn bind_event(query: Q<DB>, e: &EventRecord) -> Result<Q<DB>> {
        Ok(query
            .bind(e.run_id.as_str())
            .bind(e.at)
            .bind(e.task_id.as_deref())
            .bind(e.map_index)
            .bind(e.try_number)
            .bind(e.state.as_str())
            .bind(e.message.as_deref()))
    }

    fn bind_schedule(query: Q<DB>, s: &ScheduleStateRecord) -> Result<Q<DB>> {
        Ok(query.bind(s.pipeline.as_str()).bind(s.last_interval_end).bind(s.paused))
    }

    fn version_from(row: &DB::Row) -> Result<VersionRecord> {
        Ok(VersionRecord {
            pipeline: row.try_get("pipeline")?,
            version: row.try_get("version")?,
            path: row.try_get("path")?,
            source: row.try_get("source")?,
            created_at: row.try_get("created_at")?,
        })
    }

    fn run_from(row: &DB::Row) -> Result<RunRecord> {
        Ok(RunRecord {
            id: row.try_get("id")?,
            pipeline: row.try_get("pipeline")?,
            version: row.try_get("version")?,
            state: row.try_get("state")?,
            run_type: row.try_get("run_type")?,
            logical_date: row.try_get("logical_date")?,
            interval_start: row.try_get("interval_start")?,
            interval_end: row.try_get("interval_end")?,
            params: serde_json::from_str(&row.try_get::<String, _>("params")?)?,
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            ended_at: row.try_get("ended_at")?,
            notified: row.try_get("notified")?,
        })
    }

    fn task_from(row: &DB::Row) -> Result<TaskRecord> {
        Ok(TaskRecord {
            run_id: row.try_get("run_id")?,
            task_id: row.try_get("task_id")?,
            map_index: row.try_get("map_index")?,
            state: row.try_get("state")?,
            try_number: row.try_get("try_number")?,
            max_tries: row.try_get("max_tries")?,
            started_at: row.try_get("started_at")?,
            ended_at: row.try_get("ended_at")?,
            next_try_at: row.try_get("next_try_at")?,
            output: optional_json(row.try_get("output")?)?,
            item: optional_json(row.try_get("item")?)?,
            error: row.try_get("error")?,
        })
    }

    fn attempt_from(row: &DB::Row) -> Result<AttemptRecord> {
        Ok(AttemptRecord {
            run_id: row.try_get("run_id")?,
            task_id: row.try_get("task_id")?,
            map_index: row.try_get("map_index")?,
            try_number: row.try_get("try_number")?,
            state: row.try_get("state")?,
            started_at: row.try_get("started_at")?,
            ended_at: row.try_get("ended_at")?,
            pid: row.try_get("pid")?,
            exit_code: row.try_get("exit_code")?,
            error: row.try_get("error")?,
            log_path: row.try_get("log_path")?,
        })
    }

    fn event_from(row: &DB::Row) -> Result<EventRecord> {
        Ok(EventRecord {
            run_id: row.try_get("run_id")?,
            at: row.try_get("at")?,
            task_id: row.try_get("task_id")?,
            map_index: row.try_get("map_index")?,
            try_number: row.try_get("try_number")?,
            state: row.try_get("state")?,
            message: row.try_get("message")?,
        })
    }

    fn schedule_from(row: &DB::Row) -> Result<ScheduleStateRecord> {
        Ok(ScheduleStateRecord {
            pipeline: row.try_get("pipeline")?,
            last_interval_end: row.try_get("last_interval_end")?,
            paused: row.try_get("paused")?,
        })
    }
}

fn optional_json(text: Option<String>) -> Result<Option<serde_json::Value>> {
    Ok(text.as_deref().map(serde_json::from_str).transpose()?)
}

#[async_trait::async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
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
        // On any error `tx` is dropped uncommitted, which rolls the whole batch back.
        let mut tx = self.writer.begin().await?;
        Self::write(&mut tx, &sql::WRITE_VERSIONS, &plan.versions, Self::bind_version).await?;
        Self::write(&mut tx, &sql::WRITE_RUNS, &plan.runs, Self::bind_run).await?;
        Self::write(&mut tx, &sql::WRITE_TASKS, &plan.tasks, Self::bind_task).await?;
        Self::write(&mut tx, &sql::WRITE_ATTEMPTS, &plan.attempts, Self::bind_attempt).await?;
        Self::write(&mut tx, &sql::WRITE_EVENTS, &plan.events, Self::bind_event).await?;
        Self::write(&mut tx, &sql::WRITE_SCHEDULES, &plan.schedules, Self::bind_schedule).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pipeline_version(&self, pipeline: &str, version: &str) -> Result<Option<VersionRecord>> {
        self.fetch_optional(sqlx::query(sql::VERSION).bind(pipeline).bind(version), Self::version_from).await
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        self.fetch_optional(sqlx::query(sql::RUN).bind(run_id), Self::run_from).await
    }

    async fn runs(&self, pipeline: Option<&str>, limit: u32) -> Result<Vec<RunRecord>> {
        let query = match pipeline {
            Some(pipeline) => sqlx::query(sql::RUNS_OF_PIPELINE).bind(pipeline),
            None => sqlx::query(sql::RUNS),
        };
        self.fetch_all(query.bind(i64::from(limit)), Self::run_from).await
    }

    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>> {
        self.fetch_all(sqlx::query(sql::UNFINISHED_RUNS), Self::run_from).await
    }

    async fn runs_pending_notification(&self) -> Result<Vec<RunRecord>> {
        self.fetch_all(sqlx::query(sql::RUNS_PENDING_NOTIFICATION), Self::run_from).await
    }

    async fn run_for_logical_date(&self, pipeline: &str, logical_date: i64) -> Result<Option<RunRecord>> {
        let query = sqlx::query(sql::RUN_FOR_LOGICAL_DATE).bind(pipeline).bind(logical_date);
        self.fetch_optional(query, Self::run_from).await
    }

    async fn task_instances(&self, run_id: &str) -> Result<Vec<TaskRecord>> {
        self.fetch_all(sqlx::query(sql::TASKS).bind(run_id), Self::task_from).await
    }

    async fn attempts(&self, run_id: &str, task_id: Option<&str>) -> Result<Vec<AttemptRecord>> {
        let query = match task_id {
            Some(task_id) => sqlx::query(sql::ATTEMPTS_OF_TASK).bind(run_id).bind(task_id),
            None => sqlx::query(sql::ATTEMPTS).bind(run_id),
        };
        self.fetch_all(query, Self::attempt_from).await
    }

    async fn open_attempts(&self) -> Result<Vec<AttemptRecord>> {
        self.fetch_all(sqlx::query(sql::OPEN_ATTEMPTS), Self::attempt_from).await
    }

    async fn run_events(&self, run_id: &str) -> Result<Vec<EventRecord>> {
        self.fetch_all(sqlx::query(sql::EVENTS).bind(run_id), Self::event_from).await
    }

    async fn schedule_states(&self) -> Result<Vec<ScheduleStateRecord>> {
        self.fetch_all(sqlx::query(sql::SCHEDULE_STATES), Self::schedule_from).await
    }
}
