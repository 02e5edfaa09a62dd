//! Rules and targets through the API: PutRule, DeleteRule, DescribeRule, ListRules,
//! Enable/DisableRule, PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget, with
//! EventBridge's limits and messages. Rules managed by weir (`rules/*.yaml`, triggers) are read
//! here and changed only by their files (ManagedRuleException).

use std::sync::Arc;

use weir_store::EventsMutation;

use super::buses::{bus_not_found, rule_not_found};
use super::model::{Pattern, ScheduleExpression, TargetSpec};
use super::names::ArnNames;
use super::names::{self, DEFAULT_BUS};
use super::state::Rule;
use super::targets;
use super::{Events, EventsError, now_ms};

/// Most rules on one bus.
const MAX_RULES: usize = 300;
/// Most targets of one rule.
const MAX_TARGETS: usize = 5;

/// What PutRule asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleInput {
    pub name: String,
    /// A name or an ARN; the default bus when absent.
    pub bus: Option<String>,
    pub description: Option<String>,
    /// The pattern's JSON text.
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    /// `ENABLED` (when absent), `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: Option<String>,
    pub role_arn: Option<String>,
    /// Only when the rule is created (PutRule on an existing rule ignores them, as AWS does).
    pub tags: Vec<(String, String)>,
}

/// A rule as DescribeRule shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    pub name: String,
    pub arn: String,
    pub bus: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub role_arn: Option<String>,
    /// `weir` for rules of definitions.
    pub managed_by: Option<String>,
    /// The file that defines a managed rule.
    pub file: Option<String>,
    /// The account that made it.
    pub created_by: String,
    pub targets: usize,
}

/// A target PutTargets or RemoveTargets could not take (FailedEntries).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetFailure {
    pub target_id: String,
    pub error_code: String,
    pub error_message: String,
}

impl Events {
    fn rule_info(&self, rule: &Rule) -> RuleInfo {
        RuleInfo {
            name: rule.name.clone(),
            arn: rule.arn.clone(),
            bus: rule.bus.clone(),
            description: rule.description.clone(),
            event_pattern: rule.pattern_text.clone(),
            schedule_expression: rule.schedule_text.clone(),
            state: if rule.enabled { "ENABLED" } else { "DISABLED" }.into(),
            role_arn: rule.role_arn.clone(),
            managed_by: rule.managed.as_ref().map(|_| "weir".to_string()),
            file: rule.managed.as_ref().map(|m| m.file.clone()),
            created_by: self.inner.arns.account.clone(),
            targets: rule.targets.len(),
        }
    }

    /// A rule by bus (name or ARN) and name.
    fn rule(&self, bus: &str, name: &str) -> Result<Arc<Rule>, EventsError> {
        let bus = self.inner.arns.bus_name(Some(bus));
        let state = self.lock();
        let entry = state.buses.get(&bus).ok_or_else(|| bus_not_found(&bus))?;
        entry
            .rules
            .get(name)
            .cloned()
            .ok_or_else(|| rule_not_found(name, &bus))
    }

    /// A copy of a rule the API may change (not a managed one).
    pub(super) fn rule_for_change(&self, bus: &str, name: &str) -> Result<Rule, EventsError> {
        let rule = self.rule(bus, name)?;
        if let Some(managed) = &rule.managed {
            return Err(managed_error(&rule.name, &managed.file));
        }
        Ok((*rule).clone())
    }

    /// Commits a rule, then puts it in memory and refreshes its bus's dispatcher.
    pub(super) async fn save_rule(&self, mut rule: Rule) -> Result<(), EventsError> {
        rule.updated_ms = now_ms();
        if rule.managed.is_none() {
            self.commit(vec![EventsMutation::PutRule(rule.record()).into()])
                .await?;
        }
        let bus = rule.bus.clone();
        let mut state = self.lock();
        if let Some(entry) = state.buses.get_mut(&bus) {
            entry.rules.insert(rule.name.clone(), Arc::new(rule));
        }
        state.refresh(&bus, &self.inner.arns.bus(&bus));
        drop(state);
        self.inner.schedules.wake();
        Ok(())
    }

