//! Archives (CreateArchive, UpdateArchive, DeleteArchive, DescribeArchive, ListArchives) and
//! replays (StartReplay, DescribeReplay, ListReplays, CancelReplay).
//!
//! A bus's dispatcher copies each event an archive's pattern matches into the archive, committed
//! with its checkpoint (`dispatch.rs`); replayed events are not archived again. A replay reads
//! the archive's events of [start, end) in the order the bus took them, a page at a time, and
//! appends them to the destination bus with `replay-name` set (only for the rules of FilterArns
//! when given); its position is committed after each page, so a restart resumes it.

use std::sync::Arc;
use std::time::Duration;

use weir_store::{EventArchiveRecord, EventReplayRecord, EventsMutation};

use super::buses::bus_not_found;
use super::model::{Event, Pattern};
use super::names::ArnNames;
use super::state::Archive;
use super::{Envelope, Events, EventsError, now_ms};

/// Events a replay reads and puts at once.
const REPLAY_PAGE: i64 = 100;
/// How often archives drop the events past their retention.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// What CreateArchive asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchiveInput {
    pub name: String,
    /// The ARN of the bus to archive.
    pub source_arn: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    /// Days to keep events; 0 (the default) keeps them for ever.
    pub retention_days: u32,
}

/// An archive as DescribeArchive shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveInfo {
    pub name: String,
    pub arn: String,
    pub source_arn: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub retention_days: u32,
    pub size_bytes: i64,
    pub event_count: i64,
    pub created_ms: i64,
}

/// What StartReplay asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayInput {
    pub name: String,
    pub description: Option<String>,
    pub archive_arn: String,
    /// Milliseconds since the epoch: events the bus took in [start, end) are replayed.
    pub start_ms: i64,
    pub end_ms: i64,
    /// The bus the events go to (the archive's own bus).
    pub destination_arn: String,
    /// Only these rules (ARNs) of it get them; all when empty.
    pub filter_arns: Vec<String>,
}

/// A replay as DescribeReplay shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayInfo {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    /// STARTING, RUNNING, CANCELLING, COMPLETED, CANCELLED or FAILED.
    pub state: String,
    pub state_reason: Option<String>,
    pub archive_arn: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub destination_arn: String,
    pub filter_arns: Vec<String>,
    /// When the replay started and ended (ReplayStartTime, ReplayEndTime).
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    /// The time the last replayed event was taken (EventLastReplayedTime).
    pub last_replayed_ms: Option<i64>,
}

/// Starts the replays a restart interrupted, and archive retention.
pub(super) async fn spawn(events: &Events) {
    let unfinished: Vec<String> = events
        .lock()
        .replays
        .values()
        .filter(|r| matches!(r.state.as_str(), "STARTING" | "RUNNING" | "CANCELLING"))
        .map(|r| r.name.clone())
        .collect();
    for name in unfinished {
        events.run_replay(name);
    }
    let inner = Arc::downgrade(&events.inner);
    let mut stopping = events.inner.stopping.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(RETENTION_EVERY) => {}
                _ = stopping.changed() => return,
            }
            let Some(inner) = inner.upgrade() else { return };
            Events { inner }.expire_archived(now_ms()).await;
        }
    });
}

impl Events {
    fn archive_info(&self, archive: &Archive) -> ArchiveInfo {
        let record = &archive.record;
        ArchiveInfo {
            name: record.name.clone(),
            arn: self.inner.arns.archive(&record.name),
            source_arn: record.source_arn.clone(),
            description: record.description.clone(),
            event_pattern: record.event_pattern.clone(),
            state: record.state.clone(),
            retention_days: u32::try_from(record.retention_days).unwrap_or(0),
            size_bytes: archive.bytes,
            event_count: archive.events,
            created_ms: record.created_ms,
        }
    }

    fn archive_not_found(name: &str) -> EventsError {
        EventsError::NotFound(format!("Archive {name} does not exist."))
    }

    /// Puts an archive in memory and refreshes its bus's dispatcher.
    fn keep_archive(&self, archive: Archive) {
        let bus = self.inner.arns.bus_name(Some(&archive.record.source_arn));
        let mut state = self.lock();
        state.archives.insert(archive.record.name.clone(), archive);
        state.refresh(&bus, &self.inner.arns.bus(&bus));
    }

