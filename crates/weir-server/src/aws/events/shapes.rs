//! Rules, targets, buses, archives and replays as the API shows them (the model's `Rule`,
//! `Target`, `EventBus`, `Archive`, `Replay`), and a `Target` read back into the bus's
//! [`TargetSpec`]. Members without a value are left out, as AWS leaves them out.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{AwsError, invalid, seconds};
use weir_engine::events::{ArchiveInfo, BusInfo, ReplayInfo, RuleInfo};
use weir_model::events::input::TargetInput;
use weir_model::events::rule_file::{RetryPolicy, TargetSpec};

/// A JSON object of the members that have a value.
fn object(members: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_string(), v)))
            .collect::<Map<String, Value>>(),
    )
}

fn text(value: &Option<String>) -> Option<Value> {
    value.as_ref().map(|v| json!(v))
}

/// A rule as ListRules shows it (`Rule`); DescribeRule adds `CreatedBy`.
pub fn rule(info: &RuleInfo) -> Value {
    object(vec![
        ("Name", Some(json!(info.name))),
        ("Arn", Some(json!(info.arn))),
        ("EventPattern", text(&info.event_pattern)),
        ("State", Some(json!(info.state))),
        ("Description", text(&info.description)),
        ("ScheduleExpression", text(&info.schedule_expression)),
        ("RoleArn", text(&info.role_arn)),
        ("ManagedBy", text(&info.managed_by)),
        ("EventBusName", Some(json!(info.bus))),
    ])
}

/// A target as ListTargetsByRule shows it (the bus keeps targets in that shape).
pub fn target(spec: &TargetSpec) -> Value {
    weir_engine::events::target_json(spec)
}

/// A `Target` of PutTargets (its members already checked against the model) as the bus keeps
/// it; its input checked as PutTargets checks it. A `RoleArn` is accepted and not kept: weir's
/// targets run with the server's own rights.
pub fn target_spec(target: &Value) -> Result<TargetSpec, AwsError> {
    let text = |member: &str| {
        target
            .get(member)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let nested = |member: &str, inner: &str| {
        target
            .get(member)
            .and_then(|value| value.get(inner))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let id = text("Id").unwrap_or_default();
    let given: Vec<&str> = ["Input", "InputPath", "InputTransformer"]
        .into_iter()
        .filter(|member| target.get(*member).is_some_and(|v| !v.is_null()))
        .collect();
    if given.len() > 1 {
        return Err(invalid(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
        )));
    }
    let input = if let Some(input) = text("Input") {
        TargetInput::Constant(input)
    } else if let Some(path) = text("InputPath") {
        TargetInput::Path(path)
    } else if let Some(transformer) = target.get("InputTransformer").filter(|v| v.is_object()) {
        let paths_map: BTreeMap<String, String> = transformer
            .get("InputPathsMap")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(key, path)| Some((key.clone(), path.as_str()?.to_string())))
            .collect();
        TargetInput::Transformer {
            paths_map,
            template: transformer
                .get("InputTemplate")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }
    } else {
        TargetInput::Whole
    };
    input.check(&id).map_err(invalid)?;
    let retry = target.get("RetryPolicy");
    let defaults = RetryPolicy::default();
    let number = |member: &str, default: u32| {
        retry
            .and_then(|policy| policy.get(member))
            .and_then(Value::as_u64)
            .map_or(default, |n| n as u32)
    };
    Ok(TargetSpec {
        id,
        arn: text("Arn").unwrap_or_default(),
        input,
        retry: RetryPolicy {
            maximum_retry_attempts: number("MaximumRetryAttempts", defaults.maximum_retry_attempts),
            maximum_event_age_seconds: number(
                "MaximumEventAgeInSeconds",
                defaults.maximum_event_age_seconds,
            ),
        },
        dead_letter: nested("DeadLetterConfig", "Arn"),
        kinesis_partition_key_path: nested("KinesisParameters", "PartitionKeyPath"),
        sqs_message_group_id: nested("SqsParameters", "MessageGroupId"),
    })
}

