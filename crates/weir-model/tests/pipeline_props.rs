//! Property tests: the pipeline parser never panics, whatever the text, and what it returns holds
//! its promises (problems point inside the file; tasks come in a topological order).

use proptest::prelude::*;
use weir_model::pipeline::{Pipeline, parse_pipeline};
use weir_model::schedule::Schedule;

const VALID: &str = r#"description: Nightly
tags: [sales]
schedule: "0 2 * * *"
timezone: Europe/Paris
start_date: 2026-01-01
end_date: 2026-12-31
catchup: true
params: { region: eu, days: [1, 2] }
max_active_runs: 2
default_args: { retries: 2, retry_delay: 30s, timeout: 1h }
on_failure:
  - webhook: "https://hooks.example.com/{{ run_id }}"
  - command: ./page.sh
tasks:
  list:
    http: { url: "https://x/{{ ds }}", method: GET }
  each:
    depends_on: [list]
    map_over: "{{ tasks.list.output.files }}"
    command: [./run.sh, "{{ item }}", "{{ params.region }}"]
    env: { A: "1" }
  done:
    depends_on: each
    noop:
    trigger_rule: all_done
"#;

fn check_promises(source: &str, result: &Result<Pipeline, Vec<weir_model::Problem>>) {
    match result {
        Ok(p) => {
            for (i, task) in p.tasks.values().enumerate() {
                for dep in &task.depends_on {
                    let at = p.tasks.get_index_of(dep.as_str());
                    assert!(
                        at.is_some_and(|at| at < i),
                        "{dep} must come before {}",
                        task.id
                    );
                }
            }
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
    let p = parse_pipeline("p.yaml", "p", VALID).unwrap();
    assert_eq!(p.tasks.len(), 3);
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let snippet = prop_oneof![
        "\\PC{0,6}",
        Just(": ".to_string()),
        Just("\n  ".to_string()),
        Just("- ".to_string()),
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("[".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("depends_on: [done]".to_string()),
        Just("\t".to_string()),
    ];
    prop_oneof![
        (0..2000usize, 0..20usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (0..2000usize, snippet).prop_map(|(at, text)| Edit::Insert(at, text)),
        (0..40usize).prop_map(Edit::DuplicateLine),
        (0..40usize, 0..40usize).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<&str> = text.split('\n').collect();
    match edit {
        Edit::Delete(at, len) => {
            let at = at % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert(at, snippet) => {
            let at = at % (chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(snippet);
            out.extend(&chars[at..]);
            out
        }
        Edit::DuplicateLine(i) => {
            let i = i % lines.len();
            lines.insert(i, lines[i]);
            lines.join("\n")
        }
        Edit::SwapLines(a, b) => {
            let (a, b) = (a % lines.len(), b % lines.len());
            lines.swap(a, b);
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(source in "\\PC{0,200}") {
        let result = parse_pipeline("p.yaml", "p", &source);
        check_promises(&source, &result);
    }

    #[test]
    fn never_panics_on_yaml_like_text(source in "([a-z_]{1,8}: ?|  |- |\\{|\\}|\\[|\\]|, |\n|\"|'|\\{\\{ [a-z.]{0,6} \\}\\}|[0-9]{1,3}|&a |\\*a|\\? |#){0,60}") {
        let result = parse_pipeline("p.yaml", "p", &source);
        check_promises(&source, &result);
    }

    #[test]
    fn never_panics_on_mutations_of_a_valid_pipeline(edits in prop::collection::vec(edit(), 1..6)) {
        let source = edits.iter().fold(VALID.to_string(), |text, e| apply(&text, e));
        let result = parse_pipeline("p.yaml", "p", &source);
        check_promises(&source, &result);
    }

    #[test]
    fn schedule_parse_never_panics(expr in "\\PC{0,40}") {
        let _ = Schedule::parse(&expr);
    }
}
