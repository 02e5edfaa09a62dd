//! The action part of a task or notification (`command:`, `http:`, … and the action's extra keys),
//! notifications, and the checks on templates inside them.

use serde_json::{Map, Value as Json};

use super::Notification;
use super::fields::{Ctx, unknown_key};
use super::yaml::{Entry, Node, Value};
use crate::action::{ActionSpec, action_kind, action_kinds};
use crate::problem::{Pos, did_you_mean};
use crate::template::{
    check_template, context_paths, end_of_string, expression_blocks, find_root, is_template,
    root_of, unknown_filters_and_tests,
};

/// Whether `key` selects an action or is an action's extra key.
pub(super) fn is_action_key(key: &str) -> bool {
    action_kind(key).is_some() || action_kinds().iter().any(|k| k.extra_keys.contains(&key))
}

/// Every key that selects an action or belongs to one.
pub(super) fn action_keys() -> Vec<&'static str> {
    action_kinds()
        .iter()
        .flat_map(|k| std::iter::once(k.name).chain(k.extra_keys.iter().copied()))
        .collect()
}

/// Builds the action of `owner` (e.g. "task `extract`", defined at `owner_pos`) from its
/// action-related entries. `alternatives` are further keys that could stand instead of an action
/// (for the "has no action" message). `params` (when known) are the declared params templates may use.
pub(super) fn action(
    ctx: &mut Ctx<'_>,
    owner: &str,
    owner_pos: Pos,
    entries: &[&Entry],
    alternatives: &[&str],
    params: Option<&Map<String, Json>>,
) -> Option<ActionSpec> {
    let selected: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| action_kind(&e.key).is_some())
        .collect();
    let (entry, kind) = match selected.as_slice() {
        [] => {
            let names: Vec<&str> = action_kinds().iter().map(|k| k.name).collect();
            let also: String = alternatives.iter().map(|a| format!("`{a}` or ")).collect();
            ctx.problem(
                owner_pos,
                format!(
                    "{owner} has no action: add {also}one of {}",
                    names.join(", ")
                ),
            );
            return None;
        }
        [one] => (*one, action_kind(&one.key)?),
        [first, second, ..] => {
            let message = format!(
                "{owner} has two actions, `{}` and `{}`: keep one",
                first.key, second.key
            );
            ctx.problem(second.key_pos, message);
            return None;
        }
    };
    let mut ok = true;
    let mut config = Map::new();
    for e in entries {
        if e.key != entry.key && !kind.extra_keys.contains(&e.key.as_str()) {
            let owner_kind = action_kinds()
                .iter()
                .find(|k| k.extra_keys.contains(&e.key.as_str()))
                .map_or("another", |k| k.name);
            ctx.problem(
                e.key_pos,
                format!(
                    "`{}` belongs to the `{owner_kind}` action, but {owner} runs `{}`",
                    e.key, kind.name
                ),
            );
            ok = false;
            continue;
        }
        match e.value.to_json() {
            Ok(json) => {
                config.insert(e.key.clone(), json);
            }
            Err((pos, message)) => {
                ctx.problem(pos, message);
                ok = false;
            }
        }
        check_templates(ctx, &e.value, params);
    }
    if !ok {
        return None;
    }
    if let Err(err) = (kind.check)(&config) {
        let pos = match err.path.split_first() {
            Some((first, rest)) => match entries.iter().find(|e| &e.key == first) {
                Some(e) if rest.is_empty() => e.key_pos,
                Some(e) => e.value.pos_of_path(rest),
                None => entry.key_pos,
            },
            None => entry.key_pos,
        };
        ctx.problem(pos, err.message);
        return None;
    }
    Some(ActionSpec {
        kind: kind.name.to_string(),
        config,
    })
}

