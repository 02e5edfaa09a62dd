//! Each operator and each refusal, checked through the public API; every match case is also
//! run through a `Matcher` so the two cannot drift.

use serde_json::{Value, json};

use super::{Matcher, Pattern};

/// Asserts the pattern's verdict on each event, by the interpreter and by a one-rule matcher.
fn check(pattern: Value, cases: &[(Value, bool)]) {
    let parsed = match Pattern::from_value(&pattern) {
        Ok(p) => p,
        Err(e) => panic!("{pattern} refused: {e}"),
    };
    let matcher = Matcher::new([("rule", parsed.clone())]);
    for (event, expected) in cases {
        assert_eq!(parsed.matches(event), *expected, "{pattern} on {event}");
        assert_eq!(
            matcher.matches(event) == ["rule"],
            *expected,
            "matcher: {pattern} on {event}"
        );
    }
}

fn refused(pattern: &str) -> String {
    match Pattern::parse(pattern) {
        Ok(_) => format!("accepted: {pattern}"),
        Err(e) => e
            .message
            .strip_prefix("Event pattern is not valid. Reason: ")
            .map_or_else(|| e.message.clone(), str::to_string),
    }
}

#[test]
fn exact_values() {
    check(
        json!({"source": ["aws.ec2"], "detail": {"n": [5], "b": [true], "z": [null]}}),
        &[
            (
                json!({"source": "aws.ec2", "detail": {"n": 5, "b": true, "z": null}}),
                true,
            ),
            (
                json!({"source": "aws.ec2", "detail": {"n": 5.0, "b": true, "z": null}}),
                true,
            ),
            (
                json!({"source": "aws.ec2", "detail": {"n": "5", "b": true, "z": null}}),
                false,
            ),
            (
                json!({"source": "aws.ec2", "detail": {"n": 5, "b": "true", "z": null}}),
                false,
            ),
            (
                json!({"source": "aws.ec2", "detail": {"n": 5, "b": true}}),
                false,
            ),
            (
                json!({"source": "AWS.EC2", "detail": {"n": 5, "b": true, "z": null}}),
                false,
            ),
            (
                json!({"source": ["x", "aws.ec2"], "detail": {"n": [1, 5], "b": true, "z": null}}),
                true,
            ),
        ],
    );
    // Numbers beyond the comparable range still match themselves exactly.
    check(
        json!({"account": [123456789012_u64]}),
        &[
            (json!({"account": 123456789012_u64}), true),
            (json!({"account": 123456789013_u64}), false),
        ],
    );
    // An empty string is a value like any other.
    check(
        json!({"a": [""]}),
        &[(json!({"a": ""}), true), (json!({"a": " "}), false)],
    );
}

#[test]
fn ip_address_values_match_however_spelled() {
    check(
        json!({"ip": ["10.0.0.1", "2001:db8::1"]}),
        &[
            (json!({"ip": "10.0.0.1"}), true),
            (json!({"ip": "10.00.0.01"}), true),
            (json!({"ip": "2001:0db8:0:0:0:0:0:1"}), true),
            (json!({"ip": "10.0.0.2"}), false),
        ],
    );
}

#[test]
fn prefix_and_suffix() {
    check(
        json!({"a": [{"prefix": "ab"}], "b": [{"suffix": ".png"}]}),
        &[
            (json!({"a": "abc", "b": "x.png"}), true),
            (json!({"a": "ab", "b": ".png"}), true),
            (json!({"a": "Abc", "b": "x.png"}), false),
            (json!({"a": "abc", "b": "x.PNG"}), false),
            (json!({"a": 12, "b": "x.png"}), false),
        ],
    );
    check(
        json!({"a": [{"prefix": {"equals-ignore-case": "AB"}}], "b": [{"suffix": {"equals-ignore-case": ".PNG"}}]}),
        &[
            (json!({"a": "abc", "b": "x.png"}), true),
            (json!({"a": "aBc", "b": "x.Png"}), true),
            (json!({"a": "ba", "b": "x.png"}), false),
        ],
    );
    // An empty prefix asks for any string.
    check(
        json!({"a": [{"prefix": ""}]}),
        &[(json!({"a": "x"}), true), (json!({"a": 1}), false)],
    );
}

