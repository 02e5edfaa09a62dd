//! Targets as the store keeps them: EventBridge's own `Target` shape (Id, Arn, Input, InputPath,
//! InputTransformer, RetryPolicy, DeadLetterConfig, KinesisParameters, SqsParameters), so a
//! stored rule reads like ListTargetsByRule's answer. And the checks PutTargets makes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::model::{RetryPolicy, TargetInput, TargetSpec};
use super::names::{RESOURCE_NAME, check_name};

/// AWS's limit on a target id's length.
const MAX_TARGET_ID: usize = 64;

/// A target in EventBridge's `Target` shape.
pub fn to_json(target: &TargetSpec) -> Value {
    let mut out = json!({"Id": target.id, "Arn": target.arn});
    match &target.input {
        TargetInput::Whole => {}
        TargetInput::Constant(text) => out["Input"] = json!(text),
        TargetInput::Path(path) => out["InputPath"] = json!(path),
        TargetInput::Transformer {
            paths_map,
            template,
        } => {
            let mut transformer = json!({"InputTemplate": template});
            // As ListTargetsByRule shows it: no InputPathsMap when there are no paths.
            if !paths_map.is_empty() {
                transformer["InputPathsMap"] = json!(paths_map);
            }
            out["InputTransformer"] = transformer;
        }
    }
    out["RetryPolicy"] = json!({
        "MaximumRetryAttempts": target.retry.maximum_retry_attempts,
        "MaximumEventAgeInSeconds": target.retry.maximum_event_age_seconds,
    });
    if let Some(queue) = &target.dead_letter {
        out["DeadLetterConfig"] = json!({"Arn": queue});
    }
    if let Some(path) = &target.kinesis_partition_key_path {
        out["KinesisParameters"] = json!({"PartitionKeyPath": path});
    }
    if let Some(group) = &target.sqs_message_group_id {
        out["SqsParameters"] = json!({"MessageGroupId": group});
    }
    out
}

/// A target read back from [`to_json`]'s shape; `None` when it is not that shape.
pub fn from_json(value: &Value) -> Option<TargetSpec> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let input = if let Some(constant) = value.get("Input").and_then(text) {
        TargetInput::Constant(constant)
    } else if let Some(path) = value.get("InputPath").and_then(text) {
        TargetInput::Path(path)
    } else if let Some(transformer) = value.get("InputTransformer") {
        let paths_map: BTreeMap<String, String> = transformer
            .get("InputPathsMap")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        TargetInput::Transformer {
            paths_map,
            template: transformer.get("InputTemplate").and_then(text)?,
        }
    } else {
        TargetInput::Whole
    };
    let policy = value.get("RetryPolicy");
    let number = |key: &str, default: u32| {
        policy
            .and_then(|p| p.get(key))
            .and_then(Value::as_u64)
            .map_or(default, |n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let defaults = RetryPolicy::default();
    Some(TargetSpec {
        id: value.get("Id").and_then(text)?,
        arn: value.get("Arn").and_then(text)?,
        input,
        retry: RetryPolicy {
            maximum_retry_attempts: number("MaximumRetryAttempts", defaults.maximum_retry_attempts),
            maximum_event_age_seconds: number(
                "MaximumEventAgeInSeconds",
                defaults.maximum_event_age_seconds,
            ),
        },
        dead_letter: value.pointer("/DeadLetterConfig/Arn").and_then(text),
        kinesis_partition_key_path: value
            .pointer("/KinesisParameters/PartitionKeyPath")
            .and_then(text),
        sqs_message_group_id: value
            .pointer("/SqsParameters/MessageGroupId")
            .and_then(text),
    })
}

/// A target id as PutTargets takes it: 1–64 of `[\.\-_A-Za-z0-9]`. `position` counts from 1.
pub fn check_id(id: &str, position: usize) -> Result<(), String> {
    let member = format!("targets.{position}.member.id");
    check_name(id, &member, MAX_TARGET_ID, RESOURCE_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_through_their_stored_shape() {
        let mut paths_map = BTreeMap::new();
        paths_map.insert("k".to_string(), "$.detail.k".to_string());
        let inputs = [
            TargetInput::Whole,
            TargetInput::Constant(r#"{"a": 1}"#.into()),
            TargetInput::Path("$.detail".into()),
            TargetInput::Transformer {
                paths_map,
                template: r#"{"k": <k>}"#.into(),
            },
        ];
        for input in inputs {
            let target = TargetSpec {
                id: "t.1".into(),
                arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
                input,
                retry: RetryPolicy {
                    maximum_retry_attempts: 3,
                    maximum_event_age_seconds: 60,
                },
                dead_letter: Some("arn:aws:sqs:us-east-1:000000000000:dlq".into()),
                kinesis_partition_key_path: Some("$.id".into()),
                sqs_message_group_id: Some("g".into()),
            };
            assert_eq!(from_json(&to_json(&target)), Some(target));
        }
    }

    #[test]
    fn target_ids_are_checked_with_aws_words() {
        assert!(check_id("a.b-c_D9", 1).is_ok());
        assert_eq!(
            check_id("a b", 2).unwrap_err(),
            "1 validation error detected: Value 'a b' at 'targets.2.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
        );
        assert!(
            check_id(&"x".repeat(65), 1)
                .unwrap_err()
                .contains("less than or equal to 64")
        );
        assert!(check_id("", 1).is_err());
    }
}