/// `on_success:` / `on_failure:`: one notification or a list of them.
pub(super) fn notifications(
    ctx: &mut Ctx<'_>,
    key: &str,
    node: &Node,
    params: Option<&Map<String, Json>>,
) -> Vec<Notification> {
    let items: Vec<&Node> = match &node.value {
        Value::Null => return Vec::new(),
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for item in items {
        let Some(entries) = item.as_map() else {
            let message = format!(
                "`{key}` must be a notification ({{webhook: URL}} or an action such as {{command: ...}}) or a list of them, not {}",
                item.describe()
            );
            ctx.problem(item.pos, message);
            continue;
        };
        out.extend(notification(ctx, key, item.pos, entries, params));
    }
    out
}

fn notification(
    ctx: &mut Ctx<'_>,
    key: &str,
    pos: Pos,
    entries: &[Entry],
    params: Option<&Map<String, Json>>,
) -> Option<Notification> {
    let owner = format!("the `{key}` notification");
    let mut webhook = None;
    let mut action_entries = Vec::new();
    let mut misspelled_action = false;
    for e in entries {
        if e.key == "webhook" {
            webhook = Some(e);
        } else if is_action_key(&e.key) {
            action_entries.push(e);
        } else {
            let mut valid = action_keys();
            valid.push("webhook");
            let suggestion = unknown_key(
                ctx,
                &e.key,
                e.key_pos,
                &format!("`{key}` notification"),
                &valid,
            );
            misspelled_action |=
                suggestion.is_some_and(|s| s == "webhook" || action_kind(s).is_some());
        }
    }
    let Some(webhook) = webhook else {
        if misspelled_action && action_entries.is_empty() {
            return None; // already reported: "has no action" would only repeat it
        }
        let spec = action(ctx, &owner, pos, &action_entries, &["webhook"], params)?;
        for e in &action_entries {
            check_context(ctx, &e.value, &Scope::Notification);
        }
        return Some(Notification::Action(spec));
    };
    if let Some(other) = action_entries.first() {
        ctx.problem(
            other.key_pos,
            format!(
                "{owner} has both `webhook` and `{}`: a notification is a webhook or an action",
                other.key
            ),
        );
        return None;
    }
    let url = ctx.string("webhook", &webhook.value)?;
    let templated = url.contains("{{");
    if !(templated || url.starts_with("http://") || url.starts_with("https://")) {
        ctx.problem(
            webhook.value.pos,
            format!("`webhook` must be an http:// or https:// URL, not `{url}`"),
        );
        return None;
    }
    check_templates(ctx, &webhook.value, params);
    check_context(ctx, &webhook.value, &Scope::Notification);
    Some(Notification::Webhook { url })
}

/// Checks every string inside `node` as a template; with `params`, also that `params.NAME`
/// references name declared params.
pub(super) fn check_templates(ctx: &mut Ctx<'_>, node: &Node, params: Option<&Map<String, Json>>) {
    match &node.value {
        Value::Str(text) => {
            if let Err(e) = check_template(text) {
                let pos = node.pos_in_string(ctx.source, e.offset);
                ctx.problem(pos, format!("invalid template: {}", e.message));
                return;
            }
            let Some(params) = params else { return };
            for (start, inner) in expression_blocks(text) {
                check_params(ctx, node, params, inner, start);
            }
        }
        Value::Seq(items) => items
            .iter()
            .for_each(|item| check_templates(ctx, item, params)),
        Value::Map(entries) => entries
            .iter()
            .for_each(|e| check_templates(ctx, &e.value, params)),
        _ => {}
    }
}

/// The names a task's templates can use: what the engine puts in an attempt's context
/// (`weir_engine`'s `RunState::context`), Airflow's names where Airflow has one.
pub const TASK_CONTEXT: [&str; 17] = [
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "run_id",
    "run_type",
    "pipeline",
    "params",
    "tasks",
    "task",
    "try_number",
    "map_index",
    // The event that started the run (its `triggers:`, or a rule's target), null otherwise.
    "event",
    crate::secret::ROOT,
];

/// The names an end-of-run notification's templates can use (`weir_engine`'s notification
/// context).
pub const NOTIFICATION_CONTEXT: [&str; 14] = [
    "event",
    "pipeline",
    "run_id",
    "state",
    "run_type",
    "logical_date",
    "ds",
    "params",
    "started_at",
    "ended_at",
    "failed_tasks",
    "failed_task",
    "link",
    crate::secret::ROOT,
];

/// What a template's context holds where it is rendered.
pub(super) enum Scope<'a> {
    /// A task's action (or its `map_over`): the run's names, `tasks.X` for every task X upstream
    /// of it (a task that is not upstream may not have run yet), `item` in a mapped task's action.
    Task {
        id: &'a str,
        /// Every task of the pipeline, and whether it is upstream of this one.
        tasks: Vec<(&'a str, bool)>,
        item: bool,
    },
    /// An end-of-run notification.
    Notification,
}

impl Scope<'_> {
    fn names(&self) -> Vec<&'static str> {
        match self {
            Scope::Task { item, .. } => {
                let mut names = TASK_CONTEXT.to_vec();
                if *item {
                    names.push("item");
                }
                names
            }
            Scope::Notification => NOTIFICATION_CONTEXT.to_vec(),
        }
    }

    fn owner(&self) -> String {
        match self {
            Scope::Task { id, .. } => format!("task `{id}`"),
            Scope::Notification => "a notification".into(),
        }
    }
}

