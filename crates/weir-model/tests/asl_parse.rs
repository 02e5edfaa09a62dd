//! `parse_definition`: the typed model it builds, the problems it reports (with positions and
//! JSON paths), YAML definitions, and the evaluation helpers on parsed states.

use serde_json::{Map, Value, json};
use weir_model::asl::*;

fn parse(text: &str) -> StateMachine {
    match parse_definition("m.asl.json", text) {
        Ok(m) => m,
        Err(problems) => panic!("{problems:#?}"),
    }
}

fn problems(text: &str) -> Vec<weir_model::Problem> {
    parse_definition("m.asl.json", text).expect_err("expected problems")
}

#[test]
fn reads_every_state_type() {
    let m = parse(
        r#"{
  "Comment": "all types", "Version": "1.0", "TimeoutSeconds": 60,
  "StartAt": "P",
  "States": {
    "P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.p", "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "f", "Payload.$": "$"},
          "ResultSelector": {"body.$": "$.Payload"},
          "TimeoutSeconds": 30, "HeartbeatSecondsPath": "$.hb",
          "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 6,
                     "BackoffRate": 2, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"},
                    {"ErrorEquals": ["States.ALL"]}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "F"}],
          "Next": "C"},
    "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThanPath": "$.limit", "Next": "W"},
            {"And": [{"Variable": "$.s", "StringMatches": "log-*"}, {"Not": {"Variable": "$.b", "IsNull": true}}], "Next": "Par"}
          ], "Default": "S"},
    "W": {"Type": "Wait", "TimestampPath": "$.at", "Next": "M"},
    "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ToleratedFailurePercentage": 10,
          "ItemSelector": {"item.$": "$$.Map.Item.Value"},
          "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I", "States": {"I": {"Type": "Succeed"}}},
          "End": true},
    "Par": {"Type": "Parallel", "Branches": [
              {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
              {"StartAt": "B2", "States": {"B2": {"Type": "Wait", "Seconds": 1, "End": true}}}],
            "End": true},
    "S": {"Type": "Succeed"},
    "F": {"Type": "Fail", "ErrorPath": "$.error.Error", "Cause": "it failed"}
  }
}"#,
    );
    assert_eq!(m.start_at, "P");
    assert_eq!(m.timeout_seconds, Some(60));
    let kinds: Vec<&str> = m.states.values().map(|s| s.kind.type_name()).collect();
    assert_eq!(
        kinds,
        [
            "Pass", "Task", "Choice", "Wait", "Map", "Parallel", "Succeed", "Fail"
        ]
    );
    let t = &m.states["T"];
    assert_eq!(t.transition, Transition::Next("C".into()));
    assert_eq!(t.retry.len(), 2);
    assert_eq!(t.retry[0].jitter, Jitter::Full);
    assert_eq!(t.retry[1].interval_seconds, 1);
    assert_eq!(t.retry[1].max_attempts, 3);
    assert_eq!(t.retry[1].backoff_rate, 2.0);
    assert_eq!(
        t.retrier_for("Lambda.ServiceException").map(|(i, _)| i),
        Some(0)
    );
    assert_eq!(t.retrier_for("Other").map(|(i, _)| i), Some(1));
    assert_eq!(t.retrier_for("States.Runtime"), None);
    assert_eq!(t.catcher_for("X").map(|c| c.next.as_str()), Some("F"));
    let StateKind::Task(task) = &t.kind else {
        panic!()
    };
    assert_eq!(
        task.resource,
        Resource::Uri("arn:aws:states:::lambda:invoke".into())
    );
    assert_eq!(task.timeout_seconds, Some(Dynamic::Fixed(30)));
    assert!(matches!(
        task.heartbeat_seconds,
        Some(Dynamic::Computed(Template::Path(_)))
    ));
    let StateKind::Map(map) = &m.states["M"].kind else {
        panic!()
    };
    assert_eq!(map.max_concurrency, Some(Dynamic::Fixed(2)));
    assert_eq!(map.processor.start_at, "I");
    assert!(m.states["P"].input_path.is_some());
    assert_eq!(
        m.states["P"].result_path.as_ref().map(Path::text),
        Some("$.p")
    );
}

