//! The streams' part of a batch. Deletions do not commute with upserts (deleting a stream deletes
//! its shards), so the batch is cut into steps in batch order: a deletion is a step of its own,
//! and each run of upserts between deletions is one step that writes each table with a few
//! multi-row statements, one write per key.

use super::{ShardRecord, StreamConsumerRecord, StreamMutation, StreamRecord};
use crate::plan::Rows;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// The steps before the current run of upserts.
    steps: Vec<Step<'a>>,
    /// The current run of upserts, and whether it holds any.
    run: Upserts<'a>,
    run_used: bool,
}

pub(crate) enum Step<'a> {
    Upserts(Box<Upserts<'a>>),
    DeleteStream(&'a str),
    DeleteConsumer { stream: &'a str, name: &'a str },
}

#[derive(Default)]
pub(crate) struct Upserts<'a> {
    pub streams: Rows<'a, &'a str, StreamRecord>,
    pub shards: Rows<'a, (&'a str, i64), ShardRecord>,
    pub consumers: Rows<'a, (&'a str, &'a str), StreamConsumerRecord>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a StreamMutation) {
        match mutation {
            StreamMutation::PutStream(s) => {
                self.run.streams.keep_last(s.name.as_str(), s);
                self.run_used = true;
            }
            StreamMutation::PutShard(s) => {
                self.run.shards.keep_last((s.stream.as_str(), s.shard), s);
                self.run_used = true;
            }
            StreamMutation::PutConsumer(c) => {
                self.run
                    .consumers
                    .keep_last((c.stream.as_str(), c.name.as_str()), c);
                self.run_used = true;
            }
            StreamMutation::DeleteStream { name } => {
                self.close_run();
                self.steps.push(Step::DeleteStream(name))
            }
            StreamMutation::DeleteConsumer { stream, name } => {
                self.close_run();
                self.steps.push(Step::DeleteConsumer { stream, name })
            }
        }
    }

    /// The steps, in batch order.
    pub fn into_steps(mut self) -> Vec<Step<'a>> {
        self.close_run();
        self.steps
    }

    /// Ends the current run of upserts: a deletion follows it.
    fn close_run(&mut self) {
        if std::mem::take(&mut self.run_used) {
            self.steps
                .push(Step::Upserts(Box::new(std::mem::take(&mut self.run))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str) -> StreamMutation {
        StreamMutation::PutStream(StreamRecord {
            name: name.into(),
            arn: name.into(),
            mode: "PROVISIONED".into(),
            retention_hours: 24,
            status: "ACTIVE".into(),
            created_ms: 0,
            tags: serde_json::json!({}),
            storage_dir: name.into(),
        })
    }

    #[test]
    fn deletions_cut_the_batch_into_ordered_steps() {
        let batch = [
            stream("a"),
            stream("b"),
            stream("a"),
            StreamMutation::DeleteStream { name: "a".into() },
            stream("a"),
        ];
        let mut plan = Plan::default();
        batch.iter().for_each(|m| plan.add(m));
        let shape: Vec<String> = plan
            .into_steps()
            .into_iter()
            .map(|step| match step {
                Step::Upserts(u) => format!("upsert {}", u.streams.into_rows().len()),
                Step::DeleteStream(name) => format!("delete {name}"),
                Step::DeleteConsumer { .. } => "delete consumer".into(),
            })
            .collect();
        assert_eq!(shape, ["upsert 2", "delete a", "upsert 1"]);
    }
}
