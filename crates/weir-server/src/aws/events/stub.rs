//! TEMPORARY — DELETE BEFORE MERGE. `weir_engine::events` (issue 13, part C) as its branch
//! shapes it, stubbed so the protocol compiles while the bus is built elsewhere. Every body is
//! `todo!()`: nothing here runs.
#![allow(dead_code, clippy::todo, unused_variables)]

use std::fmt;

use weir_model::events::envelope::{EntryError, PutEventsEntry};
use weir_model::events::rule_file::TargetSpec;

pub struct TargetFailure {
    pub target_id: String,
    pub error_code: String,
    pub error_message: String,
}

pub struct RuleInput {
    pub name: String,
    pub bus: Option<String>,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    pub state: Option<String>,
    pub role_arn: Option<String>,
    pub tags: Vec<(String, String)>,
}
pub struct RuleInfo {
    pub name: String,
    pub arn: String,
    pub bus: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    pub state: String,
    pub role_arn: Option<String>,
    pub managed_by: Option<String>,
    pub file: Option<String>,
    pub created_by: String,
    pub targets: usize,
}
pub struct BusInfo {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}
pub struct ArchiveInput {
    pub name: String,
    pub source_arn: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    pub retention_days: u32,
}
pub struct ArchiveInfo {
    pub name: String,
    pub arn: String,
    pub source_arn: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    pub state: String,
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
    pub start_ms: i64,
    pub end_ms: i64,
    pub destination_arn: String,
    pub filter_arns: Vec<String>,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub last_replayed_ms: Option<i64>,
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
    pub fn list_rules(&self, bus: &str, prefix: Option<&str>) -> Vec<RuleInfo> {
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
    pub fn rule_names_by_target(&self, bus: &str, target_arn: &str) -> Vec<String> {
        todo!()
    }
    pub async fn create_archive(&self, archive: ArchiveInput) -> Result<ArchiveInfo, EventsError> {
        todo!()
    }
    pub async fn update_archive(
        &self,
        name: &str,
        description: Option<String>,
        event_pattern: Option<String>,
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
    pub fn list_archives(
        &self,
        prefix: Option<&str>,
        source_arn: Option<&str>,
        state: Option<&str>,
    ) -> Vec<ArchiveInfo> {
        todo!()
    }
    pub async fn start_replay(&self, replay: ReplayInput) -> Result<ReplayInfo, EventsError> {
        todo!()
    }
    pub fn describe_replay(&self, name: &str) -> Result<ReplayInfo, EventsError> {
        todo!()
    }
    pub fn list_replays(
        &self,
        prefix: Option<&str>,
        state: Option<&str>,
        archive_arn: Option<&str>,
    ) -> Vec<ReplayInfo> {
        todo!()
    }
    pub async fn cancel_replay(&self, name: &str) -> Result<ReplayInfo, EventsError> {
        todo!()
    }
    pub async fn tag(&self, arn: &str, tags: Vec<(String, String)>) -> Result<(), EventsError> {
        todo!()
    }
    pub async fn untag(&self, arn: &str, keys: &[String]) -> Result<(), EventsError> {
        todo!()
    }
    pub fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, EventsError> {
        todo!()
    }
}
