//! Built-in events: what happens inside weir, put on the default event bus in the shape AWS's own
//! services give it, so rules written for S3, Glue and Step Functions read weir's events as
//! they read AWS's. Each source is a broadcast the subsystem sends once its change is durable;
//! one task per source turns what it hears into events.
//!
//! | source | detail-type | when |
//! | --- | --- | --- |
//! | `aws.s3` | `Object Created` | weir wrote an object into the lake |
//! | `aws.glue` | `Glue Data Catalog Table State Change` | a table got a partition it did not have |
//! | `weir.pipelines` | `Pipeline Run Status Change` | a run changed state |
//! | `weir.pipelines` | `Pipeline Task Status Change` | a task instance changed state |
//! | `aws.states` | `Step Functions Execution Status Change` | a standard execution started or ended |
//! | `weir.streams` | `Stream Status Change` | a stream was created, deleted or resharded |
//! | `weir.deliveries` | `Delivery Object Written` | a delivery's object became visible |
//!
//! Each wake-up of a listener takes every change waiting (up to 256) and puts their events in one
//! PutEvents, one durable append. A listener that falls more than a broadcast's capacity behind
//! loses changes; it says so in the log and goes on.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use weir_engine::StatusChange;
use weir_engine::events::Events;
use weir_model::events::arn::{Scope, TargetKind};
use weir_store::{ExecutionRecord, RunRecord, TaskRecord};

/// Who emits and where their ARNs point.
pub struct BuiltinEvents {
    pub events: Events,
    /// The region and account of the ARNs the events name.
    pub scope: Scope,
    /// The lake's bucket name as S3 events carry it.
    pub bucket: String,
}

/// One built-in event: source, detail-type, resources, detail.
type Built = (&'static str, &'static str, Vec<String>, Value);

/// Most changes turned into events at once: one PutEvents, one durable append for all of them.
const BATCH: usize = 256;

impl BuiltinEvents {
    /// Starts a forwarding task for each source given.
    pub fn start(
        self,
        engine: &weir_engine::Engine,
        machines: &weir_engine::machines::Machines,
        streams: &weir_stream::Streams,
        lake: Arc<weir_lake::Lake>,
        catalog: weir_lake::Catalog,
    ) {
        let this = Arc::new(self);
        let mut seen = PipelineStates::default();
        let pipelines = this.clone();
        forward(
            engine.subscribe_status(),
            "pipelines",
            this.clone(),
            move |change| {
                seen.event(&pipelines, change)
                    .map(|(detail_type, resources, detail)| {
                        ("weir.pipelines", detail_type, resources, detail)
                    })
            },
        );
        forward(
            machines.subscribe_status(),
            "state machines",
            this.clone(),
            |execution| {
                let (resources, detail) = execution_status(&execution);
                Some((
                    "aws.states",
                    "Step Functions Execution Status Change",
                    resources,
                    detail,
                ))
            },
        );
        forward(
            streams.subscribe_changes(),
            "streams",
            this.clone(),
            |change: weir_stream::StreamChange| {
                // weir's own streams (a bus's log, a delivery's buffer) are not the user's.
                if weir_stream::is_reserved(&change.stream) {
                    return None;
                }
                let detail = json!({
                    "streamName": change.stream,
                    "streamARN": change.arn,
                    "change": change.change,
                    "openShardCount": change.open_shards,
                });
                Some((
                    "weir.streams",
                    "Stream Status Change",
                    vec![change.arn],
                    detail,
                ))
            },
        );
        let objects = lake.subscribe();
        let this_for_lake = this.clone();
        tokio::spawn(async move {
            let mut partitions = KnownPartitions::load(&catalog).await;
            let lake_events = this_for_lake.clone();
            forward_with(objects, "lake", this_for_lake, move |object| {
                lake_events.object_events(object, &mut partitions)
            })
            .await;
        });
    }

    /// The ARN of an AWS resource weir's events name beside its targets' (a table, a delivery).
    fn arn(&self, service: &str, resource: &str) -> String {
        let Scope { region, account } = &self.scope;
        format!("arn:aws:{service}:{region}:{account}:{resource}")
    }
}

/// Turns what `changes` hears into events until the sender is gone, on a task of its own.
fn forward<T, F>(
    changes: broadcast::Receiver<T>,
    what: &'static str,
    builtin: Arc<BuiltinEvents>,
    mut to_events: F,
) where
    T: Clone + Send + 'static,
    F: FnMut(T) -> Option<Built> + Send + 'static,
{
    tokio::spawn(forward_with(changes, what, builtin, move |change| {
        to_events(change).into_iter().collect()
    }));
}

