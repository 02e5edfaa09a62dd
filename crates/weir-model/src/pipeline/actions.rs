//! The action part of a task or notification (`command:`, `http:`, … and the action's extra keys),
//! notifications, and the checks on templates inside them.

use serde_json::{Map, Value as Json};

use super::Notification;
use super::fields::{Ctx, unknown_key};
use super::yaml::{Entry, Node, Value};
use crate::action::{ActionSpec, action_kind, action_kinds};
use crate::problem::{Pos, did_you_mean};
use crate::template::check_template;

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
        return action(ctx, &owner, pos, &action_entries, &["webhook"], params)
            .map(Notification::Action);
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

/// The insides of `{{ … }}` and `{% … %}` blocks of a template, each with its byte offset.
fn expression_blocks(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find('{')) {
        let at = from + found;
        let close = match text.as_bytes().get(at + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            _ => {
                from = at + 1;
                continue;
            }
        };
        let inner = at + 2;
        let Some(len) = text.get(inner..).and_then(|rest| rest.find(close)) else {
            break;
        };
        out.push((inner, &text[inner..inner + len]));
        from = inner + len + 2;
    }
    out
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

/// The index just past the string literal that starts at `start` (a quote).
fn end_of_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
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
