//! Property tests: the transform and flow readers never panic, whatever the bytes or the YAML, and
//! what they return holds its promises (problems point inside the file, expression positions too).

use proptest::prelude::*;
use serde_json::{Map, Value};
use weir_model::Problem;
use weir_model::transform::{Recipe, Source, StepKind, flow_pipeline, parse_flow, parse_transform};

const VALID: &str = r#"description: Clean orders
source:
  query: |
    SELECT * FROM raw.orders
    WHERE day > '2026-01-01'
bookmark: { column: updated_at }
steps:
  - filter: "amount > 0"
  - select: [id, customer, amount, day, updated_at]
  - rename: { customer: customer_id }
  - derive: { eur: "amount * 0.92" }
  - mask: { customer_id: { hash: { salt: s } }, phone: { partial: { keep_last: 4 } } }
  - split: { column: name, separator: " ", into: [a, b] }
  - validate:
      rules: [{ column: id, not_null: true }, { column: amount, range: { min: 0 } }]
      on_failure: { quarantine: curated.q }
  - dedupe: { keys: [id], order_by: updated_at, keep: latest }
  - join: { table: curated.c, on: { customer_id: id }, type: left }
  - pivot: { index: [id], column: m, values: v, agg: sum, columns: [x, y] }
sink: { table: curated.orders, mode: append, partition_by: [day] }
"#;

/// Every key the readers know, so that generated YAML reaches deep into them.
const KEYS: &[&str] = &[
    "description",
    "source",
    "table",
    "prefix",
    "stream",
    "query",
    "format",
    "bookmark",
    "column",
    "steps",
    "sink",
    "destination",
    "mode",
    "partition_by",
    "compression",
    "partition_key",
    "trigger",
    "schedule",
    "timezone",
    "event",
    "mapping",
    "select",
    "drop",
    "drop_null_fields",
    "filter",
    "rename",
    "cast",
    "derive",
    "mask",
    "hash",
    "salt",
    "partial",
    "keep_first",
    "keep_last",
    "full",
    "truncate",
    "split",
    "separator",
    "into",
    "keep",
    "combine",
    "columns",
    "validate",
    "rules",
    "not_null",
    "range",
    "min",
    "max",
    "regex",
    "allowed",
    "unique",
    "on_failure",
    "quarantine",
    "dedupe",
    "keys",
    "order_by",
    "join",
    "on",
    "type",
    "union",
    "pivot",
    "index",
    "values",
    "agg",
    "unpivot",
    "name",
    "value",
];

/// Lines as YAML counts them: `\r\n`, `\n` and a lone `\r` each end one.
fn yaml_lines(source: &str) -> u32 {
    let breaks = source.replace("\r\n", "\n").matches(['\n', '\r']).count();
    breaks as u32 + 1
}

fn check_promises<T>(source: &str, result: &Result<T, Vec<Problem>>) {
    if let Err(problems) = result {
        assert!(!problems.is_empty());
        // A syntax error at the end of the text may point just past its last line.
        let lines = yaml_lines(source) + 1;
        for problem in problems {
            assert!(
                problem.line >= 1 && problem.line <= lines,
                "{problem} outside {lines} lines"
            );
            assert!(problem.column >= 1, "{problem}");
        }
    }
}

/// Every offset of every expression maps to a position inside the file.
fn check_expressions(source: &str, recipe: &Recipe) {
    let lines = yaml_lines(source);
    let mut exprs = Vec::new();
    if let Source::Query(q) = &recipe.source {
        exprs.push(q);
    }
    for step in &recipe.steps {
        match &step.kind {
            StepKind::Filter(f) => exprs.push(f),
            StepKind::Derive(d) => exprs.extend(d.iter().map(|(_, e)| e)),
            _ => {}
        }
    }
    for expr in exprs {
        for offset in 0..=expr.text.len() + 2 {
            let pos = expr.pos_at(offset);
            assert!(pos.line >= 1 && pos.line <= lines, "{pos:?}");
        }
        for line in 0..4 {
            for column in 0..4 {
                let pos = expr.pos_at_line_column(line, column);
                assert!(pos.line >= 1 && pos.line <= lines, "{pos:?}");
            }
        }
    }
}

fn read_all(source: &str) {
    let transform = parse_transform("transforms/t.yaml", "t", source);
    check_promises(source, &transform);
    if let Ok(recipe) = &transform {
        check_expressions(source, recipe);
    }
    check_promises(source, &parse_flow("flows/f.yaml", "f", source));
    check_promises(source, &flow_pipeline("flows/f.yaml", "f", source));
}

/// Arbitrary JSON-shaped values whose keys are the readers' own (JSON is YAML too).
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..200_000).prop_map(Value::from),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_string())),
        "[a-z_.]{0,12}".prop_map(Value::String),
        Just(Value::String("raw.orders".into())),
        Just(Value::String("a > 0".into())),
        Just(Value::String("on_demand".into())),
        Just(Value::String("0 * * * *".into())),
        Just(Value::String("(".into())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|entries| {
                let mut map = Map::new();
                for (k, v) in entries {
                    map.insert(k.to_string(), v);
                }
                Value::Object(map)
            }),
        ]
    })
}

fn mutate(text: &str, at: usize, len: usize, insert: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    let mut out: String = chars[..at].iter().collect();
    out.push_str(insert);
    out.extend(&chars[end..]);
    out
}

#[test]
fn transform_base_text_is_valid() {
    let recipe = parse_transform("transforms/t.yaml", "t", VALID).unwrap();
    check_expressions(VALID, &recipe);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn transform_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        read_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn transform_never_panics_on_arbitrary_text(source in "\\PC{0,200}") {
        read_all(&source);
    }

    #[test]
    fn transform_never_panics_on_arbitrary_yaml(value in value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value)
        } else {
            serde_json::to_string(&value)
        }.unwrap();
        read_all(&text);
    }

    #[test]
    fn transform_never_panics_on_mutations_of_a_valid_recipe(
        edits in prop::collection::vec((0..2000usize, 0..12usize, "(\\PC{0,4}|: |\n  |- |\\{|\\}|\\[|\\]|\\||>|&a |\\*a|\")"), 1..5)
    ) {
        let source = edits
            .iter()
            .fold(VALID.to_string(), |text, (at, len, insert)| mutate(&text, *at, *len, insert));
        read_all(&source);
    }
}