    /// CreateArchive.
    pub async fn create_archive(&self, input: ArchiveInput) -> Result<ArchiveInfo, EventsError> {
        let pattern = parse_pattern(input.event_pattern.as_deref())?;
        let bus = self.inner.arns.bus_name(Some(&input.source_arn));
        let _admin = self.inner.admin.lock().await;
        {
            let state = self.lock();
            if state.archives.contains_key(&input.name) {
                return Err(EventsError::AlreadyExists(format!(
                    "Archive {} already exists.",
                    input.name
                )));
            }
            if !state.buses.contains_key(&bus) {
                return Err(bus_not_found(&bus));
            }
        }
        let record = EventArchiveRecord {
            name: input.name.clone(),
            source_arn: self.inner.arns.bus(&bus),
            description: input.description,
            event_pattern: input.event_pattern,
            retention_days: i64::from(input.retention_days),
            state: "ENABLED".into(),
            created_ms: now_ms(),
        };
        self.commit(vec![EventsMutation::PutArchive(record.clone()).into()])
            .await?;
        let archive = Archive {
            record,
            pattern,
            events: 0,
            bytes: 0,
        };
        let info = self.archive_info(&archive);
        self.keep_archive(archive);
        Ok(info)
    }

    /// UpdateArchive: the fields given change.
    pub async fn update_archive(
        &self,
        name: &str,
        description: Option<String>,
        event_pattern: Option<String>,
        retention_days: Option<u32>,
    ) -> Result<ArchiveInfo, EventsError> {
        let name = self.inner.arns.name_of("archive", name);
        let _admin = self.inner.admin.lock().await;
        let (mut record, mut pattern, events, bytes) = {
            let state = self.lock();
            let archive = state
                .archives
                .get(&name)
                .ok_or_else(|| Self::archive_not_found(&name))?;
            (
                archive.record.clone(),
                archive.pattern.clone(),
                archive.events,
                archive.bytes,
            )
        };
        if let Some(text) = event_pattern {
            pattern = parse_pattern(Some(&text))?;
            record.event_pattern = Some(text);
        }
        if description.is_some() {
            record.description = description;
        }
        if let Some(days) = retention_days {
            record.retention_days = i64::from(days);
        }
        self.commit(vec![EventsMutation::PutArchive(record.clone()).into()])
            .await?;
        let archive = Archive {
            record,
            pattern,
            events,
            bytes,
        };
        let info = self.archive_info(&archive);
        self.keep_archive(archive);
        Ok(info)
    }

    /// DeleteArchive: the archive and the events it kept.
    pub async fn delete_archive(&self, name: &str) -> Result<(), EventsError> {
        let name = self.inner.arns.name_of("archive", name);
        let _admin = self.inner.admin.lock().await;
        let source = self
            .lock()
            .archives
            .get(&name)
            .map(|a| a.record.source_arn.clone())
            .ok_or_else(|| Self::archive_not_found(&name))?;
        self.commit(vec![
            EventsMutation::DeleteArchive { name: name.clone() }.into(),
        ])
        .await?;
        let bus = self.inner.arns.bus_name(Some(&source));
        let mut state = self.lock();
        state.archives.remove(&name);
        state.refresh(&bus, &self.inner.arns.bus(&bus));
        Ok(())
    }

    /// DescribeArchive.
    pub fn describe_archive(&self, name: &str) -> Result<ArchiveInfo, EventsError> {
        let name = self.inner.arns.name_of("archive", name);
        let state = self.lock();
        state
            .archives
            .get(&name)
            .map(|a| self.archive_info(a))
            .ok_or_else(|| Self::archive_not_found(&name))
    }

    /// ListArchives, by name: those with the name prefix, of the source bus, in the state.
    pub fn list_archives(
        &self,
        prefix: Option<&str>,
        source_arn: Option<&str>,
        state_filter: Option<&str>,
    ) -> Vec<ArchiveInfo> {
        let state = self.lock();
        state
            .archives
            .values()
            .filter(|a| prefix.is_none_or(|p| a.record.name.starts_with(p)))
            .filter(|a| source_arn.is_none_or(|s| a.record.source_arn == s))
            .filter(|a| state_filter.is_none_or(|s| a.record.state == s))
            .map(|a| self.archive_info(a))
            .collect()
    }

    /// Drops archived events past their archive's retention.
    pub(crate) async fn expire_archived(&self, now: i64) {
        let expiring: Vec<EventsMutation> = self
            .lock()
            .archives
            .values()
            .filter(|a| a.record.retention_days > 0)
            .map(|a| EventsMutation::ExpireArchivedEvents {
                archive: a.record.name.clone(),
                before_ms: now - a.record.retention_days * 86_400_000,
            })
            .collect();
        if expiring.is_empty() {
            return;
        }
        let batch = expiring.into_iter().map(Into::into).collect();
        if let Err(error) = self.commit(batch).await {
            tracing::warn!("archived events past their retention were not dropped: {error}");
            return;
        }
        // The counts are the store's again.
        if let Ok(usage) = self.inner.store.archive_usage().await {
            let mut state = self.lock();
            for archive in state.archives.values_mut() {
                let found = usage.iter().find(|u| u.archive == archive.record.name);
                archive.events = found.map_or(0, |u| u.events);
                archive.bytes = found.map_or(0, |u| u.bytes);
            }
        }
    }

