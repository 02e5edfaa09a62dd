//! Buses (CreateEventBus, DeleteEventBus, DescribeEventBus, ListEventBuses), tags on buses and
//! rules, and what start loads from the store.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use weir_store::{ConsumerMutation, EventBusRecord, EventsMutation, Mutation};
use weir_stream::consumer::{self, GroupOptions};
use weir_stream::{NewStream, StartingPosition, StreamError, StreamMode};

use super::dispatch::BusProcessor;
use super::names::ArnNames;
use super::names::{self, DEFAULT_BUS};
use super::state::{Archive, Bus, Dispatch, Rule, tags_json, tags_of};
use super::{Events, EventsError, now_ms};

/// Most buses, the default one included, as AWS allows.
const MAX_BUSES: usize = 100;
/// Most tags on a resource.
const MAX_TAGS: usize = 50;
/// How long a bus's stream keeps events: a dispatcher that falls this far behind loses them.
const RETENTION_HOURS: u32 = 168;
/// Most events a dispatcher takes in one batch.
const BATCH_SIZE: usize = 500;

/// A bus as DescribeEventBus shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BusInfo {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Events {
    pub(super) async fn load(&self) -> Result<(), EventsError> {
        let store = &self.inner.store;
        let mut buses = store.event_buses().await.map_err(EventsError::internal)?;
        if !buses.iter().any(|b| b.name == DEFAULT_BUS) {
            let now = now_ms();
            let default = EventBusRecord {
                name: DEFAULT_BUS.into(),
                description: None,
                tags: serde_json::json!([]),
                created_ms: now,
                updated_ms: now,
            };
            self.commit(vec![EventsMutation::PutBus(default.clone()).into()])
                .await?;
            buses.push(default);
        }
        let rules = store.event_rules().await.map_err(EventsError::internal)?;
        let archives = store
            .event_archives()
            .await
            .map_err(EventsError::internal)?;
        let usage = store.archive_usage().await.map_err(EventsError::internal)?;
        let replays = store.event_replays().await.map_err(EventsError::internal)?;
        let retries = store.event_retries().await.map_err(EventsError::internal)?;
        {
            let mut state = self.lock();
            for record in buses {
                state.buses.insert(record.name.clone(), new_bus(record));
            }
            for record in rules {
                let arn = self.inner.arns.rule(&record.bus, &record.name);
                let (bus, name) = (record.bus.clone(), record.name.clone());
                match Rule::from_record(record, arn) {
                    Ok(rule) => {
                        if let Some(entry) = state.buses.get_mut(&bus) {
                            entry.rules.insert(name, Arc::new(rule));
                        }
                    }
                    Err(error) => {
                        tracing::error!(
                            bus,
                            rule = name,
                            "a stored rule cannot be read; it is not run: {error}"
                        )
                    }
                }
            }
            for record in archives {
                let pattern = record
                    .event_pattern
                    .as_deref()
                    .and_then(|text| super::model::Pattern::parse(text).ok());
                let (events, bytes) = usage
                    .iter()
                    .find(|u| u.archive == record.name)
                    .map_or((0, 0), |u| (u.events, u.bytes));
                state.archives.insert(
                    record.name.clone(),
                    Archive {
                        record,
                        pattern,
                        events,
                        bytes,
                    },
                );
            }
            for record in replays {
                state.replays.insert(record.name.clone(), record);
            }
            let names: Vec<String> = state.buses.keys().cloned().collect();
            for bus in names {
                state.refresh(&bus, &self.inner.arns.bus(&bus));
            }
        }
        for record in retries {
            self.inner.retries.add(record);
        }
        Ok(())
    }

    /// Starts every bus's dispatcher: only once every rule is in place (the store's, the files',
    /// the triggers'), so events already in a log are matched against all of them.
    pub(super) async fn run_buses(&self) -> Result<(), EventsError> {
        let names: Vec<String> = self.lock().buses.keys().cloned().collect();
        for bus in names {
            self.run_bus(&bus).await?;
        }
        Ok(())
    }

    /// Makes a bus's stream if it is missing and starts its dispatcher.
    async fn run_bus(&self, bus: &str) -> Result<(), EventsError> {
        let stream = names::bus_stream(bus);
        let created = self
            .inner
            .streams
            .create_stream(NewStream {
                name: stream.clone(),
                mode: StreamMode::Provisioned,
                shard_count: Some(1),
                tags: Vec::new(),
            })
            .await;
        match created {
            Ok(_) => {
                if let Err(error) = self
                    .inner
                    .streams
                    .set_retention(&stream, RETENTION_HOURS)
                    .await
                {
                    tracing::warn!(bus, "cannot lengthen the bus's retention: {error}");
                }
            }
            Err(StreamError::InUse { .. }) => {}
            Err(error) => return Err(EventsError::internal(error)),
        }
        let Some(dispatch) = self.lock().buses.get(bus).map(|b| Arc::clone(&b.dispatch)) else {
            return Ok(());
        };
        let mut options = GroupOptions::new(
            &names::group_name(bus),
            &stream,
            &self.inner.owner,
            StartingPosition::TrimHorizon,
        );
        options.description = format!("event bus {bus}");
        options.batch_size = BATCH_SIZE;
        options.lease_duration = self.inner.lease_duration;
        let processor = Arc::new(BusProcessor::new(
            bus.to_string(),
            Arc::downgrade(&self.inner),
            dispatch,
        ));
        let group = consumer::start(
            self.inner.streams.clone(),
            Arc::clone(&self.inner.store),
            self.inner.committer.clone(),
            options,
            processor,
        );
        if let Some(old) = self
            .inner
            .groups
            .lock()
            .await
            .insert(bus.to_string(), group)
        {
            old.stop().await;
        }
        Ok(())
    }

    fn bus_info(&self, record: &EventBusRecord) -> BusInfo {
        BusInfo {
            name: record.name.clone(),
            arn: self.inner.arns.bus(&record.name),
            description: record.description.clone(),
            created_ms: record.created_ms,
            updated_ms: record.updated_ms,
        }
    }

    /// CreateEventBus.
    pub async fn create_bus(
        &self,
        name: &str,
        description: Option<String>,
        tags: Vec<(String, String)>,
    ) -> Result<BusInfo, EventsError> {
        check_bus_name(name)?;
        if tags.len() > MAX_TAGS {
            return Err(EventsError::limit());
        }
        let _admin = self.inner.admin.lock().await;
        {
            let state = self.lock();
            if state.buses.contains_key(name) {
                return Err(EventsError::AlreadyExists(format!(
                    "Event bus {name} already exists."
                )));
            }
            if state.buses.len() >= MAX_BUSES {
                return Err(EventsError::limit());
            }
        }
        let now = now_ms();
        let record = EventBusRecord {
            name: name.to_string(),
            description,
            tags: tags_json(&tags),
            created_ms: now,
            updated_ms: now,
        };
        self.commit(vec![EventsMutation::PutBus(record.clone()).into()])
            .await?;
        let info = self.bus_info(&record);
        {
            let mut state = self.lock();
            state.buses.insert(name.to_string(), new_bus(record));
            state.refresh(name, &info.arn);
        }
        self.run_bus(name).await?;
        Ok(info)
    }

    /// DeleteEventBus: a bus without rules, with the events it had not dispatched. A bus that is
    /// not there is deleted already, as AWS answers.
    pub async fn delete_bus(&self, name: &str) -> Result<(), EventsError> {
        let name = self.inner.arns.bus_name(Some(name));
        if name == DEFAULT_BUS {
            return Err(EventsError::Validation(
                "Cannot delete event bus default.".into(),
            ));
        }
        let _admin = self.inner.admin.lock().await;
        {
            let state = self.lock();
            let Some(bus) = state.buses.get(&name) else {
                // AWS answers a deletion of a bus that does not exist with success.
                return Ok(());
            };
            if !bus.rules.is_empty() {
                return Err(EventsError::Validation(
                    "EventBus can't be deleted since it has rules.".into(),
                ));
            }
        }
        if let Some(group) = self.inner.groups.lock().await.remove(&name) {
            group.stop().await;
        }
        let batch: Vec<Mutation> = vec![
            EventsMutation::DeleteBus { name: name.clone() }.into(),
            ConsumerMutation::DeleteGroup {
                group_name: names::group_name(&name),
            }
            .into(),
        ];
        self.commit(batch).await?;
        self.lock().buses.remove(&name);
        self.inner.schedules.wake();
        match self
            .inner
            .streams
            .delete_stream(&names::bus_stream(&name), true)
            .await
        {
            Ok(()) | Err(StreamError::NotFound { .. }) => {}
            Err(error) => tracing::warn!(bus = name, "cannot delete the bus's stream: {error}"),
        }
        Ok(())
    }

    /// DescribeEventBus (`name` a name or an ARN; the default bus when empty).
    pub fn describe_bus(&self, name: &str) -> Result<BusInfo, EventsError> {
        let name = self.inner.arns.bus_name(Some(name));
        let state = self.lock();
        state
            .buses
            .get(&name)
            .map(|bus| self.bus_info(&bus.record))
            .ok_or_else(|| bus_not_found(&name))
    }

    /// ListEventBuses, by name.
    pub fn list_buses(&self, prefix: Option<&str>) -> Vec<BusInfo> {
        let state = self.lock();
        state
            .buses
            .values()
            .filter(|b| prefix.is_none_or(|p| b.record.name.starts_with(p)))
            .map(|b| self.bus_info(&b.record))
            .collect()
    }

    /// TagResource on a bus or a rule ARN.
    pub async fn tag(&self, arn: &str, tags: Vec<(String, String)>) -> Result<(), EventsError> {
        self.change_tags(arn, |existing| {
            for (key, value) in tags {
                match existing.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => existing.push((key, value)),
                }
            }
        })
        .await
    }

    /// UntagResource.
    pub async fn untag(&self, arn: &str, keys: &[String]) -> Result<(), EventsError> {
        self.change_tags(arn, |existing| existing.retain(|(k, _)| !keys.contains(k)))
            .await
    }

    /// ListTagsForResource.
    pub fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, EventsError> {
        let state = self.lock();
        if let Some((bus, rule)) = self.inner.arns.rule_of_arn(arn) {
            return state
                .buses
                .get(&bus)
                .and_then(|b| b.rules.get(&rule))
                .map(|r| r.tags.clone())
                .ok_or_else(|| rule_not_found(&rule, &bus));
        }
        let bus = self.inner.arns.bus_name(Some(arn));
        state
            .buses
            .get(&bus)
            .map(|b| tags_of(&b.record.tags))
            .ok_or_else(|| bus_not_found(&bus))
    }

    async fn change_tags(
        &self,
        arn: &str,
        change: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Result<(), EventsError> {
        let _admin = self.inner.admin.lock().await;
        if let Some((bus, name)) = self.inner.arns.rule_of_arn(arn) {
            let mut rule = self.rule_for_change(&bus, &name)?;
            change(&mut rule.tags);
            if rule.tags.len() > MAX_TAGS {
                return Err(EventsError::limit());
            }
            return self.save_rule(rule).await;
        }
        let bus = self.inner.arns.bus_name(Some(arn));
        let mut record = self
            .lock()
            .buses
            .get(&bus)
            .map(|b| b.record.clone())
            .ok_or_else(|| bus_not_found(&bus))?;
        let mut tags = tags_of(&record.tags);
        change(&mut tags);
        if tags.len() > MAX_TAGS {
            return Err(EventsError::limit());
        }
        record.tags = tags_json(&tags);
        record.updated_ms = now_ms();
        self.commit(vec![EventsMutation::PutBus(record.clone()).into()])
            .await?;
        if let Some(entry) = self.lock().buses.get_mut(&bus) {
            entry.record = record;
        }
        Ok(())
    }
}

fn new_bus(record: EventBusRecord) -> Bus {
    Bus {
        record,
        rules: BTreeMap::new(),
        dispatch: Arc::new(RwLock::new(Arc::new(Dispatch::empty()))),
    }
}

/// A bus name as CreateEventBus takes it: 1–256 of `[/\.\-_A-Za-z0-9]`.
fn check_bus_name(name: &str) -> Result<(), EventsError> {
    names::check_name(name, "name", 256, names::BUS_NAME).map_err(EventsError::Validation)
}

pub(crate) fn bus_not_found(name: &str) -> EventsError {
    EventsError::NotFound(format!("Event bus {name} does not exist."))
}

pub(crate) fn rule_not_found(rule: &str, bus: &str) -> EventsError {
    EventsError::NotFound(format!("Rule {rule} does not exist on EventBus {bus}."))
}