#[test]
fn problems_carry_position_and_json_path() {
    let text = "{\n  \"StartAt\": \"Choose\",\n  \"States\": {\n    \"Choose\": {\n      \"Type\": \"Choice\",\n      \"Choices\": [{\"Variable\": \"$.x\", \"BooleanEquals\": true, \"Next\": \"Nowhere\"}],\n      \"Default\": \"Done\"\n    },\n    \"Done\": {\"Type\": \"Succeed\"}\n  }\n}";
    let p = problems(text);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(
        p[0].path.as_deref(),
        Some("$.States.Choose.Choices[0].Next")
    );
    assert_eq!((p[0].line, p[0].column), (6, 70));
    assert_eq!(
        p[0].to_string(),
        "m.asl.json:6:70: $.States.Choose.Choices[0].Next: no state named \"Nowhere\""
    );
}

#[test]
fn duplicate_keys_are_rejected() {
    let p = problems(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "End": true}}}"#,
    );
    assert!(p[0].message.contains("duplicate key \"End\""), "{p:#?}");
    assert_eq!(p[0].path.as_deref(), Some("$.States.A.End"));
}

#[test]
fn syntax_errors_are_positioned() {
    let p = problems(
        "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\"Type\": \"Pass\" \"End\": true}\n  }\n}",
    );
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].column), (4, 26));
    assert!(p[0].message.starts_with("invalid JSON"));
}

#[test]
fn many_rules_are_checked() {
    let cases = [
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}"#,
            "needs \"Next\" or \"End\"",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Nope", "End": true}}}"#,
            "is not a state type",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pas", "End": true}}}"#,
            "did you mean `Pass`",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "x:y", "Retry": [{"ErrorEquals": ["States.ALL", "X"]}], "End": true}}}"#,
            "must appear alone",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "x:y", "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}], "End": true}}}"#,
            "only in the last",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "x:y", "TimeoutSeconds": 10, "HeartbeatSeconds": 10, "End": true}}}"#,
            "smaller than",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Wait", "Timestamp": "tomorrow", "End": true}}}"#,
            "RFC 3339",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$.a[*]", "End": true}}}"#,
            "reference path",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.Array("}, "End": true}}}"#,
            "intrinsic",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Arguments": {}, "End": true}}}"#,
            "not allowed in a JSONPath state",
        ),
        (
            r#"{"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}"#,
            "cannot use JSONPath",
        ),
        (
            r#"{"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Pass", "Output": "{% $x + %}", "End": true}}}"#,
            "invalid JSONata",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": "1", "Next": "B"}]}, "B": {"Type": "Succeed"}}}"#,
            "must be a number",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "StringEquals": "1", "Next": "B"}]}, "B": {"Type": "Succeed"}}}"#,
            "only one comparison",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.x", "IsNull": true, "Next": "B"}, "Next": "B"}]}, "B": {"Type": "Succeed"}}}"#,
            "not allowed in a nested choice rule",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "no-scheme", "End": true}}}"#,
            "must be a URI",
        ),
        (r#"{"StartAt": "A", "States": {}}"#, "must not be empty"),
        (r#"[1]"#, "must be an object"),
        (
            r#"{"States": {"A": {"Type": "Succeed"}}}"#,
            "requires field \"StartAt\"",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Map", "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "A"}}}, "End": true}}}"#,
            "another branch",
        ),
    ];
    for (text, expected) in cases {
        let p = problems(text);
        assert!(
            p.iter().any(|p| p.message.contains(expected)),
            "{text}\nexpected a problem containing {expected:?}, got {p:#?}"
        );
    }
}

