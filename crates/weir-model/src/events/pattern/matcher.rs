//! Many rules compiled into one index, so that matching an event costs what the event touches,
//! not how many rules there are.
//!
//! Every alternative of every rule ("sub-rule") is filed under one of its conditions that an
//! event must meet with a leaf — a *positive* condition (not satisfiable by absence):
//! - under each of the condition's values, when they are all exact values or case-sensitive
//!   prefixes (a hash lookup of the event's value finds it; a prefix is found by looking up
//!   the event value's own prefixes of the few lengths that rules use);
//! - otherwise under the condition's path (the event must have a leaf there).
//!
//! Of a sub-rule's positive conditions the one with the fewest exact values is chosen, so
//! rules are filed under their most selective `source`/`detail-type`-like field. Only sub-rules
//! with no positive condition at all (every field `exists: false` or `anything-but`… with
//! absence allowed) are candidates for every event.
//!
//! Matching an event: resolve each of its paths to an id once, gather the candidates its
//! leaves point at, and evaluate just those with the same array-consistent evaluation the
//! interpreter uses (`eval.rs`).

use std::collections::BTreeSet;
use std::hash::Hash;

use serde_json::Value;

use super::Pattern;
use super::compile::Condition;
use super::eval::satisfy;
use super::flatten::{FlatEvent, Leaf, Located, Membership};
use super::number::NumKey;
use super::paths::{HashMap, PathTree};
use super::value::{Literal, ValuePattern};

/// Every rule compiled into one matcher. `K` identifies a rule.
#[derive(Clone, Debug)]
pub struct Matcher<K> {
    keys: Vec<K>,
    sub_rules: Vec<SubRule>,
    /// Every path a condition names, to its id; ids follow the paths' sorted order.
    path_ids: HashMap<Box<str>, u32>,
    /// The same paths as a tree of keys, to walk events by.
    tree: PathTree,
    /// By path id.
    by_path: Vec<PathIndex>,
    /// Sub-rules no leaf can point at: candidates for every event.
    always: Vec<u32>,
}

#[derive(Clone, Debug)]
struct SubRule {
    /// Index into `keys`.
    rule: u32,
    conditions: Vec<Condition>,
    /// The path id of each condition.
    paths: Vec<u32>,
}

/// The sub-rules filed under one path.
#[derive(Clone, Debug, Default)]
struct PathIndex {
    present: Vec<u32>,
    strings: HashMap<Box<str>, Vec<u32>>,
    numbers: HashMap<NumKey, Vec<u32>>,
    trues: Vec<u32>,
    falses: Vec<u32>,
    nulls: Vec<u32>,
    prefixes: HashMap<Box<str>, Vec<u32>>,
    /// The distinct byte lengths of `prefixes`' keys, ascending.
    prefix_lengths: Vec<usize>,
}

/// Where a sub-rule is filed.
enum Filing {
    Values(usize),
    Path(usize),
    Always,
}

impl<K: Clone + Eq + Hash> Matcher<K> {
    pub fn new(rules: impl IntoIterator<Item = (K, Pattern)>) -> Matcher<K> {
        let mut keys = Vec::new();
        let mut alternatives = Vec::new();
        for (key, pattern) in rules {
            let rule = u32::try_from(keys.len()).unwrap_or(u32::MAX);
            keys.push(key);
            for conditions in pattern.alternatives.iter() {
                alternatives.push((rule, conditions.clone()));
            }
        }
        let names: BTreeSet<&str> = alternatives
            .iter()
            .flat_map(|(_, conditions)| conditions.iter().map(|c| &*c.path))
            .collect();
        let path_ids: HashMap<Box<str>, u32> = names
            .iter()
            .enumerate()
            .map(|(id, name)| ((*name).into(), u32::try_from(id).unwrap_or(u32::MAX)))
            .collect();
        let tree = PathTree::new(names.iter().copied());
        let mut matcher = Matcher {
            tree,
            keys,
            sub_rules: Vec::with_capacity(alternatives.len()),
            by_path: vec![PathIndex::default(); path_ids.len()],
            path_ids,
            always: Vec::new(),
        };
        for (rule, conditions) in alternatives {
            let paths: Vec<u32> = conditions
                .iter()
                .map(|c| matcher.path_ids.get(&c.path).copied().unwrap_or(u32::MAX))
                .collect();
            let id = u32::try_from(matcher.sub_rules.len()).unwrap_or(u32::MAX);
            matcher.file(id, &conditions, &paths);
            matcher.sub_rules.push(SubRule {
                rule,
                conditions,
                paths,
            });
        }
        for index in &mut matcher.by_path {
            index.prefix_lengths.sort_unstable();
            index.prefix_lengths.dedup();
        }
        matcher
    }

