//! Property tests: the States Language parsers (definitions, JSONPath, intrinsic functions,
//! JSONata surrounds) never panic, whatever the text, and evaluating what they accept never
//! panics either; problems always point inside the file.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use weir_model::asl::{Entropy, Env, Intrinsic, Jsonata, Path, parse_definition};

const VALID: &str = r#"{
  "Comment": "props", "StartAt": "P",
  "States": {
    "P": {"Type": "Pass", "Parameters": {"a.$": "$.x", "b.$": "States.Format('{}', $.y)"}, "ResultPath": "$.r", "Next": "C"},
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.r.a", "NumericGreaterThan": 1, "Next": "M"}], "Default": "F"},
    "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
          "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}], "Next": "W"},
    "W": {"Type": "Wait", "Seconds": 1, "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true},
    "F": {"Type": "Fail", "Error": "E"}
  }
}"#;

/// Characters definitions are made of, to reach past the JSON syntax checks more often.
const JSONISH: &str = "[{}\\[\\]\",:. a-zA-Z0-9$@*?()'=<>!&|%\\\\\n-]{0,120}";

fn sample() -> Value {
    json!({"x": 2, "y": "why", "items": [1, {"a": [true, null]}, "s"], "o": {"k": {"k": 1.5}}})
}

fn check_problems(text: &str, file: &str) {
    if let Err(problems) = parse_definition(file, text) {
        assert!(!problems.is_empty());
        let lines = text.lines().count().max(1) as u32 + 1;
        for p in problems {
            assert!(
                p.line >= 1 && p.line <= lines,
                "{p} (text has {lines} lines)"
            );
            assert!(p.column >= 1, "{p}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn definitions_never_panic(text in JSONISH) {
        check_problems(&text, "m.asl.json");
        check_problems(&text, "m.asl.yaml");
    }

    #[test]
    fn edited_definitions_never_panic(at in 0usize..VALID.len(), len in 0usize..12, insert in "[\\[\\]{}\",:$.a-zA-Z0-9 ]{0,6}") {
        let start = (0..=at).rev().find(|i| VALID.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + len).min(VALID.len());
        let end = (end..=VALID.len()).find(|i| VALID.is_char_boundary(*i)).unwrap_or(VALID.len());
        let text = format!("{}{}{}", &VALID[..start], insert, &VALID[end..]);
        check_problems(&text, "m.asl.json");
    }

    #[test]
    fn paths_never_panic(text in "\\$[\\$a-z0-9.\\[\\]*?@()'\"=<>!&|:, /-]{0,40}") {
        if let Ok(path) = Path::parse(&text) {
            let input = sample();
            let context = json!({"Execution": {"Id": "e"}});
            let vars = Map::new();
            let entropy = Entropy::new(1);
            let env = Env::new(&input, &context, &vars, &entropy);
            let _ = path.evaluate(&env);
            if path.is_reference() {
                let _ = path.write(input.clone(), json!(1));
            }
        }
    }

    #[test]
    fn intrinsics_never_panic(text in "States\\.[A-Za-z]{0,14}\\([\\$a-z0-9.,' {}\\\\()A-Z-]{0,40}\\)?") {
        if let Ok(call) = Intrinsic::parse(&text) {
            let input = sample();
            let context = json!({});
            let vars = Map::new();
            let entropy = Entropy::new(1);
            let env = Env::new(&input, &context, &vars, &entropy);
            let _ = call.evaluate(&env);
        }
    }

    #[test]
    fn jsonata_checks_never_panic(text in "[\\$a-z0-9.+*/()\\[\\]{}'\":;,=<>!?&%~ -]{0,40}") {
        let _ = Jsonata::parse(&text);
    }
}

proptest! {
    // Evaluation runs jsonata-rs; fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn jsonata_evaluation_never_panics(text in "[\\$a-z0-9.+*()\\[\\]'=<>&, -]{0,24}") {
        if let Ok(expr) = Jsonata::parse(&text) {
            let input = sample();
            let context = json!({});
            let vars = Map::new();
            let entropy = Entropy::new(1);
            let env = Env::new(&input, &context, &vars, &entropy);
            let _ = expr.evaluate(&env);
        }
    }
}
