//! Event Ruler's own cases (tests/data/event-ruler, see its README): the array-consistent
//! results it asserts must come out exactly, through the interpreter and through a `Matcher`;
//! its correctness cases must get one answer from both. And a release-mode throughput check of
//! the matcher with 1,000 mixed rules (`--ignored`).

use std::path::PathBuf;

use serde_json::Value;
use weir_model::events::pattern::{FlatEvent, Matcher, Pattern, bench};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/event-ruler")
}

fn read_json(relative: &str) -> Value {
    let path = data_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn pattern(value: &Value) -> Pattern {
    Pattern::from_value(value).unwrap_or_else(|e| panic!("{value} refused: {e}"))
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[test]
fn nested_arrays_match_as_event_ruler_asserts() {
    let expected = read_json("expected.json");
    let test = &expected["nestedArraysTest"];
    let rules: Vec<(String, Pattern)> = test["rules"]
        .as_object()
        .map(|rules| {
            rules
                .iter()
                .map(|(name, file)| {
                    (
                        name.clone(),
                        pattern(&read_json(file.as_str().unwrap_or(""))),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(rules.len(), 3);
    let matcher = Matcher::new(rules.clone());
    let cases = test["expected"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let file = case["event"].as_str().unwrap_or("");
        let event = read_json(file);
        let want: Vec<String> = sorted(
            case["rulesForJSONEvent"]
                .as_array()
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|n| n.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        );
        let interpreted: Vec<String> = sorted(
            rules
                .iter()
                .filter(|(_, p)| p.matches(&event))
                .map(|(name, _)| name.clone())
                .collect(),
        );
        assert_eq!(interpreted, want, "interpreter on {file}");
        assert_eq!(sorted(matcher.matches(&event)), want, "matcher on {file}");
    }
}

#[test]
fn or_relationship_rules_expand_as_event_ruler_counts() {
    let rules = read_json("data/orRelationshipRules.json");
    let counts: Vec<usize> = rules
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .map(|r| pattern(r).alternative_count())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(counts, [2, 4, 3, 4, 2]);
}

#[test]
fn wrong_or_relationship_rules_are_refused() {
    let rules = read_json("data/wrongOrRelationshipRules.json");
    let rules = rules.as_array().cloned().unwrap_or_default();
    assert_eq!(rules.len(), 2);
    for rule in rules {
        let refused = Pattern::from_value(&rule).err();
        assert!(
            refused.is_some_and(|e| e
                .message
                .starts_with("Event pattern is not valid. Reason: ")),
            "{rule} accepted"
        );
    }
}

#[test]
fn or_wording_that_is_not_the_operator_reads_as_a_field() {
    // Event Ruler's `$or` compiler refuses these; EventBridge then reads "$or" as a field name
    // (its older compiler), so they are valid patterns about a field called "$or".
    let rules = read_json("data/normalRulesWithOrWording.json");
    let rules = rules.as_array().cloned().unwrap_or_default();
    assert_eq!(rules.len(), 4);
    for rule in &rules {
        assert_eq!(pattern(rule).alternative_count(), 1, "{rule}");
    }
    let cidr_field = pattern(&rules[0]);
    assert!(cidr_field.matches(&serde_json::json!({"$or": "10.0.0.7"})));
    assert!(!cidr_field.matches(&serde_json::json!({"$or": "10.0.1.7"})));
}

#[test]
fn big_event_matches() {
    let rule = pattern(&read_json("data/bigEventRule.json"));
    let event = read_json("data/bigEvent.json");
    assert!(rule.matches(&event));
    assert_eq!(Matcher::new([("test", rule)]).matches(&event), ["test"]);
}

#[test]
fn correctness_cases_compiled_and_interpreted_agree() {
    let cases = read_json("correctness-cases.json");
    let cases = cases.as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 51);
    let all: Vec<(usize, Pattern)> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| (i, pattern(&case["rule"])))
        .collect();
    // Every rule in one matcher, so each event is also checked against 50 rules it was not
    // written for.
    let matcher = Matcher::new(all.clone());
    let mut matched = 0;
    for (i, case) in cases.iter().enumerate() {
        let event = &case["event"];
        let flat = FlatEvent::new(event);
        let interpreted: Vec<usize> = all
            .iter()
            .filter(|(_, p)| p.matches_flat(&flat))
            .map(|(k, _)| *k)
            .collect();
        let mut compiled = matcher.matches_flat(&flat);
        compiled.sort_unstable();
        assert_eq!(compiled, interpreted, "case {i}: {}", case["name"]);
        let alone = Matcher::new([(i, all[i].1.clone())]).matches(event);
        assert_eq!(
            alone.contains(&i),
            all[i].1.matches(event),
            "case {}",
            case["name"]
        );
        matched += usize::from(all[i].1.matches(event));
    }
    // Cases are named for what they test; a fair share of them are meant to match.
    assert!(matched > 20 && matched < 51, "{matched} of 51 cases match");
}

#[test]
fn correctness_cases_named_for_their_outcome() {
    // The case names say what Event Ruler's authors meant; these follow from array-consistent
    // matching and are asserted here.
    let cases = read_json("correctness-cases.json");
    let cases = cases.as_array().cloned().unwrap_or_default();
    let verdict = |name: &str| {
        cases
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| pattern(&c["rule"]).matches(&c["event"]))
    };
    for (name, expected) in [
        ("flat: 2-field exists, both present", true),
        ("flat: 2-field exists, one missing", false),
        ("flat: exact match", true),
        ("flat: exact mismatch", false),
        ("flat: prefix", true),
        ("flat: numeric range", true),
        ("flat: anything-but", true),
        ("objarray: same element", true),
        ("objarray: split", false),
        ("objarray: 3 elem, last valid", true),
        ("objarray: exact split", false),
        ("objarray: prefix split", false),
        ("nested: inner split", false),
        ("suffix match split", false),
        (
            "N emails, only last element has name — dedup loses the only valid match",
            true,
        ),
    ] {
        assert_eq!(verdict(name), Some(expected), "{name}");
    }
}

/// Nanoseconds this thread has spent on a CPU (the machine may be busy with other work, so
/// wall time would understate what one core does).
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn per_core_rate(events: usize, run: impl Fn() -> usize) -> f64 {
    let wall = std::time::Instant::now();
    let cpu = thread_cpu_ns();
    let mut passes = 0usize;
    let mut sink = 0usize;
    while wall.elapsed().as_secs_f64() < 3.0 {
        sink += run();
        passes += 1;
    }
    assert!(sink > 0);
    let seconds = match (cpu, thread_cpu_ns()) {
        (Some(before), Some(after)) if after > before => (after - before) as f64 / 1e9,
        _ => wall.elapsed().as_secs_f64(),
    };
    (passes * events) as f64 / seconds
}

/// `cargo test --release -p weir-model --test event_patterns -- --ignored --nocapture`
#[test]
#[ignore = "a release-mode measurement"]
fn matcher_throughput_with_1000_mixed_rules() {
    let rules = bench::mixed_rules(1000);
    assert_eq!(rules.len(), 1000);
    let events = bench::sample_events(10_000, 1000);
    let matcher = Matcher::new(rules);
    let matches: usize = events.iter().map(|e| matcher.matches(e).len()).sum();
    let flats: Vec<FlatEvent> = events.iter().map(FlatEvent::new).collect();
    let whole = per_core_rate(events.len(), || {
        events.iter().map(|e| matcher.matches(e).len()).sum()
    });
    let flatten = per_core_rate(events.len(), || {
        events.iter().map(|e| FlatEvent::new(e).len()).sum()
    });
    let flat = per_core_rate(events.len(), || {
        flats
            .iter()
            .map(|e| matcher.matches_flat(e).len() + 1)
            .sum()
    });
    println!(
        "1000 mixed rules, {} events ({:.2} matches/event), per core: matches {whole:.0}/s, \
         flatten alone {flatten:.0}/s, matches_flat {flat:.0}/s",
        events.len(),
        matches as f64 / events.len() as f64
    );
}
