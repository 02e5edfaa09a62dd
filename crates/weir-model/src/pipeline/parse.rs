//! The pipeline file parser: YAML text in, a checked [`Pipeline`] or every problem found out,
//! each at the `line:column` of the offending key or value.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use super::actions::{
    Scope, action, action_keys, check_context, check_names, check_params, is_action_key,
    notifications, references,
};
use super::fields::{Ctx, SETTING_KEYS, Settings, is_identifier, is_task_id, unknown_key};
use super::graph::{self, GraphTask};
use super::yaml::{self, Entry, Node, Value};
use super::{DEFAULT_MAX_ACTIVE_RUNS, Pipeline, RetryPolicy, Task};
use crate::action::{ActionSpec, action_kind};
use crate::events::input::TargetInput;
use crate::events::trigger::{Trigger, TriggerOwner, read_triggers};
use crate::problem::{Pos, Problem, did_you_mean};
use crate::schedule::Schedule;
use crate::template::{check_expression, expression_paths, find_root_in_expression};

/// The keys a pipeline file may have at its top level.
pub const PIPELINE_KEYS: [&str; 15] = [
    "description",
    "tags",
    "schedule",
    "timezone",
    "start_date",
    "end_date",
    "catchup",
    "params",
    "max_active_runs",
    "max_active_tasks",
    "default_args",
    "on_success",
    "on_failure",
    "tasks",
    "triggers",
];

/// The keys of a task besides its action's keys and the settings `default_args` may also hold.
pub const TASK_OWN_KEYS: [&str; 3] = ["depends_on", "map_over", "description"];

/// Parses and checks the pipeline `name` from `source`; `file` is the path problems show.
pub fn parse_pipeline(file: &str, name: &str, source: &str) -> Result<Pipeline, Vec<Problem>> {
    let mut ctx = Ctx {
        file,
        source,
        problems: Vec::new(),
    };
    let loaded = yaml::load(source);
    for (pos, message) in loaded.problems {
        ctx.problem(pos, message);
    }
    let pipeline = match &loaded.root {
        Some(root) => read_pipeline(&mut ctx, name, root),
        None => {
            if ctx.problems.is_empty() {
                ctx.problem(
                    Pos::START,
                    "the file is empty: a pipeline needs at least `tasks`",
                );
            }
            None
        }
    };
    let mut problems = ctx.problems;
    match pipeline {
        Some(pipeline) if problems.is_empty() => Ok(pipeline),
        _ => {
            if problems.is_empty() {
                // Every path that yields no pipeline records why; this only guards that promise.
                problems.push(Problem::new(
                    file,
                    Pos::START,
                    "the pipeline could not be read",
                ));
            }
            problems.sort_by_key(|p| (p.line, p.column));
            let mut seen = std::collections::HashSet::new();
            problems.retain(|p| seen.insert(p.to_string()));
            Err(problems)
        }
    }
}

