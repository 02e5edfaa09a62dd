//! `rules/*.yaml`: one EventBridge rule per file (its name is the file's stem), read with the
//! positioned YAML tree of `pipeline/yaml.rs` into a [`RuleSpec`], or every problem found, each
//! at `file:line:column`.
//!
//! ```yaml
//! description: New clicks partitions
//! bus: default                  # optional
//! pattern: {source: [weir.glue], detail-type: [Partition Added]}
//! schedule: rate(1 hour)        # a pattern, a schedule, or both
//! enabled: true                 # optional
//! targets:
//!   - id: aggregate             # optional; the target's name by default
//!     pipeline: aggregate       # exactly one of pipeline, machine, function, stream, queue
//!     input_transformer:        # or input (any value), or input_path
//!       input_paths: {table: $.detail.table}
//!       input_template: '{"table": <table>}'
//!     retry_policy: {maximum_retry_attempts: 10, maximum_event_age: 1h}
//!     dead_letter_queue: failed-events
//! ```

use std::collections::BTreeMap;

use super::arn::{DEFAULT_BUS, Scope, TargetKind};
use super::input::{self, TargetInput};
use super::schedule::ScheduleExpression;
use super::{PatternSource, pattern_problem};
use crate::pipeline::fields::{Ctx, unknown_key};
use crate::pipeline::yaml::{self, Entry, Node};
use crate::problem::{Pos, Problem};

/// The keys a rule file may have.
pub const RULE_KEYS: [&str; 6] = [
    "description",
    "bus",
    "pattern",
    "schedule",
    "enabled",
    "targets",
];

/// The keys of a target besides the one naming it (see [`TargetKind::KEYS`]).
pub const TARGET_KEYS: [&str; 8] = [
    "id",
    "input",
    "input_path",
    "input_transformer",
    "partition_key_path",
    "message_group_id",
    "retry_policy",
    "dead_letter_queue",
];

/// The target kinds a rule file names (another bus is reached through the API only).
pub const FILE_TARGET_KINDS: [TargetKind; 5] = [
    TargetKind::Pipeline,
    TargetKind::Machine,
    TargetKind::Function,
    TargetKind::Stream,
    TargetKind::Queue,
];

/// Targets one rule may have (EventBridge's quota).
pub const MAX_TARGETS: usize = 5;
/// Longest rule name and target id (botocore: `RuleName`, `TargetId`).
pub const MAX_NAME_CHARS: usize = 64;
/// Longest rule description (botocore: `RuleDescription`).
pub const MAX_DESCRIPTION_CHARS: usize = 512;
/// Longest bus name.
pub const MAX_BUS_CHARS: usize = 256;

/// A checked rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub name: String,
    pub bus: String,
    pub description: Option<String>,
    pub pattern: Option<PatternSource>,
    pub schedule: Option<ScheduleExpression>,
    pub enabled: bool,
    pub targets: Vec<TargetSpec>,
}

/// A rule's target, as PutTargets describes one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetSpec {
    pub id: String,
    pub arn: String,
    pub input: TargetInput,
    pub retry: RetryPolicy,
    /// The ARN of the SQS queue that gets the events this target could not take.
    pub dead_letter: Option<String>,
    /// `KinesisParameters.PartitionKeyPath` (stream targets; the event id when None).
    pub kinesis_partition_key_path: Option<String>,
    /// `SqsParameters.MessageGroupId` (FIFO queue targets).
    pub sqs_message_group_id: Option<String>,
}

/// How long and how often a failed delivery is retried (EventBridge's `RetryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetryPolicy {
    /// 0 to 185; 185 by default.
    pub maximum_retry_attempts: u32,
    /// 60 to 86400 seconds; 24 hours by default.
    pub maximum_event_age_seconds: u32,
}

impl RetryPolicy {
    pub const MAX_ATTEMPTS: u32 = 185;
    pub const MIN_AGE_SECONDS: u32 = 60;
    pub const MAX_AGE_SECONDS: u32 = 86_400;
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            maximum_retry_attempts: RetryPolicy::MAX_ATTEMPTS,
            maximum_event_age_seconds: RetryPolicy::MAX_AGE_SECONDS,
        }
    }
}