    /// PutRule: creates or replaces a rule (its targets stay). Returns its ARN.
    pub async fn put_rule(&self, input: RuleInput) -> Result<String, EventsError> {
        let bus = self.inner.arns.bus_name(input.bus.as_deref());
        check_rule_name(&input.name)?;
        if input.event_pattern.is_none() && input.schedule_expression.is_none() {
            return Err(EventsError::Validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.".into(),
            ));
        }
        let pattern = input
            .event_pattern
            .as_deref()
            .map(Pattern::parse)
            .transpose()
            .map_err(|e| EventsError::InvalidPattern(e.message))?;
        let schedule = input
            .schedule_expression
            .as_deref()
            .map(ScheduleExpression::parse)
            .transpose()
            .map_err(|e| EventsError::Validation(e.message))?;
        if schedule.is_some() && bus != DEFAULT_BUS {
            return Err(EventsError::Validation(
                "ScheduleExpression is supported only on the default event bus.".into(),
            ));
        }
        let enabled = match input.state.as_deref() {
            None | Some("ENABLED") | Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") => true,
            Some("DISABLED") => false,
            Some(other) => {
                return Err(EventsError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, DISABLED, ENABLED]"
                )));
            }
        };
        let _admin = self.inner.admin.lock().await;
        let existing = {
            let state = self.lock();
            let entry = state.buses.get(&bus).ok_or_else(|| bus_not_found(&bus))?;
            let existing = entry.rules.get(&input.name).cloned();
            if existing.is_none() && entry.rules.len() >= MAX_RULES {
                return Err(EventsError::limit());
            }
            existing
        };
        if let Some(managed) = existing.as_ref().and_then(|r| r.managed.as_ref()) {
            return Err(managed_error(&input.name, &managed.file));
        }
        let now = now_ms();
        let arn = self.inner.arns.rule(&bus, &input.name);
        let rule = Rule {
            bus: bus.clone(),
            name: input.name.clone(),
            arn: arn.clone(),
            description: input.description,
            pattern_text: input.event_pattern,
            pattern,
            schedule_text: input.schedule_expression,
            schedule,
            enabled,
            role_arn: input.role_arn,
            targets: existing
                .as_ref()
                .map(|r| r.targets.clone())
                .unwrap_or_default(),
            tags: match &existing {
                Some(rule) => rule.tags.clone(),
                None => input.tags,
            },
            managed: None,
            created_ms: existing.as_ref().map_or(now, |r| r.created_ms),
            updated_ms: now,
        };
        self.save_rule(rule).await?;
        Ok(arn)
    }

    /// DeleteRule. A rule with targets is refused, as AWS does, and one that is not there is
    /// deleted already (on a bus that is); `force` is for AWS's managed rules, and weir's
    /// managed rules are changed only in their files.
    pub async fn delete_rule(
        &self,
        bus: &str,
        name: &str,
        _force: bool,
    ) -> Result<(), EventsError> {
        let _admin = self.inner.admin.lock().await;
        let rule = match self.rule_for_change(bus, name) {
            Err(EventsError::NotFound(_)) if self.describe_bus(bus).is_ok() => return Ok(()),
            found => found?,
        };
        if !rule.targets.is_empty() {
            return Err(EventsError::Validation(
                "Rule can't be deleted since it has targets.".into(),
            ));
        }
        self.commit(vec![
            EventsMutation::DeleteRule {
                bus: rule.bus.clone(),
                name: rule.name.clone(),
            }
            .into(),
        ])
        .await?;
        let mut state = self.lock();
        if let Some(entry) = state.buses.get_mut(&rule.bus) {
            entry.rules.remove(&rule.name);
        }
        state.refresh(&rule.bus, &self.inner.arns.bus(&rule.bus));
        drop(state);
        self.inner.schedules.wake();
        Ok(())
    }

    /// DescribeRule.
    pub fn describe_rule(&self, bus: &str, name: &str) -> Result<RuleInfo, EventsError> {
        let rule = self.rule(bus, name)?;
        Ok(self.rule_info(&rule))
    }

    /// What `show` says of each rule of a bus that `keep` keeps, by name (none for a bus
    /// that does not exist).
    fn rules_where<T>(
        &self,
        bus: &str,
        keep: impl Fn(&Rule) -> bool,
        show: impl Fn(&Rule) -> T,
    ) -> Vec<T> {
        let bus = self.inner.arns.bus_name(Some(bus));
        let state = self.lock();
        let Some(entry) = state.buses.get(&bus) else {
            return Vec::new();
        };
        entry
            .rules
            .values()
            .filter(|r| keep(r))
            .map(|r| show(r))
            .collect()
    }

    /// ListRules of a bus, by name.
    pub fn list_rules(&self, bus: &str, prefix: Option<&str>) -> Vec<RuleInfo> {
        self.rules_where(
            bus,
            |r| prefix.is_none_or(|p| r.name.starts_with(p)),
            |r| self.rule_info(r),
        )
    }

    /// EnableRule / DisableRule.
    pub async fn set_rule_enabled(
        &self,
        bus: &str,
        name: &str,
        enabled: bool,
    ) -> Result<(), EventsError> {
        let _admin = self.inner.admin.lock().await;
        let mut rule = self.rule_for_change(bus, name)?;
        rule.enabled = enabled;
        self.save_rule(rule).await
    }

    /// PutTargets: adds targets, or replaces those with the same Id. Whole-request refusals
    /// are errors; per-target ones come back as failures (none today: every target that passes
    /// the checks is taken).
    pub async fn put_targets(
        &self,
        bus: &str,
        rule: &str,
        new: Vec<TargetSpec>,
    ) -> Result<Vec<TargetFailure>, EventsError> {
        for (i, target) in new.iter().enumerate() {
            targets::check_id(&target.id, i + 1).map_err(EventsError::Validation)?;
            target
                .input
                .check(&target.id)
                .map_err(EventsError::Validation)?;
        }
        let _admin = self.inner.admin.lock().await;
        let mut changed = self.rule_for_change(bus, rule)?;
        for target in new {
            match changed.targets.iter_mut().find(|t| t.id == target.id) {
                Some(slot) => *slot = target,
                None => changed.targets.push(target),
            }
        }
        if changed.targets.len() > MAX_TARGETS {
            return Err(EventsError::limit());
        }
        self.save_rule(changed).await?;
        Ok(Vec::new())
    }

    /// RemoveTargets: ids the rule does not have are passed over, as AWS does.
    pub async fn remove_targets(
        &self,
        bus: &str,
        rule: &str,
        ids: &[String],
        _force: bool,
    ) -> Result<Vec<TargetFailure>, EventsError> {
        let _admin = self.inner.admin.lock().await;
        let mut changed = self.rule_for_change(bus, rule)?;
        changed.targets.retain(|t| !ids.contains(&t.id));
        self.save_rule(changed).await?;
        Ok(Vec::new())
    }

    /// ListTargetsByRule, in the order they were put.
    pub fn list_targets(&self, bus: &str, rule: &str) -> Result<Vec<TargetSpec>, EventsError> {
        Ok(self.rule(bus, rule)?.targets.clone())
    }

    /// ListRuleNamesByTarget: the rules of a bus with a target of that ARN, by name.
    pub fn rule_names_by_target(&self, bus: &str, target_arn: &str) -> Vec<String> {
        self.rules_where(
            bus,
            |r| r.targets.iter().any(|t| t.arn == target_arn),
            |r| r.name.clone(),
        )
    }
}

/// A rule name as PutRule takes it: 1–64 of `[\.\-_A-Za-z0-9]`.
pub(super) fn check_rule_name(name: &str) -> Result<(), EventsError> {
    names::check_name(name, "name", 64, names::RESOURCE_NAME).map_err(EventsError::Validation)
}

fn managed_error(rule: &str, file: &str) -> EventsError {
    EventsError::Managed(format!(
        "Rule {rule} is managed by weir ({file}) and cannot be changed through the API; change {file} instead."
    ))
}
