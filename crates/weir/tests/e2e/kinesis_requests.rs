//! Kinesis requests that AWS refuses, sent as raw JSON 1.1 (boto3 checks some of them before
//! sending): the model's constraints, wrongly typed members, AWS's limits, iterators that are not
//! or no longer valid, each refused with AWS's exception and words.

use serde_json::{Value, json};

use crate::security::{audit_when, create};
use crate::support::*;

/// Calls `Kinesis_20131202.OPERATION` with `body` as JSON 1.1, as the admin: status, content
/// type and body.
fn call(server: &Server, operation: &str, body: &str) -> (u16, String, Value) {
    call_as(server, &server.token(), operation, body)
}

/// [`call`] with a bearer token.
fn call_as(server: &Server, token: &str, operation: &str, body: &str) -> (u16, String, Value) {
    let bearer = format!("Bearer {token}");
    let target = format!("Kinesis_20131202.{operation}");
    let (status, headers, text) = http_full(
        "POST",
        &format!("{}/", server.url),
        Some(body),
        &[
            ("X-Amz-Target", target.as_str()),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Authorization", bearer.as_str()),
        ],
    )
    .expect("server answers");
    let content_type = headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{operation} answered {status} with no JSON ({e}): {text}"));
    (status, content_type, value)
}

/// The (code, message) of a refused call, checking it is a 400 in JSON 1.1.
fn refusal(server: &Server, operation: &str, body: Value) -> (String, String) {
    let (status, content_type, answer) = call(server, operation, &body.to_string());
    assert_eq!(status, 400, "{operation} {body}: {answer}");
    assert_eq!(content_type, "application/x-amz-json-1.1");
    (
        answer["__type"].as_str().unwrap_or_default().to_string(),
        answer["message"].as_str().unwrap_or_default().to_string(),
    )
}

fn pair(code: &str, message: &str) -> (String, String) {
    (code.to_string(), message.to_string())
}