    fn file(&mut self, id: u32, conditions: &[Condition], paths: &[u32]) {
        let slot = |i: usize| paths.get(i).map_or(usize::MAX, |&p| p as usize);
        match filing(conditions) {
            Filing::Always => self.always.push(id),
            Filing::Path(i) => {
                if let Some(index) = self.by_path.get_mut(slot(i)) {
                    index.present.push(id);
                }
            }
            Filing::Values(i) => {
                let Some(index) = self.by_path.get_mut(slot(i)) else {
                    return;
                };
                for value in conditions.get(i).map_or(&[][..], |c| &c.values[..]) {
                    index.file(id, value);
                }
            }
        }
    }

    /// The keys of every rule the event matches (each once, in the order the rules were given).
    pub fn matches(&self, event: &Value) -> Vec<K> {
        // Only the leaves at paths some rule names are kept, borrowed from the event: the
        // others cost a walk and a hash lookup, and nothing is copied.
        let mut known: Vec<Known<'_>> = Vec::with_capacity(16);
        self.tree.walk(event, &mut |path, leaf, membership| {
            known.push(Known {
                path,
                value: Leaf::from_json(leaf),
                membership: membership.clone(),
            });
        });
        // Stable, so the leaves of one path stay in document order.
        known.sort_by_key(|leaf| leaf.path);
        let runs = runs(known.len(), |i| known.get(i).map(|k| k.path));
        self.matches_runs(&known, &runs)
    }

    /// Same, on an event already flattened once.
    pub fn matches_flat(&self, event: &FlatEvent) -> Vec<K> {
        let fields = &event.fields;
        // Ids follow the paths' sorted order, as the fields do, so equal ids are neighbours.
        let ids: Vec<Option<u32>> = fields
            .iter()
            .map(|f| self.path_ids.get(&*f.path).copied())
            .collect();
        let runs = runs(fields.len(), |i| ids.get(i).copied().flatten());
        self.matches_runs(fields, &runs)
    }

    /// Candidates from the index, then each evaluated. `runs` lists, in id order, each known
    /// path of the event with the range of its leaves in `leaves`.
    fn matches_runs<F: Located>(&self, leaves: &[F], runs: &[(u32, usize, usize)]) -> Vec<K> {
        let mut candidates = self.always.clone();
        for &(id, start, end) in runs {
            if let (Some(index), Some(run)) =
                (self.by_path.get(id as usize), leaves.get(start..end))
            {
                index.candidates(run, &mut candidates);
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        candidates.sort_unstable();
        candidates.dedup();

        let leaves_at = |id: u32| match runs.binary_search_by_key(&id, |&(id, _, _)| id) {
            Ok(at) => {
                let (_, start, end) = runs[at];
                leaves.get(start..end).unwrap_or(&[])
            }
            Err(_) => &[],
        };
        let mut matched: Vec<u32> = Vec::new();
        for candidate in candidates {
            let Some(sub_rule) = self.sub_rules.get(candidate as usize) else {
                continue;
            };
            // Sub-rules of one rule have neighbouring ids: once one matched, skip the others.
            if matched.last() == Some(&sub_rule.rule) {
                continue;
            }
            let fields_of = |i: usize| sub_rule.paths.get(i).map_or(&[][..], |&id| leaves_at(id));
            if satisfy(&sub_rule.conditions, 0, &Membership::default(), &fields_of) {
                matched.push(sub_rule.rule);
            }
        }
        matched
            .into_iter()
            .filter_map(|rule| self.keys.get(rule as usize).cloned())
            .collect()
    }

    /// How many rules the matcher holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A leaf of an event at a path some rule names.
struct Known<'a> {
    path: u32,
    value: Leaf<'a>,
    membership: Membership,
}

impl Located for Known<'_> {
    fn leaf(&self) -> &Leaf<'_> {
        &self.value
    }
    fn membership(&self) -> &Membership {
        &self.membership
    }
}

