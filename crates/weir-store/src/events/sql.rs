//! The bus's statements: how its records are stored, their writes and their queries.

use super::plan::Step;
use super::{
    ArchiveUsage, ArchivedEventRecord, EventArchiveRecord, EventBusRecord, EventReplayRecord,
    EventRetryRecord, EventRuleRecord, EventsStore, Plan,
};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};

mapping!(EventBusRecord {
    name: text,
    description: opt_text,
    tags: json,
    created_ms: value,
    updated_ms: value,
});

mapping!(EventRuleRecord {
    bus: text,
    name: text,
    description: opt_text,
    event_pattern: opt_text,
    schedule: opt_text,
    state: text,
    role_arn: opt_text,
    targets: json,
    tags: json,
    created_ms: value,
    updated_ms: value,
});

mapping!(EventArchiveRecord {
    name: text,
    source_arn: text,
    description: opt_text,
    event_pattern: opt_text,
    retention_days: value,
    state: text,
    created_ms: value,
});

mapping!(ArchivedEventRecord {
    archive: text,
    time_ms: value,
    seq: value,
    event: text,
});

mapping!(ArchiveUsage {
    archive: text,
    events: value,
    bytes: value,
});

mapping!(EventReplayRecord {
    name: text,
    description: opt_text,
    archive_arn: text,
    destination_arn: text,
    filter_arns: json,
    start_ms: value,
    end_ms: value,
    state: text,
    state_reason: opt_text,
    started_ms: value,
    ended_ms: value,
    last_replayed_ms: value,
    cursor_time_ms: value,
    cursor_seq: value,
});

mapping!(EventRetryRecord {
    id: text,
    bus: text,
    rule: text,
    target: json,
    event: text,
    input: text,
    attempts: value,
    first_ms: value,
    next_ms: value,
    error_code: text,
    error_message: text,
});

/// The bus's write statements, in the backend's placeholder style.
pub(crate) struct EventsWrites {
    buses: Write,
    rules: Write,
    archives: Write,
    archived: Write,
    replays: Write,
    retries: Write,
}

impl EventsWrites {
    pub(crate) fn new(placeholders: Placeholders) -> EventsWrites {
        let write =
            |table, columns, key| Write::new(table, columns, key, OnConflict::Update, placeholders);
        EventsWrites {
            buses: write("event_buses", EventBusRecord::COLUMNS, &["name"]),
            rules: write("event_rules", EventRuleRecord::COLUMNS, &["bus", "name"]),
            archives: write("event_archives", EventArchiveRecord::COLUMNS, &["name"]),
            archived: write(
                "event_archived",
                ArchivedEventRecord::COLUMNS,
                &["archive", "time_ms", "seq"],
            ),
            replays: write("event_replays", EventReplayRecord::COLUMNS, &["name"]),
            retries: write("event_retries", EventRetryRecord::COLUMNS, &["id"]),
        }
    }

    /// Writes the bus's part of a batch, inside the batch's transaction, step by step in batch
    /// order (see `plan.rs`).
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for step in plan.into_steps() {
            match step {
                Step::Upserts(upserts) => {
                    let upserts = *upserts;
                    write::<DB, _>(conn, &self.buses, &upserts.buses.into_rows()).await?;
                    write::<DB, _>(conn, &self.rules, &upserts.rules.into_rows()).await?;
                    write::<DB, _>(conn, &self.archives, &upserts.archives.into_rows()).await?;
                    write::<DB, _>(conn, &self.archived, &upserts.archived.into_rows()).await?;
                    write::<DB, _>(conn, &self.replays, &upserts.replays.into_rows()).await?;
                    write::<DB, _>(conn, &self.retries, &upserts.retries.into_rows()).await?;
                }
                Step::DeleteBus(name) => {
                    for delete in [DELETE_BUS, DELETE_BUS_RULES] {
                        DB::execute(conn, Statement::new(delete).bind(name)).await?;
                    }
                }
                Step::DeleteRule { bus, name } => {
                    let statement = Statement::new(DELETE_RULE).bind(bus).bind(name);
                    DB::execute(conn, statement).await?
                }
                Step::DeleteArchive(name) => {
                    for delete in [DELETE_ARCHIVE, DELETE_ARCHIVED] {
                        DB::execute(conn, Statement::new(delete).bind(name)).await?;
                    }
                }
                Step::ExpireArchivedEvents { archive, before_ms } => {
                    let statement = Statement::new(EXPIRE_ARCHIVED)
                        .bind(archive)
                        .bind(before_ms);
                    DB::execute(conn, statement).await?
                }
                Step::DeleteRetry(id) => {
                    DB::execute(conn, Statement::new(DELETE_RETRY).bind(id)).await?
                }
            }
        }
        Ok(())
    }
}

