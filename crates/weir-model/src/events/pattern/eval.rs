//! Array-consistent evaluation of one alternative against a flattened event — Event Ruler's
//! `rulesForJSONEvent`, which is what EventBridge does.
//!
//! The conditions are taken in path order. A condition is met by a leaf at its path that one of
//! its values accepts and that is consistent with the leaves chosen so far (no shared array in
//! a different element); when a choice leads nowhere the next leaf is tried. `exists: false` is
//! met when no leaf at its path is consistent with the leaves chosen *so far* — the leaves of
//! conditions whose paths sort before it — which is exactly how Event Ruler's state machine,
//! visiting fields in sorted order, decides absence.

use super::compile::Condition;
use super::flatten::{Located, Membership};

/// Whether `conditions` hold together, given the leaves each one may use.
///
/// `fields_of(i)` is the slice of event leaves at the path of `conditions[i]`; the interpreter
/// finds it by searching the event, the matcher by the path ids it resolved once per event.
pub(crate) fn satisfy<'e, F: Located>(
    conditions: &[Condition],
    first: usize,
    chosen: &Membership,
    fields_of: &dyn Fn(usize) -> &'e [F],
) -> bool {
    let Some(condition) = conditions.get(first) else {
        return true;
    };
    let fields = fields_of(first);
    if condition.allows_absence()
        && !fields.iter().any(|f| f.membership().consistent(chosen))
        && satisfy(conditions, first + 1, chosen, fields_of)
    {
        return true;
    }
    fields.iter().any(|field| {
        if !condition.accepts(field.leaf()) {
            return false;
        }
        // Most leaves are in no array: nothing to merge, nothing to allocate.
        if field.membership().is_empty() {
            return satisfy(conditions, first + 1, chosen, fields_of);
        }
        chosen
            .merged(field.membership())
            .is_some_and(|merged| satisfy(conditions, first + 1, &merged, fields_of))
    })
}
