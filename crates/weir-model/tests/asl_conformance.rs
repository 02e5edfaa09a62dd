//! Conformance of `weir_model::asl::parse_definition` with two other validators' test suites,
//! read from `shared/conformance/` beside the repository (see its README for the sources):
//!
//! - asl-validator's definitions: `valid-*` must be accepted and `invalid-*` rejected.
//! - statelint's test files: `expected.json` gives each file's problem count; 0 must be
//!   accepted, more rejected (the counts themselves are statelint's own).
//!
//! The README names three asl-validator cases as option-dependent: `invalid-json-path.json` and
//! `invalid-payload-template.asl.json` (invalid only when paths are checked) and
//! `invalid-cfn-definition-substitutions.json` (only when Task resources are checked). weir always
//! checks paths, and checks that a Resource is a URI or a complete `${…}` placeholder, so all
//! three are expected to be rejected like the other `invalid-*` files: no case is excluded.
//! [`EXCLUDED`] stays as the place to name one, with the reason, should that change.

use std::fs;
use std::path::PathBuf;

use weir_model::asl::parse_definition;

/// Cases not held to their expected result, with why. Empty: see the module comment.
const EXCLUDED: &[(&str, &str)] = &[];

fn conformance_dir() -> PathBuf {
    manifest_dir().join("../../../shared/conformance")
}

struct Tally {
    suite: &'static str,
    valid_ok: usize,
    valid_total: usize,
    invalid_ok: usize,
    invalid_total: usize,
    excluded: Vec<String>,
    wrong: Vec<String>,
}

impl Tally {
    fn new(suite: &'static str) -> Self {
        Tally {
            suite,
            valid_ok: 0,
            valid_total: 0,
            invalid_ok: 0,
            invalid_total: 0,
            excluded: Vec::new(),
            wrong: Vec::new(),
        }
    }

    fn check(&mut self, name: &str, text: &str, expect_valid: bool) {
        if let Some((_, why)) = EXCLUDED.iter().find(|(n, _)| *n == name) {
            self.excluded.push(format!("{name} ({why})"));
            return;
        }
        let result = parse_definition(name, text);
        if expect_valid {
            self.valid_total += 1;
            match result {
                Ok(_) => self.valid_ok += 1,
                Err(problems) => self.wrong.push(format!(
                    "{name}: expected valid, got:\n    {}",
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n    ")
                )),
            }
        } else {
            self.invalid_total += 1;
            match result {
                Ok(_) => self
                    .wrong
                    .push(format!("{name}: expected invalid, was accepted")),
                Err(problems) => {
                    self.invalid_ok += 1;
                    if std::env::var_os("ASL_CONFORMANCE_VERBOSE").is_some() {
                        for p in &problems {
                            println!("  {p}");
                        }
                    }
                    // Every problem must point somewhere in the file and name a JSON path or
                    // be a reading problem.
                    for p in &problems {
                        assert!(p.line >= 1 && p.column >= 1, "{name}: {p}");
                    }
                }
            }
        }
    }

    fn report(&self) -> bool {
        println!(
            "{}: valid {}/{} accepted, invalid {}/{} rejected, {} excluded",
            self.suite,
            self.valid_ok,
            self.valid_total,
            self.invalid_ok,
            self.invalid_total,
            self.excluded.len()
        );
        for e in &self.excluded {
            println!("  excluded: {e}");
        }
        for w in &self.wrong {
            println!("  WRONG: {w}");
        }
        self.wrong.is_empty()
    }
}

#[test]
fn asl_validator_definitions() {
    let dir = conformance_dir().join("asl-validator/definitions");
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut tally = Tally::new("asl-validator");
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(&path).unwrap();
        if name.starts_with("valid-") {
            tally.check(&name, &text, true);
        } else if name.starts_with("invalid-") {
            tally.check(&name, &text, false);
        }
    }
    assert!(
        tally.valid_total + tally.invalid_total > 100,
        "too few cases found in {}",
        dir.display()
    );
    assert!(
        tally.report(),
        "asl-validator cases misclassified (see above)"
    );
}

#[test]
fn statelint_cases() {
    let dir = conformance_dir().join("statelint");
    let expected: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let cases = expected["cases"].as_array().unwrap();
    let mut tally = Tally::new("statelint");
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let count = case["expected_problem_count"].as_u64().unwrap();
        let text = fs::read_to_string(dir.join(file)).unwrap();
        tally.check(file, &text, count == 0);
    }
    assert!(tally.valid_total + tally.invalid_total >= 70);
    assert!(tally.report(), "statelint cases misclassified (see above)");
}

/// The crate's directory: from the environment the test runs in (cargo and nextest set it), so
/// that a test binary kept in a shared target directory finds the checkout it is run from; the
/// directory it was built in otherwise.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
