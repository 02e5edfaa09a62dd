//! The queues' statements: how their records are stored, their writes and their queries.

use std::sync::Arc;

use sqlx::{Arguments, AssertSqlSafe, SqlSafeStr, SqlStr};

use super::plan::Step;
use super::{
    Plan, QueueDedupRecord, QueueMessageRecord, QueueMessageState, QueueReceiptRecord, QueueRecord,
    QueuesMutation, QueuesStore,
};
use crate::Result;
use crate::driver::{Driver, Record, Statement, mapping};
use crate::sql_store::{SqlStore, write};
use crate::statements::{CHUNK_SIZES, OnConflict, Placeholders, Write};

mapping!(QueueRecord {
    name: text,
    url: text,
    arn: text,
    attributes: json,
    tags: json,
    created_ms: value,
    modified_ms: value,
});

mapping!(QueueMessageRecord {
    seq: value,
    queue: text,
    message_id: text,
    body: text,
    message_attributes: json,
    system_attributes: json,
    md5_of_body: text,
    md5_of_message_attributes: opt_text,
    md5_of_system_attributes: opt_text,
    sent_ms: value,
    visible_ms: value,
    group_id: opt_text,
    dedup_id: opt_text,
    sequence_number: opt_text,
    size: value,
});

mapping!(QueueReceiptRecord {
    seq: value,
    queue: text,
    visible_ms: value,
    receive_count: value,
    first_receive_ms: value,
    nonce: value,
});

mapping!(QueueMessageState {
    seq: value,
    sent_ms: value,
    visible_ms: value,
    receive_count: value,
    first_receive_ms: value,
    nonce: value,
    group_id: opt_text,
    size: value,
});

mapping!(QueueDedupRecord {
    queue: text,
    dedup_key: text,
    message_id: text,
    sequence_number: opt_text,
    expires_ms: value,
});

/// The queues' write statements, in the backend's placeholder style.
pub(crate) struct QueueWrites {
    queues: Write,
    messages: Write,
    receipts: Write,
    dedups: Write,
    delete_messages: SeqDelete,
    delete_receipts: SeqDelete,
}

impl QueueWrites {
    pub(crate) fn new(placeholders: Placeholders) -> QueueWrites {
        let write =
            |table, columns, key| Write::new(table, columns, key, OnConflict::Update, placeholders);
        QueueWrites {
            queues: write("queues", QueueRecord::COLUMNS, &["name"]),
            messages: write("queue_messages", QueueMessageRecord::COLUMNS, &["seq"]),
            receipts: write("queue_receipts", QueueReceiptRecord::COLUMNS, &["seq"]),
            dedups: write(
                "queue_dedups",
                QueueDedupRecord::COLUMNS,
                &["queue", "dedup_key"],
            ),
            delete_messages: SeqDelete::new("queue_messages", placeholders),
            delete_receipts: SeqDelete::new("queue_receipts", placeholders),
        }
    }