/// [`forward`], where one change may make several events: each wake-up takes every change
/// waiting (up to [`BATCH`]) and puts their events together.
async fn forward_with<T, F>(
    mut changes: broadcast::Receiver<T>,
    what: &'static str,
    builtin: Arc<BuiltinEvents>,
    mut to_events: F,
) where
    T: Clone + Send + 'static,
    F: FnMut(T) -> Vec<Built> + Send + 'static,
{
    let lagged = |missed: u64| {
        tracing::warn!(
            source = what,
            missed,
            "built-in events fell behind and missed changes"
        );
    };
    loop {
        let mut events = match changes.recv().await {
            Ok(change) => to_events(change),
            Err(RecvError::Lagged(missed)) => {
                lagged(missed);
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let mut taken = 1;
        while taken < BATCH {
            match changes.try_recv() {
                Ok(change) => events.extend(to_events(change)),
                Err(TryRecvError::Lagged(missed)) => lagged(missed),
                Err(_) => break,
            }
            taken += 1;
        }
        if !events.is_empty() {
            builtin.events.emit_all(events).await;
        }
    }
}

/// The last state each active run and task instance was announced in, so a row written again
/// without a new state is not announced twice. Entries leave once their run ends.
#[derive(Default)]
struct PipelineStates {
    /// run id → (pipeline, state).
    runs: HashMap<String, (String, String)>,
    /// (run id, task id, map index) → state.
    tasks: HashMap<(String, String, i32), String>,
}

impl PipelineStates {
    fn event(
        &mut self,
        builtin: &BuiltinEvents,
        change: StatusChange,
    ) -> Option<(&'static str, Vec<String>, Value)> {
        match change {
            StatusChange::Run(run) => {
                let previous = self
                    .runs
                    .insert(run.id.clone(), (run.pipeline.clone(), run.state.clone()));
                if previous
                    .as_ref()
                    .is_some_and(|(_, state)| *state == run.state)
                {
                    return None;
                }
                if weir_engine::is_terminal(&run.state) {
                    self.runs.remove(&run.id);
                    self.tasks.retain(|(run_id, _, _), _| *run_id != run.id);
                }
                let resources = vec![builtin.scope.target(TargetKind::Pipeline, &run.pipeline)];
                Some((
                    "Pipeline Run Status Change",
                    resources,
                    run_detail(&run, previous.map(|(_, state)| state)),
                ))
            }
            StatusChange::Task { pipeline, task } => {
                let key = (task.run_id.clone(), task.task_id.clone(), task.map_index);
                let previous = self.tasks.insert(key, task.state.clone());
                if previous.as_deref() == Some(task.state.as_str()) {
                    return None;
                }
                let resources = vec![builtin.scope.target(TargetKind::Pipeline, &pipeline)];
                Some((
                    "Pipeline Task Status Change",
                    resources,
                    task_detail(&pipeline, &task, previous),
                ))
            }
        }
    }
}

fn rfc3339_us(us: i64) -> Value {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

fn run_detail(run: &RunRecord, previous: Option<String>) -> Value {
    json!({
        "pipeline": run.pipeline,
        "runId": run.id,
        "state": run.state,
        "previousState": previous,
        "runType": run.run_type,
        "logicalDate": rfc3339_us(run.logical_date),
        "dataIntervalStart": rfc3339_us(run.interval_start),
        "dataIntervalEnd": rfc3339_us(run.interval_end),
        "startedAt": run.started_at.map(rfc3339_us),
        "endedAt": run.ended_at.map(rfc3339_us),
        "params": run.params,
    })
}

fn task_detail(pipeline: &str, task: &TaskRecord, previous: Option<String>) -> Value {
    json!({
        "pipeline": pipeline,
        "runId": task.run_id,
        "taskId": task.task_id,
        "mapIndex": task.map_index,
        "state": task.state,
        "previousState": previous,
        "tryNumber": task.try_number,
        "maxTries": task.max_tries,
        "startedAt": task.started_at.map(rfc3339_us),
        "endedAt": task.ended_at.map(rfc3339_us),
        "error": task.error,
    })
}

/// Step Functions' own event for a standard execution, field for field.
fn execution_status(execution: &ExecutionRecord) -> (Vec<String>, Value) {
    let ms = |us: i64| us / 1000;
    let ended = execution.status != "RUNNING";
    let detail = json!({
        "executionArn": execution.arn,
        "stateMachineArn": execution.machine_arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": ms(execution.started_at),
        "stopDate": execution.stopped_at.map(ms),
        "input": execution.input,
        "output": execution.output,
        "inputDetails": {"included": true},
        "outputDetails": if ended && execution.output.is_some() { json!({"included": true}) } else { Value::Null },
        "error": execution.error,
        "cause": execution.cause,
    });
    (vec![execution.arn.clone()], detail)
}

/// Each table's partitions (their values in order), to tell a new partition from another file
/// of a known one.
struct KnownPartitions {
    by_table: HashMap<String, HashSet<Vec<String>>>,
}

impl KnownPartitions {
    async fn load(catalog: &weir_lake::Catalog) -> KnownPartitions {
        let mut by_table = HashMap::new();
        let tables = catalog.tables(None).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the catalog: every partition seen will be announced as new");
            Vec::new()
        });
        for table in tables {
            let Ok(files) = catalog.files(&table.database, &table.name).await else {
                continue;
            };
            let partitions: HashSet<Vec<String>> = files
                .into_iter()
                .filter(|f| !f.partition_values.is_empty())
                .map(|f| f.partition_values)
                .collect();
            by_table.insert(
                weir_lake::catalog_store::qualified(&table.database, &table.name),
                partitions,
            );
        }
        KnownPartitions { by_table }
    }

    /// True when `values` is a partition `table` did not have (and remembers it).
    fn is_new(&mut self, table: &str, values: Vec<String>) -> bool {
        self.by_table
            .entry(table.to_string())
            .or_default()
            .insert(values)
    }
}

/// A partition's values from its folder path: `day=1/hour=2` (Hive) or `2024/01/02` (dates).
fn partition_values(partition: &str) -> Vec<(Option<String>, String)> {
    partition
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.split_once('=') {
            Some((name, value)) => (Some(name.to_string()), value.to_string()),
            None => (None, segment.to_string()),
        })
        .collect()
}

