//! JSONata as Step Functions runs it, through `weir_model::asl::eval_jsonata` (jsonata-rs
//! underneath), on the examples of the Step Functions developer guide ("Transforming data with
//! JSONata", "JSONata functions provided by Step Functions") and of asl-validator's JSONata
//! definitions. The functions jsonata-rs 0.3 lacks are listed in `gaps_in_jsonata_rs`, so a
//! newer version that adds them shows up here.

use chrono::{TimeZone, Utc};
use serde_json::{Map, Value, json};
use weir_model::asl::{Entropy, Env, StatesError, eval_jsonata};

fn eval_with(
    expr: &str,
    input: &Value,
    vars: &Map<String, Value>,
    seed: u64,
) -> Result<Value, StatesError> {
    let context = json!({
        "Execution": {"Id": "arn:aws:states:us-east-1:000000000000:execution:m:e", "Input": {"title": "Doctor"}},
        "State": {"Name": "X"}
    });
    let result = json!({"isIdentityValid": true, "isAddressValid": false});
    let entropy = Entropy::new(seed);
    let mut env = Env::new(input, &context, vars, &entropy);
    env.result = Some(&result);
    env.now = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single();
    eval_jsonata(expr, &env)
}

fn eval(expr: &str, input: &Value) -> Result<Value, StatesError> {
    let mut vars = Map::new();
    vars.insert("customerName".into(), json!("María"));
    eval_with(expr, input, &vars, 1)
}

fn input() -> Value {
    json!({
        "title": "Doctor",
        "numbers": [1, 2, 3],
        "content": "input data",
        "seed": 42,
        "data": {
            "identity": {"email": "jane@example.com", "ssn": "123-45-6789"},
            "address": {"street": "1 Main St", "city": "Springfield"},
            "firstname": "Jane",
            "lastname": "Doe",
            "interests": [
                {"category": "home", "type": "house", "yearBuilt": 1990, "estimatedValue": 300000},
                {"category": "auto", "type": "car", "yearBuilt": 2020, "estimatedValue": 20000}
            ]
        }
    })
}

#[test]
fn guide_examples() {
    let ok = |expr: &str, expected: Value| {
        assert_eq!(eval(expr, &input()).unwrap(), expected, "{expr}");
    };
    // "Transforming data with JSONata": the JSONPath to JSONata conversion.
    ok("$states.input.title", json!("Doctor"));
    ok("$customerName", json!("María"));
    ok(
        "$states.context.Execution.Input",
        json!({"title": "Doctor"}),
    );
    ok("$states.context.State.Name", json!("X"));
    ok(
        "$states.result.isIdentityValid and $states.result.isAddressValid",
        json!(false),
    );
    ok("$sum($states.input.numbers)", json!(6));
    ok("1+2", json!(3));
    ok("789.0123456789012", json!(789.0123456789012));
    ok(
        "$exists($states.input.moreData) ? $states.input.moreData : {}",
        json!({}),
    );
    ok(
        "$match($states.input.data.identity.email, /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$/) and $match($states.input.data.identity.ssn, /^(\\d{3}-?\\d{2}-?\\d{4}|XXX-XX-XXXX)$/)",
        json!(true),
    );
    ok(
        "$not(null in $each($states.input.data.address, function($v) { $length($trim($v)) > 0 ? $v : null }))",
        json!(true),
    );
    ok(
        "$states.input.data.firstname & ' ' & $states.input.data.lastname",
        json!("Jane Doe"),
    );
    ok(
        "($e := $states.input.data.identity.email; $n := $states.input.data.firstname & ' ' & $states.input.data.lastname; $states.input.data.interests[category = 'home']{'customer': $n, 'email': $e, 'totalAssetValue': $sum(estimatedValue), category: {type: yearBuilt}})",
        json!({"customer": "Jane Doe", "email": "jane@example.com", "totalAssetValue": 300000, "home": {"house": 1990}}),
    );
    // "JSONata functions provided by Step Functions".
    ok(
        "$partition([1,2,3,4,5,6,7,8,9], 3)",
        json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    );
    ok("$partition([1,2,3,4], 3)", json!([[1, 2, 3], [4]]));
    ok("$range(0, 10, 2)", json!([0, 2, 4, 6, 8, 10]));
    ok("$range(10, 0, -5)", json!([10, 5, 0]));
    ok(
        "$hash($states.input.content, 'SHA-1')",
        json!("aaff4a450a104cd177d28d18d74485e8cae074b7"),
    );
    ok(
        "$hash('abc', 'SHA-256')",
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    );
    ok(
        "$parse('{\"a\": [1, 2], \"b\": null}')",
        json!({"a": [1, 2], "b": null}),
    );
    ok("$now()", json!("2026-01-02T03:04:05.000Z"));
    ok("$millis()", json!(1_767_323_045_000_i64));
}