/// Checks every template string inside `node` against the context it will be rendered with:
/// names it reads, the tasks it reads from, the filters and tests it applies. Templates that do not
/// compile are reported by [`check_templates`].
pub(super) fn check_context(ctx: &mut Ctx<'_>, node: &Node, scope: &Scope<'_>) {
    match &node.value {
        Value::Str(text) if is_template(text) && check_template(text).is_ok() => {
            for e in unknown_filters_and_tests(text) {
                ctx.problem(node.pos_in_string(ctx.source, e.offset), e.message);
            }
            let paths = context_paths(text);
            check_names(ctx, node, scope, &paths, |name| find_root(text, name));
            for (start, inner) in expression_blocks(text) {
                if let Scope::Task { .. } = scope {
                    check_task_references(ctx, node, scope, inner, start);
                }
                check_secret_names(ctx, node, inner, start);
            }
        }
        Value::Seq(items) => items
            .iter()
            .for_each(|item| check_context(ctx, item, scope)),
        Value::Map(entries) => entries
            .iter()
            .for_each(|e| check_context(ctx, &e.value, scope)),
        _ => {}
    }
}

/// Reports root names in `paths` that the scope's context lacks; `locate` finds where a name is
/// read (a byte offset in `node`'s string).
pub(super) fn check_names(
    ctx: &mut Ctx<'_>,
    node: &Node,
    scope: &Scope<'_>,
    paths: &[String],
    locate: impl Fn(&str) -> Option<usize>,
) {
    let names = scope.names();
    let mut reported = Vec::new();
    for path in paths {
        let root = root_of(path);
        if names.contains(&root) || reported.contains(&root) {
            continue;
        }
        reported.push(root);
        let pos = locate(root).map_or(node.pos, |at| node.pos_in_string(ctx.source, at));
        let hint = match (root, scope) {
            ("item", Scope::Task { .. }) => {
                "; `item` is defined only in a task with `map_over`".to_string()
            }
            _ => did_you_mean(root, names.iter().copied()),
        };
        ctx.problem(
            pos,
            format!(
                "`{root}` is not defined in the templates of {}{hint} (they can use {})",
                scope.owner(),
                names.join(", ")
            ),
        );
    }
}

/// Reports `tasks.X` in `expr` (at byte `start` of `node`'s string) where X is not a task of the
/// pipeline or not upstream of the task whose template it is, and `tasks.X.Y` where Y is neither
/// `output` nor `state`.
pub(super) fn check_task_references(
    ctx: &mut Ctx<'_>,
    node: &Node,
    scope: &Scope<'_>,
    expr: &str,
    start: usize,
) {
    let Scope::Task { id, tasks, .. } = scope else {
        return;
    };
    for (name, offset) in references(expr, "tasks") {
        let pos = node.pos_in_string(ctx.source, start + offset);
        let message = match tasks.iter().find(|(task, _)| *task == name) {
            None => {
                let hint = did_you_mean(&name, tasks.iter().map(|(task, _)| *task));
                format!("`tasks.{name}` is not a task of this pipeline{hint}")
            }
            Some(_) if name == *id => {
                format!(
                    "task `{id}` reads `tasks.{name}`, its own entry: a task cannot read its own output"
                )
            }
            Some((_, false)) => format!(
                "task `{id}` reads `tasks.{name}`, which is not upstream of `{id}` (it may not have run yet): add `{name}` to its `depends_on`"
            ),
            Some((_, true)) => match field_after(expr, start_of_name(expr, offset, &name)) {
                Some((field, at)) if !TASK_FIELDS.contains(&field) => {
                    let hint = did_you_mean(field, TASK_FIELDS);
                    ctx.problem(
                        node.pos_in_string(ctx.source, start + at),
                        format!(
                            "`tasks.{name}.{field}`: a task's entry has only `output` and `state`{hint}"
                        ),
                    );
                    continue;
                }
                _ => continue,
            },
        };
        ctx.problem(pos, message);
    }
}

/// Reports `secrets.NAME` references in `expr` (at byte `start` of `node`'s string) whose NAME
/// no secret can have. Whether the secret is set is known only at run time.
fn check_secret_names(ctx: &mut Ctx<'_>, node: &Node, expr: &str, start: usize) {
    for (name, offset) in references(expr, crate::secret::ROOT) {
        if !crate::secret::is_secret_name(&name) {
            ctx.problem(
                node.pos_in_string(ctx.source, start + offset),
                format!("`secrets.{name}`: {}", crate::secret::name_rule()),
            );
        }
    }
}