/// `[.\-_A-Za-z0-9]{1,max}`: rule names, target ids and bus names.
pub fn is_resource_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Parses and checks the rule `name` from `text`; `file` is the path problems show; ARNs are
/// minted in `scope`.
pub fn parse_rule(
    file: &str,
    name: &str,
    text: &str,
    scope: &Scope,
) -> Result<RuleSpec, Vec<Problem>> {
    let mut ctx = Ctx {
        file,
        source: text,
        problems: Vec::new(),
    };
    if !is_resource_name(name, MAX_NAME_CHARS) {
        ctx.problem(
            Pos::START,
            format!(
                "rule name `{name}` (the file's name without .yaml) must be 1 to {MAX_NAME_CHARS} letters, digits, `.`, `-` or `_`"
            ),
        );
    }
    let loaded = yaml::load(text);
    for (pos, message) in loaded.problems {
        ctx.problem(pos, message);
    }
    let rule = match &loaded.root {
        Some(root) => read_rule(&mut ctx, name, root, scope),
        None => {
            if ctx.problems.is_empty() {
                ctx.problem(
                    Pos::START,
                    "the file is empty: a rule needs a `pattern` or a `schedule`, and `targets`",
                );
            }
            None
        }
    };
    let mut problems = ctx.problems;
    match rule {
        Some(rule) if problems.is_empty() => Ok(rule),
        _ => {
            if problems.is_empty() {
                problems.push(Problem::new(file, Pos::START, "the rule could not be read"));
            }
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

fn read_rule(ctx: &mut Ctx<'_>, name: &str, root: &Node, scope: &Scope) -> Option<RuleSpec> {
    let Some(entries) = root.as_map() else {
        ctx.problem(
            root.pos,
            format!(
                "a rule file must be a mapping of keys such as `pattern` and `targets`, not {}",
                root.describe()
            ),
        );
        return None;
    };
    let mut description = None;
    let mut bus = None;
    let mut pattern = None;
    let mut schedule = None;
    let mut enabled = true;
    let mut targets = Vec::new();
    let mut ok = true;
    for e in entries {
        let node = &e.value;
        match e.key.as_str() {
            "description" => {
                description = ctx.string("description", node);
                if description
                    .as_deref()
                    .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
                {
                    ctx.problem(
                        node.pos,
                        format!("`description` is at most {MAX_DESCRIPTION_CHARS} characters"),
                    );
                }
            }
            "bus" => bus = read_bus(ctx, node).map(|b| (b, node.pos)),
            "pattern" => {
                pattern = read_pattern(ctx, "pattern", node);
                ok &= pattern.is_some() || node.is_null();
            }
            "schedule" => {
                schedule = read_schedule(ctx, node).map(|s| (s, node.pos));
                ok &= schedule.is_some() || node.is_null();
            }
            "enabled" => enabled = ctx.boolean("enabled", node).unwrap_or(true),
            "targets" => targets = read_targets(ctx, name, node, scope),
            other => {
                unknown_key(ctx, other, e.key_pos, &format!("rule `{name}`"), &RULE_KEYS);
            }
        }
    }
    if ok && pattern.is_none() && schedule.is_none() {
        ctx.problem(
            root.pos,
            "a rule needs a `pattern`, a `schedule`, or both (PutRule: Parameter(s) EventPattern or ScheduleExpression must be specified.)",
        );
    }
    let bus_name = bus
        .as_ref()
        .map_or(DEFAULT_BUS, |(b, _)| b.as_str())
        .to_string();
    if let (Some((_, pos)), true) = (&schedule, bus_name != DEFAULT_BUS) {
        ctx.problem(
            *pos,
            "ScheduleExpression is supported only on the default event bus.",
        );
    }
    Some(RuleSpec {
        name: name.to_string(),
        bus: bus_name,
        description,
        pattern,
        schedule: schedule.map(|(s, _)| s),
        enabled,
        targets,
    })
}

pub(crate) fn read_bus(ctx: &mut Ctx<'_>, node: &Node) -> Option<String> {
    let bus = ctx.string("bus", node)?;
    if !is_resource_name(&bus, MAX_BUS_CHARS) {
        ctx.problem(
            node.pos,
            format!(
                "bus name `{bus}` must be 1 to {MAX_BUS_CHARS} letters, digits, `.`, `-` or `_`"
            ),
        );
        return None;
    }
    Some(bus)
}

/// An event pattern: a mapping, kept as JSON; its shape checked at its position.
pub(crate) fn read_pattern(ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<PatternSource> {
    if node.is_null() {
        return None;
    }
    if node.as_map().is_none() {
        ctx.problem(
            node.pos,
            format!("`{key}` must be an event pattern (a mapping such as `{{source: [weir.lake]}}`), not {}", node.describe()),
        );
        return None;
    }
    let json = match node.to_json() {
        Ok(json) => json,
        Err((pos, message)) => {
            ctx.problem(pos, message);
            return None;
        }
    };
    if let Some(problem) = pattern_problem(&json) {
        ctx.problem(node.pos, problem);
        return None;
    }
    Some(json)
}

fn read_schedule(ctx: &mut Ctx<'_>, node: &Node) -> Option<ScheduleExpression> {
    let text = ctx.string("schedule", node)?;
    match ScheduleExpression::parse(text.trim()) {
        Ok(schedule) => Some(schedule),
        Err(e) => {
            ctx.problem(node.pos, format!("{} ({})", e.message, e.reason));
            None
        }
    }
}

fn read_targets(ctx: &mut Ctx<'_>, rule: &str, node: &Node, scope: &Scope) -> Vec<TargetSpec> {
    let items = ctx.list("targets", "targets", node);
    if items.len() > MAX_TARGETS {
        ctx.problem(
            node.pos,
            format!(
                "a rule has at most {MAX_TARGETS} targets; `{rule}` lists {}",
                items.len()
            ),
        );
    }
    let mut targets: Vec<TargetSpec> = Vec::new();
    for item in items {
        let Some(target) = read_target(ctx, item, scope) else {
            continue;
        };
        if targets.iter().any(|t| t.id == target.id) {
            ctx.problem(
                item.pos,
                format!(
                    "two targets have the id `{}`: give this one its own `id`",
                    target.id
                ),
            );
            continue;
        }
        targets.push(target);
    }
    targets
}

fn read_target(ctx: &mut Ctx<'_>, node: &Node, scope: &Scope) -> Option<TargetSpec> {
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!(
                "a target must be a mapping such as `{{pipeline: NAME}}`, not {}",
                node.describe()
            ),
        );
        return None;
    };
    let kinds: Vec<(&Entry, TargetKind)> = entries
        .iter()
        .filter_map(|e| {
            FILE_TARGET_KINDS
                .iter()
                .find(|k| k.key() == e.key)
                .map(|k| (e, *k))
        })
        .collect();
    let kind_keys: Vec<&str> = FILE_TARGET_KINDS.iter().map(|k| k.key()).collect();
    let (entry, kind) = match kinds.as_slice() {
        [one] => *one,
        [] => {
            ctx.problem(
                node.pos,
                format!(
                    "a target names what it invokes with one of {}",
                    kind_keys.join(", ")
                ),
            );
            return None;
        }
        [_, second, ..] => {
            ctx.problem(
                second.0.key_pos,
                format!(
                    "a target names one of {}, not several",
                    kind_keys.join(", ")
                ),
            );
            return None;
        }
    };
    let resource = ctx.string(entry.key.as_str(), &entry.value)?;
    if resource.trim().is_empty() {
        ctx.problem(
            entry.value.pos,
            format!("`{}` must name a {}", entry.key, entry.key),
        );
        return None;
    }
    let mut id = None;
    let mut retry = RetryPolicy::default();
    let mut dead_letter = None;
    let mut partition_key_path = None;
    let mut message_group_id = None;
    let mut valid: Vec<&str> = TARGET_KEYS.to_vec();
    valid.extend(kind_keys.iter());
    for e in entries {
        let value = &e.value;
        match e.key.as_str() {
            "id" => {
                id = ctx.string("id", value);
                if let Some(bad) = id
                    .as_deref()
                    .filter(|i| !is_resource_name(i, MAX_NAME_CHARS))
                {
                    ctx.problem(
                        value.pos,
                        format!("target id `{bad}` must be 1 to {MAX_NAME_CHARS} letters, digits, `.`, `-` or `_`"),
                    );
                    return None;
                }
            }
            "input" | "input_path" | "input_transformer" => {}
            "partition_key_path" => {
                partition_key_path = ctx
                    .string("partition_key_path", value)
                    .map(|p| (p, value.pos));
            }
            "message_group_id" => {
                message_group_id = ctx
                    .string("message_group_id", value)
                    .map(|g| (g, value.pos));
            }
            "retry_policy" => retry = read_retry_policy(ctx, value),
            "dead_letter_queue" => {
                dead_letter = ctx.string("dead_letter_queue", value).map(|queue| {
                    if queue.starts_with("arn:") {
                        queue
                    } else {
                        scope.target(TargetKind::Queue, &queue)
                    }
                });
            }
            key if kind_keys.contains(&key) => {}
            other => {
                unknown_key(ctx, other, e.key_pos, "a target", &valid);
            }
        }
    }
    let id = id.unwrap_or_else(|| default_id(&resource));
    let input = read_input(ctx, entries, &id, node.pos)?;
    if let Some((path, pos)) = &partition_key_path {
        if kind != TargetKind::Stream {
            ctx.problem(
                *pos,
                "`partition_key_path` is for stream targets only (KinesisParameters)",
            );
        } else if input::parse_path(path).is_err() {
            ctx.problem(*pos, format!("PartitionKeyPath for target {id} is invalid: write a JSON path such as `$.detail.id`"));
        }
    }
    if let Some((group, pos)) = &message_group_id {
        if kind != TargetKind::Queue {
            ctx.problem(
                *pos,
                "`message_group_id` is for queue targets only (SqsParameters)",
            );
        } else if group.is_empty() || group.chars().count() > 100 {
            ctx.problem(*pos, "`message_group_id` must be 1 to 100 characters");
        }
    }
    if kind == TargetKind::Queue && resource.ends_with(".fifo") && message_group_id.is_none() {
        ctx.problem(
            entry.value.pos,
            format!(
                "a FIFO queue target needs a `message_group_id` (SqsParameters) for target {id}"
            ),
        );
    }
    Some(TargetSpec {
        arn: scope.target(kind, &resource),
        id,
        input,
        retry,
        dead_letter,
        kinesis_partition_key_path: partition_key_path.map(|(p, _)| p),
        sqs_message_group_id: message_group_id.map(|(g, _)| g),
    })
}

/// A target's id when the file gives none: its resource's name, in the characters ids allow.
fn default_id(resource: &str) -> String {
    let id: String = resource
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_NAME_CHARS)
        .collect();
    if id.is_empty() { "target".into() } else { id }
}

fn read_retry_policy(ctx: &mut Ctx<'_>, node: &Node) -> RetryPolicy {
    let mut policy = RetryPolicy::default();
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            ctx.problem(
                node.pos,
                format!("`retry_policy` must be a mapping with `maximum_retry_attempts` and `maximum_event_age`, not {}", node.describe()),
            );
        }
        return policy;
    };
    for e in entries {
        match e.key.as_str() {
            "maximum_retry_attempts" => match ctx.whole("maximum_retry_attempts", &e.value, 0) {
                Some(n) if n <= RetryPolicy::MAX_ATTEMPTS => policy.maximum_retry_attempts = n,
                Some(_) => ctx.problem(
                    e.value.pos,
                    format!(
                        "`maximum_retry_attempts` is 0 to {}",
                        RetryPolicy::MAX_ATTEMPTS
                    ),
                ),
                None => {}
            },
            "maximum_event_age" => {
                if let Some(age) = ctx.duration("maximum_event_age", &e.value) {
                    let range = RetryPolicy::MIN_AGE_SECONDS..=RetryPolicy::MAX_AGE_SECONDS;
                    match u32::try_from(age.as_secs()) {
                        Ok(s) if range.contains(&s) && age.subsec_nanos() == 0 => {
                            policy.maximum_event_age_seconds = s;
                        }
                        _ => ctx.problem(
                            e.value.pos,
                            "`maximum_event_age` is whole seconds from 60s to 24h",
                        ),
                    }
                }
            }
            other => {
                unknown_key(
                    ctx,
                    other,
                    e.key_pos,
                    "`retry_policy`",
                    &["maximum_retry_attempts", "maximum_event_age"],
                );
            }
        }
    }
    policy
}

