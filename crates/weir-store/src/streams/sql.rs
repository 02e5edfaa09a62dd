//! The streams' statements: how their records are stored, their writes and their queries.

use super::plan::Step;
use super::{Plan, ShardRecord, StreamConsumerRecord, StreamRecord, StreamStore};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(StreamRecord {
    name: text,
    arn: text,
    mode: text,
    retention_hours: value,
    status: text,
    created_ms: value,
    tags: json,
    storage_dir: text,
});

mapping!(ShardRecord {
    stream: text,
    shard: value,
    parent: value,
    adjacent_parent: value,
    hash_start: text,
    hash_end: text,
    starting_offset: value,
    ending_offset: value,
    created_ms: value,
    closed_ms: value,
});

mapping!(StreamConsumerRecord {
    stream: text,
    name: text,
    arn: text,
    status: text,
    created_ms: value,
});

/// The streams' write statements, in the backend's placeholder style.
pub(crate) struct StreamWrites {
    streams: Write,
    shards: Write,
    consumers: Write,
}

impl StreamWrites {
    pub(crate) fn new(placeholders: Placeholders) -> StreamWrites {
        let write =
            |table, columns, key| Write::new(table, columns, key, OnConflict::Update, placeholders);
        StreamWrites {
            streams: write("streams", StreamRecord::COLUMNS, &["name"]),
            shards: write("stream_shards", ShardRecord::COLUMNS, &["stream", "shard"]),
            consumers: write(
                "stream_consumers",
                StreamConsumerRecord::COLUMNS,
                &["stream", "name"],
            ),
        }
    }

    /// Writes the streams' part of a batch, inside the batch's transaction, step by step in batch
    /// order (see `plan.rs`).
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for step in plan.into_steps() {
            match step {
                Step::Upserts(upserts) => {
                    write::<DB, _>(conn, &self.streams, &upserts.streams.into_rows()).await?;
                    write::<DB, _>(conn, &self.shards, &upserts.shards.into_rows()).await?;
                    write::<DB, _>(conn, &self.consumers, &upserts.consumers.into_rows()).await?;
                }
                Step::DeleteStream(name) => {
                    for delete in [DELETE_STREAM, DELETE_SHARDS, DELETE_CONSUMERS] {
                        DB::execute(conn, Statement::new(delete).bind(name)).await?;
                    }
                }
                Step::DeleteConsumer { stream, name } => {
                    let statement = Statement::new(DELETE_CONSUMER).bind(stream).bind(name);
                    DB::execute(conn, statement).await?
                }
            }
        }
        Ok(())
    }
}

const DELETE_STREAM: &str = "DELETE FROM streams WHERE name = $1";
const DELETE_SHARDS: &str = "DELETE FROM stream_shards WHERE stream = $1";
const DELETE_CONSUMERS: &str = "DELETE FROM stream_consumers WHERE stream = $1";
const DELETE_CONSUMER: &str = "DELETE FROM stream_consumers WHERE stream = $1 AND name = $2";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const STREAMS: &str = "SELECT * FROM streams ORDER BY name";
const STREAM: &str = "SELECT * FROM streams WHERE name = $1";
const SHARDS: &str = "SELECT * FROM stream_shards WHERE stream = $1 ORDER BY shard";
const CONSUMERS: &str = "SELECT * FROM stream_consumers WHERE stream = $1 ORDER BY name";

#[async_trait::async_trait]
impl<DB: Driver> StreamStore for SqlStore<DB> {
    async fn streams(&self) -> Result<Vec<StreamRecord>> {
        self.fetch_all(Statement::new(STREAMS)).await
    }

    async fn stream(&self, name: &str) -> Result<Option<StreamRecord>> {
        self.fetch_optional(Statement::new(STREAM).bind(name)).await
    }

    async fn stream_shards(&self, stream: &str) -> Result<Vec<ShardRecord>> {
        self.fetch_all(Statement::new(SHARDS).bind(stream)).await
    }

    async fn stream_consumers(&self, stream: &str) -> Result<Vec<StreamConsumerRecord>> {
        self.fetch_all(Statement::new(CONSUMERS).bind(stream)).await
    }
}
