//! Evaluating a path against a value. Jayway's rule, which Step Functions follows: a definite
//! path yields its one value or "not found"; any other path yields an array of every match
//! (possibly empty).

use serde_json::Value;

use super::{Path, Root, Selector, Step};
use crate::asl::env::Env;

/// Workflow variables, as paths see them.
pub type Variables = serde_json::Map<String, Value>;

/// Why a path found nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A definite path that names no value in the document.
    NotFound,
    /// `$name` where no variable `name` is set.
    UnknownVariable(String),
}

impl Path {
    /// The value (definite path) or array of values (other paths) this path selects.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Value, Lookup> {
        let root = match &self.root {
            Root::Input => env.input,
            Root::Context => env.context,
            Root::Variable(name) => env
                .variables
                .get(name)
                .ok_or_else(|| Lookup::UnknownVariable(name.clone()))?,
        };
        let found = select(root, &self.steps, env);
        if self.is_definite() {
            found.first().map(|v| (*v).clone()).ok_or(Lookup::NotFound)
        } else {
            Ok(Value::Array(found.into_iter().cloned().collect()))
        }
    }

    /// The path as Jayway writes it in its messages, which Step Functions passes on: every
    /// member in brackets and quotes (`$.a.b[0]` is `$['a']['b'][0]`). Paths on the context
    /// object are evaluated from its root, so they print from `$` too.
    pub fn canonical(&self) -> String {
        let mut out = match &self.root {
            Root::Input | Root::Context => "$".to_string(),
            Root::Variable(name) => format!("${name}"),
        };
        for step in &self.steps {
            match step {
                Step::Child(selector) => out.push_str(&fragment(selector)),
                Step::Descendant(selector) => {
                    out.push_str("..");
                    out.push_str(&fragment(selector));
                }
            }
        }
        out
    }

    /// Whether this definite path found nothing only because its last step is an index past
    /// the end of an array that is there (`$.items[5]` on two items). Step Functions reads
    /// such a `.$` field as null (Jayway over Jackson answers null for a missing element).
    pub fn ends_past_an_array(&self, env: &Env<'_>) -> bool {
        let Some((Step::Child(Selector::Index(_)), before)) = self.steps.split_last() else {
            return false;
        };
        let root = match &self.root {
            Root::Input => env.input,
            Root::Context => env.context,
            Root::Variable(name) => match env.variables.get(name) {
                Some(v) => v,
                None => return false,
            },
        };
        select(root, before, env)
            .first()
            .is_some_and(|parent| parent.is_array())
    }

    /// The first member this definite path names that `env` does not have (`b` for `$.a.b`
    /// on `{"a": {}}` or on `{"a": 1}`); `None` when it fails elsewhere (an index).
    pub fn missing_member(&self, env: &Env<'_>) -> Option<String> {
        let mut current = match &self.root {
            Root::Input => env.input,
            Root::Context => env.context,
            Root::Variable(name) => env.variables.get(name)?,
        };
        for step in &self.steps {
            let Step::Child(selector) = step else {
                return None;
            };
            let mut found = Vec::new();
            apply(selector, current, env, &mut found);
            match (found.first(), selector) {
                (Some(next), _) => current = next,
                (None, Selector::Name(name)) => return Some(name.clone()),
                (None, _) => return None,
            }
        }
        None
    }

    /// Why this path found nothing in `env`, in Jayway's words: a member missing before the
    /// last step is `Missing property in path $['a']` (the path up to it), anything else is
    /// `No results for path: $['a']['b']` (the whole path).
    pub fn not_found(&self, env: &Env<'_>) -> String {
        let whole = || format!("No results for path: {}", self.canonical());
        let mut current = match &self.root {
            Root::Input => env.input,
            Root::Context => env.context,
            Root::Variable(name) => match env.variables.get(name) {
                Some(v) => v,
                None => return whole(),
            },
        };
        for (i, step) in self.steps.iter().enumerate() {
            let last = i + 1 == self.steps.len();
            let Step::Child(selector) = step else {
                return whole();
            };
            let mut found = Vec::new();
            apply(selector, current, env, &mut found);
            match found.first() {
                Some(next) => current = next,
                None if !last && matches!(selector, Selector::Name(_)) && current.is_object() => {
                    let prefix = Path {
                        text: String::new(),
                        root: self.root.clone(),
                        steps: self.steps[..=i].to_vec(),
                    };
                    return format!("Missing property in path {}", prefix.canonical());
                }
                None => return whole(),
            }
        }
        whole()
    }

    /// Whether the path names a value (for `IsPresent`): a definite path that resolves, or an
    /// indefinite path with at least one match.
    pub fn is_present(&self, env: &Env<'_>) -> bool {
        match self.evaluate(env) {
            Ok(Value::Array(items)) if !self.is_definite() => !items.is_empty(),
            Ok(_) => true,
            Err(_) => false,
        }
    }
}