fn read_pipeline(ctx: &mut Ctx<'_>, name: &str, root: &Node) -> Option<Pipeline> {
    let Some(entries) = root.as_map() else {
        let message = format!(
            "a pipeline file must be a mapping of keys such as `schedule` and `tasks`, not {}",
            root.describe()
        );
        ctx.problem(root.pos, message);
        return None;
    };
    let get = |key: &str| entries.iter().find(|e| e.key == key);
    // Read first what other keys depend on: dates on the time zone, templates on the params.
    let timezone = get("timezone")
        .and_then(|e| timezone(ctx, &e.value))
        .unwrap_or(Tz::UTC);
    let (params, params_ok) = get("params").map_or((Map::new(), true), |e| params(ctx, &e.value));
    let declared = params_ok.then_some(&params);

    let mut description = None;
    let mut tags = Vec::new();
    let mut schedule = None;
    let (mut start_date, mut end_date) = (None, None);
    let mut catchup = None;
    let (mut max_active_runs, mut max_active_tasks) = (None, None);
    let mut defaults = Settings::default();
    let (mut on_success, mut on_failure) = (Vec::new(), Vec::new());
    let mut triggers = Vec::new();
    for e in entries {
        let node = &e.value;
        match e.key.as_str() {
            "description" => description = ctx.string("description", node),
            "tags" => {
                tags = ctx
                    .strings("tags", node)
                    .into_iter()
                    .map(|(tag, _)| tag)
                    .collect()
            }
            "schedule" => schedule = read_schedule(ctx, node),
            "timezone" | "params" | "tasks" => {}
            "start_date" => start_date = date(ctx, "start_date", node, timezone),
            "end_date" => end_date = date(ctx, "end_date", node, timezone).map(|d| (d, node.pos)),
            "catchup" => catchup = ctx.boolean("catchup", node),
            "max_active_runs" => max_active_runs = ctx.whole("max_active_runs", node, 1),
            "max_active_tasks" => max_active_tasks = ctx.whole("max_active_tasks", node, 1),
            "default_args" => defaults = default_args(ctx, node),
            "on_success" => on_success = notifications(ctx, "on_success", node, declared),
            "on_failure" => on_failure = notifications(ctx, "on_failure", node, declared),
            "triggers" => {
                triggers = read_triggers(ctx, name, node, TriggerOwner::Pipeline);
                if let Some(params) = declared {
                    check_trigger_params(ctx, node, &triggers, params);
                }
            }
            other => {
                unknown_key(
                    ctx,
                    other,
                    e.key_pos,
                    &format!("pipeline `{name}`"),
                    &PIPELINE_KEYS,
                );
            }
        }
    }
    if let (Some(start), Some((end, pos))) = (start_date, end_date)
        && end < start
    {
        ctx.problem(
            pos,
            format!("`end_date` ({end}) is before `start_date` ({start})"),
        );
    }
    let tasks = match get("tasks") {
        Some(e) => read_tasks(ctx, e, &defaults, declared),
        None => {
            ctx.problem(
                root.pos,
                "pipeline has no `tasks`: add a mapping of task ids to tasks",
            );
            None
        }
    };
    Some(Pipeline {
        name: name.to_string(),
        file: ctx.file.to_string(),
        version: format!("{:x}", Sha256::digest(ctx.source.as_bytes())),
        source: ctx.source.to_string(),
        description,
        tags,
        schedule,
        timezone,
        start_date,
        end_date: end_date.map(|(d, _)| d),
        catchup: catchup.unwrap_or(false),
        params,
        max_active_runs: max_active_runs.unwrap_or(DEFAULT_MAX_ACTIVE_RUNS),
        max_active_tasks,
        tasks: tasks?,
        on_success,
        on_failure,
        triggers,
    })
}

/// A trigger's constant input becomes a run's params, which may only set declared params.
fn check_trigger_params(
    ctx: &mut Ctx<'_>,
    node: &Node,
    triggers: &[Trigger],
    params: &Map<String, Json>,
) {
    for trigger in triggers {
        let TargetInput::Constant(text) = &trigger.input else {
            continue;
        };
        let Ok(Json::Object(given)) = serde_json::from_str::<Json>(text) else {
            continue;
        };
        for key in given.keys().filter(|k| !params.contains_key(*k)) {
            let hint = did_you_mean(key, params.keys().map(String::as_str));
            ctx.problem(
                node.pos,
                format!(
                    "a trigger's input sets param `{key}`, which `params` does not declare{hint}"
                ),
            );
        }
    }
}

fn timezone(ctx: &mut Ctx<'_>, node: &Node) -> Option<Tz> {
    let name = ctx.string("timezone", node)?;
    if let Ok(tz) = name.trim().parse::<Tz>() {
        return Some(tz);
    }
    let hint = match chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name.trim()))
    {
        Some(tz) => format!("; did you mean `{}`?", tz.name()),
        None => did_you_mean(&name, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())),
    };
    ctx.problem(
        node.pos,
        format!("unknown timezone `{name}`{hint} (use an IANA name such as Europe/Paris, or UTC)"),
    );
    None
}

