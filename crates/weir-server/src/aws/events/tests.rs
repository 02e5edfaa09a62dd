//! The protocol's checks through its entry point, as a client meets them: members against the
//! model in AWS's words, roles and grants.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use weir_engine::access::Caller;
use weir_engine::events::model::{Event, TargetSpec};
use weir_engine::events::{EventsOptions, TargetError, TargetInvoker};
use weir_model::access::{Grants, Role};
use weir_stream::{Streams, StreamsConfig};

use super::*;
use crate::auth::{Identity, Via};

/// Targets that take every event, and remember what each was given.
#[derive(Default)]
struct Recorder {
    delivered: Mutex<Vec<(String, String)>>,
}

#[async_trait::async_trait]
impl TargetInvoker for Recorder {
    async fn deliver(
        &self,
        target: &TargetSpec,
        input: String,
        _event: &Event,
    ) -> Result<(), TargetError> {
        if let Ok(mut delivered) = self.delivered.lock() {
            delivered.push((target.arn.clone(), input));
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        _queue_arn: &str,
        _body: String,
        _attributes: BTreeMap<String, String>,
    ) -> Result<(), TargetError> {
        Ok(())
    }
}

/// A real bus on SQLite and stream files in a temporary folder, delivering to a [`Recorder`].
struct Bus {
    events: Events,
    targets: Arc<Recorder>,
    _dir: tempfile::TempDir,
}

impl Bus {
    async fn start() -> Bus {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = weir_store::open(&format!("sqlite://{}/weir.db", dir.path().display()))
            .await
            .expect("store");
        let committer = weir_store::Committer::start(Arc::clone(&store));
        let config = StreamsConfig::new(dir.path().join("streams"), "us-east-1", "000000000000");
        let streams = Streams::open(config, Arc::clone(&store), committer.clone())
            .await
            .expect("streams");
        let targets = Arc::new(Recorder::default());
        let invoker: Arc<dyn TargetInvoker> = targets.clone();
        let options = EventsOptions::new(store, committer, streams, dir.path().into(), invoker);
        let events = Events::start(options).await.expect("the bus starts");
        Bus {
            events,
            targets,
            _dir: dir,
        }
    }

    /// What `identity` is answered for `operation` on `body`.
    async fn call(&self, identity: &Identity, operation: &str, body: Value) -> Answer {
        let mut note = AuditNote::default();
        answer(Some(&self.events), identity, operation, &body, &mut note).await
    }

    /// The answer an admin granted everything gets.
    async fn ok(&self, operation: &str, body: Value) -> Value {
        match self.call(&admin(), operation, body).await {
            Ok(answer) => answer,
            Err(error) => panic!("{operation}: {}: {}", error.code, error.message),
        }
    }

    /// The refusal an admin granted everything gets, as `CODE: message`.
    async fn refusal(&self, operation: &str, body: Value) -> String {
        self.refusal_for(&admin(), operation, body).await
    }

