//! Checks on the graph of states, made once every state has been read: names unique across the
//! whole machine (branches and processors included), every transition to a state of the same
//! scope (a branch cannot jump out, nor the machine into a branch), every state reachable from
//! `StartAt`, and at least one terminal state (End, Succeed, Fail) in every scope.
//!
//! The model keeps no positions, so each finding is located by walking the document along the
//! finding's path.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;

use super::model::{State, StateKind, Transition};
use super::read::Ctx;
use super::tree::{Node, Value as Tree, child, index};
use crate::problem::Pos;

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// Checks `states` (and everything nested) of the machine whose document is `root`.
pub(crate) fn check(
    ctx: &mut Ctx<'_>,
    root: &Node,
    start_at: &str,
    states: &IndexMap<String, State>,
) {
    let mut seen: HashMap<String, Vec<Seg>> = HashMap::new();
    let mut scopes = Vec::new();
    collect(
        states,
        start_at,
        Vec::new(),
        &mut seen,
        &mut scopes,
        ctx,
        root,
    );
    let all: HashSet<&str> = seen.keys().map(String::as_str).collect();
    let unread = std::mem::take(&mut ctx.unread);
    for (at, start, scope) in &scopes {
        check_scope(ctx, root, at, start, scope, &all, &unread);
    }
}

type Scope<'m> = (Vec<Seg>, &'m str, &'m IndexMap<String, State>);

/// Gathers every scope and reports names used twice.
fn collect<'m>(
    states: &'m IndexMap<String, State>,
    start_at: &'m str,
    at: Vec<Seg>,
    seen: &mut HashMap<String, Vec<Seg>>,
    scopes: &mut Vec<Scope<'m>>,
    ctx: &mut Ctx<'_>,
    root: &Node,
) {
    scopes.push((at.clone(), start_at, states));
    for (name, state) in states {
        let mut here = at.clone();
        here.extend([key("States"), key(name)]);
        if seen.contains_key(name) {
            let (pos, path) = locate(root, &here, true);
            ctx.report(pos, &path, format!("state name \"{name}\" is used more than once; names must be unique in the whole state machine"));
        } else {
            seen.insert(name.clone(), here.clone());
        }
        match &state.kind {
            StateKind::Parallel(p) => {
                for (i, b) in p.branches.iter().enumerate() {
                    let mut inner = here.clone();
                    inner.extend([key("Branches"), Seg::Index(i)]);
                    collect(&b.states, &b.start_at, inner, seen, scopes, ctx, root);
                }
            }
            StateKind::Map(m) => {
                let mut inner = here.clone();
                let processor = if field_exists(root, &here, "ItemProcessor") {
                    "ItemProcessor"
                } else {
                    "Iterator"
                };
                inner.push(key(processor));
                collect(
                    &m.processor.states,
                    &m.processor.start_at,
                    inner,
                    seen,
                    scopes,
                    ctx,
                    root,
                );
            }
            _ => {}
        }
    }
}

/// Every transition of `state`, with where it is written.
fn targets(state: &State) -> Vec<(&str, Vec<Seg>)> {
    let mut out = Vec::new();
    if let Transition::Next(next) = &state.transition {
        out.push((next.as_str(), vec![key("Next")]));
    }
    if let StateKind::Choice(c) = &state.kind {
        for (i, rule) in c.choices.iter().enumerate() {
            out.push((
                rule.next.as_str(),
                vec![key("Choices"), Seg::Index(i), key("Next")],
            ));
        }
        if let Some(d) = &c.default {
            out.push((d.as_str(), vec![key("Default")]));
        }
    }
    for (i, c) in state.catch.iter().enumerate() {
        out.push((
            c.next.as_str(),
            vec![key("Catch"), Seg::Index(i), key("Next")],
        ));
    }
    out
}

