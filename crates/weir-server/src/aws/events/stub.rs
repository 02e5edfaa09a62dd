//! TEMPORARY — DELETE BEFORE MERGE. The design's `weir_engine::events` and `weir_model::events`
//! surface (issue 13, parts A, B and C), stubbed so the protocol compiles while those parts are
//! built elsewhere. Every body is `todo!()`: nothing here runs.
#![allow(dead_code, clippy::todo, unused_variables)]

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

pub struct Pattern;
pub struct PatternError {
    pub message: String,
}
impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        todo!()
    }
    pub fn matches(&self, event: &Value) -> bool {
        todo!()
    }
}

pub struct PutEventsEntry {
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub detail: Option<String>,
    pub resources: Vec<String>,
    pub time_ms: Option<i64>,
    pub event_bus_name: Option<String>,
    pub trace_header: Option<String>,
}
pub struct EntryError {
    pub code: String,
    pub message: String,
}
pub fn request_size(entries: &[PutEventsEntry]) -> usize {
    todo!()
}
pub const MAX_REQUEST_SIZE: usize = 256 * 1024;

pub enum TargetInput {
    Whole,
    Constant(String),
    Path(String),
    Transformer {
        paths_map: BTreeMap<String, String>,
        template: String,
    },
}
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_seconds: u32,
}
pub struct TargetSpec {
    pub id: String,
    pub arn: String,
    pub role_arn: Option<String>,
    pub input: TargetInput,
    pub retry: RetryPolicy,
    pub dead_letter: Option<String>,
    pub kinesis_partition_key_path: Option<String>,
    pub sqs_message_group_id: Option<String>,
}
pub struct TargetFailure {
    pub target_id: String,
    pub code: String,
    pub message: String,
}

pub struct RuleInput {
    pub bus: Option<String>,
    pub name: String,
    pub pattern: Option<String>,
    pub schedule: Option<String>,
    pub state: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub tags: Vec<(String, String)>,
}
pub struct RuleInfo {
    pub name: String,
    pub arn: String,
    pub bus: String,
    pub pattern: Option<String>,
    pub schedule: Option<String>,
    pub state: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub managed_by: Option<String>,
}
pub struct BusInfo {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}
pub struct ArchiveInput {
    pub name: String,
    pub source_arn: String,
    pub description: Option<String>,
    pub pattern: Option<String>,
    pub retention_days: u32,
}
pub struct ArchiveInfo {
    pub name: String,
    pub arn: String,
    pub source_arn: String,
    pub description: Option<String>,
    pub pattern: Option<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub retention_days: u32,
    pub size_bytes: i64,
    pub event_count: i64,
    pub created_ms: i64,
}
pub struct ReplayInput {
    pub name: String,
    pub description: Option<String>,
    pub archive_arn: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub destination_arn: String,
    pub filter_arns: Vec<String>,
}
pub struct ReplayInfo {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub archive_arn: String,
    pub destination_arn: String,
    pub filter_arns: Vec<String>,
    pub event_start_ms: i64,
    pub event_end_ms: i64,
    pub last_replayed_ms: Option<i64>,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
}

#[derive(Debug)]
pub struct EventsError;
impl EventsError {
    pub fn code(&self) -> &'static str {
        todo!()
    }
}
impl fmt::Display for EventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}

#[derive(Clone)]
pub struct Events;
impl Events {
    pub async fn put_events(
        &self,
        entries: Vec<PutEventsEntry>,
    ) -> Vec<Result<String, EntryError>> {
        todo!()
    }
    pub async fn create_bus(
        &self,
        name: &str,
        description: Option<String>,
        tags: Vec<(String, String)>,
    ) -> Result<BusInfo, EventsError> {
        todo!()
    }
    pub async fn delete_bus(&self, name: &str) -> Result<(), EventsError> {
        todo!()
    }
    pub fn describe_bus(&self, name: &str) -> Result<BusInfo, EventsError> {
        todo!()
    }
    pub fn list_buses(&self, prefix: Option<&str>) -> Vec<BusInfo> {
        todo!()
    }
    pub async fn put_rule(&self, rule: RuleInput) -> Result<String, EventsError> {
        todo!()
    }
    pub async fn delete_rule(&self, bus: &str, name: &str, force: bool) -> Result<(), EventsError> {
        todo!()
    }
    pub fn describe_rule(&self, bus: &str, name: &str) -> Result<RuleInfo, EventsError> {
        todo!()
    }
    pub fn list_rules(
        &self,
        bus: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<RuleInfo>, EventsError> {
        todo!()
    }
    pub async fn set_rule_enabled(
        &self,
        bus: &str,
        name: &str,
        enabled: bool,
    ) -> Result<(), EventsError> {
        todo!()
    }
    pub async fn put_targets(
        &self,
        bus: &str,
        rule: &str,
        targets: Vec<TargetSpec>,
    ) -> Result<Vec<TargetFailure>, EventsError> {
        todo!()
    }
    pub async fn remove_targets(
        &self,
        bus: &str,
        rule: &str,
        ids: &[String],
        force: bool,
    ) -> Result<Vec<TargetFailure>, EventsError> {
        todo!()
    }
    pub fn list_targets(&self, bus: &str, rule: &str) -> Result<Vec<TargetSpec>, EventsError> {
        todo!()
    }
    pub fn rule_names_by_target(
        &self,
        bus: &str,
        target_arn: &str,
    ) -> Result<Vec<String>, EventsError> {
        todo!()
    }
    pub async fn create_archive(&self, archive: ArchiveInput) -> Result<ArchiveInfo, EventsError> {
        todo!()
    }
    pub async fn update_archive(
        &self,
        name: &str,
        description: Option<String>,
        pattern: Option<String>,
        retention_days: Option<u32>,
    ) -> Result<ArchiveInfo, EventsError> {
        todo!()
    }
    pub async fn delete_archive(&self, name: &str) -> Result<(), EventsError> {
        todo!()
    }
    pub fn describe_archive(&self, name: &str) -> Result<ArchiveInfo, EventsError> {
        todo!()
    }
    pub fn list_archives(&self) -> Vec<ArchiveInfo> {
        todo!()
    }
    pub async fn start_replay(&self, replay: ReplayInput) -> Result<ReplayInfo, EventsError> {
        todo!()
    }
    pub fn describe_replay(&self, name: &str) -> Result<ReplayInfo, EventsError> {
        todo!()
    }
    pub fn list_replays(&self) -> Vec<ReplayInfo> {
        todo!()
    }
    pub async fn cancel_replay(&self, name: &str) -> Result<ReplayInfo, EventsError> {
        todo!()
    }
    pub async fn tag(&self, arn: &str, tags: Vec<(String, String)>) -> Result<(), EventsError> {
        todo!()
    }
    pub async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), EventsError> {
        todo!()
    }
    pub fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, EventsError> {
        todo!()
    }
}
