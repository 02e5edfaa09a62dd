//! The state machines' statements: how their records are stored, their writes and their queries.

use super::{
    ExecutionFilter, ExecutionRecord, HistoryEventRecord, MachineRecord, MachineStore, Plan,
    StepRecord,
};
use crate::driver::{Driver, Loads, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{OnConflict, Placeholders, Write};
use crate::{Result, StoreError};

mapping!(MachineRecord {
    arn: text,
    name: text,
    machine_type: text,
    definition: text,
    role_arn: text,
    settings: json,
    source: text,
    created_at: value,
    updated_at: value,
});

mapping!(ExecutionRecord {
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
    redrive_count: value,
    redriven_at: value,
});

mapping!(HistoryEventRecord {
    execution_arn: text,
    id: value,
    previous_id: value,
    at: value,
    event_type: text,
    details: text,
});

mapping!(StepRecord {
    execution_arn: text,
    step: text,
    state: text,
    record: text,
});

/// The state machines' write statements, in the backend's placeholder style.
pub(crate) struct MachineWrites {
    machines: Write,
    executions: Write,
    history: Write,
    steps: Write,
}

impl MachineWrites {
    pub(crate) fn new(placeholders: Placeholders) -> MachineWrites {
        let write = |table, columns, key, on_conflict| {
            Write::new(table, columns, key, on_conflict, placeholders)
        };
        MachineWrites {
            machines: write(
                "state_machines",
                MachineRecord::COLUMNS,
                &["arn"],
                OnConflict::Update,
            ),
            executions: write(
                "executions",
                ExecutionRecord::COLUMNS,
                &["arn"],
                OnConflict::Update,
            ),
            history: write(
                "execution_events",
                HistoryEventRecord::COLUMNS,
                &["execution_arn", "id"],
                OnConflict::Ignore,
            ),
            steps: write(
                "execution_steps",
                StepRecord::COLUMNS,
                &["execution_arn", "step"],
                OnConflict::Update,
            ),
        }
    }

    /// Writes the state machines' part of a batch, inside the batch's transaction: deletions
    /// first, in batch order, then the upserts (see `plan.rs`).
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for arn in plan.deleted {
            DB::execute(conn, Statement::new(DELETE_MACHINE).bind(arn)).await?;
        }
        write::<DB, _>(conn, &self.machines, &plan.machines.into_rows()).await?;
        write::<DB, _>(conn, &self.executions, &plan.executions.into_rows()).await?;
        write::<DB, _>(conn, &self.history, &plan.history).await?;
        write::<DB, _>(conn, &self.steps, &plan.steps.into_rows()).await
    }
}

const DELETE_MACHINE: &str = "DELETE FROM state_machines WHERE arn = $1";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.
// Ties on timestamps are broken by key so that listings are stable.

const MACHINE: &str = "SELECT * FROM state_machines WHERE arn = $1";
const MACHINES: &str = "SELECT * FROM state_machines ORDER BY name";
const EXECUTION: &str = "SELECT * FROM executions WHERE arn = $1";
const EXECUTIONS: &str = "SELECT * FROM executions WHERE ($1 IS NULL OR machine_arn = $1) AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR started_at < $3 OR (started_at = $3 AND arn < $4)) AND ($6 IS NULL OR ($6 = 1 AND redrive_count > 0) OR ($6 = 0 AND redrive_count = 0)) ORDER BY started_at DESC, arn DESC LIMIT $5";
const HISTORY: &str = "SELECT * FROM execution_events WHERE execution_arn = $1 ORDER BY id";
/// The history as rows of up to [`HISTORY_CHUNK`] events each, their fields joined by `$2` and
/// the events by `$3` (the same text in SQLite and PostgreSQL). A row costs about as much to
/// fetch as its size, and an event's row far more than that: a Map of 10,000 items has some
/// 40,000 events, which took ~120 ms to fetch one a row and take a fortieth of the round trips
/// in chunks.
const HISTORY_CHUNKS: &str = "SELECT COUNT(*) AS events, string_agg(CAST(id AS TEXT) || $2 || CAST(previous_id AS TEXT) || $2 || CAST(at AS TEXT) || $2 || event_type || $2 || details, $3 ORDER BY id) AS chunk FROM execution_events WHERE execution_arn = $1 GROUP BY id / 1000 ORDER BY id / 1000";
/// Events a chunk (the divisor in [`HISTORY_CHUNKS`]).
const HISTORY_CHUNK: usize = 1000;
/// Between an event's fields and between events in a chunk: control characters, which JSON
/// text (the details) never holds unescaped. A chunk that splits into other than its count of
/// events (details that are not JSON after all) is read again one event a row.
const FIELD_SEPARATOR: char = '\u{1f}';
const EVENT_SEPARATOR: char = '\u{1e}';
/// The separators as the statement's parameters.
const FIELD_SEPARATOR_TEXT: &str = "\u{1f}";
const EVENT_SEPARATOR_TEXT: &str = "\u{1e}";
const LAST_EVENT_ID: &str =
    "SELECT COALESCE(MAX(id), 0) AS last_id FROM execution_events WHERE execution_arn = $1";