fn read_schedule(ctx: &mut Ctx<'_>, node: &Node) -> Option<Schedule> {
    match &node.value {
        Value::Null => None,
        Value::Str(expr) => match Schedule::parse(expr) {
            Ok(schedule) => Some(schedule),
            Err(message) => {
                ctx.problem(node.pos, message);
                None
            }
        },
        _ => {
            let message = format!(
                "`schedule` must be a cron expression such as \"0 2 * * *\" or a preset such as @daily, not {}",
                node.describe()
            );
            ctx.problem(node.pos, message);
            None
        }
    }
}

/// `YYYY-MM-DD` (midnight in `tz`) or an RFC 3339 timestamp.
fn date(ctx: &mut Ctx<'_>, key: &str, node: &Node, tz: Tz) -> Option<DateTime<Utc>> {
    let expected = "a date (YYYY-MM-DD, midnight in the pipeline's timezone) or an RFC 3339 timestamp such as 2026-01-01T00:00:00Z";
    let text = match &node.value {
        Value::Null => return None,
        Value::Str(text) => text.trim(),
        _ => {
            ctx.problem(
                node.pos,
                format!("`{key}` must be {expected}, not {}", node.describe()),
            );
            return None;
        }
    };
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        // Midnight, or the first hour that exists when the clock skips midnight that day.
        let local = (0..=3)
            .filter_map(|hour| day.and_hms_opt(hour, 0, 0))
            .find_map(|t| tz.from_local_datetime(&t).earliest());
        if let Some(local) = local {
            return Some(local.with_timezone(&Utc));
        }
    } else if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    ctx.problem(
        node.pos,
        format!("invalid `{key}` `{text}`: expected {expected}"),
    );
    None
}

/// `params:` names and default values; false when any of it is wrong.
fn params(ctx: &mut Ctx<'_>, node: &Node) -> (Map<String, Json>, bool) {
    let entries = match &node.value {
        Value::Null => return (Map::new(), true),
        Value::Map(entries) => entries,
        _ => {
            ctx.problem(
                node.pos,
                format!(
                    "`params` must be a mapping of param names to default values, not {}",
                    node.describe()
                ),
            );
            return (Map::new(), false);
        }
    };
    let mut ok = true;
    let mut params = Map::new();
    for e in entries {
        if !is_identifier(&e.key) {
            let message = format!(
                "param name `{}` is not an identifier: use letters, digits and `_`, not starting with a digit",
                e.key
            );
            ctx.problem(e.key_pos, message);
            ok = false;
        }
        match e.value.to_json() {
            Ok(value) => {
                params.insert(e.key.clone(), value);
            }
            Err((pos, message)) => {
                ctx.problem(pos, message);
                ok = false;
            }
        }
    }
    (params, ok)
}

fn default_args(ctx: &mut Ctx<'_>, node: &Node) -> Settings {
    let mut settings = Settings::default();
    let entries = match &node.value {
        Value::Null => return settings,
        Value::Map(entries) => entries,
        _ => {
            ctx.problem(
                node.pos,
                format!(
                    "`default_args` must be a mapping of task settings, not {}",
                    node.describe()
                ),
            );
            return settings;
        }
    };
    for e in entries {
        if !settings.read(ctx, &e.key, &e.value) {
            let hint = match did_you_mean(&e.key, SETTING_KEYS) {
                hint if hint.is_empty() => {
                    format!(" (it sets {} for every task)", SETTING_KEYS.join(", "))
                }
                hint => hint,
            };
            ctx.problem(
                e.key_pos,
                format!("unknown key `{}` in `default_args`{hint}", e.key),
            );
        }
    }
    settings
}

/// A task as read, before the graph is checked.
struct RawTask<'a> {
    id: &'a str,
    pos: Pos,
    depends_on: Vec<(String, Pos)>,
    settings: Settings,
    map_over: Option<(String, usize, &'a Node)>,
    description: Option<String>,
    action: Option<ActionSpec>,
    /// The values of the action's keys, whose templates are checked once the graph is known.
    action_nodes: Vec<&'a Node>,
}

