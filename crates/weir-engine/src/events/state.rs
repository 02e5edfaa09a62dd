//! What the bus holds in memory: every bus with its rules, the archives and the replays, and per
//! bus the snapshot its dispatcher matches against (one `Matcher` over the enabled rules, and the
//! archives of the bus), rebuilt and swapped whenever one of them changes.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use weir_store::{EventArchiveRecord, EventBusRecord, EventReplayRecord, EventRuleRecord};

use super::model::{Matcher, Pattern, ScheduleExpression, TargetSpec};
use super::targets;

/// A rule, checked.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub bus: String,
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub pattern_text: Option<String>,
    pub pattern: Option<Pattern>,
    pub schedule_text: Option<String>,
    pub schedule: Option<ScheduleExpression>,
    pub enabled: bool,
    pub role_arn: Option<String>,
    pub targets: Vec<TargetSpec>,
    pub tags: Vec<(String, String)>,
    /// Rules of definitions (`rules/*.yaml`, triggers): where they come from and the file. The
    /// API reads them and changes none (ManagedBy `weir`).
    pub managed: Option<Managed>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Managed {
    /// The set the rule belongs to (`rules`, `pipelines`, …): a reload replaces a whole set.
    pub origin: String,
    pub file: String,
}

impl Rule {
    pub fn record(&self) -> EventRuleRecord {
        EventRuleRecord {
            bus: self.bus.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            event_pattern: self.pattern_text.clone(),
            schedule: self.schedule_text.clone(),
            state: if self.enabled { "ENABLED" } else { "DISABLED" }.into(),
            role_arn: self.role_arn.clone(),
            targets: serde_json::Value::Array(self.targets.iter().map(targets::to_json).collect()),
            tags: tags_json(&self.tags),
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
        }
    }

    /// A stored rule; `Err` says why it cannot be read (its pattern or schedule no longer
    /// checks).
    pub fn from_record(record: EventRuleRecord, arn: String) -> Result<Rule, String> {
        let pattern = record
            .event_pattern
            .as_deref()
            .map(Pattern::parse)
            .transpose()
            .map_err(|e| e.message)?;
        let schedule = record
            .schedule
            .as_deref()
            .map(ScheduleExpression::parse)
            .transpose()
            .map_err(|e| e.message)?;
        let targets = record
            .targets
            .as_array()
            .map(|list| list.iter().filter_map(targets::from_json).collect())
            .unwrap_or_default();
        Ok(Rule {
            bus: record.bus,
            name: record.name,
            arn,
            description: record.description,
            pattern_text: record.event_pattern,
            pattern,
            schedule_text: record.schedule,
            schedule,
            enabled: record.state != "DISABLED",
            role_arn: record.role_arn,
            targets,
            tags: tags_of(&record.tags),
            managed: None,
            created_ms: record.created_ms,
            updated_ms: record.updated_ms,
        })
    }
}

/// What a bus's dispatcher matches against.
pub(crate) struct Dispatch {
    /// Over the enabled rules with a pattern; keys index `rules`.
    pub matcher: Matcher<usize>,
    /// The enabled rules.
    pub rules: Vec<Arc<Rule>>,
    /// The enabled archives of the bus, with their patterns.
    pub archives: Vec<(String, Option<Pattern>)>,
}

impl Dispatch {
    pub fn empty() -> Dispatch {
        Dispatch {
            matcher: Matcher::new(Vec::new()),
            rules: Vec::new(),
            archives: Vec::new(),
        }
    }
}

/// The snapshot a dispatcher reads; replaced whole, so a batch sees one consistent set.
pub(crate) type DispatchCell = Arc<RwLock<Arc<Dispatch>>>;

pub(crate) struct Bus {
    pub record: EventBusRecord,
    pub rules: BTreeMap<String, Arc<Rule>>,
    pub dispatch: DispatchCell,
}

pub(crate) struct Archive {
    pub record: EventArchiveRecord,
    pub pattern: Option<Pattern>,
    pub events: i64,
    pub bytes: i64,
}

#[derive(Default)]
pub(crate) struct State {
    pub buses: BTreeMap<String, Bus>,
    pub archives: BTreeMap<String, Archive>,
    pub replays: BTreeMap<String, EventReplayRecord>,
}

impl State {
    /// Builds a bus's snapshot again from its rules and archives, and swaps it in.
    pub fn refresh(&self, bus: &str, bus_arn: &str) {
        let Some(entry) = self.buses.get(bus) else {
            return;
        };
        let rules: Vec<Arc<Rule>> = entry
            .rules
            .values()
            .filter(|r| r.enabled)
            .cloned()
            .collect();
        let matcher = Matcher::new(
            rules
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((i, r.pattern.clone()?))),
        );
        let archives = self
            .archives
            .values()
            .filter(|a| a.record.source_arn == bus_arn && a.record.state == "ENABLED")
            .map(|a| (a.record.name.clone(), a.pattern.clone()))
            .collect();
        let dispatch = Arc::new(Dispatch {
            matcher,
            rules,
            archives,
        });
        *entry.dispatch.write().unwrap_or_else(|e| e.into_inner()) = dispatch;
    }
}

/// Tags as the store keeps them: `[{"Key": …, "Value": …}]`.
pub(crate) fn tags_json(tags: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Array(
        tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect(),
    )
}

pub(crate) fn tags_of(value: &serde_json::Value) -> Vec<(String, String)> {
    value
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|t| {
                    Some((
                        t.get("Key")?.as_str()?.to_string(),
                        t.get("Value")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
