//! A run held in memory while it is active: its record, its pipeline version, and one slot per
//! task (with the instances of a mapped task).

use std::sync::Arc;

use serde_json::{Map, Value, json};
use weir_store::{RunRecord, TaskRecord};

use crate::project::PipelineVersion;
use crate::rules::is_terminal;
use crate::time::now_us;

pub(crate) struct RunState {
    pub id: Arc<str>,
    pub record: RunRecord,
    pub version: Arc<PipelineVersion>,
    pub slots: Vec<Slot>,
    /// Slots not in a terminal state; the run ends when this reaches zero.
    pub open_slots: usize,
    /// Attempts running now (for `max_active_tasks`).
    pub running: u32,
    /// Instances held back by `max_active_tasks`.
    pub deferred: Vec<super::InstanceKey>,
}

pub(crate) struct Slot {
    /// The task's own record (map index -1); for a mapped task, the aggregate of its instances.
    pub record: TaskRecord,
    /// Mapped instances, by map index.
    pub instances: Vec<TaskRecord>,
}

impl RunState {
    pub fn new(
        record: RunRecord,
        version: Arc<PipelineVersion>,
        mut tasks: Vec<TaskRecord>,
    ) -> RunState {
        let id: Arc<str> = Arc::from(record.id.as_str());
        let mut slots: Vec<Slot> = version
            .pipeline
            .tasks
            .values()
            .map(|task| Slot {
                record: new_task_record(&record.id, &task.id, -1, task.retry.retries as i32 + 1),
                instances: Vec::new(),
            })
            .collect();
        tasks.sort_by_key(|t| t.map_index);
        for task in tasks.into_iter().filter(|t| t.state != "removed") {
            let Some(i) = version.task_index(&task.task_id) else {
                continue;
            };
            let slot = &mut slots[i];
            if task.map_index < 0 {
                slot.record = task;
            } else {
                slot.instances.push(task);
            }
        }
        let open_slots = slots
            .iter()
            .filter(|s| !is_terminal(&s.record.state))
            .count();
        RunState {
            id,
            record,
            version,
            slots,
            open_slots,
            running: 0,
            deferred: Vec::new(),
        }
    }

    /// The instances the run's records say are running, with their keys (for a mapped task,
    /// its instances, not its aggregate record).
    pub fn running_instances(&self) -> Vec<(super::InstanceKey, &TaskRecord)> {
        let mut running = Vec::new();
        for (task, slot) in self.slots.iter().enumerate() {
            let instances = std::iter::once((-1, &slot.record)).chain(
                slot.instances
                    .iter()
                    .enumerate()
                    .map(|(m, r)| (m as i32, r)),
            );
            for (map_index, record) in instances
                .filter(|(m, t)| t.state == "running" && (slot.instances.is_empty() || *m >= 0))
            {
                let key = super::InstanceKey {
                    run_id: self.id.clone(),
                    task,
                    map_index,
                };
                running.push((key, record));
            }
        }
        running
    }

    pub fn instance(&self, task: usize, map_index: i32) -> Option<&TaskRecord> {
        let slot = self.slots.get(task)?;
        if map_index < 0 {
            Some(&slot.record)
        } else {
            slot.instances.get(map_index as usize)
        }
    }

    pub fn instance_mut(&mut self, task: usize, map_index: i32) -> Option<&mut TaskRecord> {
        let slot = self.slots.get_mut(task)?;
        if map_index < 0 {
            Some(&mut slot.record)
        } else {
            slot.instances.get_mut(map_index as usize)
        }
    }

    pub fn task_id(&self, task: usize) -> &str {
        self.version
            .pipeline
            .tasks
            .get_index(task)
            .map(|(k, _)| k.as_str())
            .unwrap_or("?")
    }

    /// Environment variables that describe the run to a command, templated or not.
    pub fn attempt_env(&self, task: usize, map_index: i32) -> Vec<(String, String)> {
        let logical = crate::time::from_us(self.record.logical_date)
            .with_timezone(&self.version.pipeline.timezone);
        let mut env = vec![
            ("WEIR_LOGICAL_DATE".to_string(), logical.to_rfc3339()),
            (
                "WEIR_DS".to_string(),
                logical.format("%Y-%m-%d").to_string(),
            ),
        ];
        if let Some(item) = self.instance(task, map_index).and_then(|t| t.item.as_ref()) {
            // A string item arrives as the string itself; anything else as JSON.
            let text = match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            env.push(("WEIR_ITEM".to_string(), text));
        }
        env
    }

    /// The template context of a task instance: Airflow's names where Airflow has one.
    pub fn context(&self, task: usize, map_index: i32, try_number: i32) -> Value {
        let pipeline = &self.version.pipeline;
        let tz = pipeline.timezone;
        let local = |us: i64| crate::time::from_us(us).with_timezone(&tz);
        let logical = local(self.record.logical_date);
        let mut tasks = Map::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let output = if slot.instances.is_empty() {
                slot.record.output.clone()
            } else {
                Some(Value::Array(
                    slot.instances
                        .iter()
                        .map(|t| t.output.clone().unwrap_or(Value::Null))
                        .collect(),
                ))
            };
            tasks.insert(
                self.task_id(i).to_string(),
                json!({ "state": slot.record.state, "output": output.unwrap_or(Value::Null) }),
            );
        }
        let mut context = json!({
            "ds": logical.format("%Y-%m-%d").to_string(),
            "ds_nodash": logical.format("%Y%m%d").to_string(),
            "ts": logical.to_rfc3339(),
            "ts_nodash": logical.format("%Y%m%dT%H%M%S").to_string(),
            "logical_date": logical.to_rfc3339(),
            "data_interval_start": local(self.record.interval_start).to_rfc3339(),
            "data_interval_end": local(self.record.interval_end).to_rfc3339(),
            "run_id": self.record.id,
            "run_type": self.record.run_type,
            "pipeline": pipeline.name,
            "params": self.record.params,
            "tasks": tasks,
            "task": self.task_id(task),
            "try_number": try_number,
            "map_index": map_index,
            "event": self.record.event.clone().unwrap_or(Value::Null),
        });
        if map_index >= 0
            && let Some(item) = self.instance(task, map_index).and_then(|t| t.item.clone())
        {
            context["item"] = item;
        }
        context
    }
}

pub(crate) fn new_task_record(
    run_id: &str,
    task_id: &str,
    map_index: i32,
    max_tries: i32,
) -> TaskRecord {
    TaskRecord {
        run_id: run_id.to_string(),
        task_id: task_id.to_string(),
        map_index,
        state: "pending".into(),
        try_number: 0,
        max_tries,
        started_at: None,
        ended_at: None,
        next_try_at: None,
        output: None,
        item: None,
        error: None,
    }
}

pub(crate) fn touch(record: &mut TaskRecord, state: &str) {
    record.state = state.to_string();
    if is_terminal(state) {
        record.ended_at = Some(now_us());
    }
}
