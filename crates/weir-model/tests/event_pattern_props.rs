//! Property tests for event patterns: the compiled `Matcher` agrees with the interpreter
//! (`Pattern::matches`) on generated rule sets and events, and reading a pattern never panics,
//! whatever the text or JSON.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use weir_model::events::pattern::{FlatEvent, Matcher, Pattern};

/// Few keys, so patterns and events often meet; one with a dot, since paths are dotted.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("c".to_string()),
        Just("a.b".to_string()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("x".to_string()),
        Just("xy".to_string()),
        Just("Xy".to_string()),
        Just("yx".to_string()),
        Just("x*y".to_string()),
        Just("10.0.0.1".to_string()),
        Just("10.0.1.9".to_string()),
        Just("::1".to_string()),
        "[xyXY.]{0,4}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(1.5)),
        Just(json!(-3)),
        Just(json!(5e9)),
        Just(json!(6e9)),
        Just(json!(123_456_789_012_u64)),
        (-20i64..20).prop_map(|n| json!(n)),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => text().prop_map(Value::String),
        2 => number(),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

/// Events: objects of scalars, objects and arrays (of scalars and of objects).
fn event_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn event() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), event_value(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn string_or_list() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        prop::collection::vec(text().prop_map(Value::String), 1..3).prop_map(Value::Array),
    ]
}

/// One entry of a field's list: a literal or a match expression (valid or not).
fn value_entry() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        1 => text().prop_map(|t| json!({"prefix": t})),
        1 => text().prop_map(|t| json!({"prefix": {"equals-ignore-case": t}})),
        1 => text().prop_map(|t| json!({"suffix": t})),
        1 => text().prop_map(|t| json!({"suffix": {"equals-ignore-case": t}})),
        1 => text().prop_map(|t| json!({"equals-ignore-case": t})),
        1 => text().prop_map(|t| json!({"wildcard": t})),
        1 => any::<bool>().prop_map(|b| json!({"exists": b})),
        1 => prop_oneof![Just("10.0.0.0/24"), Just("10.0.0.0/8"), Just("::/1"), Just("bad")]
            .prop_map(|c| json!({"cidr": c})),
        1 => (prop_oneof![Just(">"), Just(">="), Just("<"), Just("<="), Just("=")], -5i64..5)
            .prop_map(|(op, n)| json!({"numeric": [op, n]})),
        1 => (-5i64..5, 0i64..5).prop_map(|(low, width)| json!({"numeric": [">", low, "<=", low + width]})),
        1 => string_or_list().prop_map(|v| json!({"anything-but": v})),
        1 => prop::collection::vec(-3i64..3, 1..3).prop_map(|v| json!({"anything-but": v})),
        1 => (prop_oneof![Just("prefix"), Just("suffix"), Just("equals-ignore-case"), Just("wildcard")], string_or_list())
            .prop_map(|(op, v)| json!({"anything-but": {op: v}})),
    ]
}

/// Patterns: fields with lists or nested objects, and sometimes a `$or`.
fn pattern_object(depth: u32) -> BoxedStrategy<Value> {
    let list = prop::collection::vec(value_entry(), 1..4).prop_map(Value::Array);
    let field = if depth == 0 {
        list.boxed()
    } else {
        prop_oneof![3 => list, 1 => pattern_object(depth - 1)].boxed()
    };
    let fields = prop::collection::btree_map(key(), field, 1..3)
        .prop_map(|m| m.into_iter().collect::<Map<String, Value>>());
    if depth == 0 {
        return fields.prop_map(Value::Object).boxed();
    }
    (
        fields,
        prop::option::weighted(0.25, prop::collection::vec(pattern_object(depth - 1), 2..4)),
    )
        .prop_map(|(mut m, or)| {
            if let Some(branches) = or {
                m.insert("$or".to_string(), Value::Array(branches));
            }
            Value::Object(m)
        })
        .boxed()
}

/// Any JSON at all, for the never-panics property.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z$*\\\\.:/ -]{0,6}".prop_map(Value::String),
        prop_oneof![
            Just("prefix"),
            Just("suffix"),
            Just("anything-but"),
            Just("numeric"),
            Just("exists"),
            Just("cidr"),
            Just("wildcard"),
            Just("equals-ignore-case"),
            Just("$or"),
            Just(">"),
            Just("<="),
            Just("="),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        let names = prop_oneof![
            Just("prefix".to_string()),
            Just("suffix".to_string()),
            Just("anything-but".to_string()),
            Just("numeric".to_string()),
            Just("exists".to_string()),
            Just("cidr".to_string()),
            Just("wildcard".to_string()),
            Just("equals-ignore-case".to_string()),
            Just("$or".to_string()),
            "[a-c]{1,2}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(names, inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const JSONISH: &str = "[{}\\[\\]\",:. a-z0-9$*<>=-]{0,80}";

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn matcher_agrees_with_the_interpreter(
        patterns in prop::collection::vec(pattern_object(2), 1..6),
        events in prop::collection::vec(event(), 1..6),
    ) {
        let rules: Vec<(usize, Pattern)> = patterns
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Pattern::from_value(p).ok().map(|p| (i, p)))
            .collect();
        let matcher = Matcher::new(rules.clone());
        for event in &events {
            let want: Vec<usize> = rules
                .iter()
                .filter(|(_, p)| p.matches(event))
                .map(|(i, _)| *i)
                .collect();
            let mut got = matcher.matches(event);
            got.sort_unstable();
            prop_assert_eq!(&got, &want, "event {}", event);
            let mut flat = matcher.matches_flat(&FlatEvent::new(event));
            flat.sort_unstable();
            prop_assert_eq!(&flat, &want, "flat event {}", event);
        }
    }

    #[test]
    fn reading_any_json_never_panics(value in any_json(), event in event()) {
        if let Ok(pattern) = Pattern::from_value(&value) {
            let verdict = pattern.matches(&event);
            let matched = Matcher::new([(0u8, pattern)]).matches(&event);
            prop_assert_eq!(verdict, matched == [0u8]);
        } else if let Err(e) = Pattern::from_value(&value) {
            prop_assert!(e.message.starts_with("Event pattern is not valid. Reason: "), "{}", e);
        }
    }

    #[test]
    fn reading_any_text_never_panics(text in JSONISH) {
        if let Err(e) = Pattern::parse(&text) {
            prop_assert!(e.message.starts_with("Event pattern is not valid. Reason: "), "{}", e);
        }
    }

    #[test]
    fn matching_any_event_never_panics(pattern in pattern_object(2), event in any_json()) {
        if let Ok(pattern) = Pattern::from_value(&pattern) {
            let verdict = pattern.matches(&event);
            let matched = Matcher::new([(0u8, pattern)]).matches(&event);
            prop_assert_eq!(verdict, matched == [0u8]);
        }
    }
}

#[test]
fn deeply_nested_input_is_refused_or_ignored_without_overflow() {
    let mut pattern = json!(["x"]);
    let mut event = json!("x");
    for _ in 0..2000 {
        pattern = json!({ "a": pattern });
        event = json!({ "a": event });
    }
    let refused = Pattern::from_value(&pattern).err().map(|e| e.message);
    assert_eq!(
        refused.as_deref(),
        Some("Event pattern is not valid. Reason: Event pattern is nested too deeply")
    );
    let shallow = Pattern::parse(r#"{"a": {"a": ["x"]}}"#).ok();
    assert!(shallow.is_some_and(|p| !p.matches(&event)));
    // serde_json's Drop of a deep Value recurses; leak it rather than test serde_json.
    std::mem::forget(pattern);
    std::mem::forget(event);
}
