//! A store around a real one that counts its commits and fails them on demand: for tests of what
//! callers do when the metadata database refuses a write (a full disk, a lost connection). Reads
//! always go through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::{
    AccessStore, ArchiveUsage, ArchivedEventRecord, AttemptRecord, AuditEntry, CatalogStore,
    ConsumerStore, CredentialRecord, DashboardSummary, DatabaseRecord, DeliveryRecord,
    DeliveryStore, EndedSession, EventArchiveRecord, EventBusRecord, EventRecord,
    EventReplayRecord, EventRetryRecord, EventRuleRecord, EventSourceMappingRecord,
    EventSourceStore, EventsStore, ExecutionFilter, ExecutionRecord, HistoryEventRecord,
    LeaseClaim, LeaseRecord, MachineRecord, MachineStore, Mutation, QueryStore, QueueDedupRecord,
    QueueMessageRecord, QueueMessageState, QueueRecord, QueuesStore, Result, RunRecord, RunStore,
    SavedQuery, ScheduleStateRecord, SecretRecord, SecretStore, ShardRecord, StepRecord, Store,
    StoreError, StreamConsumerRecord, StreamRecord, StreamStore, TableFileRecord, TableRecord,
    TaskRecord, TaskState, TransformBookmarkObject, TransformBookmarkRecord, TransformStore,
    VersionRecord,
};

pub struct FaultyStore {
    inner: Arc<dyn Store>,
    applies: AtomicUsize,
    failing: AtomicBool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Arc<FaultyStore> {
        Arc::new(FaultyStore {
            inner,
            applies: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        })
    }

    /// From now on every commit fails (`true`) or goes through (`false`).
    pub fn fail_commits(&self, failing: bool) {
        self.failing.store(failing, Ordering::Relaxed);
    }

    /// Commits attempted so far, failed ones included.
    pub fn applies(&self) -> usize {
        self.applies.load(Ordering::Relaxed)
    }
}

#[async_trait::async_trait]
impl Store for FaultyStore {
    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        self.applies.fetch_add(1, Ordering::Relaxed);
        if self.failing.load(Ordering::Relaxed) {
            return Err(StoreError::Commit(
                "injected failure: the store refuses commits".into(),
            ));
        }
        self.inner.apply(batch).await
    }
}

#[async_trait::async_trait]
impl RunStore for FaultyStore {
    async fn pipeline_version(
        &self,
        pipeline: &str,
        version: &str,
    ) -> Result<Option<VersionRecord>> {
        self.inner.pipeline_version(pipeline, version).await
    }
    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        self.inner.run(run_id).await
    }
    async fn runs(&self, pipeline: Option<&str>, limit: u32) -> Result<Vec<RunRecord>> {
        self.inner.runs(pipeline, limit).await
    }
    async fn runs_page(
        &self,
        pipeline: &str,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<RunRecord>> {
        self.inner.runs_page(pipeline, before, limit).await
    }
    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>> {
        self.inner.unfinished_runs().await
    }
    async fn runs_pending_notification(&self) -> Result<Vec<RunRecord>> {
        self.inner.runs_pending_notification().await
    }
    async fn run_for_logical_date(
        &self,
        pipeline: &str,
        logical_date: i64,
    ) -> Result<Option<RunRecord>> {
        self.inner
            .run_for_logical_date(pipeline, logical_date)
            .await
    }
    async fn task_instances(&self, run_id: &str) -> Result<Vec<TaskRecord>> {
        self.inner.task_instances(run_id).await
    }
    async fn task_states(&self, run_ids: &[String]) -> Result<Vec<TaskState>> {
        self.inner.task_states(run_ids).await
    }
    async fn attempts(&self, run_id: &str, task_id: Option<&str>) -> Result<Vec<AttemptRecord>> {
        self.inner.attempts(run_id, task_id).await
    }
    async fn open_attempts(&self) -> Result<Vec<AttemptRecord>> {
        self.inner.open_attempts().await
    }
    async fn run_events(&self, run_id: &str) -> Result<Vec<EventRecord>> {
        self.inner.run_events(run_id).await
    }
    async fn schedule_states(&self) -> Result<Vec<ScheduleStateRecord>> {
        self.inner.schedule_states().await
    }
}

#[async_trait::async_trait]
impl CatalogStore for FaultyStore {
    async fn database(&self, name: &str) -> Result<Option<DatabaseRecord>> {
        self.inner.database(name).await
    }
    async fn databases(&self) -> Result<Vec<DatabaseRecord>> {
        self.inner.databases().await
    }
    async fn table(&self, database: &str, name: &str) -> Result<Option<TableRecord>> {
        self.inner.table(database, name).await
    }
    async fn tables(&self, database: Option<&str>) -> Result<Vec<TableRecord>> {
        self.inner.tables(database).await
    }
    async fn table_files(&self, database: &str, table: &str) -> Result<Vec<TableFileRecord>> {
        self.inner.table_files(database, table).await
    }
}

#[async_trait::async_trait]
impl MachineStore for FaultyStore {
    async fn machine(&self, arn: &str) -> Result<Option<MachineRecord>> {
        self.inner.machine(arn).await
    }
    async fn machines(&self) -> Result<Vec<MachineRecord>> {
        self.inner.machines().await
    }
    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        self.inner.execution(arn).await
    }
    async fn executions(
        &self,
        filter: ExecutionFilter<'_>,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<ExecutionRecord>> {
        self.inner.executions(filter, after, limit).await
    }
    async fn history(&self, execution_arn: &str) -> Result<Vec<HistoryEventRecord>> {
        self.inner.history(execution_arn).await
    }
    async fn last_event_id(&self, execution_arn: &str) -> Result<i64> {
        self.inner.last_event_id(execution_arn).await
    }
    async fn steps(&self, execution_arn: &str) -> Result<Vec<StepRecord>> {
        self.inner.steps(execution_arn).await
    }
}