#[test]
fn equals_ignore_case() {
    check(
        json!({"a": [{"equals-ignore-case": "alice"}]}),
        &[
            (json!({"a": "ALICE"}), true),
            (json!({"a": "Alice"}), true),
            (json!({"a": "Alice2"}), false),
            (json!({"a": true}), false),
        ],
    );
}

#[test]
fn anything_but() {
    check(
        json!({"a": [{"anything-but": "x"}]}),
        &[
            (json!({"a": "y"}), true),
            (json!({"a": "x"}), false),
            (json!({"a": 5}), true),
            (json!({"b": "y"}), false),
            (json!({"a": ["x", "y"]}), true),
            (json!({"a": ["x"]}), false),
        ],
    );
    check(
        json!({"a": [{"anything-but": [1, 2.5]}]}),
        &[
            (json!({"a": 3}), true),
            (json!({"a": 2.5}), false),
            (json!({"a": 1.0}), false),
            (json!({"a": "1"}), true),
        ],
    );
    check(
        json!({"a": [{"anything-but": {"prefix": "init"}}], "b": [{"anything-but": {"suffix": ".tmp"}}]}),
        &[
            (json!({"a": "running", "b": "x.txt"}), true),
            (json!({"a": "initializing", "b": "x.txt"}), false),
            (json!({"a": "running", "b": "x.tmp"}), false),
        ],
    );
    check(
        json!({"a": [{"anything-but": {"equals-ignore-case": ["Stopped", "paused"]}}]}),
        &[
            (json!({"a": "STOPPED"}), false),
            (json!({"a": "Paused"}), false),
            (json!({"a": "running"}), true),
        ],
    );
    check(
        json!({"a": [{"anything-but": {"wildcard": "*.tmp"}}]}),
        &[
            (json!({"a": "x.tmp"}), false),
            (json!({"a": "x.txt"}), true),
        ],
    );
}

#[test]
fn numeric() {
    check(
        json!({"n": [{"numeric": [">", 0, "<=", 5]}]}),
        &[
            (json!({"n": 0}), false),
            (json!({"n": 0.000001}), true),
            (json!({"n": 5}), true),
            (json!({"n": 5.000001}), false),
            (json!({"n": "3"}), false),
            (json!({"n": [9, 3]}), true),
        ],
    );
    check(
        json!({"n": [{"numeric": ["=", 301.8]}], "m": [{"numeric": ["<", -1e9]}], "k": [{"numeric": [">=", 10]}]}),
        &[
            (json!({"n": 3.018e2, "m": -2e9, "k": 10}), true),
            (json!({"n": 301.81, "m": -2e9, "k": 10}), false),
            (json!({"n": 301.8, "m": -1e9, "k": 10}), false),
            (json!({"n": 301.8, "m": -2e9, "k": 9.99}), false),
            // Beyond the comparable range a number satisfies no range.
            (json!({"n": 301.8, "m": -6e9, "k": 10}), false),
        ],
    );
}

#[test]
fn exists() {
    check(
        json!({"a": [{"exists": true}], "b": [{"exists": false}]}),
        &[
            (json!({"a": null}), true),
            (json!({"a": 1, "b": 2}), false),
            (json!({"b": 2}), false),
            // Only leaves exist: an object, an empty array or object do not.
            (json!({"a": {"x": 1}}), false),
            (json!({"a": [], "b": {}}), false),
            (json!({"a": [1], "b": []}), true),
        ],
    );
    // A pattern of absences alone matches events without the field.
    check(
        json!({"detail": {"error": [{"exists": false}]}}),
        &[
            (json!({"detail": {"ok": 1}}), true),
            (json!({}), true),
            (json!({"detail": {"error": "x"}}), false),
        ],
    );
}

#[test]
fn wildcard() {
    check(
        json!({"k": [{"wildcard": "dir/*.png"}]}),
        &[
            (json!({"k": "dir/a/b.png"}), true),
            (json!({"k": "dir/.png"}), true),
            (json!({"k": "dirx.png"}), false),
        ],
    );
}