/// What `tasks.X` holds in a task's context.
const TASK_FIELDS: [&str; 2] = ["output", "state"];

/// The byte offset just past the task name found at `offset` (past its closing quote and `]` in
/// `tasks["X"]`).
fn start_of_name(expr: &str, offset: usize, name: &str) -> usize {
    let mut end = offset + name.len();
    let bytes = expr.as_bytes();
    if matches!(bytes.get(end), Some(b'"' | b'\'')) {
        end += 1;
        while bytes.get(end).is_some_and(|b| b.is_ascii_whitespace()) {
            end += 1;
        }
        if bytes.get(end) == Some(&b']') {
            end += 1;
        }
    }
    end
}

/// The attribute read right after byte `end` (`.output` → `output`), with its offset.
fn field_after(expr: &str, end: usize) -> Option<(&str, usize)> {
    let rest = expr.get(end..)?;
    let dot = rest.len() - rest.trim_start().len();
    let after_dot = rest[dot..].strip_prefix('.')?;
    let name_start = end + dot + 1 + (after_dot.len() - after_dot.trim_start().len());
    let name_len = expr[name_start..]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    (name_len > 0).then(|| (&expr[name_start..name_start + name_len], name_start))
}

/// Reports `params.NAME` references in `expr` (at byte `start` of `node`'s string) to undeclared params.
pub(super) fn check_params(
    ctx: &mut Ctx<'_>,
    node: &Node,
    params: &Map<String, Json>,
    expr: &str,
    start: usize,
) {
    for (name, offset) in references(expr, "params") {
        if !params.contains_key(&name) {
            let hint = did_you_mean(&name, params.keys().map(String::as_str));
            let pos = node.pos_in_string(ctx.source, start + offset);
            ctx.problem(
                pos,
                format!("`params.{name}` is not declared in `params`{hint}"),
            );
        }
    }
}

/// The names `root.NAME` and `root["NAME"]` refer to in an expression, with their byte offsets.
pub(super) fn references(expr: &str, root: &str) -> Vec<(String, usize)> {
    let bytes = expr.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let skip_spaces = |mut i: usize| {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        i
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' || b == b'\'' {
            i = end_of_string(bytes, i);
            continue;
        }
        if !(b.is_ascii_alphabetic() || b == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && ident(bytes[i]) {
            i += 1;
        }
        let attribute = expr[..start].trim_end().ends_with('.');
        if &expr[start..i] != root || attribute {
            continue;
        }
        let j = skip_spaces(i);
        match bytes.get(j) {
            Some(b'.') => {
                let name_start = skip_spaces(j + 1);
                let mut name_end = name_start;
                while name_end < bytes.len() && ident(bytes[name_end]) {
                    name_end += 1;
                }
                // `params.items()` is a method call, not a reference.
                let call = bytes.get(skip_spaces(name_end)) == Some(&b'(');
                if name_end > name_start && !call {
                    out.push((expr[name_start..name_end].to_string(), name_start));
                }
                i = name_end.max(j + 1);
            }
            Some(b'[') => {
                let quote = skip_spaces(j + 1);
                if let Some(&q) = bytes.get(quote).filter(|q| **q == b'"' || **q == b'\'')
                    && let Some(len) = expr.get(quote + 1..).and_then(|rest| rest.find(q as char))
                {
                    out.push((expr[quote + 1..quote + 1 + len].to_string(), quote + 1));
                }
                i = j + 1;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references_in_expressions() {
        let refs = references(
            "tasks.list.output.files + tasks['my-task'].output + x.tasks.no + 'tasks.no'",
            "tasks",
        );
        assert_eq!(
            refs,
            vec![("list".to_string(), 6), ("my-task".to_string(), 33)]
        );
        assert!(references("tasks", "tasks").is_empty());
        assert_eq!(
            references("params . region", "params"),
            vec![("region".to_string(), 9)]
        );
        assert!(references("mytasks.a", "tasks").is_empty());
        assert!(references("tasks[\"unterminated", "tasks").is_empty());
        assert!(references("params.items()", "params").is_empty());
    }

    #[test]
    fn finds_expression_blocks() {
        let text = "run {{ a }} and {% if b %}x{% endif %} {# c #} {{ open";
        let blocks: Vec<&str> = expression_blocks(text)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(blocks, vec![" a ", " if b ", " endif "]);
        assert_eq!(expression_blocks("{{ a }}")[0].0, 2);
    }
}