    fn replay_info(&self, record: &EventReplayRecord) -> ReplayInfo {
        ReplayInfo {
            name: record.name.clone(),
            arn: self.inner.arns.replay(&record.name),
            description: record.description.clone(),
            state: record.state.clone(),
            state_reason: record.state_reason.clone(),
            archive_arn: record.archive_arn.clone(),
            start_ms: record.start_ms,
            end_ms: record.end_ms,
            destination_arn: record.destination_arn.clone(),
            filter_arns: filter_arns(record),
            started_ms: record.started_ms,
            ended_ms: record.ended_ms,
            last_replayed_ms: record.last_replayed_ms,
        }
    }

    fn replay_not_found(name: &str) -> EventsError {
        EventsError::NotFound(format!("Replay {name} does not exist."))
    }

    /// StartReplay.
    pub async fn start_replay(&self, input: ReplayInput) -> Result<ReplayInfo, EventsError> {
        if input.end_ms <= input.start_ms {
            return Err(EventsError::Validation(
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.".into(),
            ));
        }
        if input.end_ms > now_ms() {
            return Err(EventsError::Validation(
                "Parameter EventEndTime is not valid. Reason: EventEndTime cannot be in the future.".into(),
            ));
        }
        let archive = self.inner.arns.name_of("archive", &input.archive_arn);
        let destination = self.inner.arns.bus_name(Some(&input.destination_arn));
        let _admin = self.inner.admin.lock().await;
        {
            let state = self.lock();
            if state.replays.contains_key(&input.name) {
                return Err(EventsError::AlreadyExists(format!(
                    "Replay {} already exists.",
                    input.name
                )));
            }
            let source = state
                .archives
                .get(&archive)
                .map(|a| a.record.source_arn.clone())
                .ok_or_else(|| Self::archive_not_found(&archive))?;
            if source != self.inner.arns.bus(&destination) {
                return Err(EventsError::Validation(
                    "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.".into(),
                ));
            }
            for arn in &input.filter_arns {
                let on_bus = self
                    .inner
                    .arns
                    .rule_of_arn(arn)
                    .is_some_and(|(bus, _)| bus == destination);
                if !on_bus {
                    return Err(EventsError::Validation(format!(
                        "Parameter Destination.FilterArns is not valid. Reason: {arn} is not a rule of event bus {destination}."
                    )));
                }
            }
        }
        let record = EventReplayRecord {
            name: input.name.clone(),
            description: input.description,
            archive_arn: self.inner.arns.archive(&archive),
            destination_arn: self.inner.arns.bus(&destination),
            filter_arns: serde_json::json!(input.filter_arns),
            start_ms: input.start_ms,
            end_ms: input.end_ms,
            state: "STARTING".into(),
            state_reason: None,
            started_ms: now_ms(),
            ended_ms: None,
            last_replayed_ms: None,
            cursor_time_ms: None,
            cursor_seq: None,
        };
        self.commit(vec![EventsMutation::PutReplay(record.clone()).into()])
            .await?;
        let info = self.replay_info(&record);
        self.lock().replays.insert(record.name.clone(), record);
        self.run_replay(input.name);
        Ok(info)
    }

    /// DescribeReplay.
    pub fn describe_replay(&self, name: &str) -> Result<ReplayInfo, EventsError> {
        let name = self.inner.arns.name_of("replay", name);
        let state = self.lock();
        state
            .replays
            .get(&name)
            .map(|r| self.replay_info(r))
            .ok_or_else(|| Self::replay_not_found(&name))
    }

    /// ListReplays, by name: those with the name prefix, in the state, of the archive.
    pub fn list_replays(
        &self,
        prefix: Option<&str>,
        state_filter: Option<&str>,
        archive_arn: Option<&str>,
    ) -> Vec<ReplayInfo> {
        let state = self.lock();
        state
            .replays
            .values()
            .filter(|r| prefix.is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| state_filter.is_none_or(|s| r.state == s))
            .filter(|r| archive_arn.is_none_or(|a| r.archive_arn == a))
            .map(|r| self.replay_info(r))
            .collect()
    }