const DELETE_BUS: &str = "DELETE FROM event_buses WHERE name = $1";
const DELETE_BUS_RULES: &str = "DELETE FROM event_rules WHERE bus = $1";
const DELETE_RULE: &str = "DELETE FROM event_rules WHERE bus = $1 AND name = $2";
const DELETE_ARCHIVE: &str = "DELETE FROM event_archives WHERE name = $1";
const DELETE_ARCHIVED: &str = "DELETE FROM event_archived WHERE archive = $1";
const EXPIRE_ARCHIVED: &str = "DELETE FROM event_archived WHERE archive = $1 AND time_ms < $2";
const DELETE_RETRY: &str = "DELETE FROM event_retries WHERE id = $1";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const BUSES: &str = "SELECT * FROM event_buses ORDER BY name";
const RULES: &str = "SELECT * FROM event_rules ORDER BY bus, name";
const ARCHIVES: &str = "SELECT * FROM event_archives ORDER BY name";
const USAGE: &str = "SELECT archive, COUNT(*) AS events, \
     CAST(COALESCE(SUM(LENGTH(event)), 0) AS BIGINT) AS bytes \
     FROM event_archived GROUP BY archive ORDER BY archive";
const ARCHIVED: &str = "SELECT * FROM event_archived \
     WHERE archive = $1 AND time_ms >= $2 AND time_ms < $3 \
     AND (time_ms > $4 OR (time_ms = $4 AND seq > $5)) \
     ORDER BY time_ms, seq LIMIT $6";
const REPLAYS: &str = "SELECT * FROM event_replays ORDER BY name";
const RETRIES: &str = "SELECT * FROM event_retries ORDER BY next_ms, id";

#[async_trait::async_trait]
impl<DB: Driver> EventsStore for SqlStore<DB> {
    async fn event_buses(&self) -> Result<Vec<EventBusRecord>> {
        self.fetch_all(Statement::new(BUSES)).await
    }

    async fn event_rules(&self) -> Result<Vec<EventRuleRecord>> {
        self.fetch_all(Statement::new(RULES)).await
    }

    async fn event_archives(&self) -> Result<Vec<EventArchiveRecord>> {
        self.fetch_all(Statement::new(ARCHIVES)).await
    }

    async fn archive_usage(&self) -> Result<Vec<ArchiveUsage>> {
        self.fetch_all(Statement::new(USAGE)).await
    }

    async fn archived_events(
        &self,
        archive: &str,
        start_ms: i64,
        end_ms: i64,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ArchivedEventRecord>> {
        let (after_ms, after_seq) = after.unwrap_or((i64::MIN, i64::MIN));
        let statement = Statement::new(ARCHIVED)
            .bind(archive)
            .bind(start_ms)
            .bind(end_ms)
            .bind(after_ms)
            .bind(after_seq)
            .bind(limit);
        self.fetch_all(statement).await
    }

    async fn event_replays(&self) -> Result<Vec<EventReplayRecord>> {
        self.fetch_all(Statement::new(REPLAYS)).await
    }

    async fn event_retries(&self) -> Result<Vec<EventRetryRecord>> {
        self.fetch_all(Statement::new(RETRIES)).await
    }
}