const STEPS: &str = "SELECT * FROM execution_steps WHERE execution_arn = $1";

#[async_trait::async_trait]
impl<DB: Driver> MachineStore for SqlStore<DB> {
    async fn machine(&self, arn: &str) -> Result<Option<MachineRecord>> {
        self.fetch_optional(Statement::new(MACHINE).bind(arn)).await
    }

    async fn machines(&self) -> Result<Vec<MachineRecord>> {
        self.fetch_all(Statement::new(MACHINES)).await
    }

    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        self.fetch_optional(Statement::new(EXECUTION).bind(arn))
            .await
    }

    async fn executions(
        &self,
        filter: ExecutionFilter<'_>,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<ExecutionRecord>> {
        let query = Statement::new(EXECUTIONS)
            .bind(filter.machine_arn)
            .bind(filter.status)
            .bind(after.map(|(started_at, _)| started_at))
            .bind(after.map(|(_, arn)| arn))
            .bind(i64::from(limit))
            .bind(filter.redriven.map(i64::from));
        self.fetch_all(query).await
    }

    async fn history(&self, execution_arn: &str) -> Result<Vec<HistoryEventRecord>> {
        let statement = Statement::new(HISTORY_CHUNKS)
            .bind(execution_arn)
            .bind(FIELD_SEPARATOR_TEXT)
            .bind(EVENT_SEPARATOR_TEXT);
        let rows = DB::fetch_all(&self.readers, statement).await?;
        let mut events = Vec::with_capacity(rows.len() * HISTORY_CHUNK);
        for row in &rows {
            let count = <DB as Loads<i64>>::load(row, "events")?;
            let chunk = <DB as Loads<String>>::load(row, "chunk")?;
            let before = events.len();
            for text in chunk.split(EVENT_SEPARATOR) {
                match history_event(execution_arn, text) {
                    Some(event) => events.push(event),
                    None => break,
                }
            }
            if (events.len() - before) as i64 != count {
                return self
                    .fetch_all(Statement::new(HISTORY).bind(execution_arn))
                    .await;
            }
        }
        Ok(events)
    }

    async fn last_event_id(&self, execution_arn: &str) -> Result<i64> {
        let statement = Statement::new(LAST_EVENT_ID).bind(execution_arn);
        // An aggregate without GROUP BY always returns its one row.
        let row = DB::fetch_optional(&self.readers, statement)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
        <DB as Loads<i64>>::load(&row, "last_id")
    }

    async fn steps(&self, execution_arn: &str) -> Result<Vec<StepRecord>> {
        self.fetch_all(Statement::new(STEPS).bind(execution_arn))
            .await
    }
}

/// One event of a [`HISTORY_CHUNKS`] chunk: its id, previous id, time, type and details.
fn history_event(execution_arn: &str, text: &str) -> Option<HistoryEventRecord> {
    let mut fields = text.splitn(5, FIELD_SEPARATOR);
    let mut number = || fields.next()?.parse::<i64>().ok();
    let (id, previous_id, at) = (number()?, number()?, number()?);
    Some(HistoryEventRecord {
        execution_arn: execution_arn.to_string(),
        id,
        previous_id,
        at,
        event_type: fields.next()?.to_string(),
        details: fields.next()?.to_string(),
    })
}
