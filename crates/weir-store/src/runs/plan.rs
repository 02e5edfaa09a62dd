//! The runs' part of a batch, by table, one write per key (see `plan.rs` at the crate root).

use super::{
    AttemptRecord, EventRecord, RunMutation, RunRecord, ScheduleStateRecord, TaskRecord,
    VersionRecord,
};
use crate::plan::Rows;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    pub versions: Rows<'a, (&'a str, &'a str), VersionRecord>,
    /// Runs created by this batch, inserted before the upserts (which may update them).
    pub new_runs: Vec<&'a RunRecord>,
    pub runs: Rows<'a, &'a str, RunRecord>,
    pub tasks: Rows<'a, (&'a str, &'a str, i32), TaskRecord>,
    pub attempts: Rows<'a, (&'a str, &'a str, i32, i32), AttemptRecord>,
    pub events: Vec<&'a EventRecord>,
    pub schedules: Rows<'a, &'a str, ScheduleStateRecord>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a RunMutation) {
        match mutation {
            RunMutation::PutVersion(v) => self
                .versions
                .keep_first((v.pipeline.as_str(), v.version.as_str()), v),
            RunMutation::InsertRun(r) => self.new_runs.push(r),
            RunMutation::PutRun(r) => self.runs.keep_last(r.id.as_str(), r),
            RunMutation::PutTask(t) => self
                .tasks
                .keep_last((t.run_id.as_str(), t.task_id.as_str(), t.map_index), t),
            RunMutation::PutAttempt(a) => self.attempts.keep_last(
                (
                    a.run_id.as_str(),
                    a.task_id.as_str(),
                    a.map_index,
                    a.try_number,
                ),
                a,
            ),
            RunMutation::Event(e) => self.events.push(e),
            RunMutation::PutScheduleState(s) => self.schedules.keep_last(s.pipeline.as_str(), s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(pipeline: &str, paused: bool) -> RunMutation {
        RunMutation::PutScheduleState(ScheduleStateRecord {
            pipeline: pipeline.into(),
            last_interval_end: None,
            paused,
        })
    }

    #[test]
    fn last_upsert_of_a_key_wins_in_first_position() {
        let batch = [
            schedule("a", false),
            schedule("b", false),
            schedule("a", true),
        ];
        let mut plan = Plan::default();
        batch.iter().for_each(|m| plan.add(m));
        let kept: Vec<_> = plan
            .schedules
            .into_rows()
            .iter()
            .map(|s| (s.pipeline.as_str(), s.paused))
            .collect();
        assert_eq!(kept, [("a", true), ("b", false)]);
    }
}
