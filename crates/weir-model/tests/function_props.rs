//! Property tests: the function parser never panics, whatever the text or the file's name, and
//! what it returns holds its promises (problems point inside the file; a spec has a command and
//! a positive timeout).

use proptest::prelude::*;
use weir_model::Problem;
use weir_model::function::{FunctionSpec, parse_function};

const VALID: &str = r#"description: Scores an order
command: [python3, score.py, "--model", v2]
env: { MODEL: v2, LIMIT: 3, DEBUG: true }
working_dir: functions
timeout: 1m30s
max_concurrency: 2
"#;

fn check_promises(source: &str, result: &Result<FunctionSpec, Vec<Problem>>) {
    match result {
        Ok(spec) => {
            assert!(!spec.command.is_empty());
            assert!(!spec.timeout.is_zero());
            assert!(spec.max_concurrency.is_none_or(|n| n >= 1));
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            let lines = source.lines().count() as u32 + 1;
            for problem in problems {
                assert!(
                    problem.line >= 1 && problem.line <= lines,
                    "{problem} outside {lines} lines"
                );
                assert!(problem.column >= 1, "{problem}");
            }
        }
    }
}

#[test]
fn the_base_text_is_valid() {
    let spec = parse_function("functions/score.yaml", "score", VALID).unwrap();
    assert_eq!(spec.command.len(), 4);
}

/// The valid text with one slice removed and `snippet` put in its place.
fn mutate(at: usize, len: usize, snippet: &str) -> String {
    let chars: Vec<char> = VALID.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    let mut out: String = chars[..at].iter().collect();
    out.push_str(snippet);
    out.extend(&chars[end..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(source in "\\PC{0,200}", name in "\\PC{0,12}") {
        let result = parse_function("f.yaml", &name, &source);
        check_promises(&source, &result);
    }

    #[test]
    fn never_panics_on_yaml_like_text(source in "((command|env|timeout|max_concurrency|working_dir|description|[a-z]{1,5}): ?|  |- |\\{|\\}|\\[|\\]|, |\n|\"|'|[0-9]{1,3}(ms|s|m)?|-1|&a |\\*a|\\? |#|~){0,60}") {
        let result = parse_function("f.yaml", "f", &source);
        check_promises(&source, &result);
    }

    #[test]
    fn never_panics_on_mutations_of_a_valid_function(
        at in 0..400usize,
        len in 0..20usize,
        snippet in prop_oneof![
            "\\PC{0,6}",
            Just(": ".to_string()),
            Just("\n  ".to_string()),
            Just("- ".to_string()),
            Just("[".to_string()),
            Just("{".to_string()),
            Just("0".to_string()),
            Just("\t".to_string()),
        ],
    ) {
        let source = mutate(at, len, &snippet);
        let result = parse_function("f.yaml", "f", &source);
        check_promises(&source, &result);
    }
}