    /// CancelReplay: a replay that is starting or running stops after the page it is on.
    pub async fn cancel_replay(&self, name: &str) -> Result<ReplayInfo, EventsError> {
        let name = self.inner.arns.name_of("replay", name);
        let _admin = self.inner.admin.lock().await;
        let mut record = self
            .lock()
            .replays
            .get(&name)
            .cloned()
            .ok_or_else(|| Self::replay_not_found(&name))?;
        if !matches!(record.state.as_str(), "STARTING" | "RUNNING") {
            return Err(EventsError::IllegalStatus(format!(
                "Replay {name} is not in a valid state for this operation."
            )));
        }
        record.state = "CANCELLING".into();
        self.commit(vec![EventsMutation::PutReplay(record.clone()).into()])
            .await?;
        let info = self.replay_info(&record);
        self.lock().replays.insert(name, record);
        Ok(info)
    }

    /// Runs a replay to its end on a task of its own.
    fn run_replay(&self, name: String) {
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let Some(inner) = inner.upgrade() else { return };
                let events = Events { inner };
                match events.replay_page(&name).await {
                    Ok(true) => continue,
                    Ok(false) => return,
                    Err(error) => {
                        tracing::warn!(
                            replay = name,
                            "a replay's page failed; trying again: {error}"
                        );
                        drop(events);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }

    /// Replays the next page; `Ok(false)` once the replay has ended.
    async fn replay_page(&self, name: &str) -> Result<bool, EventsError> {
        let Some(mut record) = self.lock().replays.get(name).cloned() else {
            return Ok(false);
        };
        let finish = |record: &mut EventReplayRecord, state: &str| {
            record.state = state.into();
            record.ended_ms = Some(now_ms());
        };
        match record.state.as_str() {
            "CANCELLING" => finish(&mut record, "CANCELLED"),
            "STARTING" | "RUNNING" => {
                let archive = self.inner.arns.name_of("archive", &record.archive_arn);
                let after = record.cursor_time_ms.zip(record.cursor_seq);
                let page = self
                    .inner
                    .store
                    .archived_events(&archive, record.start_ms, record.end_ms, after, REPLAY_PAGE)
                    .await
                    .map_err(EventsError::internal)?;
                match page.last() {
                    None => finish(&mut record, "COMPLETED"),
                    Some(last) => {
                        let rules: Vec<String> = filter_arns(&record)
                            .iter()
                            .filter_map(|arn| self.inner.arns.rule_of_arn(arn).map(|(_, r)| r))
                            .collect();
                        let mut envelopes = Vec::with_capacity(page.len());
                        for archived in &page {
                            let Ok(mut event) = serde_json::from_str::<Event>(&archived.event)
                            else {
                                tracing::warn!(
                                    replay = name,
                                    "an archived event cannot be read; it is passed over"
                                );
                                continue;
                            };
                            event.replay_name = Some(name.to_string());
                            envelopes.push(Envelope {
                                event,
                                rules: (!rules.is_empty()).then(|| rules.clone()),
                                scheduled: false,
                            });
                        }
                        let bus = self.inner.arns.bus_name(Some(&record.destination_arn));
                        if !self.lock().buses.contains_key(&bus) {
                            finish(&mut record, "FAILED");
                            record.state_reason = Some(format!("Event bus {bus} does not exist."));
                        } else {
                            let appended = self.append(&bus, envelopes).await?;
                            if appended.iter().any(|ok| !ok) {
                                return Err(EventsError::Internal(
                                    "the destination bus did not take every event".into(),
                                ));
                            }
                            record.state = "RUNNING".into();
                            record.cursor_time_ms = Some(last.time_ms);
                            record.cursor_seq = Some(last.seq);
                            record.last_replayed_ms = Some(last.time_ms);
                        }
                    }
                }
            }
            _ => return Ok(false),
        }
        // Cancelled meanwhile: the next page sees it.
        let _admin = self.inner.admin.lock().await;
        let current = self.lock().replays.get(name).map(|r| r.state.clone());
        if current.as_deref() == Some("CANCELLING") && record.state == "RUNNING" {
            record.state = "CANCELLING".into();
        }
        self.commit(vec![EventsMutation::PutReplay(record.clone()).into()])
            .await?;
        let ended = record.ended_ms.is_some();
        self.lock().replays.insert(name.to_string(), record);
        Ok(!ended)
    }
}

fn parse_pattern(text: Option<&str>) -> Result<Option<Pattern>, EventsError> {
    text.map(Pattern::parse)
        .transpose()
        .map_err(|e| EventsError::InvalidPattern(e.message))
}

fn filter_arns(record: &EventReplayRecord) -> Vec<String> {
    record
        .filter_arns
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
