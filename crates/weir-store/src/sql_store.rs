//! The store, written once over a sqlx [`Driver`]: SQLite and PostgreSQL share every statement,
//! so each backend only knows how to open its pools (`sqlite.rs`, `postgres.rs`). This file holds
//! what the subsystems share: the pools, the transaction around a batch, and the chunked
//! multi-row write every subsystem's part of `apply` uses. Each subsystem's own statements,
//! writes and queries live in its module (`runs/sql.rs`, `catalog/sql.rs`, `machines/sql.rs`,
//! `secrets/sql.rs`, `streams/sql.rs`, `consumers/sql.rs`, `event_sources/sql.rs`, `queues/sql.rs`, `queries/sql.rs`,
//! `transforms/sql.rs`).

use std::sync::Arc;

use sqlx::{Arguments, Pool, SqlStr};

use crate::access::AccessWrites;
use crate::catalog::CatalogWrites;
use crate::consumers::ConsumerWrites;
use crate::deliveries::DeliveryWrites;
use crate::driver::{Driver, Record, Statement};
use crate::event_sources::EventSourceWrites;
use crate::events::EventsWrites;
use crate::machines::MachineWrites;
use crate::plan::Plan;
use crate::queries::QueryWrites;
use crate::queues::QueueWrites;
use crate::runs::RunWrites;
use crate::secrets::SecretWrites;
use crate::statements::{Placeholders, Write};
use crate::streams::StreamWrites;
use crate::transforms::TransformWrites;
use crate::{Mutation, Result, Store};

/// A [`Store`] on the sqlx driver `DB`. Named through its aliases, `SqliteStore` and
/// `PostgresStore`, whose `open` sets up the pools.
pub struct SqlStore<DB: sqlx::Database> {
    /// Used by `apply` only. On SQLite it holds the one connection that writes, so that writers
    /// never wait on each other's locks; on PostgreSQL it is the same pool as `readers`.
    pub(crate) writer: Pool<DB>,
    /// Used by queries, so that reads never wait behind a commit.
    pub(crate) readers: Pool<DB>,
    /// Each subsystem's write statements, in the backend's placeholder style.
    pub(crate) runs: RunWrites,
    catalog: CatalogWrites,
    machines: MachineWrites,
    access: AccessWrites,
    secrets: SecretWrites,
    consumers: ConsumerWrites,
    event_sources: EventSourceWrites,
    streams: StreamWrites,
    deliveries: DeliveryWrites,
    events: EventsWrites,
    queues: QueueWrites,
    queries: QueryWrites,
    transforms: TransformWrites,
}

/// One multi-row statement, ready to run.
struct Chunk<DB: sqlx::Database> {
    statement: SqlStr,
    args: DB::Arguments,
    /// The strings `args` shares, freed here once the statement has run.
    kept: Vec<Arc<str>>,
    rows: usize,
}

impl<DB: Driver> SqlStore<DB> {
    pub(crate) fn new(writer: Pool<DB>, readers: Pool<DB>, placeholders: Placeholders) -> Self {
        SqlStore {
            writer,
            readers,
            runs: RunWrites::new(placeholders),
            catalog: CatalogWrites::new(placeholders),
            machines: MachineWrites::new(placeholders),
            access: AccessWrites::new(placeholders),
            secrets: SecretWrites::new(placeholders),
            consumers: ConsumerWrites,
            event_sources: EventSourceWrites::new(placeholders),
            streams: StreamWrites::new(placeholders),
            deliveries: DeliveryWrites::new(placeholders),
            events: EventsWrites::new(placeholders),
            queues: QueueWrites::new(placeholders),
            queries: QueryWrites::new(placeholders),
            transforms: TransformWrites::new(placeholders),
        }
    }

    /// Runs a query on the readers and decodes every row.
    pub(crate) async fn fetch_all<R: Record>(&self, statement: Statement<DB>) -> Result<Vec<R>> {
        DB::fetch_all(&self.readers, statement)
            .await?
            .iter()
            .map(R::decode::<DB>)
            .collect()
    }

    /// Runs a query on the readers and decodes its first row, if any.
    pub(crate) async fn fetch_optional<R: Record>(
        &self,
        statement: Statement<DB>,
    ) -> Result<Option<R>> {
        DB::fetch_optional(&self.readers, statement)
            .await?
            .as_ref()
            .map(R::decode::<DB>)
            .transpose()
    }
}

/// Writes `rows` with as few statements as the chunk sizes allow. The arguments of the next
/// statement are prepared while the database runs the current one: on SQLite that is another
/// thread, on PostgreSQL another process, so the two halves of the work overlap.
pub(crate) async fn write<DB: Driver, R: Record + Sync>(
    conn: &mut DB::Connection,
    table: &Write,
    rows: &[&R],
) -> Result<()> {
    let mut rest = rows;
    let mut next = encode::<DB, R>(table, rest)?;
    while let Some(chunk) = next.take() {
        rest = &rest[chunk.rows..];
        let execute = DB::execute(&mut *conn, Statement::with(chunk.statement, chunk.args));
        // `join` polls `execute` first, which hands the statement over, then encodes.
        let encode_next = async { encode::<DB, R>(table, rest) };
        let (done, encoded) = futures::future::join(execute, encode_next).await;
        done?;
        drop(chunk.kept);
        next = encoded?;
    }
    Ok(())
}

/// The statement and arguments for the first chunk of `rows` (none when `rows` is empty).
fn encode<DB: Driver, R: Record>(table: &Write, rows: &[&R]) -> Result<Option<Chunk<DB>>> {
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
        row.bind::<DB>(&mut args, &mut kept)?;
    }
    Ok(Some(Chunk {
        statement,
        args,
        kept,
        rows: count,
    }))
}

#[async_trait::async_trait]
impl<DB: Driver> Store for SqlStore<DB> {
    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let plan = Plan::new(batch);
        // On any error `tx` is dropped uncommitted, which rolls the whole batch back. The
        // subsystems' tables are disjoint, so the order of their parts does not matter.
        let mut tx = self.writer.begin().await?;
        self.catalog.apply::<DB>(&mut tx, plan.catalog).await?;
        self.runs.apply::<DB>(&mut tx, plan.runs).await?;
        self.machines.apply::<DB>(&mut tx, plan.machines).await?;
        self.access.apply::<DB>(&mut tx, plan.access).await?;
        self.secrets.apply::<DB>(&mut tx, plan.secrets).await?;
        self.consumers.apply::<DB>(&mut tx, plan.consumers).await?;
        self.event_sources
            .apply::<DB>(&mut tx, plan.event_sources)
            .await?;
        self.streams.apply::<DB>(&mut tx, plan.streams).await?;
        self.deliveries
            .apply::<DB>(&mut tx, plan.deliveries)
            .await?;
        self.events.apply::<DB>(&mut tx, plan.events).await?;
        self.queues.apply::<DB>(&mut tx, plan.queues).await?;
        self.queries.apply::<DB>(&mut tx, plan.queries).await?;
        self.transforms
            .apply::<DB>(&mut tx, plan.transforms)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
