//! The protocol's checks through its entry point, as a client meets them: members against the
//! model in AWS's words, roles and grants.

use std::sync::Arc;

use serde_json::{Value, json};
use weir_engine::access::Caller;
use weir_model::access::{Grants, Role};

use super::*;
use crate::auth::{Identity, Via};

fn identity(role: Role, buses: &[&str]) -> Identity {
    Identity {
        caller: Some(Arc::new(Caller {
            name: "ci".into(),
            role,
            grants: Grants {
                pipelines: buses.iter().map(|b| b.to_string()).collect(),
                ..Grants::default()
            },
            expires_at: None,
        })),
        via: Via::Bearer,
    }
}

fn events() -> Events {
    Events
}

/// The refusal of `operation` on `body` by an admin granted everything, as `CODE: message`.
async fn refusal(operation: &str, body: Value) -> String {
    refusal_for(&identity(Role::Admin, &[]), operation, body).await
}

async fn refusal_for(identity: &Identity, operation: &str, body: Value) -> String {
    let mut note = AuditNote::default();
    match answer(&events(), identity, operation, &body, &mut note).await {
        Ok(answer) => panic!("{operation} was not refused: {answer}"),
        Err(error) => format!("{}: {}", error.code, error.message),
    }
}

#[tokio::test]
async fn members_are_checked_against_the_model_in_aws_words() {
    assert_eq!(
        refusal("PutRule", json!({"Name": "my rule"})).await,
        "ValidationException: 1 validation error detected: Value 'my rule' at 'name' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
    );
    assert_eq!(
        refusal("PutRule", json!({"Name": "r", "State": "ON"})).await,
        "ValidationException: 1 validation error detected: Value 'ON' at 'state' failed to \
         satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, \
         ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
    );
    let entry = json!({"Source": "s", "DetailType": "t", "Detail": "{}"});
    assert_eq!(
        refusal("PutEvents", json!({"Entries": vec![entry.clone(); 11]})).await,
        format!(
            "ValidationException: 1 validation error detected: Value '[{}]' at 'entries' failed \
             to satisfy constraint: Member must have length less than or equal to 10",
            ["…"; 11].join(", ")
        )
    );
    assert_eq!(
        refusal("PutEvents", json!({"Entries": []})).await,
        "ValidationException: 1 validation error detected: Value '[]' at 'entries' failed to \
         satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        refusal(
            "PutEvents",
            json!({"Entries": [{"Source": "s", "EventBusName": "a/b"}]})
        )
        .await,
        "ValidationException: 1 validation error detected: Value 'a/b' at \
         'entries.1.member.eventBusName' failed to satisfy constraint: Member must satisfy \
         regular expression pattern: (arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+"
    );
    assert_eq!(
        refusal(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": "a", "RetryPolicy": {"MaximumRetryAttempts": 186, "MaximumEventAgeInSeconds": 59}}]})
        )
        .await,
        "ValidationException: 2 validation errors detected: Value '186' at \
         'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: \
         Member must have value less than or equal to 185; Value '59' at \
         'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: \
         Member must have value greater than or equal to 60"
    );
    assert_eq!(
        refusal(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "a b"}]})
        )
        .await,
        "ValidationException: 2 validation errors detected: Value 'a b' at \
         'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular \
         expression pattern: [\\.\\-_A-Za-z0-9]+; Value null at 'targets.1.member.arn' failed \
         to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        refusal(
            "RemoveTargets",
            json!({"Rule": "r", "Ids": ["ok", "not ok"]})
        )
        .await,
        "ValidationException: 1 validation error detected: Value '[ok, not ok]' at 'ids' failed \
         to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular \
         expression pattern: [\\.\\-_A-Za-z0-9]+]"
    );
    assert_eq!(
        refusal("ListRules", json!({"Limit": 0})).await,
        "ValidationException: 1 validation error detected: Value '0' at 'limit' failed to \
         satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        refusal(
            "ListArchives",
            json!({"NamePrefix": "a", "State": "ENABLED"})
        )
        .await,
        "ValidationException: At most one filter is allowed for ListArchives. Use either : \
         State, EventSourceArn, or NamePrefix."
    );
    assert_eq!(
        refusal("ListReplays", json!({"State": "DONE"})).await,
        "ValidationException: 1 validation error detected: Value 'DONE' at 'state' failed to \
         satisfy constraint: Member must satisfy enum value set: [STARTING, RUNNING, \
         CANCELLING, COMPLETED, CANCELLED, FAILED]"
    );
    assert_eq!(
        refusal(
            "CreateArchive",
            json!({"ArchiveName": "a", "EventSourceArn": "orders"})
        )
        .await,
        "ValidationException: 1 validation error detected: Value 'orders' at 'eventSourceArn' \
         failed to satisfy constraint: Member must satisfy regular expression pattern: \
         ^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:.+\\/.+$"
    );
    assert_eq!(
        refusal("TestEventPattern", json!({"EventPattern": "{}"})).await,
        "ValidationException: 1 validation error detected: Value null at 'event' failed to \
         satisfy constraint: Member must not be null"
    );
    assert_eq!(
        refusal("DescribeRule", json!({"Name": true})).await,
        "SerializationException: class java.lang.Boolean can not be converted to an String"
    );
    assert_eq!(
        refusal(
            "StartReplay",
            json!({"ReplayName": "r", "EventSourceArn": "arn:aws:events:us-east-1:123456789012:archive/a", "EventStartTime": "yesterday", "EventEndTime": 1, "Destination": {"Arn": "x"}})
        )
        .await,
        "SerializationException: class java.lang.String can not be converted to a Timestamp"
    );
}