#[test]
fn kinesis_requests_breaking_the_model_or_aws_limits_are_refused_in_aws_words() {
    let project = Project::new();
    let server = Server::start(project.path());
    assert_eq!(
        refusal(
            &server,
            "CreateStream",
            json!({"StreamName": "bad name!", "ShardCount": 0})
        ),
        pair(
            "ValidationException",
            "2 validation errors detected: Value 'bad name!' at 'streamName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value \
             '0' at 'shardCount' failed to satisfy constraint: Member must have value greater \
             than or equal to 1"
        )
    );
    assert_eq!(
        refusal(&server, "CreateStream", json!({})),
        pair(
            "ValidationException",
            "1 validation error detected: Value null at 'streamName' failed to satisfy \
             constraint: Member must not be null"
        )
    );
    assert_eq!(
        refusal(
            &server,
            "CreateStream",
            json!({"StreamName": "s", "StreamModeDetails": {"StreamMode": "FAST"}})
        ),
        pair(
            "ValidationException",
            "1 validation error detected: Value 'FAST' at 'streamModeDetails.streamMode' failed \
             to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"
        )
    );
    // Wrongly typed members are the deserializer's to refuse.
    assert_eq!(
        refusal(&server, "CreateStream", json!({"StreamName": true})),
        pair(
            "SerializationException",
            "class java.lang.Boolean can not be converted to an String"
        )
    );
    assert_eq!(
        refusal(
            &server,
            "CreateStream",
            json!({"StreamName": "s", "ShardCount": "2"})
        ),
        pair(
            "SerializationException",
            "class java.lang.String can not be converted to an Integer"
        )
    );
    assert_eq!(
        refusal(
            &server,
            "PutRecord",
            json!({"StreamName": "s", "PartitionKey": "k", "Data": "abc"})
        ),
        pair(
            "SerializationException",
            "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple \
             of 4 bytes but found: 3"
        )
    );
    // 1 MiB records, 256-character partition keys.
    let big = "A".repeat(((1 << 20) + 3) / 3 * 4);
    assert_eq!(
        refusal(
            &server,
            "PutRecord",
            json!({"StreamName": "s", "PartitionKey": "k".repeat(257), "Data": big})
        ),
        pair(
            "ValidationException",
            &format!(
                "2 validation errors detected: Value \
                 'java.nio.HeapByteBuffer[pos=0 lim=1048578 cap=1048578]' at 'data' failed to \
                 satisfy constraint: Member must have length less than or equal to 1048576; \
                 Value '{}' at 'partitionKey' failed to satisfy constraint: Member must have \
                 length less than or equal to 256",
                "k".repeat(257)
            )
        )
    );
    // 500 records and 5 MiB per PutRecords.
    let records: Vec<Value> = (0..501)
        .map(|_| json!({"PartitionKey": "k", "Data": "AA=="}))
        .collect();
    let (code, message) = refusal(
        &server,
        "PutRecords",
        json!({"StreamName": "s", "Records": records}),
    );
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("1 validation error detected: Value '[")
            && message.ends_with(
                "]' at 'records' failed to satisfy constraint: Member must have length less \
                 than or equal to 500"
            ),
        "{message}"
    );
    assert_eq!(
        refusal(
            &server,
            "PutRecords",
            json!({"StreamName": "s", "Records": [{"Data": "AA=="}]})
        ),
        pair(
            "ValidationException",
            "1 validation error detected: Value null at 'records.1.member.partitionKey' failed \
             to satisfy constraint: Member must not be null"
        )
    );
    // Each record is 1 MiB exactly (the last base64 group holds one byte), so only the
    // total is over.
    let mib = format!("{}AA==", "A".repeat((1 << 20) / 3 * 4));
    let records: Vec<Value> = (0..5)
        .map(|_| json!({"PartitionKey": "key", "Data": mib}))
        .collect();
    assert_eq!(
        refusal(
            &server,
            "PutRecords",
            json!({"StreamName": "s", "Records": records})
        ),
        pair(
            "InvalidArgumentException",
            "Records size exceeds 5 MB limit"
        )
    );
    assert_eq!(
        refusal(
            &server,
            "PutRecord",
            json!({"StreamName": "s", "PartitionKey": "k", "Data": "AA==",
                   "ExplicitHashKey": "340282366920938463463374607431768211456"})
        ),
        pair(
            "InvalidArgumentException",
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. \
             Specified value was 340282366920938463463374607431768211456"
        )
    );
    assert_eq!(
        refusal(&server, "DescribeStream", json!({})),
        pair(
            "InvalidArgumentException",
            "Either StreamName or StreamARN must be provided."
        )
    );
    assert_eq!(
        refusal(
            &server,
            "DescribeStream",
            json!({"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/absent"})
        ),
        pair(
            "ResourceNotFoundException",
            "Stream absent under account 000000000000 not found."
        )
    );
    // A body over the request quota is refused before it is read whole, and nothing is put.
    let body = json!({"StreamName": "s", "PartitionKey": "k", "Data": "A".repeat(8 << 20)});
    let (status, _, answer) = call(&server, "PutRecord", &body.to_string());
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        answer["__type"], "RequestEntityTooLargeException",
        "{answer}"
    );
    assert_eq!(
        refusal(&server, "ListShards", json!({})),
        pair(
            "InvalidArgumentException",
            "Either NextToken or StreamName should be provided."
        )
    );
}