/// The target input a mapping's `input`, `input_path` or `input_transformer` says (at most
/// one), checked as PutTargets checks it; [`TargetInput::Whole`] when none is given. None when
/// it is not valid (the problem is recorded).
pub(crate) fn read_input(
    ctx: &mut Ctx<'_>,
    entries: &[Entry],
    id: &str,
    at: Pos,
) -> Option<TargetInput> {
    let given: Vec<&Entry> = entries
        .iter()
        .filter(|e| matches!(e.key.as_str(), "input" | "input_path" | "input_transformer"))
        .collect();
    let entry = match given.as_slice() {
        [] => return Some(TargetInput::Whole),
        [one] => *one,
        [_, second, ..] => {
            ctx.problem(
                second.key_pos,
                format!("Only one of Input, InputPath, or InputTransformer must be provided for target {id}. (`input`, `input_path`, `input_transformer`)"),
            );
            return None;
        }
    };
    let node = &entry.value;
    let input = match entry.key.as_str() {
        "input" => match node.to_json() {
            Ok(json) => TargetInput::Constant(json.to_string()),
            Err((pos, message)) => {
                ctx.problem(pos, message);
                return None;
            }
        },
        "input_path" => TargetInput::Path(ctx.string("input_path", node)?),
        _ => read_transformer(ctx, node)?,
    };
    if let Err(message) = input.check(id) {
        ctx.problem(
            if node.pos == Pos::default() {
                at
            } else {
                node.pos
            },
            message,
        );
        return None;
    }
    Some(input)
}