#[test]
fn cidr() {
    check(
        json!({"ip": [{"cidr": "10.0.0.0/24"}], "v6": [{"cidr": "2001:db8::/32"}]}),
        &[
            (json!({"ip": "10.0.0.255", "v6": "2001:db8::1"}), true),
            (json!({"ip": "10.0.1.0", "v6": "2001:db8::1"}), false),
            (json!({"ip": "10.0.0.1", "v6": "2001:db9::1"}), false),
            (json!({"ip": "not an ip", "v6": "2001:db8::1"}), false),
        ],
    );
}

#[test]
fn or_alternatives() {
    check(
        json!({"source": ["s"], "$or": [{"a": ["1"]}, {"b": [{"numeric": [">", 5]}]}]}),
        &[
            (json!({"source": "s", "a": "1"}), true),
            (json!({"source": "s", "b": 6}), true),
            (json!({"source": "s", "b": 5}), false),
            (json!({"source": "t", "a": "1"}), false),
        ],
    );
    // A field inside a branch replaces the same field written before the $or (Event Ruler
    // writes each branch's fields over a copy of what came before).
    check(
        json!({"a": ["1"], "$or": [{"a": ["2"]}, {"b": ["3"]}]}),
        &[
            (json!({"a": "2"}), true),
            (json!({"a": "1"}), false),
            (json!({"a": "1", "b": "3"}), true),
        ],
    );
    // Nested $or multiplies out.
    check(
        json!({"$or": [{"a": ["1"]}, {"b": ["2"], "$or": [{"c": ["3"]}, {"d": ["4"]}]}]}),
        &[
            (json!({"b": "2", "d": "4"}), true),
            (json!({"b": "2"}), false),
            (json!({"a": "1"}), true),
        ],
    );
}

#[test]
fn or_that_is_not_the_operator_is_a_field() {
    // One branch is not a `$or`; EventBridge reads "$or" as an ordinary field name then.
    check(
        json!({"$or": [{"cidr": "10.0.0.0/24"}]}),
        &[
            (json!({"$or": "10.0.0.9"}), true),
            (json!({"a": "10.0.0.9"}), false),
        ],
    );
}

#[test]
fn arrays_are_matched_consistently() {
    let pattern = json!({"d": {"a": ["x"], "b": ["y"]}});
    check(
        pattern,
        &[
            (json!({"d": [{"a": "x", "b": "y"}]}), true),
            (json!({"d": [{"a": "x"}, {"b": "y"}]}), false),
            (
                json!({"d": [{"a": "x", "b": "n"}, {"a": "n", "b": "y"}, {"a": "x", "b": "y"}]}),
                true,
            ),
        ],
    );
    // Absence counts against the element already chosen.
    check(
        json!({"d": {"a": ["x"], "b": [{"exists": false}]}}),
        &[
            (json!({"d": [{"a": "x", "b": 1}, {"a": "x"}]}), true),
            (json!({"d": [{"a": "x", "b": 1}]}), false),
        ],
    );
}

#[test]
fn matcher_keeps_rules_apart() {
    let rules = [
        ("a", json!({"source": ["s1"]})),
        (
            "b",
            json!({"source": ["s1"], "detail": {"n": [{"numeric": [">", 3]}]}}),
        ),
        ("c", json!({"source": [{"prefix": "s"}]})),
        ("d", json!({"detail": {"x": [{"exists": false}]}})),
        (
            "e",
            json!({"$or": [{"source": ["s2"]}, {"source": ["s1"]}]}),
        ),
    ];
    let matcher = Matcher::new(
        rules
            .iter()
            .filter_map(|(k, p)| Pattern::from_value(p).ok().map(|p| (*k, p))),
    );
    assert_eq!(matcher.len(), 5);
    let mut got = matcher.matches(&json!({"source": "s1", "detail": {"n": 4}}));
    got.sort_unstable();
    assert_eq!(got, ["a", "b", "c", "d", "e"]);
    let mut got = matcher.matches(&json!({"source": "s2", "detail": {"x": 1}}));
    got.sort_unstable();
    assert_eq!(got, ["c", "e"]);
    assert_eq!(
        matcher.matches(&json!({"source": "t", "detail": {"x": 1}})),
        Vec::<&str>::new()
    );
    assert!(Matcher::<u8>::new([]).matches(&json!({"a": 1})).is_empty());
}

