//! What a rule's target receives: the whole event, a constant (`Input`), part of the event
//! (`InputPath`), or a template filled from the event (`InputTransformer`: `InputPathsMap` and
//! `InputTemplate`), rendered as EventBridge renders them ("Amazon EventBridge input
//! transformation" in the EventBridge user guide), and PutTargets' checks of each with AWS's
//! messages.
//!
//! Paths are JSONPath in the subset EventBridge accepts (dot notation with names that may hold
//! `-`, `_` and `/`, array indexes, wildcards), read and evaluated by [`crate::asl::Path`].
//!
//! A template is a *JSON template* when it is an object (`{…}`): its output is that JSON,
//! minified. Any other template is text, delivered as it reads once filled (a template written
//! as a JSON string keeps its quotes: `"instance <id> is up"` gives `"instance i-1 is up"`). In
//! both, a placeholder `<name>` is filled by its value:
//!
//! - outside quotes in a JSON template, as JSON: a string gains quotes, numbers, booleans, null,
//!   objects and lists are written as they are;
//! - inside quotes, or anywhere in a text template, as text: a string as it is (not escaped:
//!   EventBridge does not escape what a path extracts), objects and lists as JSON without their
//!   quotes (`{key1:value1}`);
//! - a path that finds nothing makes no variable: its placeholder is replaced by nothing, or by
//!   `""` where a JSON template needs a value.
//!
//! The reserved variables: `<aws.events.rule-name>`, `<aws.events.rule-arn>`,
//! `<aws.events.event.ingestion-time>` (ISO 8601), `<aws.events.event>` (the envelope without its
//! `detail`, `detail-type` spelt `detailType` and `time` the ingestion time) and
//! `<aws.events.event.json>` (the whole event); the last two only as the value of a field of a
//! JSON template.
//!
//! How EventBridge delivers each case was checked against recordings of AWS (LocalStack's
//! AWS-validated snapshots of SQS targets) besides the guide's examples.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::asl::{Entropy, Env, Path, path::Root};

/// Most variables in an `InputPathsMap` (botocore: `TransformerPaths`, max 100).
pub const MAX_INPUT_PATHS: usize = 100;
/// Longest `Input` and `InputTemplate` (botocore: 8192).
pub const MAX_INPUT_CHARS: usize = 8192;
/// Longest `InputPath` and `InputPathsMap` value (botocore: 256).
pub const MAX_PATH_CHARS: usize = 256;

pub const RULE_NAME: &str = "aws.events.rule-name";
pub const RULE_ARN: &str = "aws.events.rule-arn";
pub const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
pub const EVENT: &str = "aws.events.event";
pub const EVENT_JSON: &str = "aws.events.event.json";
/// Every reserved variable; none can be defined in an `InputPathsMap`.
pub const RESERVED: [&str; 5] = [RULE_NAME, RULE_ARN, INGESTION_TIME, EVENT, EVENT_JSON];

/// What a target is given for each event it receives. Serialized (for storing a rule's
/// targets) as `"whole"`, `{"constant": TEXT}`, `{"path": PATH}` or
/// `{"transformer": {"paths_map": {…}, "template": TEXT}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetInput {
    /// The whole event (no `Input`, `InputPath` or `InputTransformer`).
    #[default]
    Whole,
    /// `Input`: this JSON text, whatever the event.
    Constant(String),
    /// `InputPath`: the part of the event this path selects.
    Path(String),
    /// `InputTransformer`: variables read from the event by path, filled into a template.
    Transformer {
        paths_map: BTreeMap<String, String>,
        template: String,
    },
}

/// Why an input could not be rendered for an event (the target is then not invoked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    pub message: String,
}

impl InputError {
    fn new(message: impl Into<String>) -> InputError {
        InputError {
            message: message.into(),
        }
    }
}

/// What a render knows besides the event.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    pub rule_name: &'a str,
    pub rule_arn: &'a str,
    /// When the bus received the event.
    pub ingestion_time: DateTime<Utc>,
}

