//! An event as patterns see it: its leaves, each with its dotted path and the array elements
//! it sits in.
//!
//! Event Ruler matches a pattern against the event's leaf values (strings, numbers, booleans,
//! null) named by the keys on the way down joined with dots (`detail.state.value`); arrays do
//! not add to the path, each element counts as a value of the field. For EventBridge's
//! array-consistent matching each leaf also records its *membership*: for every array it is
//! inside, which array that is and the element's index. Two leaves can serve one pattern only
//! if they agree on the index of every array they share.

use std::borrow::Cow;

use serde_json::Value;

use super::number::Num;

/// An event flattened once, to be matched against many patterns (sorted by path; leaves of one
/// path in document order).
#[derive(Clone, Debug)]
pub struct FlatEvent {
    pub(crate) fields: Vec<Field>,
}

#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub path: Box<str>,
    pub value: Leaf<'static>,
    pub membership: Membership,
}

/// A leaf value of an event; strings borrowed from the event when it outlives the match.
#[derive(Clone, Debug)]
pub(crate) enum Leaf<'a> {
    Str(Cow<'a, str>),
    Num(Num),
    Bool(bool),
    Null,
}

/// What the evaluation needs of a leaf, whichever way the event was flattened.
pub(crate) trait Located {
    fn leaf(&self) -> &Leaf<'_>;
    fn membership(&self) -> &Membership;
}

impl Located for Field {
    fn leaf(&self) -> &Leaf<'_> {
        &self.value
    }
    fn membership(&self) -> &Membership {
        &self.membership
    }
}

/// The arrays a leaf is inside: (array id, element index) pairs, sorted by array id. Ids are
/// handed out in document order, so an enclosing array always has the smaller id.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Membership(Vec<(u32, u32)>);

impl Membership {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Enters element `index` of array `id` (ids grow with depth, keeping the order).
    pub fn push(&mut self, id: u32, index: u32) {
        self.0.push((id, index));
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    /// Whether no array holds the two in different elements.
    pub fn consistent(&self, other: &Membership) -> bool {
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        while let (Some(&&(ida, ia)), Some(&&(idb, ib))) = (a.peek(), b.peek()) {
            match ida.cmp(&idb) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if ia != ib {
                        return false;
                    }
                    a.next();
                    b.next();
                }
            }
        }
        true
    }

    /// The union of two consistent memberships (what a partial match has committed to).
    pub fn merged(&self, other: &Membership) -> Option<Membership> {
        if !self.consistent(other) {
            return None;
        }
        let mut all: Vec<(u32, u32)> = self.0.iter().chain(other.0.iter()).copied().collect();
        all.sort_unstable();
        all.dedup();
        Some(Membership(all))
    }
}

/// Deeper than this, an event's leaves are not seen (serde_json refuses to parse JSON nested
/// past 128 levels anyway; the bound keeps a `Value` built in code from exhausting the stack).
const MAX_DEPTH: usize = 256;

/// Calls `visit(path, leaf, membership)` for every leaf of `event`, in document order, with
/// one path buffer for the whole walk (a path is only copied by a visitor that keeps it).
/// Anything but a JSON object has no leaves (an event is an object).
fn walk<'a>(event: &'a Value, visit: &mut dyn FnMut(&str, &'a Value, &Membership)) {
    let Value::Object(root) = event else {
        return;
    };
    let mut walker = Walker {
        path: String::new(),
        membership: Membership::default(),
        next_array: 0,
        visit,
    };
    for (key, value) in root {
        walker.path.clear();
        walker.path.push_str(key);
        walker.value(value, 0);
    }
}

struct Walker<'v, 'a> {
    path: String,
    membership: Membership,
    next_array: u32,
    visit: &'v mut dyn FnMut(&str, &'a Value, &Membership),
}

impl<'a> Walker<'_, 'a> {
    fn value(&mut self, value: &'a Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Object(map) => {
                let length = self.path.len();
                for (key, child) in map {
                    self.path.truncate(length);
                    self.path.push('.');
                    self.path.push_str(key);
                    self.value(child, depth + 1);
                }
                self.path.truncate(length);
            }
            Value::Array(items) => {
                let id = self.next_array;
                self.next_array = self.next_array.saturating_add(1);
                for (index, item) in items.iter().enumerate() {
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    self.membership.push(id, index);
                    self.value(item, depth + 1);
                    self.membership.pop();
                }
            }
            leaf => (self.visit)(&self.path, leaf, &self.membership),
        }
    }
}

impl FlatEvent {
    /// Flattens `event`. Anything but a JSON object has no fields (an event is an object).
    pub fn new(event: &Value) -> FlatEvent {
        let mut fields = Vec::new();
        walk(event, &mut |path, leaf, membership| {
            fields.push(Field {
                path: path.into(),
                value: Leaf::from_json(leaf).into_owned(),
                membership: membership.clone(),
            });
        });
        // Stable, so the leaves of one path stay in document order.
        fields.sort_by(|a, b| a.path.cmp(&b.path));
        FlatEvent { fields }
    }

    /// How many leaves the event has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The leaves at `path` (a contiguous run, the fields being sorted).
    pub(crate) fn at(&self, path: &str) -> &[Field] {
        let start = self.fields.partition_point(|f| &*f.path < path);
        let end = start + self.fields[start..].partition_point(|f| &*f.path == path);
        &self.fields[start..end]
    }
}

impl<'a> Leaf<'a> {
    /// A leaf of the event (objects and arrays are walked into, never passed here).
    pub fn from_json(value: &'a Value) -> Leaf<'a> {
        match value {
            Value::String(s) => Leaf::Str(Cow::Borrowed(s)),
            Value::Number(n) => Leaf::Num(Num::from_json(n)),
            Value::Bool(b) => Leaf::Bool(*b),
            _ => Leaf::Null,
        }
    }

    fn into_owned(self) -> Leaf<'static> {
        match self {
            Leaf::Str(s) => Leaf::Str(Cow::Owned(s.into_owned())),
            Leaf::Num(n) => Leaf::Num(n),
            Leaf::Bool(b) => Leaf::Bool(b),
            Leaf::Null => Leaf::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_values_and_membership() {
        let event = json!({"b": [1, {"c": "x"}, [true]], "a": {"d": null, "e": []}, "z": {}});
        let flat = FlatEvent::new(&event);
        let paths: Vec<&str> = flat.fields.iter().map(|f| &*f.path).collect();
        assert_eq!(paths, ["a.d", "b", "b", "b.c"]);
        assert!(flat.fields[0].membership.is_empty());
        assert_eq!(flat.fields[1].membership, Membership(vec![(0, 0)]));
        assert_eq!(flat.fields[2].membership, Membership(vec![(0, 2), (1, 0)]));
        assert_eq!(flat.fields[3].membership, Membership(vec![(0, 1)]));
        assert_eq!(flat.at("b").len(), 2);
        assert!(flat.at("nope").is_empty());
        assert!(FlatEvent::new(&json!([1])).fields.is_empty());
    }

    #[test]
    fn consistency() {
        let a = Membership(vec![(0, 1), (2, 0)]);
        let b = Membership(vec![(0, 1), (3, 4)]);
        let c = Membership(vec![(0, 2)]);
        assert!(a.consistent(&b));
        assert!(!a.consistent(&c));
        assert_eq!(a.merged(&b), Some(Membership(vec![(0, 1), (2, 0), (3, 4)])));
        assert_eq!(a.merged(&c), None);
    }
}
