//! The state machines' part of a batch, by table, one write per key (see `plan.rs` at the crate
//! root). Deletions run in batch order before every upsert of the batch, so an earlier put of the
//! machine a delete removes is dropped from the plan: it must not come back after the delete.

use super::{ExecutionRecord, HistoryEventRecord, MachineMutation, MachineRecord, StepRecord};
use crate::plan::Rows;

#[derive(Default)]
pub(crate) struct Plan<'a> {
    /// ARNs of deleted machines, in batch order.
    pub deleted: Vec<&'a str>,
    pub machines: Rows<'a, &'a str, MachineRecord>,
    pub executions: Rows<'a, &'a str, ExecutionRecord>,
    pub history: Vec<&'a HistoryEventRecord>,
    pub steps: Rows<'a, (&'a str, &'a str), StepRecord>,
}

impl<'a> Plan<'a> {
    pub fn add(&mut self, mutation: &'a MachineMutation) {
        match mutation {
            MachineMutation::PutMachine(m) => self.machines.keep_last(m.arn.as_str(), m),
            MachineMutation::DeleteMachine { arn } => {
                self.machines.forget(arn.as_str());
                self.deleted.push(arn)
            }
            MachineMutation::PutExecution(e) => self.executions.keep_last(e.arn.as_str(), e),
            // Events are unique by construction; a repeat (a replay after a crash) is ignored
            // by the insert itself (`ON CONFLICT DO NOTHING`), so none is tracked here.
            MachineMutation::HistoryEvent(e) => self.history.push(e),
            MachineMutation::PutStep(s) => self
                .steps
                .keep_last((s.execution_arn.as_str(), s.step.as_str()), s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(arn: &str) -> MachineMutation {
        MachineMutation::PutMachine(MachineRecord {
            arn: arn.into(),
            name: arn.into(),
            machine_type: "STANDARD".into(),
            definition: "{}".into(),
            role_arn: String::new(),
            settings: serde_json::Value::Null,
            source: "api".into(),
            created_at: 0,
            updated_at: 0,
        })
    }

    fn plan_of(batch: &[MachineMutation]) -> Plan<'_> {
        let mut plan = Plan::default();
        batch.iter().for_each(|m| plan.add(m));
        plan
    }

    #[test]
    fn a_machine_put_then_deleted_in_one_batch_stays_deleted() {
        let batch = [
            machine("a"),
            machine("b"),
            MachineMutation::DeleteMachine { arn: "a".into() },
        ];
        let plan = plan_of(&batch);
        assert_eq!(plan.deleted, ["a"]);
        let kept: Vec<_> = plan
            .machines
            .into_rows()
            .iter()
            .map(|m| m.arn.as_str())
            .collect();
        assert_eq!(kept, ["b"]);
        // Deleted then created again: the delete goes first, the put after it.
        let batch = [
            MachineMutation::DeleteMachine { arn: "a".into() },
            machine("a"),
        ];
        let plan = plan_of(&batch);
        assert_eq!(plan.deleted, ["a"]);
        assert_eq!(plan.machines.into_rows().len(), 1);
    }
}