#[async_trait::async_trait]
impl AccessStore for FaultyStore {
    async fn credentials(&self) -> Result<Vec<CredentialRecord>> {
        self.inner.credentials().await
    }
    async fn audit(&self, since: i64, after: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        self.inner.audit(since, after, limit).await
    }
    async fn ended_sessions(&self, now: i64) -> Result<Vec<EndedSession>> {
        self.inner.ended_sessions(now).await
    }
}

#[async_trait::async_trait]
impl SecretStore for FaultyStore {
    async fn secret(&self, name: &str) -> Result<Option<SecretRecord>> {
        self.inner.secret(name).await
    }
    async fn secrets(&self) -> Result<Vec<SecretRecord>> {
        self.inner.secrets().await
    }
}

#[async_trait::async_trait]
impl DeliveryStore for FaultyStore {
    async fn delivery(&self, name: &str) -> Result<Option<DeliveryRecord>> {
        self.inner.delivery(name).await
    }
    async fn deliveries(&self) -> Result<Vec<DeliveryRecord>> {
        self.inner.deliveries().await
    }
}

#[async_trait::async_trait]
impl ConsumerStore for FaultyStore {
    async fn leases(&self, group_name: &str, stream: &str) -> Result<Vec<LeaseRecord>> {
        self.inner.leases(group_name, stream).await
    }
    async fn all_leases(&self) -> Result<Vec<LeaseRecord>> {
        self.inner.all_leases().await
    }
    async fn claim_lease(&self, claim: &LeaseClaim<'_>) -> Result<Option<LeaseRecord>> {
        self.inner.claim_lease(claim).await
    }
    async fn release_lease(
        &self,
        group_name: &str,
        stream: &str,
        shard: &str,
        owner: &str,
    ) -> Result<()> {
        self.inner
            .release_lease(group_name, stream, shard, owner)
            .await
    }
}

#[async_trait::async_trait]
impl StreamStore for FaultyStore {
    async fn streams(&self) -> Result<Vec<StreamRecord>> {
        self.inner.streams().await
    }
    async fn stream(&self, name: &str) -> Result<Option<StreamRecord>> {
        self.inner.stream(name).await
    }
    async fn stream_shards(&self, stream: &str) -> Result<Vec<ShardRecord>> {
        self.inner.stream_shards(stream).await
    }
    async fn stream_consumers(&self, stream: &str) -> Result<Vec<StreamConsumerRecord>> {
        self.inner.stream_consumers(stream).await
    }
}

#[async_trait::async_trait]
impl EventSourceStore for FaultyStore {
    async fn event_source_mapping(&self, uuid: &str) -> Result<Option<EventSourceMappingRecord>> {
        self.inner.event_source_mapping(uuid).await
    }
    async fn event_source_mappings(&self) -> Result<Vec<EventSourceMappingRecord>> {
        self.inner.event_source_mappings().await
    }
}

#[async_trait::async_trait]
impl EventsStore for FaultyStore {
    async fn event_buses(&self) -> Result<Vec<EventBusRecord>> {
        self.inner.event_buses().await
    }
    async fn event_rules(&self) -> Result<Vec<EventRuleRecord>> {
        self.inner.event_rules().await
    }
    async fn event_archives(&self) -> Result<Vec<EventArchiveRecord>> {
        self.inner.event_archives().await
    }
    async fn archive_usage(&self) -> Result<Vec<ArchiveUsage>> {
        self.inner.archive_usage().await
    }
    async fn archived_events(
        &self,
        archive: &str,
        start_ms: i64,
        end_ms: i64,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ArchivedEventRecord>> {
        self.inner
            .archived_events(archive, start_ms, end_ms, after, limit)
            .await
    }
    async fn event_replays(&self) -> Result<Vec<EventReplayRecord>> {
        self.inner.event_replays().await
    }
    async fn event_retries(&self) -> Result<Vec<EventRetryRecord>> {
        self.inner.event_retries().await
    }
}

#[async_trait::async_trait]
impl QueuesStore for FaultyStore {
    async fn queues(&self) -> Result<Vec<QueueRecord>> {
        self.inner.queues().await
    }
    async fn queue_message_states(&self, queue: &str) -> Result<Vec<QueueMessageState>> {
        self.inner.queue_message_states(queue).await
    }
    async fn queue_messages(&self, seqs: &[i64]) -> Result<Vec<QueueMessageRecord>> {
        self.inner.queue_messages(seqs).await
    }
    async fn queue_dedups(&self, queue: &str, now_ms: i64) -> Result<Vec<QueueDedupRecord>> {
        self.inner.queue_dedups(queue, now_ms).await
    }
    async fn max_queue_seq(&self) -> Result<i64> {
        self.inner.max_queue_seq().await
    }
}

#[async_trait::async_trait]
impl QueryStore for FaultyStore {
    async fn saved_query(&self, dashboard: &str, name: &str) -> Result<Option<SavedQuery>> {
        self.inner.saved_query(dashboard, name).await
    }
    async fn saved_queries(&self, dashboard: &str) -> Result<Vec<SavedQuery>> {
        self.inner.saved_queries(dashboard).await
    }
    async fn dashboards(&self) -> Result<Vec<DashboardSummary>> {
        self.inner.dashboards().await
    }
}

#[async_trait::async_trait]
impl TransformStore for FaultyStore {
    async fn bookmark(&self, transform: &str) -> Result<Option<TransformBookmarkRecord>> {
        self.inner.bookmark(transform).await
    }
    async fn bookmark_objects(&self, transform: &str) -> Result<Vec<TransformBookmarkObject>> {
        self.inner.bookmark_objects(transform).await
    }
}