#[tokio::test]
async fn roles_and_grants_are_checked_before_anything_runs() {
    let viewer = identity(Role::Viewer, &[]);
    assert_eq!(
        refusal_for(&viewer, "PutEvents", json!({"Entries": []})).await,
        "AccessDeniedException: User: ci is not authorized to perform: events:PutEvents (the \
         operation needs role operator)"
    );
    let narrowed = identity(Role::Admin, &["orders"]);
    assert_eq!(
        refusal_for(
            &narrowed,
            "PutRule",
            json!({"Name": "r", "EventBusName": "orders"})
        )
        .await,
        "AccessDeniedException: User: ci is not authorized to perform: events:PutRule on \
         resource: the event buses (shaping rules, targets, buses, archives and replays needs a \
         credential without grants: a rule starts pipelines, state machines, functions, streams \
         and queues) (not in the credential's grants)"
    );
    // Every entry's bus, the default one where an entry names none.
    let entries = json!({"Entries": [
        {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "orders"},
        {"Source": "s", "DetailType": "t", "Detail": "{}"},
    ]});
    assert_eq!(
        refusal_for(&narrowed, "PutEvents", entries).await,
        "AccessDeniedException: User: ci is not authorized to perform: events:PutEvents on \
         resource: event bus default (not in the credential's grants)"
    );
    let by_arn = json!({"ResourceARN": "arn:aws:events:us-east-1:123456789012:rule/billing/r"});
    assert_eq!(
        refusal_for(&narrowed, "ListTagsForResource", by_arn).await,
        "AccessDeniedException: User: ci is not authorized to perform: events:ListTagsForResource \
         on resource: event bus billing (not in the credential's grants)"
    );
    let viewer_narrowed = identity(Role::Viewer, &["orders"]);
    assert_eq!(
        refusal_for(&viewer_narrowed, "Nope", json!({})).await,
        "AccessDeniedException: User: ci is not authorized to perform: events:Nope (the \
         operation needs role admin)"
    );
    assert_eq!(
        refusal("Nope", json!({})).await,
        "UnknownOperationException: AWSEvents.Nope is not supported by this server"
    );
}

#[test]
fn buses_are_named_by_name_arn_or_rule_arn() {
    assert_eq!(bus_of(None), "default");
    assert_eq!(bus_of(Some("orders")), "orders");
    assert_eq!(
        bus_of(Some(
            "arn:aws:events:us-east-1:123456789012:event-bus/orders"
        )),
        "orders"
    );
    assert_eq!(
        bus_of_resource("arn:aws:events:us-east-1:123456789012:rule/r1").as_deref(),
        Some("default")
    );
    assert_eq!(
        bus_of_resource("arn:aws:events:us-east-1:123456789012:rule/orders/r1").as_deref(),
        Some("orders")
    );
    assert_eq!(
        bus_of_resource("arn:aws:events:us-east-1:123456789012:event-bus/orders").as_deref(),
        Some("orders")
    );
    assert_eq!(
        bus_of_resource("arn:aws:events:us-east-1:123456789012:archive/a"),
        None
    );
}