/// The runs of equal path ids in a sequence sorted by them: (id, start, end).
fn runs(length: usize, id_at: impl Fn(usize) -> Option<u32>) -> Vec<(u32, usize, usize)> {
    let mut runs: Vec<(u32, usize, usize)> = Vec::new();
    for i in 0..length {
        let Some(id) = id_at(i) else { continue };
        match runs.last_mut() {
            Some((last, _, end)) if *last == id => *end = i + 1,
            _ => runs.push((id, i, i + 1)),
        }
    }
    runs
}

/// Chooses where to file a sub-rule (see the module's comment).
fn filing(conditions: &[Condition]) -> Filing {
    let mut best: Option<(usize, usize)> = None; // (cost, condition)
    let mut positive = None;
    for (i, condition) in conditions.iter().enumerate() {
        if condition.allows_absence() {
            continue;
        }
        positive.get_or_insert(i);
        if let Some(cost) = indexable_cost(&condition.values)
            && best.is_none_or(|(c, _)| cost < c)
        {
            best = Some((cost, i));
        }
    }
    match (best, positive) {
        (Some((_, i)), _) => Filing::Values(i),
        (None, Some(i)) => Filing::Path(i),
        (None, None) => Filing::Always,
    }
}

/// How costly filing under these values is (more values, and prefixes, cost more), or `None`
/// when some value cannot be found by a lookup.
fn indexable_cost(values: &[ValuePattern]) -> Option<usize> {
    let mut cost = 0;
    for value in values {
        cost += match value {
            ValuePattern::Exact(_) => 1,
            ValuePattern::Prefix {
                text,
                ignore_case: false,
            } if !text.is_empty() => 4,
            _ => return None,
        };
    }
    Some(cost)
}

impl PathIndex {
    fn file(&mut self, id: u32, value: &ValuePattern) {
        match value {
            ValuePattern::Exact(Literal::Str(s)) => {
                self.strings.entry(s.clone()).or_default().push(id);
            }
            ValuePattern::Exact(Literal::Num(n)) => {
                self.numbers.entry(n.key()).or_default().push(id);
            }
            ValuePattern::Exact(Literal::Bool(true)) => self.trues.push(id),
            ValuePattern::Exact(Literal::Bool(false)) => self.falses.push(id),
            ValuePattern::Exact(Literal::Null) => self.nulls.push(id),
            ValuePattern::Prefix { text, .. } => {
                self.prefixes.entry(text.clone()).or_default().push(id);
                self.prefix_lengths.push(text.len());
            }
            // `filing` only files under values that `indexable_cost` accepts.
            _ => self.present.push(id),
        }
    }

    fn candidates<F: Located>(&self, leaves: &[F], out: &mut Vec<u32>) {
        out.extend_from_slice(&self.present);
        for leaf in leaves {
            match leaf.leaf() {
                Leaf::Str(s) => {
                    if !self.strings.is_empty()
                        && let Some(ids) = self.strings.get(&**s)
                    {
                        out.extend_from_slice(ids);
                    }
                    for &length in &self.prefix_lengths {
                        if length > s.len() {
                            break;
                        }
                        if let Some(ids) = s.get(..length).and_then(|p| self.prefixes.get(p)) {
                            out.extend_from_slice(ids);
                        }
                    }
                }
                Leaf::Num(n) => {
                    if let Some(ids) = self.numbers.get(&n.key()) {
                        out.extend_from_slice(ids);
                    }
                }
                Leaf::Bool(true) => out.extend_from_slice(&self.trues),
                Leaf::Bool(false) => out.extend_from_slice(&self.falses),
                Leaf::Null => out.extend_from_slice(&self.nulls),
            }
        }
    }
}