impl BuiltinEvents {
    /// The events of one object weir wrote: S3's, a delivery's, and Glue's when it is the first
    /// of a partition.
    fn object_events(
        &self,
        object: weir_lake::ObjectCreated,
        partitions: &mut KnownPartitions,
    ) -> Vec<Built> {
        let mut events = Vec::new();
        let sequencer = sequencer();
        events.push((
            "aws.s3",
            "Object Created",
            vec![format!("arn:aws:s3:::{}", self.bucket)],
            json!({
                "version": "0",
                "bucket": {"name": self.bucket},
                "object": {"key": object.key, "size": object.size, "sequencer": sequencer},
                "request-id": sequencer,
                "requester": self.scope.account,
                "reason": "PutObject",
            }),
        ));
        if let Some(delivery) = &object.delivery {
            events.push((
                "weir.deliveries",
                "Delivery Object Written",
                vec![self.arn("firehose", &format!("deliverystream/{delivery}"))],
                json!({
                    "deliveryStreamName": delivery,
                    "key": object.key,
                    "size": object.size,
                    "table": object.table,
                    "partition": object.partition,
                }),
            ));
        }
        let (Some(table), Some(partition)) = (&object.table, &object.partition) else {
            return events;
        };
        let values = partition_values(partition);
        let plain: Vec<String> = values.iter().map(|(_, v)| v.clone()).collect();
        if !partitions.is_new(table, plain.clone()) {
            return events;
        }
        let (database, name) = table.split_once('.').unwrap_or(("", table));
        let named: serde_json::Map<String, Value> = values
            .iter()
            .filter_map(|(key, value)| Some((key.clone()?, Value::String(value.clone()))))
            .collect();
        events.push((
            "aws.glue",
            "Glue Data Catalog Table State Change",
            vec![self.arn("glue", &format!("table/{database}/{name}"))],
            json!({
                "databaseName": database,
                "tableName": name,
                "typeOfChange": "BatchCreatePartition",
                "changedPartitions": [format!("[{}]", plain.join(", "))],
                "partition": partition,
                "partitionValues": named,
            }),
        ));
        events
    }
}

/// S3's `sequencer`: a hexadecimal value that orders events of one key (also the request's id
/// here, as one write is one request).
fn sequencer() -> String {
    static LAST: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    use std::sync::atomic::Ordering::Relaxed;
    let now = weir_engine::time::now_us();
    let next = |last: i64| Some(now.max(last + 1));
    let previous = LAST.fetch_update(Relaxed, Relaxed, next).unwrap_or(now);
    format!("{:016X}", now.max(previous + 1))
}