    /// Writes the queues' part of a batch, inside the batch's transaction, step by step in batch
    /// order (see `plan.rs`).
    pub(crate) async fn apply<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        plan: Plan<'_>,
    ) -> Result<()> {
        for step in plan.into_steps() {
            match step {
                Step::Writes(writes) => self.apply_writes::<DB>(conn, *writes).await?,
                Step::DeleteQueue(name) => {
                    for delete in [
                        DELETE_QUEUE,
                        DELETE_MESSAGES,
                        DELETE_RECEIPTS,
                        DELETE_DEDUPS,
                    ] {
                        DB::execute(conn, Statement::new(delete).bind(name)).await?;
                    }
                }
                Step::Purge { queue, through_seq } => {
                    for purge in [PURGE_MESSAGES, PURGE_RECEIPTS] {
                        let statement = Statement::new(purge).bind(queue).bind(through_seq);
                        DB::execute(conn, statement).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn apply_writes<DB: Driver>(
        &self,
        conn: &mut DB::Connection,
        writes: super::plan::Writes<'_>,
    ) -> Result<()> {
        write::<DB, _>(conn, &self.queues, &writes.queues.into_rows()).await?;
        self.delete_messages
            .run::<DB>(conn, &writes.deleted)
            .await?;
        self.delete_receipts
            .run::<DB>(conn, &writes.deleted)
            .await?;
        for moved in writes.moves.into_rows() {
            if let QueuesMutation::MoveMessage { seq, to_queue } = moved {
                for statement in [MOVE_MESSAGE, MOVE_RECEIPT] {
                    let statement = Statement::new(statement).bind(to_queue.as_str()).bind(*seq);
                    DB::execute(conn, statement).await?;
                }
            }
        }
        write::<DB, _>(conn, &self.messages, &writes.messages.into_rows()).await?;
        write::<DB, _>(conn, &self.receipts, &writes.receipts.into_rows()).await?;
        write::<DB, _>(conn, &self.dedups, &writes.dedups.into_rows()).await?;
        for (queue, before_ms) in writes.expired_dedups {
            let statement = Statement::new(DELETE_EXPIRED_DEDUPS)
                .bind(queue)
                .bind(before_ms);
            DB::execute(conn, statement).await?;
        }
        Ok(())
    }
}

/// `DELETE FROM table WHERE seq IN (…)` in chunks of [`CHUNK_SIZES`] seqs: a receive-and-delete
/// workload deletes thousands of messages a second, which one statement per message would
/// spend on round trips to the database.
struct SeqDelete {
    /// `(seqs, sql)`, largest first.
    statements: Vec<(usize, SqlStr)>,
}

impl SeqDelete {
    fn new(table: &str, placeholders: Placeholders) -> SeqDelete {
        let statements = CHUNK_SIZES
            .iter()
            .map(|&rows| {
                let list: Vec<String> = (1..=rows)
                    .map(|n| match placeholders {
                        Placeholders::Numbered => format!("${n}"),
                        Placeholders::Anonymous => "?".to_string(),
                    })
                    .collect();
                let sql = format!("DELETE FROM {table} WHERE seq IN ({})", list.join(", "));
                (rows, AssertSqlSafe(Arc::<str>::from(sql)).into_sql_str())
            })
            .collect();
        SeqDelete { statements }
    }

    async fn run<DB: Driver>(&self, conn: &mut DB::Connection, seqs: &[i64]) -> Result<()> {
        let mut rest = seqs;
        while !rest.is_empty() {
            let (rows, sql) = self
                .statements
                .iter()
                .find(|(rows, _)| *rows <= rest.len())
                .unwrap_or(&self.statements[self.statements.len() - 1]);
            let mut args = DB::Arguments::default();
            args.reserve(*rows, 0);
            for seq in &rest[..*rows] {
                DB::add(&mut args, *seq)?;
            }
            DB::execute(conn, Statement::with(sql.clone(), args)).await?;
            rest = &rest[*rows..];
        }
        Ok(())
    }
}

const DELETE_QUEUE: &str = "DELETE FROM queues WHERE name = $1";
const DELETE_MESSAGES: &str = "DELETE FROM queue_messages WHERE queue = $1";
const DELETE_RECEIPTS: &str = "DELETE FROM queue_receipts WHERE queue = $1";
const DELETE_DEDUPS: &str = "DELETE FROM queue_dedups WHERE queue = $1";
const PURGE_MESSAGES: &str = "DELETE FROM queue_messages WHERE queue = $1 AND seq <= $2";
const PURGE_RECEIPTS: &str = "DELETE FROM queue_receipts WHERE queue = $1 AND seq <= $2";
const MOVE_MESSAGE: &str = "UPDATE queue_messages SET queue = $1 WHERE seq = $2";
const MOVE_RECEIPT: &str = "UPDATE queue_receipts SET queue = $1 WHERE seq = $2";
const DELETE_EXPIRED_DEDUPS: &str = "DELETE FROM queue_dedups WHERE queue = $1 AND expires_ms < $2";

// Reads. Rows are decoded by column name, so `SELECT *` stays correct as columns are added.

const QUEUES: &str = "SELECT * FROM queues ORDER BY name";
const MESSAGE_STATES: &str = "SELECT m.seq AS seq, m.sent_ms AS sent_ms, \
     COALESCE(r.visible_ms, m.visible_ms) AS visible_ms, \
     COALESCE(r.receive_count, 0) AS receive_count, r.first_receive_ms AS first_receive_ms, \
     COALESCE(r.nonce, 0) AS nonce, \
     m.group_id AS group_id, m.size AS size \
     FROM queue_messages m LEFT JOIN queue_receipts r ON r.seq = m.seq \
     WHERE m.queue = $1 ORDER BY m.seq";
const DEDUPS: &str =
    "SELECT * FROM queue_dedups WHERE queue = $1 AND expires_ms > $2 ORDER BY expires_ms";
const MAX_SEQ: &str = "SELECT COALESCE(MAX(seq), 0) AS seq FROM queue_messages";

/// Most seqs one read of message bodies names.
const READ_CHUNK: usize = 256;

#[async_trait::async_trait]
impl<DB: Driver> QueuesStore for SqlStore<DB> {
    async fn queues(&self) -> Result<Vec<QueueRecord>> {
        self.fetch_all(Statement::new(QUEUES)).await
    }

    async fn queue_message_states(&self, queue: &str) -> Result<Vec<QueueMessageState>> {
        self.fetch_all(Statement::new(MESSAGE_STATES).bind(queue))
            .await
    }

    async fn queue_messages(&self, seqs: &[i64]) -> Result<Vec<QueueMessageRecord>> {
        let mut found = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(READ_CHUNK) {
            let list: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT * FROM queue_messages WHERE seq IN ({})",
                list.join(", ")
            );
            let mut args = DB::Arguments::default();
            for seq in chunk {
                DB::add(&mut args, *seq)?;
            }
            let statement = Statement::with(AssertSqlSafe(sql).into_sql_str(), args);
            found.extend(self.fetch_all::<QueueMessageRecord>(statement).await?);
        }
        Ok(found)
    }

    async fn queue_dedups(&self, queue: &str, now_ms: i64) -> Result<Vec<QueueDedupRecord>> {
        self.fetch_all(Statement::new(DEDUPS).bind(queue).bind(now_ms))
            .await
    }

    async fn max_queue_seq(&self) -> Result<i64> {
        let row = DB::fetch_optional(&self.readers, Statement::new(MAX_SEQ)).await?;
        row.map_or(Ok(0), |row| DB::load(&row, "seq"))
    }
}
