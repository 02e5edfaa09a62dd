//! Triggers: a pipeline or a state machine that starts when an event matches a pattern, written
//! inline in its own file (`triggers:` in a pipeline file, a top-level lowercase `triggers` key
//! in a state machine file):
//!
//! ```yaml
//! triggers:
//!   - event: {source: [weir.glue], detail-type: [Partition Added], detail: {table: [clicks]}}
//!     bus: default              # optional
//!     input_transformer:        # or input, or input_path (as a rule's target)
//!       input_paths: {day: $.detail.partition.day}
//!       input_template: '{"day": <day>}'
//! ```
//!
//! Each trigger becomes a rule named [`Trigger::rule_name`] (managed by weir) on its bus, with
//! one target: the pipeline (the rendered input, a JSON object, is the run's params) or the
//! state machine (the rendered input is the execution's input).

use super::PatternSource;
use super::arn::{DEFAULT_BUS, Scope, TargetKind};
use super::input::{TargetInput, is_json_template};
use super::rule_file::{
    self, MAX_NAME_CHARS, RetryPolicy, RuleSpec, TargetSpec, read_bus, read_input, read_pattern,
};
use crate::pipeline::fields::{Ctx, unknown_key};
use crate::pipeline::yaml::Node;

/// The keys of one trigger.
pub const TRIGGER_KEYS: [&str; 5] = ["event", "bus", "input", "input_path", "input_transformer"];

/// What a trigger starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerOwner {
    /// A pipeline run: its params are the rendered input (a JSON object); `{}` when the
    /// trigger gives no input (the run reads the event as `event` in its templates).
    Pipeline,
    /// A state machine execution: its input is the rendered input (the whole event by
    /// default, as an EventBridge StartExecution target).
    Machine,
}

/// One trigger: a pattern on a bus, and what the started run receives.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub bus: String,
    pub pattern: PatternSource,
    pub input: TargetInput,
}

impl Trigger {
    /// The rule a trigger becomes: `OWNER.trigger-N`, N counting from 1 in file order.
    pub fn rule_name(owner: &str, index: usize) -> String {
        format!("{owner}.trigger-{}", index + 1)
    }

    /// What the id of the rule's one target starts with (`trigger-N`, as the rule's name ends).
    pub const TARGET_ID: &'static str = "trigger";

    /// The rule this trigger becomes: trigger `index` (from 0) of the pipeline or state machine
    /// `owner_name`, on the trigger's bus, enabled, with one target (the owner) that gets the
    /// trigger's input and EventBridge's default retry policy.
    pub fn to_rule(
        &self,
        owner: TriggerOwner,
        owner_name: &str,
        index: usize,
        scope: &Scope,
    ) -> RuleSpec {
        let (kind, what) = match owner {
            TriggerOwner::Pipeline => (TargetKind::Pipeline, "pipeline"),
            TriggerOwner::Machine => (TargetKind::Machine, "state machine"),
        };
        RuleSpec {
            name: Trigger::rule_name(owner_name, index),
            bus: self.bus.clone(),
            description: Some(format!(
                "Starts {what} {owner_name} (trigger {} of its file)",
                index + 1
            )),
            pattern: Some(self.pattern.clone()),
            schedule: None,
            enabled: true,
            targets: vec![TargetSpec {
                // Numbered like the rule, so two triggers of one owner that match one event are
                // two targets (an execution is named after its target and the event).
                id: format!("{}-{}", Trigger::TARGET_ID, index + 1),
                arn: scope.target(kind, owner_name),
                input: self.input.clone(),
                retry: RetryPolicy::default(),
                dead_letter: None,
                kinesis_partition_key_path: None,
                sqs_message_group_id: None,
            }],
        }
    }
}

/// Reads `triggers:` of the pipeline or machine `name`; each bad trigger is reported at its
/// position and left out.
pub(crate) fn read_triggers(
    ctx: &mut Ctx<'_>,
    name: &str,
    node: &Node,
    owner: TriggerOwner,
) -> Vec<Trigger> {
    let items = ctx.list(
        "triggers",
        "triggers such as `- event: {source: [weir.lake]}`",
        node,
    );
    let mut triggers = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let rule = Trigger::rule_name(name, i);
        if !rule_file::is_resource_name(&rule, MAX_NAME_CHARS) {
            ctx.problem(
                item.pos,
                format!("this trigger's rule `{rule}` is not a valid rule name (1 to {MAX_NAME_CHARS} letters, digits, `.`, `-` or `_`): shorten the file's name"),
            );
            continue;
        }
        if let Some(trigger) = read_trigger(ctx, item, owner) {
            triggers.push(trigger);
        }
    }
    triggers
}