impl TargetInput {
    /// PutTargets' checks for target `target_id`, with the `ValidationException` message AWS
    /// gives. (Lengths and the key pattern are model constraints, checked with the other
    /// members by the protocol; they are checked here too, for rule files.)
    pub fn check(&self, target_id: &str) -> Result<(), String> {
        match self {
            TargetInput::Whole => Ok(()),
            TargetInput::Constant(text) => {
                if text.chars().count() > MAX_INPUT_CHARS
                    || serde_json::from_str::<Value>(text).is_err()
                {
                    return Err(format!(
                        "JSON syntax error in input for target {target_id}."
                    ));
                }
                Ok(())
            }
            TargetInput::Path(path) => {
                parse_path(path).map_err(|_| invalid_path(target_id))?;
                Ok(())
            }
            TargetInput::Transformer {
                paths_map,
                template,
            } => {
                if paths_map.len() > MAX_INPUT_PATHS {
                    return Err(format!(
                        "InputPathsMap for target {target_id} has {} entries; at most {MAX_INPUT_PATHS} are allowed.",
                        paths_map.len()
                    ));
                }
                for (key, path) in paths_map {
                    if !is_variable_name(key) {
                        return Err(format!(
                            "InputPathsMap for target {target_id} has an invalid key {key}: keys are 1 to 256 letters, digits, `_` or `-`."
                        ));
                    }
                    parse_path(path).map_err(|_| invalid_path(target_id))?;
                }
                if template.is_empty() || template.chars().count() > MAX_INPUT_CHARS {
                    return Err(format!(
                        "InputTemplate for target {target_id} must be 1 to {MAX_INPUT_CHARS} characters long."
                    ));
                }
                let json = is_json_template(template);
                for placeholder in placeholders(template) {
                    let name = placeholder.name;
                    let defined = paths_map.contains_key(name) || RESERVED.contains(&name);
                    if !defined {
                        return Err(format!(
                            "InputTemplate for target {target_id} contains invalid placeholder {name}."
                        ));
                    }
                    if (name == EVENT || name == EVENT_JSON) && (!json || placeholder.quoted) {
                        return Err(format!(
                            "InputTemplate for target {target_id} contains placeholder {name} valid only for JSON template."
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// The text the target receives for `event`.
    pub fn render(&self, event: &Value, rule: &RuleContext<'_>) -> Result<String, InputError> {
        match self {
            TargetInput::Whole => Ok(event.to_string()),
            TargetInput::Constant(text) => Ok(text.clone()),
            TargetInput::Path(path) => {
                let path = parse_path(path).map_err(|_| {
                    InputError::new(format!("InputPath {path} is not a valid JSON path"))
                })?;
                match evaluate(&path, event) {
                    Some(value) => Ok(value.to_string()),
                    None => Err(InputError::new(format!(
                        "InputPath {} selects nothing in the event",
                        path.text()
                    ))),
                }
            }
            TargetInput::Transformer {
                paths_map,
                template,
            } => render_template(paths_map, template, event, rule),
        }
    }
}

fn invalid_path(target_id: &str) -> String {
    format!("InputPath for target {target_id} is invalid.")
}

/// `[A-Za-z0-9_-]{1,256}` (botocore: `InputTransformerPathKey`).
pub fn is_variable_name(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 256
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// A path as EventBridge accepts it: from `$`, names in dot notation (not `['quoted']`),
/// indexes and wildcards; nothing else.
pub fn parse_path(text: &str) -> Result<Path, String> {
    if text.chars().count() > MAX_PATH_CHARS {
        return Err(format!("a path is at most {MAX_PATH_CHARS} characters"));
    }
    if !text.starts_with('$') || text.starts_with("$$") {
        return Err("a path starts with `$`".into());
    }
    let quoted_bracket = text.char_indices().any(|(i, c)| {
        c == '[' && matches!(text[i + 1..].trim_start().chars().next(), Some('\'' | '"'))
    });
    if quoted_bracket {
        return Err("use dot notation (`$.a.b`), not brackets".into());
    }
    let path = Path::parse(text).map_err(|e| e.to_string())?;
    if *path.root() != Root::Input || !path.is_simple() {
        return Err("only names, array indexes and wildcards are supported".into());
    }
    Ok(path)
}

/// The value `path` selects in `event` (a list for wildcard paths), None when it selects nothing.
fn evaluate(path: &Path, event: &Value) -> Option<Value> {
    let context = Value::Null;
    let variables = serde_json::Map::new();
    let entropy = Entropy::new(0);
    let env = Env::new(event, &context, &variables, &entropy);
    match path.evaluate(&env) {
        Ok(Value::Array(items)) if !path.is_definite() && items.is_empty() => None,
        Ok(value) => Some(value),
        Err(_) => None,
    }
}

/// A JSON template is an object: `{…}` once surrounding white space is set aside.
pub fn is_json_template(template: &str) -> bool {
    let trimmed = template.trim();
    trimmed.starts_with('{') && trimmed.ends_with('}')
}

/// One `<name>` in a template: its byte range and whether it sits inside a JSON string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placeholder<'t> {
    start: usize,
    end: usize,
    name: &'t str,
    quoted: bool,
}

/// Every placeholder of `template`, in order: `<` then anything but `<`, `>` and line breaks,
/// then `>` (`<` and `>` cannot be escaped). Whether each is inside quotes is read off the
/// template's own `"` (a `\"` does not end a string).
fn placeholders(template: &str) -> Vec<Placeholder<'_>> {
    let bytes = template.as_bytes();
    let mut found = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'<' => {
                let rest = &template[i + 1..];
                if let Some(len) = rest.find(['<', '>', '\n'])
                    && rest[len..].starts_with('>')
                {
                    found.push(Placeholder {
                        start: i,
                        end: i + 1 + len + 1,
                        name: &rest[..len],
                        quoted,
                    });
                    i += len + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

fn render_template(
    paths_map: &BTreeMap<String, String>,
    template: &str,
    event: &Value,
    rule: &RuleContext<'_>,
) -> Result<String, InputError> {
    let json = is_json_template(template);
    let mut out = String::with_capacity(template.len());
    let mut at = 0;
    for placeholder in placeholders(template) {
        out.push_str(&template[at..placeholder.start]);
        at = placeholder.end;
        let Some(value) = variable(placeholder.name, paths_map, event, rule) else {
            // No variable: nothing takes the placeholder's place, but a value of a JSON template
            // becomes an empty string.
            if json && !placeholder.quoted {
                out.push_str("\"\"");
            }
            continue;
        };
        if json && !placeholder.quoted {
            out.push_str(&value.to_string());
        } else {
            out.push_str(&as_text(&value));
        }
    }
    out.push_str(&template[at..]);
    if !json {
        return Ok(out);
    }
    match serde_json::from_str::<Value>(&out) {
        Ok(value) => Ok(value.to_string()),
        Err(e) => Err(InputError::new(format!(
            "the InputTemplate rendered for this event is not valid JSON ({e}): {out}"
        ))),
    }
}

/// The value of variable `name` for this event, None when its path selects nothing (or it is
/// not defined, which PutTargets refuses beforehand).
fn variable(
    name: &str,
    paths_map: &BTreeMap<String, String>,
    event: &Value,
    rule: &RuleContext<'_>,
) -> Option<Value> {
    match name {
        RULE_NAME => Some(Value::String(rule.rule_name.to_string())),
        RULE_ARN => Some(Value::String(rule.rule_arn.to_string())),
        INGESTION_TIME => Some(Value::String(ingestion_time(rule))),
        EVENT => Some(envelope_without_detail(event, &ingestion_time(rule))),
        EVENT_JSON => Some(event.clone()),
        _ => {
            let path = parse_path(paths_map.get(name)?).ok()?;
            evaluate(&path, event)
        }
    }
}

fn ingestion_time(rule: &RuleContext<'_>) -> String {
    rule.ingestion_time
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `<aws.events.event>`: the envelope's fields but `detail`, with `detail-type` spelt
/// `detailType` and `time` the time the bus received the event, as EventBridge writes it.
fn envelope_without_detail(event: &Value, ingestion_time: &str) -> Value {
    let mut out = serde_json::Map::new();
    let Some(fields) = event.as_object() else {
        return Value::Object(out);
    };
    for (key, value) in fields {
        match key.as_str() {
            "detail" => {}
            "detail-type" => {
                out.insert("detailType".into(), value.clone());
            }
            "time" => {
                out.insert("time".into(), Value::String(ingestion_time.to_string()));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// A value written into text: strings as they are, objects and lists as JSON with their quotes
/// removed, other values as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => value.to_string().replace('"', ""),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn ec2_event() -> Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": "2015-11-11T21:29:54Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "count": 3,
                       "tags": ["a", "b"], "meta": {"k": "v"}, "ok": true, "none": null}
        })
    }

    fn rule() -> RuleContext<'static> {
        RuleContext {
            rule_name: "example",
            rule_arn: "arn:aws:events:us-east-2:123456789012:rule/example",
            ingestion_time: Utc.with_ymd_and_hms(2015, 11, 11, 21, 29, 55).unwrap(),
        }
    }

    fn transformer(paths: &[(&str, &str)], template: &str) -> TargetInput {
        TargetInput::Transformer {
            paths_map: paths
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            template: template.to_string(),
        }
    }

    fn render(paths: &[(&str, &str)], template: &str) -> Result<String, InputError> {
        let input = transformer(paths, template);
        assert_eq!(input.check("t1"), Ok(()), "{template}");
        input.render(&ec2_event(), &rule())
    }

    const PATHS: [(&str, &str); 3] = [
        ("timestamp", "$.time"),
        ("instance", "$.detail.instance-id"),
        ("state", "$.detail.state"),
    ];

    #[test]
    fn the_guides_examples() {
        // Simple string: delivered with its quotes.
        assert_eq!(
            render(&PATHS, "\"instance <instance> is in <state>\"").unwrap(),
            "\"instance i-0123456789 is in RUNNING\""
        );
        // String with escaped quotes: the escapes are kept as written.
        assert_eq!(
            render(&PATHS, r#""instance \"<instance>\" is in <state>""#).unwrap(),
            r#""instance \"i-0123456789\" is in RUNNING""#
        );
        // Simple JSON.
        assert_eq!(
            render(
                &PATHS,
                "{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}"
            )
            .unwrap(),
            r#"{"instance":"i-0123456789","state":"RUNNING"}"#
        );
        // JSON with strings and variables.
        assert_eq!(
            render(
                &PATHS,
                r#"{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}"#
            )
            .unwrap(),
            r#"{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"}"#
        );
        // JSON with a mix of variables and static information.
        assert_eq!(
            render(
                &PATHS,
                r#"{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}"#
            )
            .unwrap(),
            r#"{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}"#
        );
        // Reserved variables in JSON.
        let out = render(
            &PATHS,
            r#"{"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>, "originalEvent" : <aws.events.event>, "whole": <aws.events.event.json>}"#,
        )
        .unwrap();
        let out: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            out["ruleArn"],
            "arn:aws:events:us-east-2:123456789012:rule/example"
        );
        assert_eq!(out["ruleName"], "example");
        assert_eq!(out["at"], "2015-11-11T21:29:55.000Z");
        // As AWS writes it: no detail, `detailType`, and the time the bus received the event.
        assert_eq!(
            out["originalEvent"],
            json!({"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
                   "detailType": "EC2 Instance State-change Notification", "source": "aws.ec2",
                   "account": "123456789012", "time": "2015-11-11T21:29:55.000Z",
                   "region": "us-east-1",
                   "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]})
        );
        assert_eq!(out["whole"], ec2_event());
        // Reserved variables in a string.
        assert_eq!(
            render(&PATHS, "\"<aws.events.rule-name> triggered\"").unwrap(),
            "\"example triggered\""
        );
        // Unquoted text (the API reference's first example).
        assert_eq!(
            render(
                &[
                    ("instance", "$.detail.instance-id"),
                    ("status", "$.detail.state")
                ],
                "<instance> is in state <status>"
            )
            .unwrap(),
            "i-0123456789 is in state RUNNING"
        );
    }

    #[test]
    fn values_of_every_type() {
        let paths = [
            ("count", "$.detail.count"),
            ("tags", "$.detail.tags"),
            ("meta", "$.detail.meta"),
            ("ok", "$.detail.ok"),
            ("none", "$.detail.none"),
            ("first", "$.detail.tags[0]"),
            ("resources", "$.resources[*]"),
        ];
        assert_eq!(
            render(&paths, r#"{"c": <count>, "t": <tags>, "m": <meta>, "o": <ok>, "n": <none>, "f": <first>, "r": <resources>}"#).unwrap(),
            r#"{"c":3,"t":["a","b"],"m":{"k":"v"},"o":true,"n":null,"f":"a","r":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]}"#
        );
        // Inside a string, objects and lists lose their quotes.
        assert_eq!(
            render(
                &paths,
                r#"{"s": "c=<count> t=<tags> m=<meta> o=<ok> n=<none>"}"#
            )
            .unwrap(),
            r#"{"s":"c=3 t=[a,b] m={k:v} o=true n=null"}"#
        );
        assert_eq!(
            render(&paths, "\"Detail is <meta>\"").unwrap(),
            "\"Detail is {k:v}\""
        );
    }

    #[test]
    fn missing_paths_make_no_variable() {
        let paths = [("gone", "$.detail.nothing"), ("state", "$.detail.state")];
        assert_eq!(
            render(&paths, "\"[<gone>] <state>\"").unwrap(),
            "\"[] RUNNING\""
        );
        assert_eq!(
            render(&paths, r#"{"a": "x<gone>y", "s": <state>}"#).unwrap(),
            r#"{"a":"xy","s":"RUNNING"}"#
        );
        // Unquoted in a JSON template, an empty string takes the value's place (as AWS
        // delivers `{"command": <command>}` for a path the event lacks: `{"command": ""}`).
        assert_eq!(
            render(&paths, r#"{"a": <gone>, "b": [<gone>]}"#).unwrap(),
            r#"{"a":"","b":[""]}"#
        );
        let wild = [("w", "$.detail.nothing[*]")];
        assert_eq!(render(&wild, "\"<w>!\"").unwrap(), "\"!\"");
    }

    #[test]
    fn text_is_delivered_as_it_reads() {
        let template = "\"Instance <instance>\"\n\"\"\n\"is <state>\"";
        assert_eq!(
            render(&PATHS, template).unwrap(),
            "\"Instance i-0123456789\"\n\"\"\n\"is RUNNING\""
        );
        // A text template that starts like JSON inside its quotes is still text.
        assert_eq!(
            render(&PATHS, "\"{[/Check <state>\"").unwrap(),
            "\"{[/Check RUNNING\""
        );
    }

    #[test]
    fn extracted_strings_are_not_escaped() {
        let event = json!({"detail": {"q": "say \"hi\""}});
        let input = transformer(&[("q", "$.detail.q")], r#"{"a": "<q>", "b": <q>}"#);
        // Unquoted, the string becomes a JSON string; quoted, it is inserted as it is, which here
        // breaks the JSON, as on AWS.
        assert!(input.render(&event, &rule()).is_err());
        let input = transformer(&[("q", "$.detail.q")], r#"{"b": <q>}"#);
        assert_eq!(
            input.render(&event, &rule()).unwrap(),
            r#"{"b":"say \"hi\""}"#
        );
    }

    #[test]
    fn whole_constant_and_path() {
        let event = ec2_event();
        assert_eq!(
            TargetInput::Whole.render(&event, &rule()).unwrap(),
            event.to_string()
        );
        let constant = TargetInput::Constant("{\"fixed\": 1}".into());
        assert_eq!(constant.check("t"), Ok(()));
        assert_eq!(constant.render(&event, &rule()).unwrap(), "{\"fixed\": 1}");
        let path = TargetInput::Path("$.detail.meta".into());
        assert_eq!(path.check("t"), Ok(()));
        assert_eq!(path.render(&event, &rule()).unwrap(), "{\"k\":\"v\"}");
        assert_eq!(
            TargetInput::Path("$.detail.state".into())
                .render(&event, &rule())
                .unwrap(),
            "\"RUNNING\""
        );
        assert_eq!(
            TargetInput::Path("$".into())
                .render(&event, &rule())
                .unwrap(),
            event.to_string()
        );
        assert!(
            TargetInput::Path("$.nope".into())
                .render(&event, &rule())
                .is_err()
        );
    }

    #[test]
    fn put_targets_checks_with_aws_messages() {
        assert_eq!(
            TargetInput::Constant("not json".into()).check("t1"),
            Err("JSON syntax error in input for target t1.".into())
        );
        assert_eq!(
            TargetInput::Constant("\"hello\"".into()).check("t1"),
            Ok(())
        );
        for bad in [
            "detail",
            "$.detail['key']",
            "$[\"a\"]",
            "$..a",
            "$.a[?(@.b)]",
            "$$.a",
            "$x",
            "",
        ] {
            assert_eq!(
                TargetInput::Path(bad.into()).check("t1"),
                Err("InputPath for target t1 is invalid.".into()),
                "{bad}"
            );
        }
        for good in [
            "$",
            "$.detail",
            "$.detail.a-b_c/d",
            "$.detail.a[0]",
            "$.resources[*]",
            "$.a.*",
        ] {
            assert_eq!(TargetInput::Path(good.into()).check("t1"), Ok(()), "{good}");
        }
        assert_eq!(
            transformer(&[("a", "detail")], "<a>").check("t1"),
            Err("InputPath for target t1 is invalid.".into())
        );
        assert_eq!(
            transformer(&[("a", "$.a")], "\"<a> <b>\"").check("t1"),
            Err("InputTemplate for target t1 contains invalid placeholder b.".into())
        );
        for template in [
            "[<aws.events.event.json>]",
            "\"<aws.events.event.json>\"",
            r#"{"a": "<aws.events.event>"}"#,
        ] {
            let name = if template.contains(".json") {
                EVENT_JSON
            } else {
                EVENT
            };
            assert_eq!(
                transformer(&[], template).check("t1"),
                Err(format!(
                    "InputTemplate for target t1 contains placeholder {name} valid only for JSON template."
                )),
                "{template}"
            );
        }
        assert_eq!(
            transformer(&[], r#"{"e": <aws.events.event.json>}"#).check("t1"),
            Ok(())
        );
        assert!(transformer(&[("a.b", "$.a")], "<a.b>").check("t1").is_err());
        let many: Vec<(String, String)> = (0..101)
            .map(|i| (format!("k{i}"), "$.a".to_string()))
            .collect();
        let input = TargetInput::Transformer {
            paths_map: many.into_iter().collect(),
            template: "\"x\"".into(),
        };
        assert!(input.check("t1").is_err());
        assert!(transformer(&[], "").check("t1").is_err());
        // `<` and `>` that enclose no name on one line are plain text.
        assert_eq!(transformer(&[], "\"a < b\"").check("t1"), Ok(()));
    }

    #[test]
    fn inputs_serialize_for_storage() {
        let inputs = [
            TargetInput::Whole,
            TargetInput::Constant("{}".into()),
            TargetInput::Path("$.detail".into()),
            transformer(&[("a", "$.a")], "\"<a>\""),
        ];
        for input in inputs {
            let text = serde_json::to_string(&input).unwrap();
            assert_eq!(
                serde_json::from_str::<TargetInput>(&text).unwrap(),
                input,
                "{text}"
            );
        }
        assert_eq!(
            serde_json::to_string(&TargetInput::Whole).unwrap(),
            "\"whole\""
        );
    }

    proptest! {
        #[test]
        fn never_panics(template in ".{0,60}", path in "\\$?[.a-z\\[\\]0-9*'\"-]{0,12}", key in "[a-z.]{0,4}") {
            let input = TargetInput::Transformer {
                paths_map: [(key, path.clone())].into_iter().collect(),
                template,
            };
            let _ = input.check("t");
            let _ = input.render(&ec2_event(), &rule());
            let by_path = TargetInput::Path(path);
            let _ = by_path.check("t");
            let _ = by_path.render(&ec2_event(), &rule());
        }
    }
}