/// A bus as ListEventBuses and DescribeEventBus show it (`EventBus`).
pub fn bus(info: &BusInfo) -> Value {
    object(vec![
        ("Name", Some(json!(info.name))),
        ("Arn", Some(json!(info.arn))),
        ("Description", text(&info.description)),
        ("CreationTime", Some(seconds(info.created_ms))),
        ("LastModifiedTime", Some(seconds(info.updated_ms))),
    ])
}

/// An archive as ListArchives shows it (`Archive`).
pub fn archive(info: &ArchiveInfo) -> Value {
    object(vec![
        ("ArchiveName", Some(json!(info.name))),
        ("EventSourceArn", Some(json!(info.source_arn))),
        ("State", Some(json!(info.state))),
        ("RetentionDays", Some(json!(info.retention_days))),
        ("SizeBytes", Some(json!(info.size_bytes))),
        ("EventCount", Some(json!(info.event_count))),
        ("CreationTime", Some(seconds(info.created_ms))),
    ])
}

/// An archive as DescribeArchive shows it: [`archive`] with its ARN, description and pattern.
pub fn archive_description(info: &ArchiveInfo) -> Value {
    let mut shown = archive(info);
    shown["ArchiveArn"] = json!(info.arn);
    if let Some(description) = &info.description {
        shown["Description"] = json!(description);
    }
    if let Some(pattern) = &info.event_pattern {
        shown["EventPattern"] = json!(pattern);
    }
    shown
}

/// A replay as ListReplays shows it (`Replay`).
pub fn replay(info: &ReplayInfo) -> Value {
    object(vec![
        ("ReplayName", Some(json!(info.name))),
        ("EventSourceArn", Some(json!(info.archive_arn))),
        ("State", Some(json!(info.state))),
        ("StateReason", text(&info.state_reason)),
        ("EventStartTime", Some(seconds(info.start_ms))),
        ("EventEndTime", Some(seconds(info.end_ms))),
        ("EventLastReplayedTime", info.last_replayed_ms.map(seconds)),
        ("ReplayStartTime", Some(seconds(info.started_ms))),
        ("ReplayEndTime", info.ended_ms.map(seconds)),
    ])
}

/// A replay as DescribeReplay shows it: [`replay`] with its ARN, description and destination.
pub fn replay_description(info: &ReplayInfo) -> Value {
    let mut shown = replay(info);
    shown["ReplayArn"] = json!(info.arn);
    if let Some(description) = &info.description {
        shown["Description"] = json!(description);
    }
    let mut destination = json!({"Arn": info.destination_arn});
    if !info.filter_arns.is_empty() {
        destination["FilterArns"] = json!(info.filter_arns);
    }
    shown["Destination"] = destination;
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_reads_back_as_it_was_put() {
        let put = json!({
            "Id": "t1",
            "Arn": "arn:aws:sqs:us-east-1:123456789012:q",
            "InputTransformer": {
                "InputPathsMap": {"id": "$.detail.id"},
                "InputTemplate": "{\"id\": <id>}",
            },
            "SqsParameters": {"MessageGroupId": "g"},
            "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 60},
        });
        let spec = target_spec(&put).unwrap();
        assert_eq!(target(&spec), put);
    }

    #[test]
    fn a_target_without_input_or_retry_policy_gets_the_whole_event_and_aws_s_defaults() {
        let spec = target_spec(&json!({"Id": "t", "Arn": "a"})).unwrap();
        assert!(matches!(spec.input, TargetInput::Whole));
        assert_eq!(spec.retry.maximum_retry_attempts, 185);
        assert_eq!(spec.retry.maximum_event_age_seconds, 86_400);
        let both = json!({"Id": "t", "Arn": "a", "Input": "{}", "InputPath": "$.detail"});
        let error = target_spec(&both).err().unwrap();
        assert_eq!(error.code, "ValidationException");
        assert!(error.message.starts_with("Only one of Input, InputPath"));
    }
}
