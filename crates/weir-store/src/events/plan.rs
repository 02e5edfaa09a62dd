//! The bus's part of a batch. Deletions do not commute with upserts (deleting a bus deletes its
//! rules, deleting an archive its events), so the batch is cut into steps in batch order: a
//! deletion is a step of its own, and each run of upserts between deletions is one step that
//! writes each table with a few multi-row statements, one write per key.

use super::{
    ArchivedEventRecord, EventArchiveRecord, EventBusRecord, EventReplayRecord, EventRetryRecord,
    EventRuleRecord, EventsMutation,
};
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
    DeleteBus(&'a str),
    DeleteRule { bus: &'a str, name: &'a str },
    DeleteArchive(&'a str),
    ExpireArchivedEvents { archive: &'a str, before_ms: i64 },
    DeleteRetry(&'a str),
}

#[derive(Default)]
pub(crate) struct Upserts<'a> {
    pub buses: Rows<'a, &'a str, EventBusRecord>,
    pub rules: Rows<'a, (&'a str, &'a str), EventRuleRecord>,
    pub archives: Rows<'a, &'a str, EventArchiveRecord>,
    pub archived: Rows<'a, (&'a str, i64, i64), ArchivedEventRecord>,
    pub replays: Rows<'a, &'a str, EventReplayRecord>,
    pub retries: Rows<'a, &'a str, EventRetryRecord>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a EventsMutation) {
        let step = match mutation {
            EventsMutation::PutBus(bus) => {
                self.run.buses.keep_last(bus.name.as_str(), bus);
                None
            }
            EventsMutation::PutRule(rule) => {
                let key = (rule.bus.as_str(), rule.name.as_str());
                self.run.rules.keep_last(key, rule);
                None
            }
            EventsMutation::PutArchive(archive) => {
                self.run.archives.keep_last(archive.name.as_str(), archive);
                None
            }
            EventsMutation::ArchiveEvent(event) => {
                let key = (event.archive.as_str(), event.time_ms, event.seq);
                self.run.archived.keep_last(key, event);
                None
            }
            EventsMutation::PutReplay(replay) => {
                self.run.replays.keep_last(replay.name.as_str(), replay);
                None
            }
            EventsMutation::PutRetry(retry) => {
                self.run.retries.keep_last(retry.id.as_str(), retry);
                None
            }
            EventsMutation::DeleteBus { name } => Some(Step::DeleteBus(name)),
            EventsMutation::DeleteRule { bus, name } => Some(Step::DeleteRule { bus, name }),
            EventsMutation::DeleteArchive { name } => Some(Step::DeleteArchive(name)),
            EventsMutation::ExpireArchivedEvents { archive, before_ms } => {
                Some(Step::ExpireArchivedEvents {
                    archive,
                    before_ms: *before_ms,
                })
            }
            EventsMutation::DeleteRetry { id } => Some(Step::DeleteRetry(id)),
        };
        match step {
            None => self.run_used = true,
            Some(step) => {
                self.close_run();
                self.steps.push(step);
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

    fn retry(id: &str, attempts: i64) -> EventsMutation {
        EventsMutation::PutRetry(EventRetryRecord {
            id: id.into(),
            bus: "default".into(),
            rule: "r".into(),
            target: serde_json::json!({}),
            event: "{}".into(),
            input: "{}".into(),
            attempts,
            first_ms: 0,
            next_ms: 0,
            error_code: String::new(),
            error_message: String::new(),
        })
    }

    #[test]
    fn deletions_cut_the_batch_into_ordered_steps_and_upserts_keep_the_last_write() {
        let batch = [
            retry("a", 1),
            retry("b", 1),
            retry("a", 2),
            EventsMutation::DeleteRetry { id: "a".into() },
            retry("a", 3),
        ];
        let mut plan = Plan::default();
        batch.iter().for_each(|m| plan.add(m));
        let shape: Vec<String> = plan
            .into_steps()
            .into_iter()
            .map(|step| match step {
                Step::Upserts(u) => {
                    let rows = u.retries.into_rows();
                    let attempts: Vec<i64> = rows.iter().map(|r| r.attempts).collect();
                    format!("upsert {attempts:?}")
                }
                Step::DeleteRetry(id) => format!("delete {id}"),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(shape, ["upsert [2, 1]", "delete a", "upsert [3]"]);
    }
}
