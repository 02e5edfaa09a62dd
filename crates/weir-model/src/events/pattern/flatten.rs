//! An event as patterns see it: its leaves, each with its dotted path and the array elements
//! it sits in.
//!
//! Event Ruler matches a pattern against the event's leaf values (strings, numbers, booleans,
//! null) named by the keys on the way down joined with dots (`detail.state.value`); arrays do
//! not add to the path, each element counts as a value of the field. For EventBridge's
//! array-consistent matching each leaf also records its *membership*: for every array it is
//! inside, which array that is and the element's index. Two leaves can serve one pattern only
//! if they agree on the index of every array they share.

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
    pub value: Leaf,
    pub membership: Membership,
}

/// A leaf value of an event.
#[derive(Clone, Debug)]
pub(crate) enum Leaf {
    Str(Box<str>),
    Num(Num),
    Bool(bool),
    Null,
}

/// The arrays a leaf is inside: (array id, element index) pairs, sorted by array id. Ids are
/// handed out in document order, so an enclosing array always has the smaller id.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Membership(Vec<(u32, u32)>);

impl Membership {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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

impl FlatEvent {
    /// Flattens `event`. Anything but a JSON object has no fields (an event is an object).
    pub fn new(event: &Value) -> FlatEvent {
        let mut fields = Vec::new();
        let Value::Object(root) = event else {
            return FlatEvent { fields };
        };
        let mut next_array: u32 = 0;
        // An explicit stack rather than recursion: an event may nest as deep as its author
        // likes, and a deep one must not exhaust the stack.
        let mut stack: Vec<(&Value, String, Membership)> = root
            .iter()
            .rev()
            .map(|(key, value)| (value, key.clone(), Membership::default()))
            .collect();
        while let Some((value, path, membership)) = stack.pop() {
            match value {
                Value::Object(map) => {
                    for (key, child) in map.iter().rev() {
                        stack.push((child, format!("{path}.{key}"), membership.clone()));
                    }
                }
                Value::Array(items) => {
                    let id = next_array;
                    next_array = next_array.saturating_add(1);
                    for (index, item) in items.iter().enumerate().rev() {
                        let mut inner = membership.clone();
                        inner.0.push((id, u32::try_from(index).unwrap_or(u32::MAX)));
                        stack.push((item, path.clone(), inner));
                    }
                }
                leaf => fields.push(Field {
                    path: path.into_boxed_str(),
                    value: Leaf::from_json(leaf),
                    membership,
                }),
            }
        }
        // Stable, so the leaves of one path stay in document order.
        fields.sort_by(|a, b| a.path.cmp(&b.path));
        FlatEvent { fields }
    }

    /// The leaves at `path` (a contiguous run, the fields being sorted).
    pub(crate) fn at(&self, path: &str) -> &[Field] {
        let start = self.fields.partition_point(|f| &*f.path < path);
        let end = start + self.fields[start..].partition_point(|f| &*f.path == path);
        &self.fields[start..end]
    }
}

impl Leaf {
    fn from_json(value: &Value) -> Leaf {
        match value {
            Value::String(s) => Leaf::Str(s.as_str().into()),
            Value::Number(n) => Leaf::Num(Num::from_json(n)),
            Value::Bool(b) => Leaf::Bool(*b),
            // Objects and arrays never reach here (they are walked into).
            _ => Leaf::Null,
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