#[test]
fn pages_go_on_where_the_token_left_off() {
    let names: Vec<String> = ["c", "a", "b", "d", "e"].map(String::from).to_vec();
    let first = json!({"Limit": 2});
    let (items, token) = page(&Request(&first), names.clone(), |s| s.as_str()).unwrap();
    assert_eq!(items, ["a", "b"]);
    let token = token.unwrap();
    let second = json!({"Limit": 2, "NextToken": token});
    let (items, token) = page(&Request(&second), names.clone(), |s| s.as_str()).unwrap();
    assert_eq!(items, ["c", "d"]);
    let third = json!({"Limit": 2, "NextToken": token.unwrap()});
    let (items, token) = page(&Request(&third), names.clone(), |s| s.as_str()).unwrap();
    assert_eq!((items, token), (vec!["e".to_string()], None));
    let all = json!({});
    assert_eq!(
        page(&Request(&all), names.clone(), |s| s.as_str())
            .unwrap()
            .0
            .len(),
        5
    );
    let forged = json!({"NextToken": "x"});
    let error = page(&Request(&forged), names, |s| s.as_str()).unwrap_err();
    assert_eq!(error.code, "ValidationException");
}

async fn answer_of(operation: &str, body: Value) -> Value {
    let mut note = AuditNote::default();
    match answer(
        &events(),
        &identity(Role::Viewer, &[]),
        operation,
        &body,
        &mut note,
    )
    .await
    {
        Ok(answer) => answer,
        Err(error) => panic!("{operation}: {}: {}", error.code, error.message),
    }
}

#[tokio::test]
async fn test_event_pattern_matches_whole_events_with_the_bus_s_patterns() {
    let event = json!({
        "version": "0", "id": "6a7e8feb", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-12-06T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"bucket": {"name": "lake"}, "object": {"size": 2048}},
    })
    .to_string();
    let test = |pattern: Value| json!({"EventPattern": pattern.to_string(), "Event": event});
    assert_eq!(
        answer_of(
            "TestEventPattern",
            test(json!({"source": ["aws.s3"], "detail": {"object": {"size": [{"numeric": [">", 1024]}]}}}))
        )
        .await,
        json!({"Result": true})
    );
    assert_eq!(
        answer_of(
            "TestEventPattern",
            test(json!({"detail": {"bucket": {"name": [{"prefix": "raw"}]}}}))
        )
        .await,
        json!({"Result": false})
    );
    let refused = refusal("TestEventPattern", test(json!({"source": "aws.s3"}))).await;
    assert!(
        refused.starts_with("InvalidEventPatternException: Event pattern is not valid. Reason: "),
        "{refused}"
    );
    assert_eq!(
        refusal(
            "TestEventPattern",
            json!({"EventPattern": "{\"source\": [\"s\"]}", "Event": "{\"source\": \"s\"}"})
        )
        .await,
        "ValidationException: Parameter Event is not valid."
    );
}

#[tokio::test]
async fn what_the_bus_would_refuse_whole_is_refused_before_it_is_asked() {
    let detail = json!({"blob": "x".repeat(200 * 1024)}).to_string();
    let entry = json!({"Source": "s", "DetailType": "t", "Detail": detail});
    assert_eq!(
        refusal("PutEvents", json!({"Entries": [entry.clone(), entry]})).await,
        "ValidationException: Total size of the entries in the request is over the limit."
    );
    assert_eq!(
        refusal(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "t1", "Arn": "a", "Input": "{not json"}]})
        )
        .await,
        "ValidationException: JSON syntax error in input for target t1."
    );
    assert_eq!(
        refusal(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "t1", "Arn": "a", "InputTransformer": {"InputTemplate": "{\"a\": <missing>}"}}]})
        )
        .await,
        "ValidationException: InputTemplate for target t1 contains invalid placeholder missing."
    );
}
