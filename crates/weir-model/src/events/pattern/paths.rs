//! The paths a matcher's rules name, as a tree of key segments, so an event is walked only
//! where some rule looks: a key no rule names is one hash lookup, and everything under it is
//! skipped (Event Ruler prunes events the same way).
//!
//! A path is its keys joined with dots, in patterns and in events alike, so `{"a.b": …}` and
//! `{"a": {"b": …}}` name one path. Splitting both sides on dots keeps that: an event key with
//! dots in it is followed segment by segment.

use serde_json::Value;

use super::flatten::Membership;

/// The matcher's hash maps: looked up several times per event, so a fast (seeded) hasher.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Clone, Debug, Default)]
pub(crate) struct PathTree {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    /// A node's children, scanned in order while they are few (comparing a handful of short
    /// keys beats hashing the event's key), then also hashed.
    children: Vec<(Box<str>, u32)>,
    many: HashMap<Box<str>, u32>,
    /// The id of the path ending here, if a rule names it.
    path: Option<u32>,
}

/// Up to this many children a node is scanned rather than hashed.
const SCAN: usize = 8;

impl Node {
    fn child(&self, key: &str) -> Option<u32> {
        if self.children.len() > SCAN {
            return self.many.get(key).copied();
        }
        self.children
            .iter()
            .find(|(name, _)| name.len() == key.len() && **name == *key)
            .map(|&(_, id)| id)
    }

    fn add(&mut self, key: &str, id: u32) {
        self.children.push((key.into(), id));
        if self.children.len() > SCAN {
            self.many.insert(key.into(), id);
            if self.many.len() < self.children.len() {
                self.many.extend(self.children.iter().cloned());
            }
        }
    }
}

/// How deep an event is followed (see `flatten::MAX_DEPTH`).
const MAX_DEPTH: usize = 256;

impl PathTree {
    /// A tree of `paths`, the i-th getting id i.
    pub fn new<'p>(paths: impl IntoIterator<Item = &'p str>) -> PathTree {
        let mut tree = PathTree {
            nodes: vec![Node::default()],
        };
        for (id, path) in paths.into_iter().enumerate() {
            let mut at = 0usize;
            for segment in path.split('.') {
                at = match tree.child(at, segment) {
                    Some(next) => next,
                    None => {
                        let next = tree.nodes.len();
                        tree.nodes.push(Node::default());
                        if let Some(node) = tree.nodes.get_mut(at) {
                            node.add(segment, u32::try_from(next).unwrap_or(u32::MAX));
                        }
                        next
                    }
                };
            }
            if let Some(node) = tree.nodes.get_mut(at) {
                node.path = u32::try_from(id).ok();
            }
        }
        tree
    }

    fn child(&self, node: usize, segment: &str) -> Option<usize> {
        self.nodes.get(node)?.child(segment).map(|n| n as usize)
    }

    /// The node `key` leads to from `node` (a key with dots is several steps).
    fn step(&self, node: usize, key: &str) -> Option<usize> {
        // No segment in the tree has a dot, so a direct hit needs no splitting.
        self.child(node, key).or_else(|| {
            key.contains('.').then(|| {
                key.split('.')
                    .try_fold(node, |at, segment| self.child(at, segment))
            })?
        })
    }

    /// Calls `visit(path id, leaf, membership)` for every leaf of `event` at a path the tree
    /// holds, in document order.
    pub fn walk<'a>(&self, event: &'a Value, visit: &mut dyn FnMut(u32, &'a Value, &Membership)) {
        let Value::Object(root) = event else {
            return;
        };
        let mut membership = Membership::default();
        let mut next_array = 0u32;
        for (key, value) in root {
            // Array ids only need to tell the arrays walked apart, so a skipped subtree's
            // arrays take none.
            if let Some(node) = self.step(0, key) {
                self.value(node, value, 0, &mut membership, &mut next_array, visit);
            }
        }
    }

    fn value<'a>(
        &self,
        node: usize,
        value: &'a Value,
        depth: usize,
        membership: &mut Membership,
        next_array: &mut u32,
        visit: &mut dyn FnMut(u32, &'a Value, &Membership),
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if let Some(next) = self.step(node, key) {
                        self.value(next, child, depth + 1, membership, next_array, visit);
                    }
                }
            }
            Value::Array(items) => {
                let id = *next_array;
                *next_array = next_array.saturating_add(1);
                for (index, item) in items.iter().enumerate() {
                    membership.push(id, u32::try_from(index).unwrap_or(u32::MAX));
                    self.value(node, item, depth + 1, membership, next_array, visit);
                    membership.pop();
                }
            }
            leaf => {
                if let Some(path) = self.nodes.get(node).and_then(|n| n.path) {
                    visit(path, leaf, membership);
                }
            }
        }
    }
}