#[test]
fn reads_yaml_definitions() {
    let yaml = "\
Comment: a YAML machine
QueryLanguage: JSONata
StartAt: Greet
States:
  Greet:
    Type: Pass
    Output:
      greeting: \"{% 'Hello ' & $states.input.name %}\"
    Next: Done
  Done:
    Type: Succeed
";
    let m = parse_definition("machines/hello.asl.yaml", yaml).unwrap();
    assert_eq!(m.query_language, QueryLanguage::Jsonata);
    let out = m.states["Greet"].output.clone().unwrap();
    let input = json!({"name": "Ada"});
    let vars = Map::new();
    let entropy = Entropy::new(1);
    let context = json!({});
    let env = Env::new(&input, &context, &vars, &entropy);
    assert_eq!(
        out.evaluate(&env).unwrap(),
        json!({"greeting": "Hello Ada"})
    );

    let bad = "StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n  A:\n    Type: Pass\n";
    let p = parse_definition("m.yaml", bad).unwrap_err();
    assert!(p[0].message.contains("duplicate key"), "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (6, 3));
}

fn env_eval<T>(input: &Value, f: impl FnOnce(&Env<'_>) -> T) -> T {
    let context = json!({});
    let vars = Map::new();
    let entropy = Entropy::new(1);
    let env = Env::new(input, &context, &vars, &entropy);
    f(&env)
}

/// The spec's Choice example ("Choice State"), evaluated on inputs.
#[test]
fn choice_spec_example() {
    let m = parse(
        r#"{"StartAt": "ChoiceStateX", "States": {
  "ChoiceStateX": {
    "Type": "Choice",
    "Choices": [
      {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
      {"And": [{"Variable": "$.value", "IsPresent": true},
               {"Variable": "$.value", "IsNumeric": true},
               {"Variable": "$.value", "NumericGreaterThanEquals": 20},
               {"Variable": "$.value", "NumericLessThan": 30}],
       "Next": "ValueInTwenties"},
      {"Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold", "Next": "StartAudit"},
      {"Variable": "$.when", "TimestampLessThan": "2016-03-14T01:59:00Z", "Next": "Old"}
    ],
    "Default": "DefaultState"
  },
  "Public": {"Type": "Succeed"}, "ValueInTwenties": {"Type": "Succeed"}, "StartAudit": {"Type": "Succeed"},
  "Old": {"Type": "Succeed"}, "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"}
}}"#,
    );
    let StateKind::Choice(choice) = &m.states["ChoiceStateX"].kind else {
        panic!()
    };
    let next = |input: Value| {
        env_eval(&input, |env| {
            choose(choice, env).map(|c| c.next().to_string())
        })
    };
    assert_eq!(next(json!({"type": "Public"})).unwrap(), "Public");
    assert_eq!(
        next(json!({"type": "Private", "value": 25})).unwrap(),
        "ValueInTwenties"
    );
    assert_eq!(
        next(json!({"type": "Private", "value": "25", "rating": 5, "auditThreshold": 3})).unwrap(),
        "StartAudit"
    );
    assert_eq!(next(json!({"type": "Private", "rating": 1, "auditThreshold": 3, "when": "2015-01-01T00:00:00Z"})).unwrap(), "Old");
    assert_eq!(
        next(json!({"type": "Private", "rating": 1, "auditThreshold": 3, "when": "x"})).unwrap(),
        "DefaultState"
    );
    // A missing Variable is a runtime error (IsPresent aside).
    let err = next(json!({"type": "Private"})).unwrap_err();
    assert_eq!(err.error, "States.Runtime");
}

#[test]
fn choice_without_default_fails_as_step_functions_does() {
    let m = parse(
        r#"{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": true, "Next": "D"}]}, "D": {"Type": "Succeed"}}}"#,
    );
    let StateKind::Choice(choice) = &m.states["C"].kind else {
        panic!()
    };
    let err = env_eval(&json!({"x": false}), |env| choose(choice, env).unwrap_err());
    // Step Functions reports a Choice with nowhere to go as a runtime error, not
    // States.NoChoiceMatched (recorded in us-east-1).
    assert_eq!(err.error, "States.Runtime");
    assert_eq!(
        err.cause,
        "Failed to transition out of the state. The state does not point to a next state."
    );
    let ok = env_eval(&json!({"x": true}), |env| {
        choose(choice, env).map(|c| c.next().to_string())
    });
    assert_eq!(ok.unwrap(), "D");
}

#[test]
fn jsonata_choice_conditions() {
    let m = parse(
        r#"{"QueryLanguage": "JSONata", "StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Assign": {"seen": "{% $states.input.n %}"}}], "Default": "Small"}, "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}}"#,
    );
    let StateKind::Choice(choice) = &m.states["C"].kind else {
        panic!()
    };
    let input = json!({"n": 11});
    env_eval(&input, |env| {
        let Chosen::Rule(rule) = choose(choice, env).unwrap() else {
            panic!()
        };
        assert_eq!(rule.next, "Big");
        let assigned = io::assign(rule.assign.as_ref().unwrap(), env, "Assign").unwrap();
        assert_eq!(assigned["seen"], json!(11));
    });
    let small = json!({"n": 1});
    env_eval(&small, |env| {
        assert_eq!(choose(choice, env).unwrap().next(), "Small")
    });
}

#[test]
fn retry_backoff_from_the_definition() {
    let m = parse(
        r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "x:y", "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 3, "BackoffRate": 2.0, "MaxDelaySeconds": 20, "MaxAttempts": 5}], "End": true}}}"#,
    );
    let r = &m.states["T"].retry[0];
    let waits: Vec<u64> = (0..5).map(|n| r.delay(n, 0.0).as_secs()).collect();
    assert_eq!(waits, [3, 6, 12, 20, 20]);
    assert!(r.matches("Lambda.Unknown"));
    assert!(!r.matches("States.Timeout"));
}