fn read_tasks(
    ctx: &mut Ctx<'_>,
    tasks: &Entry,
    defaults: &Settings,
    params: Option<&Map<String, Json>>,
) -> Option<IndexMap<String, Task>> {
    let entries = match &tasks.value.value {
        Value::Map(entries) if !entries.is_empty() => entries,
        Value::Map(_) | Value::Null => {
            ctx.problem(
                tasks.key_pos,
                "`tasks` is empty: a pipeline needs at least one task",
            );
            return None;
        }
        _ => {
            let message = format!(
                "`tasks` must be a mapping of task ids to tasks, not {}",
                tasks.value.describe()
            );
            ctx.problem(tasks.value.pos, message);
            return None;
        }
    };
    let raw: Vec<RawTask<'_>> = entries.iter().map(|e| read_task(ctx, e, params)).collect();

    let graph_tasks: Vec<GraphTask<'_>> = raw
        .iter()
        .map(|t| GraphTask {
            id: t.id,
            pos: t.pos,
            depends_on: t.depends_on.iter().map(|(d, p)| (d.as_str(), *p)).collect(),
        })
        .collect();
    let (graph, problems) = graph::check(&graph_tasks);
    for (pos, message) in problems {
        ctx.problem(pos, message);
    }
    check_map_over_references(ctx, &raw, &graph);
    check_task_templates(ctx, &raw, &graph);

    let order = graph.topological_order()?;
    let mut out = IndexMap::new();
    for i in order {
        let task = &raw[i];
        let settings = task.settings.clone().or(defaults);
        let fallback = RetryPolicy::default();
        let retry = RetryPolicy {
            retries: settings.retries.unwrap_or(fallback.retries),
            delay: settings.retry_delay.unwrap_or(fallback.delay),
            exponential_backoff: settings
                .retry_exponential_backoff
                .unwrap_or(fallback.exponential_backoff),
            max_delay: settings.max_retry_delay.or(fallback.max_delay),
        };
        let depends_on = graph.upstream[i]
            .iter()
            .map(|&j| raw[j].id.to_string())
            .collect();
        let built = Task {
            id: task.id.to_string(),
            depends_on,
            action: task.action.clone()?,
            retry,
            timeout: settings.timeout,
            trigger_rule: settings.trigger_rule.unwrap_or_default(),
            pool: settings.pool,
            map_over: task.map_over.as_ref().map(|(expr, _, _)| expr.clone()),
            description: task.description.clone(),
            on_lost: settings.on_lost.unwrap_or_default(),
        };
        out.insert(built.id.clone(), built);
    }
    Some(out)
}

fn read_task<'a>(
    ctx: &mut Ctx<'_>,
    entry: &'a Entry,
    params: Option<&Map<String, Json>>,
) -> RawTask<'a> {
    let id = entry.key.as_str();
    let mut task = RawTask {
        id,
        pos: entry.key_pos,
        depends_on: Vec::new(),
        settings: Settings::default(),
        map_over: None,
        description: None,
        action: None,
        action_nodes: Vec::new(),
    };
    if !is_task_id(id) {
        let message = format!(
            "invalid task id `{id}`: use letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_`"
        );
        ctx.problem(entry.key_pos, message);
    }
    let entries = match &entry.value.value {
        Value::Map(entries) => entries.as_slice(),
        Value::Null => &[],
        _ => {
            let message = format!(
                "task `{id}` must be a mapping of task keys such as `command` and `depends_on`, not {}",
                entry.value.describe()
            );
            ctx.problem(entry.value.pos, message);
            return task;
        }
    };
    let mut action_entries = Vec::new();
    let mut misspelled_action = false;
    for e in entries {
        let node = &e.value;
        match e.key.as_str() {
            "depends_on" => task.depends_on = ctx.strings("depends_on", node),
            "map_over" => task.map_over = map_over(ctx, node, params),
            "description" => task.description = ctx.string("description", node),
            key if is_action_key(key) => action_entries.push(e),
            key => {
                if !task.settings.read(ctx, key, node) {
                    let mut valid: Vec<&str> = TASK_OWN_KEYS
                        .iter()
                        .chain(SETTING_KEYS.iter())
                        .copied()
                        .collect();
                    valid.extend(action_keys());
                    misspelled_action |=
                        unknown_key(ctx, key, e.key_pos, &format!("task `{id}`"), &valid)
                            .is_some_and(|s| action_kind(s).is_some());
                }
            }
        }
    }
    task.action_nodes = action_entries.iter().map(|e| &e.value).collect();
    // A misspelled action key (`comand:`) is already reported; "has no action" would only repeat it.
    if !(misspelled_action && action_entries.is_empty()) {
        task.action = action(
            ctx,
            &format!("task `{id}`"),
            entry.key_pos,
            &action_entries,
            &[],
            params,
        );
    }
    task
}

