//! Queue attributes as SQS defines them (CreateQueue, SetQueueAttributes, GetQueueAttributes):
//! their names, defaults, limits and the texts of SQS's refusals. A queue stores the attributes
//! set on it, normalised; [`Settings`] is what the service reads of them, defaults filled in.

use std::collections::BTreeMap;

use super::error::QueueError;

pub const DEFAULT_VISIBILITY_TIMEOUT: u32 = 30;
pub const MAX_VISIBILITY_TIMEOUT: u32 = 43_200;
pub const MAX_DELAY_SECONDS: u32 = 900;
pub const MIN_MESSAGE_SIZE_LIMIT: u32 = 1_024;
/// SQS takes messages of up to 1 MiB, and that is a new queue's MaximumMessageSize.
pub const MAX_MESSAGE_SIZE: u32 = 1_048_576;
pub const DEFAULT_RETENTION: u32 = 345_600;
pub const MIN_RETENTION: u32 = 60;
pub const MAX_RETENTION: u32 = 1_209_600;
pub const MAX_WAIT_SECONDS: u32 = 20;
pub const MAX_RECEIVE_COUNT: u32 = 1_000;

/// Attributes a caller may set (FifoQueue only when creating).
const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

/// Attributes only FIFO queues have.
const FIFO_ONLY: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

/// Attributes GetQueueAttributes can name besides the settable ones.
const READ_ONLY: &[&str] = &[
    "All",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// A queue's redrive policy: where messages go after `max_receive_count` receives.
#[derive(Debug, Clone, PartialEq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

/// What the service reads of a queue's attributes, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub fifo: bool,
    pub delay_seconds: u32,
    pub maximum_message_size: u32,
    pub retention_seconds: u32,
    pub wait_seconds: u32,
    pub visibility_timeout: u32,
    pub redrive: Option<RedrivePolicy>,
    pub content_based_deduplication: bool,
    /// DeduplicationScope is `messageGroup`.
    pub dedup_per_group: bool,
}