/// One step as Jayway prints it.
fn fragment(selector: &Selector) -> String {
    let list = |items: Vec<String>| items.join(",");
    match selector {
        Selector::Name(name) => format!("['{name}']"),
        Selector::Names(names) => format!(
            "[{}]",
            list(names.iter().map(|n| format!("'{n}'")).collect())
        ),
        Selector::Wildcard => "[*]".to_string(),
        Selector::Index(i) => format!("[{i}]"),
        Selector::Indices(indices) => {
            format!("[{}]", list(indices.iter().map(i64::to_string).collect()))
        }
        Selector::Slice(start, end, step) => {
            let bound = |b: &Option<i64>| b.map(|b| b.to_string()).unwrap_or_default();
            match step {
                Some(step) => format!("[{}:{}:{step}]", bound(start), bound(end)),
                None => format!("[{}:{}]", bound(start), bound(end)),
            }
        }
        Selector::Filter(_) => "[?]".to_string(),
        Selector::Script(0) => "[(@.length)]".to_string(),
        Selector::Script(offset) => format!("[(@.length{offset:+})]"),
    }
}

/// A relative path's value inside a filter (`@.a.b`): `None` when nothing matches.
pub(crate) fn query_steps(current: &Value, steps: &[Step], env: &Env<'_>) -> Option<Value> {
    let found = select(current, steps, env);
    let definite = steps
        .iter()
        .all(|s| matches!(s, Step::Child(Selector::Name(_) | Selector::Index(_))));
    if definite {
        found.first().map(|v| (*v).clone())
    } else if found.is_empty() {
        None
    } else {
        Some(Value::Array(found.into_iter().cloned().collect()))
    }
}

fn select<'v>(root: &'v Value, steps: &[Step], env: &Env<'_>) -> Vec<&'v Value> {
    let mut current = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for value in current {
            match step {
                Step::Child(selector) => apply(selector, value, env, &mut next),
                Step::Descendant(selector) => {
                    let mut all = Vec::new();
                    self_and_descendants(value, &mut all);
                    for v in all {
                        apply(selector, v, env, &mut next);
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// Every value in document order, `value` first. Iterative, so deep documents cannot exhaust
/// the stack.
fn self_and_descendants<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        out.push(v);
        match v {
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(map) => stack.extend(map.values().rev()),
            _ => {}
        }
    }
}

/// A negative index counts from the end, as Jayway and Python do.
fn resolve(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 { len + index } else { index };
    if (0..len).contains(&i) {
        usize::try_from(i).ok()
    } else {
        None
    }
}

fn apply<'v>(selector: &Selector, value: &'v Value, env: &Env<'_>, out: &mut Vec<&'v Value>) {
    match (selector, value) {
        (Selector::Name(name), Value::Object(map)) => out.extend(map.get(name)),
        (Selector::Names(names), Value::Object(map)) => {
            out.extend(names.iter().filter_map(|n| map.get(n)));
        }
        (Selector::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Selector::Wildcard, Value::Array(items)) => out.extend(items.iter()),
        (Selector::Index(i), Value::Array(items)) => {
            out.extend(resolve(*i, items.len()).and_then(|i| items.get(i)));
        }
        (Selector::Indices(indices), Value::Array(items)) => out.extend(
            indices
                .iter()
                .filter_map(|i| resolve(*i, items.len()).and_then(|i| items.get(i))),
        ),
        (Selector::Script(offset), Value::Array(items)) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let at = len.saturating_add(*offset);
            out.extend(usize::try_from(at).ok().and_then(|i| items.get(i)));
        }
        (Selector::Slice(start, end, step), Value::Array(items)) => {
            slice(items, *start, *end, *step, out);
        }
        (Selector::Filter(filter), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| filter.test(item, env)));
        }
        (Selector::Filter(filter), Value::Object(map)) => {
            out.extend(map.values().filter(|item| filter.test(item, env)));
        }
        _ => {}
    }
}