fn read_transformer(ctx: &mut Ctx<'_>, node: &Node) -> Option<TargetInput> {
    let Some(entries) = node.as_map() else {
        ctx.problem(
            node.pos,
            format!("`input_transformer` must be a mapping with `input_paths` and `input_template`, not {}", node.describe()),
        );
        return None;
    };
    let mut paths_map = BTreeMap::new();
    let mut template = None;
    let mut paths_ok = true;
    for e in entries {
        match e.key.as_str() {
            "input_paths" => {
                let Some(paths) = e.value.as_map() else {
                    if !e.value.is_null() {
                        ctx.problem(
                            e.value.pos,
                            "`input_paths` must be a mapping of variable names to JSON paths",
                        );
                    }
                    continue;
                };
                for p in paths {
                    if input::RESERVED.contains(&p.key.as_str()) || !input::is_variable_name(&p.key)
                    {
                        ctx.problem(
                            p.key_pos,
                            format!("variable name `{}` must be 1 to 256 letters, digits, `_` or `-` (and not a reserved aws.events name)", p.key),
                        );
                        paths_ok = false;
                        continue;
                    }
                    if let Some(path) = ctx.string(&format!("input_paths.{}", p.key), &p.value) {
                        if input::parse_path(&path).is_err() {
                            ctx.problem(p.value.pos, format!("`{path}` is not a JSON path EventBridge accepts: write `$.detail.name` (dot notation, indexes, `*`)"));
                            paths_ok = false;
                            continue;
                        }
                        paths_map.insert(p.key.clone(), path);
                    }
                }
            }
            "input_template" => template = ctx.string("input_template", &e.value),
            other => {
                unknown_key(
                    ctx,
                    other,
                    e.key_pos,
                    "`input_transformer`",
                    &["input_paths", "input_template"],
                );
            }
        }
    }
    let Some(template) = template else {
        ctx.problem(node.pos, "`input_transformer` needs an `input_template`");
        return None;
    };
    // A variable left out for a bad path would also be reported as an undefined placeholder.
    paths_ok.then_some(TargetInput::Transformer {
        paths_map,
        template,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn scope() -> Scope {
        Scope::new("eu-west-1", "123456789012")
    }

    fn parse(text: &str) -> Result<RuleSpec, Vec<Problem>> {
        parse_rule("rules/r.yaml", "r", text, &scope())
    }

    fn problems(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_full_rule() {
        let rule = parse(
            r#"description: New clicks partitions
pattern: {source: [weir.glue], detail-type: [Partition Added], detail: {table: [clicks]}}
enabled: false
targets:
  - pipeline: aggregate
    input_transformer:
      input_paths: {table: $.detail.table, day: $.detail.partition.day}
      input_template: '{"table": <table>, "day": <day>}'
    retry_policy: {maximum_retry_attempts: 10, maximum_event_age: 1h}
    dead_letter_queue: failed-events
  - id: notify
    function: notify
    input: {fixed: [1, 2]}
  - stream: clicks-events
    input_path: $.detail
    partition_key_path: $.detail.table
  - queue: orders.fifo
    message_group_id: g1
  - machine: backfill
"#,
        )
        .unwrap();
        assert_eq!(rule.name, "r");
        assert_eq!(rule.bus, "default");
        assert_eq!(rule.description.as_deref(), Some("New clicks partitions"));
        assert_eq!(
            rule.pattern,
            Some(
                json!({"source": ["weir.glue"], "detail-type": ["Partition Added"], "detail": {"table": ["clicks"]}})
            )
        );
        assert!(rule.schedule.is_none());
        assert!(!rule.enabled);
        let t = &rule.targets;
        assert_eq!(t.len(), 5);
        assert_eq!(t[0].id, "aggregate");
        assert_eq!(
            t[0].arn,
            "arn:weir:pipelines:eu-west-1:123456789012:pipeline/aggregate"
        );
        assert_eq!(
            t[0].retry,
            RetryPolicy {
                maximum_retry_attempts: 10,
                maximum_event_age_seconds: 3600
            }
        );
        assert_eq!(
            t[0].dead_letter.as_deref(),
            Some("arn:aws:sqs:eu-west-1:123456789012:failed-events")
        );
        let TargetInput::Transformer {
            paths_map,
            template,
        } = &t[0].input
        else {
            panic!("{:?}", t[0].input);
        };
        assert_eq!(
            paths_map.get("day").map(String::as_str),
            Some("$.detail.partition.day")
        );
        assert_eq!(template, r#"{"table": <table>, "day": <day>}"#);
        assert_eq!(t[1].id, "notify");
        assert_eq!(
            t[1].arn,
            "arn:aws:lambda:eu-west-1:123456789012:function:notify"
        );
        assert_eq!(
            t[1].input,
            TargetInput::Constant(r#"{"fixed":[1,2]}"#.into())
        );
        assert_eq!(t[1].retry, RetryPolicy::default());
        assert_eq!(
            t[2].arn,
            "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks-events"
        );
        assert_eq!(t[2].input, TargetInput::Path("$.detail".into()));
        assert_eq!(
            t[2].kinesis_partition_key_path.as_deref(),
            Some("$.detail.table")
        );
        assert_eq!(t[3].id, "orders.fifo");
        assert_eq!(t[3].arn, "arn:aws:sqs:eu-west-1:123456789012:orders.fifo");
        assert_eq!(t[3].sqs_message_group_id.as_deref(), Some("g1"));
        assert_eq!(
            t[4].arn,
            "arn:aws:states:eu-west-1:123456789012:stateMachine:backfill"
        );
        assert_eq!(t[4].input, TargetInput::Whole);
        // Targets are stored as JSON by the bus.
        let text = serde_json::to_string(&rule.targets).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<TargetSpec>>(&text).unwrap(),
            rule.targets
        );
    }

    #[test]
    fn schedules_and_buses() {
        let rule = parse("schedule: cron(0 12 * * ? *)\ntargets: [{pipeline: p}]\n").unwrap();
        assert_eq!(rule.schedule.unwrap().to_string(), "cron(0 12 * * ? *)");
        assert!(rule.pattern.is_none());
        let rule = parse("bus: orders\npattern: {source: [shop]}\n").unwrap();
        assert_eq!(rule.bus, "orders");
        assert!(rule.targets.is_empty());
        assert_eq!(
            problems("bus: orders\nschedule: rate(1 hour)\n"),
            ["rules/r.yaml:2:11: ScheduleExpression is supported only on the default event bus."]
        );
        assert_eq!(
            problems("schedule: rate(1 hours)\n"),
            [
                "rules/r.yaml:1:11: Parameter ScheduleExpression is not valid. (a value of 1 takes a singular unit: `rate(1 minute)`)"
            ]
        );
        assert_eq!(
            problems("description: x\ntargets: []\n"),
            [
                "rules/r.yaml:1:1: a rule needs a `pattern`, a `schedule`, or both (PutRule: Parameter(s) EventPattern or ScheduleExpression must be specified.)"
            ]
        );
    }

    #[test]
    fn problems_at_their_positions() {
        let found = problems(
            r#"pattern: [a]
enabeld: true
bus: "no spaces"
targets:
  - pipeline: p
    function: f
  - id: "bad id"
    pipeline: p
  - queue: q
    input: 1
    input_path: $.a
  - stream: s
    message_group_id: g
    retry_policy: {maximum_retry_attempts: 186, maximum_event_age: 30s, extra: 1}
  - queue: jobs.fifo
    input_transformer: {input_paths: {a: detail}, input_template: '"<a> <b>"'}
  - pipeline: p2
    input_transformer: {input_paths: {a: $.a}, input_template: '"<a> <b>"'}
  - {}
"#,
        );
        assert_eq!(
            found,
            [
                "rules/r.yaml:1:10: `pattern` must be an event pattern (a mapping such as `{source: [weir.lake]}`), not a list",
                "rules/r.yaml:2:1: unknown key `enabeld` in rule `r`; did you mean `enabled`?",
                "rules/r.yaml:3:6: bus name `no spaces` must be 1 to 256 letters, digits, `.`, `-` or `_`",
                "rules/r.yaml:5:3: a rule has at most 5 targets; `r` lists 7",
                "rules/r.yaml:6:5: a target names one of pipeline, machine, function, stream, queue, not several",
                "rules/r.yaml:7:9: target id `bad id` must be 1 to 64 letters, digits, `.`, `-` or `_`",
                "rules/r.yaml:11:5: Only one of Input, InputPath, or InputTransformer must be provided for target q. (`input`, `input_path`, `input_transformer`)",
                "rules/r.yaml:13:23: `message_group_id` is for queue targets only (SqsParameters)",
                "rules/r.yaml:14:44: `maximum_retry_attempts` is 0 to 185",
                "rules/r.yaml:14:68: `maximum_event_age` is whole seconds from 60s to 24h",
                "rules/r.yaml:14:73: unknown key `extra` in `retry_policy`",
                "rules/r.yaml:16:42: `detail` is not a JSON path EventBridge accepts: write `$.detail.name` (dot notation, indexes, `*`)",
                "rules/r.yaml:18:24: InputTemplate for target p2 contains invalid placeholder b.",
                "rules/r.yaml:19:5: a target names what it invokes with one of pipeline, machine, function, stream, queue",
            ]
        );
        assert_eq!(
            problems("pattern: {source: [a]}\ntargets: [{queue: jobs.fifo}]\n"),
            [
                "rules/r.yaml:2:19: a FIFO queue target needs a `message_group_id` (SqsParameters) for target jobs.fifo"
            ]
        );
    }

    #[test]
    fn targets_are_limited_and_distinct() {
        let many = "pattern: {source: [a]}\ntargets:\n".to_string()
            + &(0..6)
                .map(|i| format!("  - pipeline: p{i}\n"))
                .collect::<String>();
        assert_eq!(
            problems(&many),
            ["rules/r.yaml:3:3: a rule has at most 5 targets; `r` lists 6"]
        );
        assert_eq!(
            problems("pattern: {source: [a]}\ntargets: [{pipeline: p}, {function: p}]\n"),
            ["rules/r.yaml:2:26: two targets have the id `p`: give this one its own `id`"]
        );
        assert!(parse_rule("f", "bad name", "pattern: {source: [a]}\n", &scope()).is_err());
        assert_eq!(
            problems(""),
            [
                "rules/r.yaml:1:1: the file is empty: a rule needs a `pattern` or a `schedule`, and `targets`"
            ]
        );
        assert_eq!(
            problems("- a\n"),
            [
                "rules/r.yaml:1:1: a rule file must be a mapping of keys such as `pattern` and `targets`, not a list"
            ]
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in "[a-z_:{}\\[\\], \n$.<>\"'0-9-]{0,120}") {
            let _ = parse(&text);
        }

        #[test]
        fn never_panics_on_shaped_files(kind in "(pipeline|queue|stream|function|machine)", path in "[$.a-z*\\[\\]0-9]{0,10}", template in "[<>a-z\" {}:,]{0,20}", schedule in "(rate|cron)\\([ 0-9a-z*?]{0,16}\\)") {
            let text = format!("schedule: '{schedule}'\ntargets:\n  - {kind}: x\n    input_transformer:\n      input_paths: {{a: '{path}'}}\n      input_template: '{template}'\n");
            let _ = parse(&text);
        }
    }
}