fn check_scope(
    ctx: &mut Ctx<'_>,
    root: &Node,
    at: &[Seg],
    start_at: &str,
    states: &IndexMap<String, State>,
    all: &HashSet<&str>,
    unread: &[String],
) {
    let missing = |name: &str| {
        if all.contains(name) {
            format!(
                "\"{name}\" is in another branch or scope; a state can only transition to states of its own branch"
            )
        } else {
            format!("no state named \"{name}\"")
        }
    };
    if !states.contains_key(start_at) && !unread.iter().any(|u| u == start_at) {
        let mut here = at.to_vec();
        here.push(key("StartAt"));
        let (pos, path) = locate(root, &here, false);
        ctx.report(pos, &path, format!("\"StartAt\": {}", missing(start_at)));
    }
    for (name, state) in states {
        for (target, segs) in targets(state) {
            if !states.contains_key(target) && !unread.iter().any(|u| u == target) {
                let mut here = at.to_vec();
                here.extend([key("States"), key(name)]);
                here.extend(segs);
                let (pos, path) = locate(root, &here, false);
                ctx.report(pos, &path, missing(target));
            }
        }
    }
    // Reachability from StartAt.
    let mut reached: HashSet<&str> = HashSet::new();
    let mut queue: Vec<&str> = Vec::new();
    if states.contains_key(start_at) {
        queue.push(start_at);
    }
    while let Some(name) = queue.pop() {
        if !reached.insert(name) {
            continue;
        }
        if let Some(state) = states.get(name) {
            for (target, _) in targets(state) {
                if states.contains_key(target) && !reached.contains(target) {
                    queue.push(target);
                }
            }
        }
    }
    if !reached.is_empty() {
        for name in states.keys() {
            if !reached.contains(name.as_str()) {
                let mut here = at.to_vec();
                here.extend([key("States"), key(name)]);
                let (pos, path) = locate(root, &here, true);
                ctx.report(
                    pos,
                    &path,
                    format!("state \"{name}\" cannot be reached from \"{start_at}\""),
                );
            }
        }
    }
    let terminal = states.values().any(|s| {
        s.transition == Transition::End || matches!(s.kind, StateKind::Succeed | StateKind::Fail(_))
    });
    if !terminal && !states.is_empty() {
        let mut here = at.to_vec();
        here.push(key("States"));
        let (pos, path) = locate(root, &here, false);
        ctx.report(pos, &path, "no terminal state: at least one state must end the execution (\"End\": true, Succeed or Fail)");
    }
}

fn field_exists(root: &Node, at: &[Seg], field: &str) -> bool {
    let mut segs = at.to_vec();
    segs.push(key(field));
    find(root, &segs).is_some()
}

fn find<'n>(root: &'n Node, segs: &[Seg]) -> Option<(&'n Node, Pos)> {
    let mut node = root;
    let mut key_pos = root.pos;
    for seg in segs {
        match (seg, &node.value) {
            (Seg::Key(k), Tree::Object(members)) => {
                let m = members.iter().find(|m| &m.key == k)?;
                key_pos = m.key_pos;
                node = &m.value;
            }
            (Seg::Index(i), Tree::Array(items)) => {
                node = items.get(*i)?;
                key_pos = node.pos;
            }
            _ => return None,
        }
    }
    Some((node, key_pos))
}

/// The position (of the key when `at_key`, else of the value) and JSON path of `segs`; where the
/// document does not have them, the nearest enclosing position.
fn locate(root: &Node, segs: &[Seg], at_key: bool) -> (Pos, String) {
    let mut path = String::from("$");
    for seg in segs {
        path = match seg {
            Seg::Key(k) => child(&path, k),
            Seg::Index(i) => index(&path, *i),
        };
    }
    let mut n = segs.len();
    loop {
        if let Some((node, key_pos)) = find(root, &segs[..n]) {
            let pos = if at_key && n == segs.len() {
                key_pos
            } else {
                node.pos
            };
            return (pos, path);
        }
        if n == 0 {
            return (root.pos, path);
        }
        n -= 1;
    }
}