/// Python's slice rules: bounds clamp to the array, negative bounds count from the end, a
/// negative step walks backwards.
fn slice<'v>(
    items: &'v [Value],
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
    out: &mut Vec<&'v Value>,
) {
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let step = step.unwrap_or(1);
    let norm = |i: i64| if i < 0 { len + i } else { i };
    let get = |i: i64| usize::try_from(i).ok().and_then(|i| items.get(i));
    if step > 0 {
        let mut i = start.map_or(0, norm).clamp(0, len);
        let stop = end.map_or(len, norm).clamp(0, len);
        while i < stop {
            out.extend(get(i));
            i = i.saturating_add(step);
        }
    } else if step < 0 {
        let mut i = start.map_or(len - 1, norm).clamp(-1, len - 1);
        let stop = end.map_or(-1, |e| norm(e).clamp(-1, len - 1));
        while i > stop {
            out.extend(get(i));
            i = i.saturating_add(step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::env::Entropy;
    use serde_json::json;

    fn eval(path: &str, input: &Value) -> Result<Value, Lookup> {
        let context = json!({"Execution": {"Id": "arn:exec"}});
        let mut vars = Variables::new();
        vars.insert("who".into(), json!({"name": "María"}));
        let entropy = Entropy::new(1);
        let env = Env::new(input, &context, &vars, &entropy);
        Path::parse(path).unwrap().evaluate(&env)
    }

    #[test]
    fn definite_paths_give_one_value_or_not_found() {
        let input = json!({"a": {"b": [10, 20, 30]}, "x-y": 1});
        assert_eq!(eval("$", &input).unwrap(), input);
        assert_eq!(eval("$.a.b[1]", &input).unwrap(), json!(20));
        assert_eq!(eval("$.a.b[-1]", &input).unwrap(), json!(30));
        assert_eq!(eval("$['a']['b'][0]", &input).unwrap(), json!(10));
        assert_eq!(eval("$.x-y", &input).unwrap(), json!(1));
        assert_eq!(eval("$.a.b[(@.length-1)]", &input).unwrap(), json!(30));
        assert_eq!(eval("$.nope", &input), Err(Lookup::NotFound));
        assert_eq!(eval("$.a.b[3]", &input), Err(Lookup::NotFound));
        assert_eq!(eval("$$.Execution.Id", &input).unwrap(), json!("arn:exec"));
        assert_eq!(eval("$who.name", &input).unwrap(), json!("María"));
        assert_eq!(
            eval("$nobody", &input),
            Err(Lookup::UnknownVariable("nobody".into()))
        );
    }

    #[test]
    fn indefinite_paths_give_arrays() {
        let input = json!({"store": {"book": [
            {"title": "A", "price": 8, "tags": ["x"]},
            {"title": "B", "price": 12},
            {"title": "C", "price": 9, "isbn": "1"}
        ]}});
        assert_eq!(
            eval("$.store.book[*].title", &input).unwrap(),
            json!(["A", "B", "C"])
        );
        assert_eq!(eval("$..title", &input).unwrap(), json!(["A", "B", "C"]));
        assert_eq!(
            eval("$.store.book[?(@.price < 10)].title", &input).unwrap(),
            json!(["A", "C"])
        );
        assert_eq!(
            eval("$.store.book[?(@.isbn)].title", &input).unwrap(),
            json!(["C"])
        );
        assert_eq!(
            eval(
                "$.store.book[?(@.title == B || @.price > 8 && @.price < 10)].title",
                &input
            )
            .unwrap(),
            json!(["B", "C"])
        );
        assert_eq!(
            eval("$.store.book[?(@.title =~ /a|c/i)].title", &input).unwrap(),
            json!(["A", "C"])
        );
        assert_eq!(
            eval("$.store.book[?(@.title in ['A', 'B'])].price", &input).unwrap(),
            json!([8, 12])
        );
        assert_eq!(
            eval("$.store.book[1:].title", &input).unwrap(),
            json!(["B", "C"])
        );
        assert_eq!(
            eval("$.store.book[::-1].title", &input).unwrap(),
            json!(["C", "B", "A"])
        );
        assert_eq!(
            eval("$.store.book[0,2].title", &input).unwrap(),
            json!(["A", "C"])
        );
        assert_eq!(eval("$.store.book[*].nope", &input).unwrap(), json!([]));
        assert_eq!(
            eval(
                "$.store.book[?(@.price > $.limit)].title",
                &json!({"store": input["store"], "limit": 10})
            )
            .unwrap(),
            json!(["B"])
        );
    }

    #[test]
    fn canonical_paths_are_written_as_jayway_writes_them() {
        let c = |t: &str| Path::parse(t).unwrap().canonical();
        assert_eq!(c("$"), "$");
        assert_eq!(c("$.foo"), "$['foo']");
        assert_eq!(c("$.a.b[0]"), "$['a']['b'][0]");
        assert_eq!(c("$['a.b']"), "$['a.b']");
        assert_eq!(c("$.['x y']"), "$['x y']");
        assert_eq!(c("$$.Execution.Id"), "$['Execution']['Id']");
        assert_eq!(c("$..a[*]"), "$..['a'][*]");
        assert_eq!(c("$.a[1:3]"), "$['a'][1:3]");
        assert_eq!(c("$.a[(@.length-1)]"), "$['a'][(@.length-1)]");
    }

    #[test]
    fn not_found_says_what_jayway_says() {
        let input = json!({"a": {"b": 1}, "s": "text", "l": [1]});
        let context = json!({});
        let vars = Variables::new();
        let entropy = Entropy::new(1);
        let env = Env::new(&input, &context, &vars, &entropy);
        let why = |t: &str| Path::parse(t).unwrap().not_found(&env);
        assert_eq!(why("$.foo"), "No results for path: $['foo']");
        assert_eq!(why("$.a.c"), "No results for path: $['a']['c']");
        assert_eq!(why("$.x.y.z"), "Missing property in path $['x']");
        assert_eq!(why("$.a.x.y"), "Missing property in path $['a']['x']");
        assert_eq!(why("$.l[3]"), "No results for path: $['l'][3]");
    }

    #[test]
    fn an_index_past_the_end_is_told_apart() {
        let input = json!({"items": [1, 2], "text": "abc"});
        let context = json!({});
        let vars = Variables::new();
        let entropy = Entropy::new(1);
        let env = Env::new(&input, &context, &vars, &entropy);
        let past = |t: &str| Path::parse(t).unwrap().ends_past_an_array(&env);
        assert!(past("$.items[5]"));
        assert!(!past("$.items[1].x"));
        assert!(!past("$.missing[0]"));
        assert!(!past("$.text[0]"));
        assert!(!past("$.nope"));
    }

    #[test]
    fn escaped_member_names() {
        let input = json!({"a.b": 1, "x y": 2, "it's": 3, "say \"hi\"": 4, "back\\slash": 5, "a": {"b": 6}});
        assert_eq!(eval("$['a.b']", &input).unwrap(), json!(1));
        assert_eq!(eval("$.a.b", &input).unwrap(), json!(6));
        assert_eq!(eval("$.['x y']", &input).unwrap(), json!(2));
        assert_eq!(eval("$['x y']", &input).unwrap(), json!(2));
        assert_eq!(eval("$['it\\'s']", &input).unwrap(), json!(3));
        assert_eq!(eval("$[\"it's\"]", &input).unwrap(), json!(3));
        assert_eq!(eval("$['say \"hi\"']", &input).unwrap(), json!(4));
        assert_eq!(eval("$['back\\\\slash']", &input).unwrap(), json!(5));
        assert_eq!(eval("$.['a'].b", &input).unwrap(), json!(6));
        let controls = json!({"a\u{8}b\u{c}": 7, "x/y": 8});
        assert_eq!(eval("$['a\\bb\\f']", &controls).unwrap(), json!(7));
        assert_eq!(eval("$['x\\/y']", &controls).unwrap(), json!(8));
    }

    #[test]
    fn is_present_follows_the_paths_kind() {
        let input = json!({"a": null, "b": []});
        let context = json!({});
        let vars = Variables::new();
        let entropy = Entropy::new(1);
        let env = Env::new(&input, &context, &vars, &entropy);
        let p = |t: &str| Path::parse(t).unwrap();
        assert!(p("$.a").is_present(&env));
        assert!(!p("$.c").is_present(&env));
        assert!(!p("$.b[*]").is_present(&env));
    }
}