fn read_trigger(ctx: &mut Ctx<'_>, node: &Node, owner: TriggerOwner) -> Option<Trigger> {
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "a trigger must be a mapping with an `event` pattern, not {}",
                node.describe()
            ),
        );
        return None;
    };
    let mut bus = Some(DEFAULT_BUS.to_string());
    let mut pattern = None;
    let mut has_event = false;
    for e in entries {
        match e.key.as_str() {
            "event" => {
                has_event = true;
                pattern = read_pattern(ctx, "event", &e.value);
            }
            "bus" => bus = read_bus(ctx, &e.value),
            "input" | "input_path" | "input_transformer" => {}
            other => {
                unknown_key(ctx, other, e.key_pos, "a trigger", &TRIGGER_KEYS);
            }
        }
    }
    if !has_event {
        ctx.problem(
            node.pos,
            "a trigger needs an `event` pattern, such as `event: {source: [weir.lake]}`",
        );
    }
    let input = read_input(ctx, entries, Trigger::TARGET_ID, node.pos)?;
    let input = match (owner, input) {
        (TriggerOwner::Pipeline, TargetInput::Whole) => TargetInput::Constant("{}".into()),
        (_, input) => input,
    };
    if owner == TriggerOwner::Pipeline {
        let not_object = match &input {
            TargetInput::Constant(text) => !text.starts_with('{'),
            TargetInput::Transformer { template, .. } => !is_json_template(template),
            TargetInput::Whole | TargetInput::Path(_) => false,
        };
        if not_object {
            let at = entries
                .iter()
                .find(|e| e.key.starts_with("input"))
                .map_or(node.pos, |e| e.value.pos);
            ctx.problem(
                at,
                "a pipeline trigger's input becomes the run's params: it must be a JSON object",
            );
            return None;
        }
    }
    Some(Trigger {
        bus: bus?,
        pattern: pattern?,
        input,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pipeline::yaml;

    fn read(text: &str, owner: TriggerOwner) -> (Vec<Trigger>, Vec<String>) {
        let mut ctx = Ctx {
            file: "f.yaml",
            source: text,
            problems: Vec::new(),
        };
        let root = yaml::load(text).root.unwrap();
        let node = &root.as_map().unwrap()[0].value;
        let triggers = read_triggers(&mut ctx, "agg", node, owner);
        (
            triggers,
            ctx.problems.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn triggers_with_their_defaults() {
        let (triggers, problems) = read(
            "triggers:\n  - event: {source: [weir.glue]}\n  - event: {source: [shop]}\n    bus: orders\n    input_transformer: {input_paths: {id: $.detail.id}, input_template: '{\"order\": <id>}'}\n",
            TriggerOwner::Pipeline,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(triggers.len(), 2);
        assert_eq!(triggers[0].bus, "default");
        assert_eq!(triggers[0].pattern, json!({"source": ["weir.glue"]}));
        assert_eq!(triggers[0].input, TargetInput::Constant("{}".into()));
        assert_eq!(triggers[1].bus, "orders");
        assert!(matches!(triggers[1].input, TargetInput::Transformer { .. }));
        assert_eq!(Trigger::rule_name("agg", 1), "agg.trigger-2");
        let scope = Scope::new("eu-west-1", "123456789012");
        let rule = triggers[1].to_rule(TriggerOwner::Pipeline, "agg", 1, &scope);
        assert_eq!(rule.name, "agg.trigger-2");
        assert_eq!(rule.bus, "orders");
        assert_eq!(rule.pattern, Some(json!({"source": ["shop"]})));
        assert!(rule.enabled && rule.schedule.is_none());
        assert_eq!(rule.targets.len(), 1);
        assert_eq!(rule.targets[0].id, "trigger-2");
        assert_eq!(
            rule.targets[0].arn,
            "arn:weir:pipelines:eu-west-1:123456789012:pipeline/agg"
        );
        assert_eq!(rule.targets[0].input, triggers[1].input);
        let rule = triggers[0].to_rule(TriggerOwner::Machine, "m", 0, &scope);
        assert_eq!(
            rule.targets[0].arn,
            "arn:aws:states:eu-west-1:123456789012:stateMachine:m"
        );
        let (triggers, _) = read(
            "triggers:\n  - event: {source: [a]}\n",
            TriggerOwner::Machine,
        );
        assert_eq!(triggers[0].input, TargetInput::Whole);
    }

    #[test]
    fn bad_triggers() {
        let (triggers, problems) = read(
            "triggers:\n  - bus: b\n  - event: {source: [a]}\n    input: [1]\n  - event: {source: [a]}\n    evnt: 1\n  - event: {}\n  - event: {source: [a]}\n    input_transformer: {input_template: '\"<x>\"'}\n",
            TriggerOwner::Pipeline,
        );
        // Only the trigger with an unknown key is read (the file as a whole still fails).
        assert_eq!(triggers.len(), 1);
        assert_eq!(
            problems,
            [
                "f.yaml:2:5: a trigger needs an `event` pattern, such as `event: {source: [weir.lake]}`",
                "f.yaml:4:12: a pipeline trigger's input becomes the run's params: it must be a JSON object",
                "f.yaml:6:5: unknown key `evnt` in a trigger; did you mean `event`?",
                "f.yaml:7:12: Event pattern is not valid. Reason: Empty objects are not allowed",
                "f.yaml:9:24: InputTemplate for target trigger contains invalid placeholder x.",
            ]
        );
        let (_, problems) = read("triggers: 3\n", TriggerOwner::Machine);
        assert_eq!(problems.len(), 1);
    }
}
