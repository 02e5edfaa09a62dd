//! The Kinesis API in CBOR (`application/x-amz-cbor-1.1`), as the AWS Java SDK and the Kinesis
//! Client Library speak it by default: blobs as byte strings, timestamps as tag 1 over epoch
//! milliseconds, answers and errors in CBOR.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ciborium::Value as Cbor;

use crate::support::*;

/// Calls `Kinesis_20131202.OPERATION` with a CBOR body, as the admin: status, content type and
/// the answer read as CBOR.
fn call(server: &Server, operation: &str, body: Cbor) -> (u16, String, Cbor) {
    call_as(server, Some(&server.token()), operation, body)
}

/// [`call`] with a bearer token, or none.
fn call_as(
    server: &Server,
    token: Option<&str>,
    operation: &str,
    body: Cbor,
) -> (u16, String, Cbor) {
    let mut encoded = Vec::new();
    ciborium::into_writer(&body, &mut encoded).expect("encode CBOR");
    let host = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: Kinesis_20131202.{operation}\r\n\
         Content-Type: application/x-amz-cbor-1.1\r\n{}\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n")),
        encoded.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    stream.write_all(&encoded).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("answer");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let content_type = head
        .lines()
        .find_map(|line| line.strip_prefix("content-type:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    assert!(
        !head.contains("transfer-encoding: chunked"),
        "a whole answer: {head}"
    );
    let body = &response[split + 4..];
    let answer = ciborium::from_reader(body)
        .unwrap_or_else(|e| panic!("{operation} answered {status} with no CBOR ({e}): {body:?}"));
    (status, content_type, answer)
}

fn map(entries: Vec<(&str, Cbor)>) -> Cbor {
    Cbor::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Cbor::Text(k.into()), v))
            .collect(),
    )
}

fn get<'a>(value: &'a Cbor, key: &str) -> &'a Cbor {
    value
        .as_map()
        .and_then(|entries| {
            entries
                .iter()
                .find(|(k, _)| k.as_text() == Some(key))
                .map(|(_, v)| v)
        })
        .unwrap_or_else(|| panic!("no {key} in {value:?}"))
}

fn text(value: &Cbor) -> String {
    value.as_text().expect("a text string").to_string()
}

fn ok(server: &Server, operation: &str, body: Cbor) -> Cbor {
    let (status, content_type, answer) = call(server, operation, body);
    assert_eq!(
        status,
        200,
        "{operation}: {answer:?}\n{}",
        server.log_text()
    );
    assert_eq!(content_type, "application/x-amz-cbor-1.1");
    answer
}

#[test]
fn kinesis_a_cbor_client_puts_and_reads_records_with_byte_blobs_and_millisecond_timestamps() {
    let project = Project::new();
    let server = Server::start(project.path());
    let created = ok(
        &server,
        "CreateStream",
        map(vec![
            ("StreamName", Cbor::Text("cbor".into())),
            ("ShardCount", Cbor::from(1)),
        ]),
    );
    assert_eq!(created, Cbor::Map(vec![]));
    let before_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 1000;
    // Binary data, as bytes: nothing base64 on the wire.
    let payloads: Vec<Vec<u8>> = vec![vec![0, 159, 255, 10], b"second".to_vec()];
    let put = ok(
        &server,
        "PutRecords",
        map(vec![
            ("StreamName", Cbor::Text("cbor".into())),
            (
                "Records",
                Cbor::Array(
                    payloads
                        .iter()
                        .map(|data| {
                            map(vec![
                                ("Data", Cbor::Bytes(data.clone())),
                                ("PartitionKey", Cbor::Text("pk".into())),
                            ])
                        })
                        .collect(),
                ),
            ),
        ]),
    );
    assert_eq!(get(&put, "FailedRecordCount"), &Cbor::from(0));
    let sequences: Vec<String> = get(&put, "Records")
        .as_array()
        .expect("records")
        .iter()
        .map(|r| text(get(r, "SequenceNumber")))
        .collect();
    assert_eq!(sequences.len(), 2);

    // AT_TIMESTAMP with the SDK's tag 1 over milliseconds.
    let iterator = ok(
        &server,
        "GetShardIterator",
        map(vec![
            ("StreamName", Cbor::Text("cbor".into())),
            ("ShardId", Cbor::Text("shardId-000000000000".into())),
            ("ShardIteratorType", Cbor::Text("AT_TIMESTAMP".into())),
            ("Timestamp", Cbor::Tag(1, Box::new(Cbor::from(before_ms)))),
        ]),
    );
    let iterator = text(get(&iterator, "ShardIterator"));
    let records = ok(
        &server,
        "GetRecords",
        map(vec![("ShardIterator", Cbor::Text(iterator))]),
    );
    let read = get(&records, "Records").as_array().expect("records");
    assert_eq!(read.len(), 2, "{records:?}");
    for (record, (data, sequence)) in read.iter().zip(payloads.iter().zip(&sequences)) {
        assert_eq!(get(record, "Data"), &Cbor::Bytes(data.clone()));
        assert_eq!(&text(get(record, "SequenceNumber")), sequence);
        assert_eq!(text(get(record, "PartitionKey")), "pk");
        match get(record, "ApproximateArrivalTimestamp") {
            Cbor::Tag(1, millis) => {
                let millis = millis
                    .as_integer()
                    .and_then(|n| i64::try_from(n).ok())
                    .expect("whole milliseconds");
                assert!(millis >= before_ms, "{millis} < {before_ms}");
            }
            other => panic!("not a tag-1 timestamp: {other:?}"),
        }
    }
    assert!(get(&records, "NextShardIterator").as_text().is_some());
    assert!(get(&records, "MillisBehindLatest").as_integer().is_some());

    // Errors come back in CBOR too.
    let (status, content_type, error) = call(
        &server,
        "DescribeStream",
        map(vec![("StreamName", Cbor::Text("absent".into()))]),
    );
    assert_eq!(
        (status, content_type.as_str()),
        (400, "application/x-amz-cbor-1.1")
    );
    assert_eq!(text(get(&error, "__type")), "ResourceNotFoundException");
    assert_eq!(
        text(get(&error, "message")),
        "Stream absent under account 000000000000 not found."
    );
    let (status, _, error) = call(
        &server,
        "PutRecord",
        map(vec![
            ("StreamName", Cbor::Text("cbor".into())),
            ("PartitionKey", Cbor::Bool(true)),
            ("Data", Cbor::Bytes(vec![1])),
        ]),
    );
    assert_eq!(status, 400);
    assert_eq!(text(get(&error, "__type")), "SerializationException");
}

#[test]
fn kinesis_a_cbor_client_reads_the_servers_refusals_in_cbor() {
    let project = Project::new();
    let server = Server::start(project.path());
    // Refused before the Kinesis API is reached (no credential)…
    let (status, content_type, error) = call_as(&server, None, "ListStreams", map(vec![]));
    assert_eq!(
        (status, content_type.as_str()),
        (400, "application/x-amz-cbor-1.1")
    );
    assert_eq!(
        text(get(&error, "__type")),
        "MissingAuthenticationTokenException"
    );
    // …and by it (too small a role).
    let viewer = server.json(&["tokens", "create", "--role", "viewer", "--name", "v"]);
    let (status, content_type, error) = call_as(
        &server,
        viewer["token"].as_str(),
        "CreateStream",
        map(vec![("StreamName", Cbor::Text("s".into()))]),
    );
    assert_eq!(
        (status, content_type.as_str()),
        (400, "application/x-amz-cbor-1.1")
    );
    assert_eq!(text(get(&error, "__type")), "AccessDeniedException");
}