#[test]
fn refusals_in_aws_words() {
    let cases: &[(&str, &str)] = &[
        ("[]", "Filter is not an object"),
        ("\"x\"", "Filter is not an object"),
        ("{}", "Empty objects are not allowed"),
        (r#"{"a": {}}"#, "Empty objects are not allowed"),
        (r#"{"a": "x"}"#, "\"a\" must be an object or an array"),
        (r#"{"a": 1}"#, "\"a\" must be an object or an array"),
        (r#"{"a": []}"#, "Empty arrays are not allowed"),
        (
            r#"{"a": [[1]]}"#,
            "Match value must be String, number, true, false, or null",
        ),
        (r#"{"a": [{}]}"#, "Match expression name not found"),
        (
            r#"{"a": [{"regex": "x"}]}"#,
            "Unrecognized match type regex",
        ),
        (
            r#"{"a": [{"prefix": 1}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"a": [{"suffix": null}]}"#,
            "suffix match pattern must be a string",
        ),
        (
            r#"{"a": [{"prefix": {}}]}"#,
            "Prefix expression name not found",
        ),
        (
            r#"{"a": [{"suffix": {"x": "y"}}]}"#,
            "Unsupported suffix pattern: x",
        ),
        (
            r#"{"a": [{"prefix": {"equals-ignore-case": 1}}]}"#,
            "equals-ignore-case match pattern must be a string",
        ),
        (
            r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
            "Only one key allowed in match expression",
        ),
        (
            r#"{"a": [{"equals-ignore-case": 1}]}"#,
            "equals-ignore-case match pattern must be a string",
        ),
        (
            r#"{"a": [{"exactly": 1}]}"#,
            "exact match pattern must be a string",
        ),
        (
            r#"{"a": [{"wildcard": 1}]}"#,
            "wildcard match pattern must be a string",
        ),
        (
            r#"{"a": [{"wildcard": "a**"}]}"#,
            "Consecutive wildcard characters at pos 2",
        ),
        (
            r#"{"a": [{"wildcard": "a\\b"}]}"#,
            "Invalid escape character at pos 2",
        ),
        (
            r#"{"a": [{"exists": "yes"}]}"#,
            "exists match pattern must be either true or false.",
        ),
        (
            r#"{"a": [{"cidr": 10}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0"}]}"#,
            "Malformed CIDR, one '/' required",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0/x"}]}"#,
            "Malformed CIDR, mask bits must be an integer",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0/-2"}]}"#,
            "Malformed CIDR, mask bits must not be negative",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0/33"}]}"#,
            "IPv4 mask bits must be < 32",
        ),
        (
            r#"{"a": [{"cidr": "::/200"}]}"#,
            "IPv6 mask bits must be < 128",
        ),
        (
            r#"{"a": [{"cidr": "1.2.3.999/8"}]}"#,
            "Invalid IP address: 1.2.3.999",
        ),
        (
            r#"{"a": [{"cidr": "host/8"}]}"#,
            "Nonstandard IP address: host",
        ),
        (
            r#"{"a": [{"numeric": 5}]}"#,
            "Value of numeric must be an array.",
        ),
        (
            r#"{"a": [{"numeric": []}]}"#,
            "Invalid member in numeric match: ]",
        ),
        (
            r#"{"a": [{"numeric": [5]}]}"#,
            "Invalid member in numeric match: 5",
        ),
        (
            r#"{"a": [{"numeric": ["!=", 5]}]}"#,
            "Unrecognized numeric range operator: !=",
        ),
        (
            r#"{"a": [{"numeric": ["=", "5"]}]}"#,
            "Value of equals must be numeric",
        ),
        (
            r#"{"a": [{"numeric": [">"]}]}"#,
            "Value of > must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["<=", true]}]}"#,
            "Value of <= must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["=", 5, 6]}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": ["<", 5, ">", 1]}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, 6]}]}"#,
            "Bad value in numeric range: 6",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, ">", 6]}]}"#,
            "Bad numeric range operator: >",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, "<", "x"]}]}"#,
            "Value of < must be numeric",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, "<", 9, 10]}]}"#,
            "Too many terms in numeric range expression",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, "<", 5]}]}"#,
            "Bottom must be less than top",
        ),
        (
            r#"{"a": [{"numeric": [">", 6e9]}]}"#,
            "Value must be between -5.0E9 and 5.0E9, inclusive",
        ),
        (
            r#"{"a": [{"numeric": [">", 1], "x": 1}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"anything-but": true}]}"#,
            "Value of anything-but must be an array or single string/number value.",
        ),
        (
            r#"{"a": [{"anything-but": [null]}]}"#,
            "Inside anything but list, start|null|boolean is not supported.",
        ),
        (
            r#"{"a": [{"anything-but": ["a", 1]}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        (
            r#"{"a": [{"anything-but": []}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        (
            r#"{"a": [{"anything-but": 6e9}]}"#,
            "Value must be between -5.0E9 and 5.0E9, inclusive",
        ),
        (
            r#"{"a": [{"anything-but": {}}]}"#,
            "Anything-But expression name not found",
        ),
        (
            r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#,
            "Unsupported anything-but pattern: numeric",
        ),
        (
            r#"{"a": [{"anything-but": {"prefix": 1}}]}"#,
            "prefix/suffix match pattern must be a string",
        ),
        (
            r#"{"a": [{"anything-but": {"prefix": ""}}]}"#,
            "Null prefix/suffix not allowed",
        ),
        (
            r#"{"a": [{"anything-but": {"suffix": "x", "prefix": "y"}}]}"#,
            "Only one key allowed in match expression",
        ),
        (
            r#"{"a": [{"anything-but": {"equals-ignore-case": 1}}]}"#,
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
        ),
        (
            r#"{"a": [{"anything-but": {"equals-ignore-case": [1]}}]}"#,
            "Inside anything-but/equals-ignore-case list, numberic|start|null|boolean is not supported.",
        ),
        (
            r#"{"a": [{"anything-but": {"equals-ignore-case": null}}]}"#,
            "Value of anything-but must be an array or single string/number value.",
        ),
        (
            r#"{"a": [{"anything-but": {"wildcard": "a**"}}]}"#,
            "Consecutive wildcard characters at pos 2",
        ),
        (
            r#"{"a": [{"anything-but": "x", "b": 1}]}"#,
            "Too many elements in numeric expression",
        ),
        (r#"{"$or": "x"}"#, "\"$or\" must be an object or an array"),
        // A `$or` that fails as the operator is read again as a field, whose list then holds
        // a match expression named "a": that second reading's message is the one given.
        (
            r#"{"$or": [{"a": ["1"]}, ["b"]]}"#,
            "Unrecognized match type a",
        ),
        (r#"{"$or": [{"a": ["1"]}]}"#, "Unrecognized match type a"),
    ];
    for (pattern, message) in cases {
        assert_eq!(refused(pattern), *message, "{pattern}");
    }
    let e = Pattern::parse("{\"a\": [")
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
    assert!(e.starts_with("Event pattern is not valid. Reason: "), "{e}");
}

#[test]
fn or_faults_when_read_as_the_operator() {
    // A reserved name inside a branch fails the operator reading; the field reading then
    // finds a `prefix` expression with a list operand.
    assert_eq!(
        refused(r#"{"$or": [{"prefix": ["x"]}, {"b": ["1"]}]}"#),
        "prefix match pattern must be a string"
    );
    // A limit is final: no second reading.
    let many: Vec<String> = (0..11)
        .map(|i| format!(r#""x{i}": {{"$or": [{{"a": ["1"]}}, {{"b": ["2"]}}]}}"#))
        .collect();
    let text = format!("{{{}}}", many.join(","));
    assert_eq!(
        refused(&text),
        "Event pattern contains more than 1000 rule combinations"
    );
}