impl Settings {
    /// Reads normalised attributes (as [`check`] returns them).
    pub fn of(attributes: &BTreeMap<String, String>) -> Settings {
        let number = |name: &str, default: u32| {
            attributes
                .get(name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Settings {
            fifo: attributes.get("FifoQueue").is_some_and(|v| v == "true"),
            delay_seconds: number("DelaySeconds", 0),
            maximum_message_size: number("MaximumMessageSize", MAX_MESSAGE_SIZE),
            retention_seconds: number("MessageRetentionPeriod", DEFAULT_RETENTION),
            wait_seconds: number("ReceiveMessageWaitTimeSeconds", 0),
            visibility_timeout: number("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT),
            redrive: attributes
                .get("RedrivePolicy")
                .and_then(|text| parse_redrive(text).ok()),
            content_based_deduplication: attributes
                .get("ContentBasedDeduplication")
                .is_some_and(|v| v == "true"),
            dedup_per_group: attributes
                .get("DeduplicationScope")
                .is_some_and(|v| v == "messageGroup"),
        }
    }
}

/// The effective value of every settable attribute of a queue (what GetQueueAttributes shows
/// of them), from the attributes set on it.
pub(crate) fn effective(attributes: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let settings = Settings::of(attributes);
    let mut shown = BTreeMap::new();
    let mut put = |name: &str, value: String| {
        shown.insert(name.to_string(), value);
    };
    put("DelaySeconds", settings.delay_seconds.to_string());
    put(
        "MaximumMessageSize",
        settings.maximum_message_size.to_string(),
    );
    put(
        "MessageRetentionPeriod",
        settings.retention_seconds.to_string(),
    );
    put(
        "ReceiveMessageWaitTimeSeconds",
        settings.wait_seconds.to_string(),
    );
    put("VisibilityTimeout", settings.visibility_timeout.to_string());
    put("SqsManagedSseEnabled", "true".to_string());
    if settings.fifo {
        put("FifoQueue", "true".to_string());
        put(
            "ContentBasedDeduplication",
            settings.content_based_deduplication.to_string(),
        );
        put("DeduplicationScope", "queue".to_string());
        put("FifoThroughputLimit", "perQueue".to_string());
    }
    for (name, value) in attributes {
        if name != "FifoQueue" || settings.fifo {
            shown.insert(name.clone(), value.clone());
        }
    }
    if attributes.contains_key("KmsMasterKeyId") && !attributes.contains_key("SqsManagedSseEnabled")
    {
        shown.remove("SqsManagedSseEnabled");
    }
    shown
}

/// Checks attributes a caller gives CreateQueue (`creating`) or SetQueueAttributes for a queue
/// of the given kind, and returns them normalised (numbers without leading zeros, booleans in
/// lowercase, the redrive policy re-serialised as SQS shows it).
pub(crate) fn check(
    given: &BTreeMap<String, String>,
    fifo: bool,
    creating: bool,
) -> Result<BTreeMap<String, String>, QueueError> {
    let mut normalised = BTreeMap::new();
    for (name, value) in given {
        let known = SETTABLE.contains(&name.as_str());
        if !known
            || (!fifo && FIFO_ONLY.contains(&name.as_str()))
            || (!creating && name == "FifoQueue")
        {
            return Err(QueueError::InvalidAttributeName(name.clone()));
        }
        let invalid = || {
            QueueError::InvalidAttributeValue(format!("Invalid value for the parameter {name}."))
        };
        let value = match name.as_str() {
            "DelaySeconds" => number(value, 0, MAX_DELAY_SECONDS).ok_or_else(invalid)?,
            "MaximumMessageSize" => {
                number(value, MIN_MESSAGE_SIZE_LIMIT, MAX_MESSAGE_SIZE).ok_or_else(invalid)?
            }
            "MessageRetentionPeriod" => {
                number(value, MIN_RETENTION, MAX_RETENTION).ok_or_else(invalid)?
            }
            "ReceiveMessageWaitTimeSeconds" => {
                number(value, 0, MAX_WAIT_SECONDS).ok_or_else(invalid)?
            }
            "VisibilityTimeout" => number(value, 0, MAX_VISIBILITY_TIMEOUT).ok_or_else(invalid)?,
            "KmsDataKeyReusePeriodSeconds" => number(value, 60, 86_400).ok_or_else(invalid)?,
            "SqsManagedSseEnabled" | "ContentBasedDeduplication" => {
                boolean(value).ok_or_else(invalid)?
            }
            "FifoQueue" => {
                let fifo_value = boolean(value).ok_or_else(invalid)?;
                if (fifo_value == "true") != fifo {
                    return Err(if fifo {
                        invalid()
                    } else {
                        QueueError::InvalidParameterValue(FIFO_NAME.to_string())
                    });
                }
                fifo_value
            }
            "DeduplicationScope" => match value.as_str() {
                "queue" | "messageGroup" => value.clone(),
                _ => return Err(invalid()),
            },
            "FifoThroughputLimit" => match value.as_str() {
                "perQueue" | "perMessageGroupId" => value.clone(),
                _ => return Err(invalid()),
            },
            "RedrivePolicy" => {
                if value.is_empty() {
                    String::new()
                } else {
                    let policy = parse_redrive(value)?;
                    serde_json::json!({
                        "deadLetterTargetArn": policy.dead_letter_target_arn,
                        "maxReceiveCount": policy.max_receive_count,
                    })
                    .to_string()
                }
            }
            "Policy" | "RedriveAllowPolicy" => {
                if !value.is_empty() && serde_json::from_str::<serde_json::Value>(value).is_err() {
                    return Err(invalid());
                }
                value.clone()
            }
            _ => value.clone(),
        };
        normalised.insert(name.clone(), value);
    }
    if normalised.get("FifoThroughputLimit").map(String::as_str) == Some("perMessageGroupId")
        && normalised.get("DeduplicationScope").map(String::as_str) == Some("queue")
    {
        return Err(QueueError::InvalidAttributeValue(
            "Invalid value for the parameter FifoThroughputLimit. Reason: FifoThroughputLimit perMessageGroupId requires DeduplicationScope messageGroup.".to_string(),
        ));
    }
    Ok(normalised)
}

/// Checks the names GetQueueAttributes asks for.
pub(crate) fn check_names(names: &[String]) -> Result<(), QueueError> {
    match names
        .iter()
        .find(|n| !SETTABLE.contains(&n.as_str()) && !READ_ONLY.contains(&n.as_str()))
    {
        Some(unknown) => Err(QueueError::InvalidAttributeName(unknown.clone())),
        None => Ok(()),
    }
}

pub(crate) const FIFO_NAME: &str = "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.";
pub(crate) const STANDARD_NAME: &str =
    "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length";

/// Checks a queue name for its kind: 1–80 characters of `[A-Za-z0-9_-]`, plus `.fifo` for a
/// FIFO queue (counted in the 80).
pub(crate) fn check_name(name: &str, fifo: bool) -> Result<(), QueueError> {
    let stem = if fifo {
        name.strip_suffix(".fifo")
    } else {
        Some(name)
    };
    let valid = stem.is_some_and(|stem| {
        !stem.is_empty()
            && name.len() <= 80
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if valid {
        Ok(())
    } else {
        Err(QueueError::InvalidParameterValue(
            if fifo { FIFO_NAME } else { STANDARD_NAME }.to_string(),
        ))
    }
}

/// Parses a RedrivePolicy's JSON (maxReceiveCount as a number or a string, as SQS takes it).
pub(crate) fn parse_redrive(text: &str) -> Result<RedrivePolicy, QueueError> {
    let invalid = |reason: &str| {
        QueueError::InvalidParameterValue(format!(
            "Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"
        ))
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| invalid("Redrive policy is not a valid JSON map."))?;
    let Some(object) = value.as_object() else {
        return Err(invalid("Redrive policy is not a valid JSON map."));
    };
    let arn = match object.get("deadLetterTargetArn") {
        Some(serde_json::Value::String(arn)) => arn.clone(),
        _ => {
            return Err(invalid(
                "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
            ));
        }
    };
    let count = match object.get("maxReceiveCount") {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        None => {
            return Err(invalid(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ));
        }
        Some(_) => None,
    };
    let count = count
        .filter(|c| (1..=i64::from(MAX_RECEIVE_COUNT)).contains(c))
        .ok_or_else(|| {
            invalid(&format!(
                "Invalid value for maxReceiveCount: {}, valid values are from 1 to {MAX_RECEIVE_COUNT} both inclusive.",
                object.get("maxReceiveCount").map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default()
            ))
        })?;
    if let Some(other) = object
        .keys()
        .find(|k| *k != "deadLetterTargetArn" && *k != "maxReceiveCount")
    {
        return Err(invalid(&format!(
            "Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount]. Found: {other}"
        )));
    }
    Ok(RedrivePolicy {
        dead_letter_target_arn: arn,
        max_receive_count: count as u32,
    })
}

/// An integer in `min..=max`, normalised.
fn number(value: &str, min: u32, max: u32) -> Option<String> {
    let n: u64 = value.trim().parse().ok()?;
    (u64::from(min)..=u64::from(max))
        .contains(&n)
        .then(|| n.to_string())
}

fn boolean(value: &str) -> Option<String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Some("true".to_string()),
        "false" => Some("false".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_out_of_range_are_refused_in_sqs_words() {
        for (name, value) in [
            ("VisibilityTimeout", "43201"),
            ("DelaySeconds", "901"),
            ("MessageRetentionPeriod", "59"),
            ("MaximumMessageSize", "1023"),
            ("MaximumMessageSize", "1048577"),
            ("ReceiveMessageWaitTimeSeconds", "21"),
            ("VisibilityTimeout", "-1"),
            ("VisibilityTimeout", "ten"),
        ] {
            let error = check(&attrs(&[(name, value)]), false, true).unwrap_err();
            assert_eq!(error.code(), "InvalidAttributeValue");
            assert_eq!(
                error.to_string(),
                format!("Invalid value for the parameter {name}.")
            );
        }
        let ok = check(&attrs(&[("VisibilityTimeout", "043200")]), false, true).unwrap();
        assert_eq!(ok["VisibilityTimeout"], "43200");
    }

    #[test]
    fn unknown_and_fifo_only_names_are_unknown_attributes() {
        let error = check(&attrs(&[("Colour", "red")]), false, true).unwrap_err();
        assert_eq!(error.to_string(), "Unknown Attribute Colour.");
        assert_eq!(error.code(), "InvalidAttributeName");
        let error = check(
            &attrs(&[("ContentBasedDeduplication", "true")]),
            false,
            true,
        );
        assert_eq!(
            error.unwrap_err(),
            QueueError::InvalidAttributeName("ContentBasedDeduplication".into())
        );
        assert!(check(&attrs(&[("ContentBasedDeduplication", "TRUE")]), true, true).is_ok());
        assert!(check(&attrs(&[("FifoQueue", "true")]), true, false).is_err());
        assert!(check_names(&["All".into(), "QueueArn".into()]).is_ok());
        assert!(check_names(&["Nope".into()]).is_err());
    }

    #[test]
    fn redrive_policies_are_checked_and_normalised() {
        let arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
        let given = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"5"}}"#);
        let ok = check(&attrs(&[("RedrivePolicy", &given)]), false, true).unwrap();
        assert_eq!(
            ok["RedrivePolicy"],
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":5}}"#)
        );
        let error = parse_redrive(&format!(r#"{{"deadLetterTargetArn":"{arn}"}}"#)).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount."
            ),
            "{error}"
        );
        let error = parse_redrive(&format!(
            r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":0}}"#
        ))
        .unwrap_err();
        assert!(
            error.to_string().ends_with(
                "Reason: Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."
            ),
            "{error}"
        );
    }

    #[test]
    fn names_follow_the_queue_kind() {
        assert!(check_name("orders-1_a", false).is_ok());
        assert!(check_name("orders.fifo", true).is_ok());
        assert_eq!(
            check_name("orders.fifo", false).unwrap_err().to_string(),
            STANDARD_NAME
        );
        assert_eq!(
            check_name("orders", true).unwrap_err().to_string(),
            FIFO_NAME
        );
        assert!(check_name(&"a".repeat(81), false).is_err());
        assert!(check_name(&format!("{}.fifo", "a".repeat(75)), true).is_ok());
        assert!(check_name(&format!("{}.fifo", "a".repeat(76)), true).is_err());
        assert!(check_name("", false).is_err());
    }

    #[test]
    fn defaults_are_shown_with_what_was_set() {
        let shown = effective(&attrs(&[("VisibilityTimeout", "60")]));
        assert_eq!(shown["VisibilityTimeout"], "60");
        assert_eq!(shown["MessageRetentionPeriod"], "345600");
        assert_eq!(shown["MaximumMessageSize"], "1048576");
        assert!(!shown.contains_key("FifoQueue"));
        let fifo = effective(&attrs(&[("FifoQueue", "true")]));
        assert_eq!(fifo["ContentBasedDeduplication"], "false");
        assert_eq!(fifo["DeduplicationScope"], "queue");
    }
}