    async fn refusal_for(&self, identity: &Identity, operation: &str, body: Value) -> String {
        match self.call(identity, operation, body).await {
            Ok(answer) => panic!("{operation} was not refused: {answer}"),
            Err(error) => format!("{}: {}", error.code, error.message),
        }
    }
}

#[tokio::test]
async fn a_server_without_a_bus_checks_the_caller_first_then_answers_as_for_an_unknown_operation() {
    let mut note = AuditNote::default();
    let body = json!({"Entries": []});
    let refused = answer(
        None,
        &identity(Role::Viewer, &[]),
        "PutEvents",
        &body,
        &mut note,
    )
    .await
    .err()
    .map(|e| e.code);
    assert_eq!(refused, Some("AccessDeniedException"));
    let unknown = answer(None, &admin(), "PutEvents", &body, &mut note)
        .await
        .err()
        .map(|e| (e.code, e.message));
    assert_eq!(
        unknown,
        Some((
            "UnknownOperationException",
            "operation AWSEvents.PutEvents is not supported by this server".to_string()
        ))
    );
}

fn admin() -> Identity {
    identity(Role::Admin, &[])
}

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

#[tokio::test]
async fn members_are_checked_against_the_model_in_aws_words() {
    let bus = Bus::start().await;
    assert_eq!(
        bus.refusal("PutRule", json!({"Name": "my rule"})).await,
        "ValidationException: 1 validation error detected: Value 'my rule' at 'name' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
    );
    assert_eq!(
        bus.refusal("PutRule", json!({"Name": "r", "State": "ON"}))
            .await,
        "ValidationException: 1 validation error detected: Value 'ON' at 'state' failed to \
         satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, \
         ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
    );
    let entry = json!({"Source": "s", "DetailType": "t", "Detail": "{}"});
    assert_eq!(
        bus.refusal("PutEvents", json!({"Entries": vec![entry.clone(); 11]}))
            .await,
        format!(
            "ValidationException: 1 validation error detected: Value '[{}]' at 'entries' failed \
             to satisfy constraint: Member must have length less than or equal to 10",
            ["…"; 11].join(", ")
        )
    );
    assert_eq!(
        bus.refusal("PutEvents", json!({"Entries": []})).await,
        "ValidationException: 1 validation error detected: Value '[]' at 'entries' failed to \
         satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        bus.refusal(
            "PutEvents",
            json!({"Entries": [{"Source": "s", "EventBusName": "a/b"}]})
        )
        .await,
        "ValidationException: 1 validation error detected: Value 'a/b' at \
         'entries.1.member.eventBusName' failed to satisfy constraint: Member must satisfy \
         regular expression pattern: (arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+"
    );
    assert_eq!(
        bus.refusal(
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
        bus.refusal(
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
        bus.refusal(
            "RemoveTargets",
            json!({"Rule": "r", "Ids": ["ok", "not ok"]})
        )
        .await,
        "ValidationException: 1 validation error detected: Value '[ok, not ok]' at 'ids' failed \
         to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular \
         expression pattern: [\\.\\-_A-Za-z0-9]+]"
    );
    assert_eq!(
        bus.refusal("ListRules", json!({"Limit": 0})).await,
        "ValidationException: 1 validation error detected: Value '0' at 'limit' failed to \
         satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        bus.refusal(
            "ListArchives",
            json!({"NamePrefix": "a", "State": "ENABLED"})
        )
        .await,
        "ValidationException: At most one filter is allowed for ListArchives. Use either : \
         State, EventSourceArn, or NamePrefix."
    );
    assert_eq!(
        bus.refusal("ListReplays", json!({"State": "DONE"})).await,
        "ValidationException: 1 validation error detected: Value 'DONE' at 'state' failed to \
         satisfy constraint: Member must satisfy enum value set: [STARTING, RUNNING, \
         CANCELLING, COMPLETED, CANCELLED, FAILED]"
    );
    assert_eq!(
        bus.refusal(
            "CreateArchive",
            json!({"ArchiveName": "a", "EventSourceArn": "orders"})
        )
        .await,
        "ValidationException: 1 validation error detected: Value 'orders' at 'eventSourceArn' \
         failed to satisfy constraint: Member must satisfy regular expression pattern: \
         ^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:.+\\/.+$"
    );
    assert_eq!(
        bus.refusal("TestEventPattern", json!({"EventPattern": "{}"}))
            .await,
        "ValidationException: 1 validation error detected: Value null at 'event' failed to \
         satisfy constraint: Member must not be null"
    );
    assert_eq!(
        bus.refusal("DescribeRule", json!({"Name": true})).await,
        "SerializationException: class java.lang.Boolean can not be converted to an String"
    );
    assert_eq!(
        bus.refusal(
            "StartReplay",
            json!({"ReplayName": "r", "EventSourceArn": "arn:aws:events:us-east-1:123456789012:archive/a", "EventStartTime": "yesterday", "EventEndTime": 1, "Destination": {"Arn": "x"}})
        )
        .await,
        "SerializationException: class java.lang.String can not be converted to a Timestamp"
    );
}

#[tokio::test]
async fn roles_and_grants_are_checked_before_anything_runs() {
    let bus = Bus::start().await;
    let viewer = identity(Role::Viewer, &[]);
    assert_eq!(
        bus.refusal_for(&viewer, "PutEvents", json!({"Entries": []}))
            .await,
        "AccessDeniedException: User: ci is not authorized to perform: events:PutEvents (the \
         operation needs role operator)"
    );
    let narrowed = identity(Role::Admin, &["orders"]);
    assert_eq!(
        bus.refusal_for(
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
        bus.refusal_for(&narrowed, "PutEvents", entries).await,
        "AccessDeniedException: User: ci is not authorized to perform: events:PutEvents on \
         resource: event bus default (not in the credential's grants)"
    );
    let by_arn = json!({"ResourceARN": "arn:aws:events:us-east-1:123456789012:rule/billing/r"});
    assert_eq!(
        bus.refusal_for(&narrowed, "ListTagsForResource", by_arn)
            .await,
        "AccessDeniedException: User: ci is not authorized to perform: events:ListTagsForResource \
         on resource: event bus billing (not in the credential's grants)"
    );
    let viewer_narrowed = identity(Role::Viewer, &["orders"]);
    assert_eq!(
        bus.refusal_for(&viewer_narrowed, "Nope", json!({})).await,
        "AccessDeniedException: User: ci is not authorized to perform: events:Nope (the \
         operation needs role admin)"
    );
    assert_eq!(
        bus.refusal("Nope", json!({})).await,
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

#[tokio::test]
async fn test_event_pattern_matches_whole_events_with_the_bus_s_patterns() {
    let bus = Bus::start().await;
    let event = json!({
        "version": "0", "id": "6a7e8feb", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-12-06T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"bucket": {"name": "lake"}, "object": {"size": 2048}},
    })
    .to_string();
    let test = |pattern: Value| json!({"EventPattern": pattern.to_string(), "Event": event});
    assert_eq!(
        bus.ok(
            "TestEventPattern",
            test(json!({"source": ["aws.s3"], "detail": {"object": {"size": [{"numeric": [">", 1024]}]}}}))
        )
        .await,
        json!({"Result": true})
    );
    assert_eq!(
        bus.ok(
            "TestEventPattern",
            test(json!({"detail": {"bucket": {"name": [{"prefix": "raw"}]}}}))
        )
        .await,
        json!({"Result": false})
    );
    let refused = bus
        .refusal("TestEventPattern", test(json!({"source": "aws.s3"})))
        .await;
    assert!(
        refused.starts_with("InvalidEventPatternException: Event pattern is not valid. Reason: "),
        "{refused}"
    );
    assert_eq!(
        bus.refusal(
            "TestEventPattern",
            json!({"EventPattern": "{\"source\": [\"s\"]}", "Event": "{\"source\": \"s\"}"})
        )
        .await,
        "ValidationException: Parameter Event is not valid."
    );
}

#[tokio::test]
async fn what_the_bus_would_refuse_whole_is_refused_before_it_is_asked() {
    let bus = Bus::start().await;
    let detail = json!({"blob": "x".repeat(200 * 1024)}).to_string();
    let entry = json!({"Source": "s", "DetailType": "t", "Detail": detail});
    assert_eq!(
        bus.refusal("PutEvents", json!({"Entries": [entry.clone(), entry]}))
            .await,
        "ValidationException: Total size of the entries in the request is over the limit."
    );
    assert_eq!(
        bus.refusal(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "t1", "Arn": "a", "Input": "{not json"}]})
        )
        .await,
        "ValidationException: JSON syntax error in input for target t1."
    );
    assert_eq!(
        bus.refusal(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "t1", "Arn": "a", "InputTransformer": {"InputTemplate": "{\"a\": <missing>}"}}]})
        )
        .await,
        "ValidationException: InputTemplate for target t1 contains invalid placeholder missing."
    );
}