/// `map_over:` an expression, optionally inside `{{ }}`: the expression and its offset in the string.
fn map_over<'a>(
    ctx: &mut Ctx<'_>,
    node: &'a Node,
    params: Option<&Map<String, Json>>,
) -> Option<(String, usize, &'a Node)> {
    let text = ctx.string("map_over", node)?;
    let mut start = text.len() - text.trim_start().len();
    let mut expr = text.trim();
    if let Some(inner) = expr.strip_prefix("{{").and_then(|e| e.strip_suffix("}}"))
        && !inner.contains("{{")
        && !inner.contains("}}")
    {
        start += 2 + (inner.len() - inner.trim_start().len());
        expr = inner.trim();
    }
    if expr.is_empty() {
        ctx.problem(
            node.pos,
            "`map_over` is empty: give an expression such as tasks.list.output.files",
        );
        return None;
    }
    if let Err(e) = check_expression(expr) {
        ctx.problem(
            node.pos_in_string(ctx.source, start + e.offset),
            format!("invalid `map_over` expression: {}", e.message),
        );
        return None;
    }
    if let Some(params) = params {
        check_params(ctx, node, params, expr, start);
    }
    Some((expr.to_string(), start, node))
}

/// Each task's templates (its action's and its `map_over`) against the context its attempts get:
/// the run's names, the tasks upstream of it, `item` when it is mapped.
fn check_task_templates(ctx: &mut Ctx<'_>, raw: &[RawTask<'_>], graph: &graph::Graph) {
    for (i, task) in raw.iter().enumerate() {
        let upstream = graph.all_upstream(i);
        let tasks: Vec<(&str, bool)> = raw
            .iter()
            .enumerate()
            .map(|(j, t)| (t.id, upstream.contains(&j)))
            .collect();
        let mut scope = Scope::Task {
            id: task.id,
            tasks,
            item: task.map_over.is_some(),
        };
        for node in &task.action_nodes {
            check_context(ctx, node, &scope);
        }
        if let Some((expr, start, node)) = &task.map_over {
            // `map_over` is evaluated before there are items; its `tasks.X` are checked apart.
            if let Scope::Task { item, .. } = &mut scope {
                *item = false;
            }
            check_names(ctx, node, &scope, &expression_paths(expr), |name| {
                find_root_in_expression(expr, name).map(|at| start + at)
            });
        }
    }
}

/// `tasks.X` in a `map_over` must name a task upstream of the mapped task.
fn check_map_over_references(ctx: &mut Ctx<'_>, raw: &[RawTask<'_>], graph: &graph::Graph) {
    let index: HashMap<&str, usize> = raw.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    for (i, task) in raw.iter().enumerate() {
        let Some((expr, start, node)) = &task.map_over else {
            continue;
        };
        let mut upstream = None;
        for (name, offset) in references(expr, "tasks") {
            let pos = node.pos_in_string(ctx.source, start + offset);
            let id = task.id;
            match index.get(name.as_str()) {
                None => {
                    let hint = did_you_mean(&name, raw.iter().map(|t| t.id));
                    ctx.problem(pos, format!("`map_over` of task `{id}` uses `tasks.{name}`, which is not a task of this pipeline{hint}"));
                }
                Some(j) => {
                    if !upstream
                        .get_or_insert_with(|| graph.all_upstream(i))
                        .contains(j)
                    {
                        let message = format!(
                            "`map_over` of task `{id}` uses `tasks.{name}`, which is not upstream of `{id}`: add `{name}` to its `depends_on`"
                        );
                        ctx.problem(pos, message);
                    }
                }
            }
        }
    }
}