#[test]
fn kinesis_iterators_that_are_not_or_no_longer_valid_are_refused_in_aws_words() {
    let project = Project::new();
    let server = Server::start(project.path());
    assert_eq!(
        refusal(
            &server,
            "GetShardIterator",
            json!({"StreamName": "s", "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "TRIM_HORIZON",
                   "StartingSequenceNumber": "170141183460469231731687303715884105728"})
        ),
        pair(
            "InvalidArgumentException",
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified TRIM_HORIZON and also a StartingSequenceNumber."
        )
    );
    assert_eq!(
        refusal(
            &server,
            "GetShardIterator",
            json!({"StreamName": "s", "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "AT_TIMESTAMP"})
        ),
        pair(
            "InvalidArgumentException",
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. \
             Current request has no timestamp parameter."
        )
    );
    assert_eq!(
        refusal(
            &server,
            "GetShardIterator",
            json!({"StreamName": "s", "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "NEWEST"})
        ),
        pair(
            "ValidationException",
            "1 validation error detected: Value 'NEWEST' at 'shardIteratorType' failed to \
             satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, \
             AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"
        )
    );
    // A sequence number of another shard.
    let other_shard =
        weir_stream::SequenceNumber::of_record(weir_stream::ShardId(3), 0).to_string();
    assert_eq!(
        refusal(
            &server,
            "GetShardIterator",
            json!({"StreamName": "s", "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                   "StartingSequenceNumber": other_shard})
        ),
        pair(
            "InvalidArgumentException",
            "Invalid StartingSequenceNumber. It encodes shardId-000000000003, while it was used \
             in a call to a shard with shardId-000000000000"
        )
    );
    assert_eq!(
        refusal(&server, "GetRecords", json!({"ShardIterator": "AAAA"})),
        pair("InvalidArgumentException", "Invalid ShardIterator.")
    );
    // An iterator issued six minutes ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let old = weir_stream::ShardIterator {
        stream: "s".into(),
        shard: weir_stream::ShardId(0),
        offset: 0,
        issued_ms: now - 6 * 60 * 1000,
    };
    let (code, message) = refusal(
        &server,
        "GetRecords",
        json!({"ShardIterator": old.encode()}),
    );
    assert_eq!(code, "ExpiredIteratorException");
    assert!(
        message.starts_with("Iterator expired. The iterator was created at time ")
            && message.ends_with(
                "which is further in the future than the tolerated delay of 300000 milliseconds."
            ),
        "{message}"
    );
    let (status, _, answer) = call(&server, "Nope", "{}");
    assert_eq!(
        (status, answer["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
}

#[test]
fn kinesis_grants_on_names_hold_for_every_stream_a_request_names_and_for_listings() {
    let project = Project::new();
    let server = Server::start(project.path());
    let admin = |operation: &str, body: Value| {
        let (status, _, answer) = call(&server, operation, &body.to_string());
        assert_eq!(status, 200, "{operation} {body}: {answer}");
        answer
    };
    for name in ["etl_orders", "payroll"] {
        admin("CreateStream", json!({"StreamName": name, "ShardCount": 1}));
    }
    let narrow = create(&server, "operator", "etl", &["--pipelines", "etl_*"]);
    let etl = narrow["token"].as_str().unwrap();
    let as_etl = |operation: &str, body: Value| {
        let (status, _, answer) = call_as(&server, etl, operation, &body.to_string());
        (status, answer)
    };
    let denied = |operation: &str, body: Value| {
        let (status, answer) = as_etl(operation, body.clone());
        assert_eq!(status, 400, "{operation} {body}: {answer}");
        assert_eq!(
            answer["__type"], "AccessDeniedException",
            "{operation} {body}: {answer}"
        );
    };
    let record = |stream: &str| json!({"StreamName": stream, "PartitionKey": "k", "Data": "AA=="});
    assert_eq!(as_etl("PutRecord", record("etl_orders")).0, 200);
    denied("PutRecord", record("payroll"));
    denied(
        "DescribeStream",
        json!({"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/payroll"}),
    );
    // A granted name beside another stream's ARN grants nothing.
    denied(
        "DescribeStream",
        json!({"StreamName": "etl_orders",
               "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/payroll"}),
    );
    let (status, listed) = as_etl("ListStreams", json!({}));
    assert_eq!(status, 200);
    assert_eq!(listed["StreamNames"], json!(["etl_orders"]), "{listed}");
    // An iterator names its stream.
    let iterator = admin(
        "GetShardIterator",
        json!({"StreamName": "payroll", "ShardId": "shardId-000000000000",
               "ShardIteratorType": "TRIM_HORIZON"}),
    );
    denied(
        "GetRecords",
        json!({"ShardIterator": iterator["ShardIterator"]}),
    );
    denied("GetRecords", json!({"ShardIterator": "AAAA"}));
    // Roles: a viewer reads, an operator writes, an admin shapes streams.
    let viewer = create(&server, "viewer", "v", &[]);
    let viewer = viewer["token"].as_str().unwrap();
    let (status, _, answer) = call_as(&server, viewer, "PutRecord", &record("payroll").to_string());
    assert_eq!(
        (status, answer["__type"].as_str()),
        (400, Some("AccessDeniedException"))
    );
    let (status, _, _) = call_as(
        &server,
        viewer,
        "GetRecords",
        &json!({"ShardIterator": iterator["ShardIterator"]}).to_string(),
    );
    assert_eq!(status, 200);
    denied(
        "CreateStream",
        json!({"StreamName": "etl_new", "ShardCount": 1}),
    );
    // Shaping streams is audited, and so is every refusal; records written are not (the data
    // plane), or a producer would flood the log.
    let put_refused =
        |e: &Value| e["action"] == "Kinesis_20131202.PutRecord" && e["outcome"] == "denied";
    let audit = audit_when(&server, |entries| entries.iter().any(put_refused));
    let entries = audit["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "Kinesis_20131202.CreateStream" && e["outcome"] == "ok"),
        "{audit}"
    );
    assert!(
        !entries
            .iter()
            .any(|e| e["action"] == "Kinesis_20131202.PutRecord" && e["outcome"] == "ok"),
        "{audit}"
    );
}