#[tokio::test]
async fn rules_and_targets_read_back_as_they_were_put_and_events_reach_the_targets() {
    let bus = Bus::start().await;
    let pattern = json!({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}});
    let put = bus
        .ok(
            "PutRule",
            json!({"Name": "big", "EventPattern": pattern.to_string(), "Description": "over 100"}),
        )
        .await;
    let arn = "arn:aws:events:us-east-1:000000000000:rule/big";
    assert_eq!(put, json!({"RuleArn": arn}));
    bus.ok(
        "PutRule",
        json!({"Name": "all", "EventPattern": "{\"source\": [\"shop\"]}", "State": "DISABLED"}),
    )
    .await;
    assert_eq!(
        bus.ok("DescribeRule", json!({"Name": "big"})).await,
        json!({
            "Name": "big", "Arn": arn, "EventPattern": pattern.to_string(), "State": "ENABLED",
            "Description": "over 100", "EventBusName": "default", "CreatedBy": "000000000000",
        })
    );
    let first = bus.ok("ListRules", json!({"Limit": 1})).await;
    assert_eq!(first["Rules"][0]["Name"], "all", "{first}");
    assert_eq!(first["Rules"][0]["State"], "DISABLED", "{first}");
    let rest = bus
        .ok("ListRules", json!({"NextToken": first["NextToken"]}))
        .await;
    assert_eq!(rest["Rules"][0]["Name"], "big", "{rest}");
    assert!(rest.get("NextToken").is_none(), "{rest}");

    let queue = "arn:aws:sqs:us-east-1:000000000000:orders";
    let target = json!({
        "Id": "q", "Arn": queue,
        "InputTransformer": {
            "InputPathsMap": {"total": "$.detail.total", "id": "$.id"},
            "InputTemplate": "{\"order\": <id>, \"total\": <total>}",
        },
        "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
    });
    assert_eq!(
        bus.ok("PutTargets", json!({"Rule": "big", "Targets": [target]}))
            .await,
        json!({"FailedEntryCount": 0, "FailedEntries": []})
    );
    assert_eq!(
        bus.ok("ListTargetsByRule", json!({"Rule": "big"})).await,
        json!({"Targets": [target]})
    );
    assert_eq!(
        bus.ok("ListRuleNamesByTarget", json!({"TargetArn": queue}))
            .await,
        json!({"RuleNames": ["big"]})
    );
    assert_eq!(
        bus.refusal("DeleteRule", json!({"Name": "big"})).await,
        "ValidationException: Rule can't be deleted since it has targets."
    );
    assert_eq!(
        bus.refusal(
            "DescribeRule",
            json!({"Name": "big", "EventBusName": "orders"})
        )
        .await,
        "ResourceNotFoundException: Event bus orders does not exist."
    );
    assert_eq!(
        bus.refusal("ListRules", json!({"EventBusName": "orders"}))
            .await,
        "ResourceNotFoundException: Event bus orders does not exist."
    );
    assert_eq!(
        bus.refusal(
            "ListRuleNamesByTarget",
            json!({"TargetArn": queue, "EventBusName": "orders"})
        )
        .await,
        "ResourceNotFoundException: Event bus orders does not exist."
    );
    // A target put again under its Id replaces the one there.
    let replaced = json!({"Id": "q", "Arn": queue, "InputTransformer": {
        "InputPathsMap": {"total": "$.detail.total"},
        "InputTemplate": "{\"total\": <total>, \"rule\": \"<aws.events.rule-name>\"}",
    }});
    bus.ok("PutTargets", json!({"Rule": "big", "Targets": [replaced]}))
        .await;
    let listed = bus.ok("ListTargetsByRule", json!({"Rule": "big"})).await;
    assert_eq!(
        listed["Targets"][0]["InputTransformer"], replaced["InputTransformer"],
        "{listed}"
    );
    assert_eq!(
        listed["Targets"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    let entry = |total: i64| json!({"Source": "shop", "DetailType": "Order Placed", "Detail": json!({"total": total}).to_string()});
    let put = bus
        .ok(
            "PutEvents",
            json!({"Entries": [entry(150), entry(50), {"Source": "shop", "DetailType": "Order Placed", "Detail": "[1]"}]}),
        )
        .await;
    assert_eq!(put["FailedEntryCount"], 1, "{put}");
    assert_eq!(
        put["Entries"][2],
        json!({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
    );
    assert!(put["Entries"][0]["EventId"].is_string(), "{put}");
    let mut delivered = Vec::new();
    for _ in 0..200 {
        delivered = bus
            .targets
            .delivered
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default();
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let normalized: Vec<(String, Value)> = delivered
        .iter()
        .map(|(arn, input)| (arn.clone(), serde_json::from_str(input).unwrap_or_default()))
        .collect();
    assert_eq!(
        normalized,
        [(queue.to_string(), json!({"total": 150, "rule": "big"}))]
    );

    assert_eq!(
        bus.ok("RemoveTargets", json!({"Rule": "big", "Ids": ["q"]}))
            .await,
        json!({"FailedEntryCount": 0, "FailedEntries": []})
    );
    assert_eq!(
        bus.ok("DeleteRule", json!({"Name": "big"})).await,
        json!({})
    );
    // Deleting it again succeeds, as AWS's does; on a bus that is not there it is refused.
    assert_eq!(
        bus.ok("DeleteRule", json!({"Name": "big"})).await,
        json!({})
    );
    assert_eq!(
        bus.refusal(
            "DeleteRule",
            json!({"Name": "big", "EventBusName": "orders"})
        )
        .await,
        "ResourceNotFoundException: Event bus orders does not exist."
    );
}

#[tokio::test]
async fn a_narrowed_credential_sees_and_puts_to_the_buses_it_is_granted_only() {
    let bus = Bus::start().await;
    for name in ["orders", "billing"] {
        let created = bus
            .ok(
                "CreateEventBus",
                json!({"Name": name, "Tags": [{"Key": "k", "Value": "v"}]}),
            )
            .await;
        assert_eq!(
            created,
            json!({"EventBusArn": format!("arn:aws:events:us-east-1:000000000000:event-bus/{name}")})
        );
    }
    assert_eq!(
        bus.refusal("CreateEventBus", json!({"Name": "orders"}))
            .await,
        "ResourceAlreadyExistsException: Event bus orders already exists."
    );
    let names = |answer: &Value| -> Vec<String> {
        answer["EventBuses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|bus| bus["Name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        names(&bus.ok("ListEventBuses", json!({})).await),
        ["billing", "default", "orders"]
    );
    let orders_only = identity(Role::Operator, &["orders"]);
    let listed = bus
        .call(&orders_only, "ListEventBuses", json!({}))
        .await
        .unwrap_or_default();
    assert_eq!(names(&listed), ["orders"]);
    let put = bus
        .call(
            &orders_only,
            "PutEvents",
            json!({"Entries": [{"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "arn:aws:events:us-east-1:000000000000:event-bus/orders"}]}),
        )
        .await
        .unwrap_or_default();
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
    assert_eq!(
        bus.refusal_for(&orders_only, "DescribeEventBus", json!({"Name": "billing"}))
            .await,
        "AccessDeniedException: User: ci is not authorized to perform: events:DescribeEventBus \
         on resource: event bus billing (not in the credential's grants)"
    );
    let arn = "arn:aws:events:us-east-1:000000000000:event-bus/orders";
    assert_eq!(
        bus.ok("ListTagsForResource", json!({"ResourceARN": arn}))
            .await,
        json!({"Tags": [{"Key": "k", "Value": "v"}]})
    );
    bus.ok(
        "TagResource",
        json!({"ResourceARN": arn, "Tags": [{"Key": "a", "Value": "1"}]}),
    )
    .await;
    bus.ok(
        "UntagResource",
        json!({"ResourceARN": arn, "TagKeys": ["k"]}),
    )
    .await;
    assert_eq!(
        bus.ok("ListTagsForResource", json!({"ResourceARN": arn}))
            .await,
        json!({"Tags": [{"Key": "a", "Value": "1"}]})
    );
    bus.ok("DeleteEventBus", json!({"Name": "billing"})).await;
    assert_eq!(
        names(&bus.ok("ListEventBuses", json!({"NamePrefix": "b"})).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn archives_are_created_described_listed_and_deleted() {
    let bus = Bus::start().await;
    let default = "arn:aws:events:us-east-1:000000000000:event-bus/default";
    let created = bus
        .ok(
            "CreateArchive",
            json!({"ArchiveName": "all", "EventSourceArn": default, "RetentionDays": 3}),
        )
        .await;
    assert_eq!(
        created["ArchiveArn"],
        "arn:aws:events:us-east-1:000000000000:archive/all"
    );
    assert_eq!(created["State"], "ENABLED");
    assert!(created["CreationTime"].is_number(), "{created}");
    let described = bus
        .ok("DescribeArchive", json!({"ArchiveName": "all"}))
        .await;
    assert_eq!(described["EventSourceArn"], default, "{described}");
    assert_eq!(described["RetentionDays"], 3, "{described}");
    assert_eq!(described["EventCount"], 0, "{described}");
    let listed = bus
        .ok("ListArchives", json!({"EventSourceArn": default}))
        .await;
    assert_eq!(listed["Archives"][0]["ArchiveName"], "all", "{listed}");
    bus.ok(
        "UpdateArchive",
        json!({"ArchiveName": "all", "Description": "everything"}),
    )
    .await;
    assert_eq!(
        bus.ok("DescribeArchive", json!({"ArchiveName": "all"}))
            .await["Description"],
        "everything"
    );
    bus.ok("DeleteArchive", json!({"ArchiveName": "all"})).await;
    assert_eq!(
        bus.refusal("DescribeArchive", json!({"ArchiveName": "all"}))
            .await,
        "ResourceNotFoundException: Archive all does not exist."
    );
    assert_eq!(
        bus.refusal("DescribeReplay", json!({"ReplayName": "r"}))
            .await,
        "ResourceNotFoundException: Replay r does not exist."
    );
}