#[test]
fn randomness_comes_from_the_caller() {
    let vars = Map::new();
    let a = eval_with("$random()", &input(), &vars, 9).unwrap();
    assert_eq!(a, eval_with("$random()", &input(), &vars, 9).unwrap());
    let x = a.as_f64().unwrap();
    assert!((0.0..1.0).contains(&x));
    // A seed gives one number whatever the caller's entropy.
    let seeded = eval_with("$random($states.input.seed)", &input(), &vars, 1).unwrap();
    assert_eq!(
        seeded,
        eval_with("$random(42)", &input(), &vars, 2).unwrap()
    );
    // A seed is an integer: a fraction is cut toward zero.
    assert_eq!(
        eval_with("$random(42.9)", &input(), &vars, 6).unwrap(),
        eval_with("$random(42)", &input(), &vars, 7).unwrap()
    );
    assert_ne!(
        eval_with("$random(43)", &input(), &vars, 6).unwrap(),
        eval_with("$random(42)", &input(), &vars, 6).unwrap()
    );
    // Two calls in one expression differ.
    let pair = eval_with("[$random(), $random()]", &input(), &vars, 3).unwrap();
    assert_ne!(pair[0], pair[1]);
    let uuid = eval_with("$uuid()", &input(), &vars, 4).unwrap();
    let uuid = uuid.as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4");
    let wait = eval_with("$round($random() * 10)", &input(), &vars, 5).unwrap();
    assert!(
        wait.as_i64().is_some_and(|n| (0..=10).contains(&n)),
        "{wait}"
    );
}

#[test]
fn standard_functions_that_work() {
    let ok = |expr: &str, expected: Value| {
        assert_eq!(eval(expr, &input()).unwrap(), expected, "{expr}");
    };
    ok("$count($states.input.numbers)", json!(3));
    ok(
        "$map($states.input.numbers, function($v) { $v * 2 })",
        json!([2, 4, 6]),
    );
    ok(
        "$filter($states.input.numbers, function($v) { $v > 1 })",
        json!([2, 3]),
    );
    ok(
        "$reduce($states.input.numbers, function($a, $b) { $a + $b })",
        json!(6),
    );
    ok("$states.input.numbers[$ > 1]", json!([2, 3]));
    ok("$uppercase('abc') & $lowercase('DEF')", json!("ABCdef"));
    ok("$split('a,b,c', ',')", json!(["a", "b", "c"]));
    ok("$join(['a', 'b'], '-')", json!("a-b"));
    ok("$replace('hello', 'l', 'L')", json!("heLLo"));
    ok("$substring('hello', 1, 3)", json!("ell"));
    ok("$string({'a': 1})", json!("{\"a\":1}"));
    ok("$number('42') + 1", json!(43));
    ok(
        "$toMillis('2024-01-01T00:00:00Z')",
        json!(1_704_067_200_000_i64),
    );
    ok("$fromMillis(0)", json!("1970-01-01T00:00:00.000Z"));
    ok("[1..5]", json!([1, 2, 3, 4, 5]));
    ok("$distinct([1, 1, 2])", json!([1, 2]));
    ok("$sort([3, 1, 2])", json!([1, 2, 3]));
    ok("$base64encode('hi')", json!("aGk="));
    ok("$exists($states.input.nope)", json!(false));
}

#[test]
fn gaps_in_jsonata_rs() {
    // Functions of JSONata 2.0.6 that jsonata-rs 0.3 does not have: they fail with
    // States.QueryEvaluationError instead of computing a value.
    for expr in [
        "$formatNumber(1234.5, '#,##0.00')",
        "$type(1)",
        "$average([1, 3])",
        "$spread({'a': 1})",
        "$encodeUrlComponent('a b')",
    ] {
        let e = eval(expr, &input()).unwrap_err();
        assert_eq!(e.error, "States.QueryEvaluationError", "{expr}");
    }
    // Step Functions removes $eval (use $parse).
    assert!(eval("$eval('1+1')", &input()).is_err());
}

#[test]
fn errors_are_query_evaluation_errors() {
    for expr in [
        "$states.input.nope",
        "$hash('x', 'SHA-999')",
        "$partition($states.input.title, 2)",
        "$range(0, 5000, 1)",
        "$parse('{')",
        "$error('boom')",
        "function($x) { $x }",
        "10 + * 2",
        "420.",
        "($f := function($n) { $f($n + 1) }; $f(0))",
    ] {
        let e = eval(expr, &input()).unwrap_err();
        assert_eq!(e.error, "States.QueryEvaluationError", "{expr}: {e}");
    }
}

#[test]
fn now_needs_a_caller_clock() {
    let context = json!({});
    let vars = Map::new();
    let entropy = Entropy::new(1);
    let env = Env::new(&context, &context, &vars, &entropy);
    assert!(eval_jsonata("$now()", &env).is_err());
}
