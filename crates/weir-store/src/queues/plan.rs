//! The queues' part of a batch. Deleting or purging a queue does not commute with writes of its
//! messages, so those cut the batch into steps in batch order; between them, each run of writes
//! is one step that writes each table with a few multi-row statements, one write per key.
//!
//! Inside a run, message deletions go first: a deletion drops the run's earlier writes of its
//! seq, and nothing writes a seq after deleting it (seqs are never reused, and the engine
//! forgets a deleted message), so deleting first loses nothing and resurrects nothing.

use super::{
    QueueDedupRecord, QueueMessageRecord, QueueReceiptRecord, QueueRecord, QueuesMutation,
};
use crate::plan::Rows;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// The steps before the current run of writes.
    steps: Vec<Step<'a>>,
    /// The current run of writes, and whether it holds any.
    run: Writes<'a>,
    run_used: bool,
}

pub(crate) enum Step<'a> {
    Writes(Box<Writes<'a>>),
    DeleteQueue(&'a str),
    Purge { queue: &'a str, through_seq: i64 },
}

#[derive(Default)]
pub(crate) struct Writes<'a> {
    pub queues: Rows<'a, &'a str, QueueRecord>,
    /// Seqs whose message and receipt rows are deleted.
    pub deleted: Vec<i64>,
    /// `MoveMessage`s, one per seq.
    pub moves: Rows<'a, i64, QueuesMutation>,
    pub messages: Rows<'a, i64, QueueMessageRecord>,
    pub receipts: Rows<'a, i64, QueueReceiptRecord>,
    pub dedups: Rows<'a, (&'a str, &'a str), QueueDedupRecord>,
    /// `(queue, before_ms)`: expired de-duplication entries to forget.
    pub expired_dedups: Vec<(&'a str, i64)>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a QueuesMutation) {
        let run = &mut self.run;
        match mutation {
            QueuesMutation::PutQueue(queue) => run.queues.keep_last(queue.name.as_str(), queue),
            QueuesMutation::PutMessage(message) => run.messages.keep_last(message.seq, message),
            QueuesMutation::PutReceipt(receipt) => run.receipts.keep_last(receipt.seq, receipt),
            QueuesMutation::DeleteMessage { seq } => {
                run.messages.forget(*seq);
                run.receipts.forget(*seq);
                run.moves.forget(*seq);
                run.deleted.push(*seq);
            }
            QueuesMutation::MoveMessage { seq, .. } => run.moves.keep_last(*seq, mutation),
            QueuesMutation::PutDedup(dedup) => run
                .dedups
                .keep_last((dedup.queue.as_str(), dedup.dedup_key.as_str()), dedup),
            QueuesMutation::DeleteExpiredDedups { queue, before_ms } => {
                run.expired_dedups.push((queue.as_str(), *before_ms))
            }
            QueuesMutation::DeleteQueue { name } => {
                self.close_run();
                self.steps.push(Step::DeleteQueue(name));
                return;
            }
            QueuesMutation::PurgeQueue { queue, through_seq } => {
                self.close_run();
                self.steps.push(Step::Purge {
                    queue,
                    through_seq: *through_seq,
                });
                return;
            }
        }
        self.run_used = true;
    }

    /// The steps, in batch order.
    pub fn into_steps(mut self) -> Vec<Step<'a>> {
        self.close_run();
        self.steps
    }

    /// Ends the current run of writes: a queue-wide deletion follows it.
    fn close_run(&mut self) {
        if std::mem::take(&mut self.run_used) {
            self.steps
                .push(Step::Writes(Box::new(std::mem::take(&mut self.run))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(seq: i64) -> QueuesMutation {
        QueuesMutation::PutReceipt(QueueReceiptRecord {
            seq,
            queue: "q".into(),
            visible_ms: 1,
            receive_count: 1,
            first_receive_ms: Some(1),
            nonce: 7,
        })
    }

    #[test]
    fn deletions_drop_earlier_writes_and_queue_deletions_cut_steps() {
        let batch = [
            receipt(1),
            receipt(2),
            QueuesMutation::DeleteMessage { seq: 1 },
            QueuesMutation::DeleteQueue { name: "q".into() },
            receipt(3),
        ];
        let mut plan = Plan::default();
        batch.iter().for_each(|m| plan.add(m));
        let shape: Vec<String> = plan
            .into_steps()
            .into_iter()
            .map(|step| match step {
                Step::Writes(w) => {
                    let seqs: Vec<i64> = w.receipts.into_rows().iter().map(|r| r.seq).collect();
                    format!("receipts {seqs:?} deleted {:?}", w.deleted)
                }
                Step::DeleteQueue(name) => format!("delete {name}"),
                Step::Purge { .. } => "purge".into(),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "receipts [2] deleted [1]",
                "delete q",
                "receipts [3] deleted []"
            ]
        );
    }
}
