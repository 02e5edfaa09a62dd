//! Deliveries (weir's Firehose) through the real binary: boto3's `firehose` client puts records,
//! `weir sql` sees them once the buffer interval has passed, and a server killed with SIGKILL
//! while records flow delivers every acknowledged record exactly once.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

fn sql(server: &Server, query: &str) -> Value {
    server.json(&["sql", query])
}

fn count(server: &Server, query: &str) -> i64 {
    let output = server.cli(&["sql", query, "--json"]);
    if !output.status.success() {
        return -1;
    }
    serde_json::from_slice::<Value>(&output.stdout)
        .ok()
        .and_then(|v| v["rows"][0]["n"].as_i64())
        .unwrap_or(-1)
}

const BOTO3_SCRIPT: &str = r#"
import json, sys
import boto3
from botocore.exceptions import ClientError

client = boto3.client('firehose', endpoint_url=sys.argv[1], region_name='us-east-1')

r = client.create_delivery_stream(
    DeliveryStreamName='clicks',
    DeliveryStreamType='DirectPut',
    ExtendedS3DestinationConfiguration={
        'RoleARN': 'arn:aws:iam::000000000000:role/firehose',
        'BucketARN': 'arn:aws:s3:::lake',
        'Prefix': 'page=!{partitionKeyFromQuery:page}/',
        'ErrorOutputPrefix': 'errors/clicks/!{firehose:error-output-type}/',
        'BufferingHints': {'SizeInMBs': 1, 'IntervalInSeconds': 1},
        'DataFormatConversionConfiguration': {
            'Enabled': True,
            'SchemaConfiguration': {'DatabaseName': 'web', 'TableName': 'clicks'},
            'OutputFormatConfiguration': {'Serializer': {'ParquetSerDe': {'Compression': 'SNAPPY'}}},
        },
        'DynamicPartitioningConfiguration': {'Enabled': True},
        'ProcessingConfiguration': {'Enabled': True, 'Processors': [
            {'Type': 'MetadataExtraction', 'Parameters': [
                {'ParameterName': 'MetadataExtractionQuery', 'ParameterValue': '{page: .page}'},
                {'ParameterName': 'JsonParsingEngine', 'ParameterValue': 'JQ-1.6'},
            ]},
        ]},
    },
    Tags=[{'Key': 'team', 'Value': 'web'}],
)
assert r['DeliveryStreamARN'] == 'arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks', r

try:
    client.create_delivery_stream(DeliveryStreamName='clicks',
        ExtendedS3DestinationConfiguration={'RoleARN': 'arn:aws:iam::000000000000:role/r', 'BucketARN': 'arn:aws:s3:::lake'})
    raise SystemExit('created twice')
except ClientError as e:
    assert e.response['Error']['Code'] == 'ResourceInUseException', e.response

try:
    client.describe_delivery_stream(DeliveryStreamName='nope')
    raise SystemExit('described a missing delivery')
except ClientError as e:
    assert e.response['Error']['Code'] == 'ResourceNotFoundException', e.response
    assert e.response['Error']['Message'] == 'Firehose nope under account 000000000000 not found.', e.response

try:
    client.put_record(DeliveryStreamName='bad name!', Record={'Data': b'x'})
    raise SystemExit('accepted a bad name')
except ClientError as e:
    assert e.response['Error']['Code'] == 'ValidationException', e.response
    assert "Value 'bad name!' at 'deliveryStreamName' failed to satisfy constraint" in e.response['Error']['Message'], e.response

d = client.describe_delivery_stream(DeliveryStreamName='clicks')['DeliveryStreamDescription']
assert d['DeliveryStreamStatus'] == 'ACTIVE', d
assert d['DeliveryStreamType'] == 'DirectPut', d
s3 = d['Destinations'][0]['ExtendedS3DestinationDescription']
assert s3['BufferingHints'] == {'SizeInMBs': 1, 'IntervalInSeconds': 1}, s3
assert s3['Prefix'] == 'page=!{partitionKeyFromQuery:page}/', s3

assert client.list_delivery_streams()['DeliveryStreamNames'] == ['clicks']
tags = client.list_tags_for_delivery_stream(DeliveryStreamName='clicks')['Tags']
assert tags == [{'Key': 'team', 'Value': 'web'}], tags

r = client.put_record(DeliveryStreamName='clicks', Record={'Data': json.dumps({'id': 0, 'page': 'home'}).encode()})
assert len(r['RecordId']) == 39, r

records = [{'Data': json.dumps({'id': i, 'page': ['home', 'cart'][i % 2]}).encode()} for i in range(1, 100)]
records.append({'Data': b'not json'})
r = client.put_record_batch(DeliveryStreamName='clicks', Records=records)
assert r['FailedPutCount'] == 0, r
assert len(r['RequestResponses']) == 100 and all('RecordId' in x for x in r['RequestResponses']), r

try:
    client.put_record_batch(DeliveryStreamName='clicks', Records=[{'Data': b'x'}] * 501)
    raise SystemExit('accepted 501 records')
except ClientError as e:
    assert e.response['Error']['Code'] == 'ValidationException', e.response
    assert "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500" in e.response['Error']['Message'], e.response

try:
    client.put_record(DeliveryStreamName='clicks', Record={'Data': b'x' * 1024001})
    raise SystemExit('accepted a record over 1,000 KiB')
except ClientError as e:
    assert e.response['Error']['Code'] == 'ValidationException', e.response
    assert "at 'record.data'" in e.response['Error']['Message'], e.response

client.create_delivery_stream(DeliveryStreamName='temp',
    S3DestinationConfiguration={'RoleARN': 'arn:aws:iam::000000000000:role/r', 'BucketARN': 'arn:aws:s3:::lake'})
assert client.list_delivery_streams()['DeliveryStreamNames'] == ['clicks', 'temp']
page = client.list_delivery_streams(Limit=1)
assert (page['DeliveryStreamNames'], page['HasMoreDeliveryStreams']) == (['clicks'], True), page
client.tag_delivery_stream(DeliveryStreamName='temp', Tags=[{'Key': 'a', 'Value': '1'}, {'Key': 'b', 'Value': '2'}])
client.untag_delivery_stream(DeliveryStreamName='temp', TagKeys=['a'])
assert client.list_tags_for_delivery_stream(DeliveryStreamName='temp')['Tags'] == [{'Key': 'b', 'Value': '2'}]
client.delete_delivery_stream(DeliveryStreamName='temp')
try:
    client.put_record(DeliveryStreamName='temp', Record={'Data': b'x'})
    raise SystemExit('put into a deleted delivery')
except ClientError as e:
    assert e.response['Error']['Code'] == 'ResourceNotFoundException', e.response
print('ok')
"#;

#[test]
fn boto3_puts_records_that_sql_sees_after_the_buffer_interval() {
    let project = Project::new();
    let server = Server::start(project.path());
    python_ok(&server, BOTO3_SCRIPT, &[&server.url]);
    let delivered = eventually(Duration::from_secs(30), || {
        count(&server, "SELECT count(*) AS n FROM web.clicks") == 100
    });
    assert!(delivered, "records not delivered:\n{}", server.log_text());
    assert_eq!(
        sql(
            &server,
            "SELECT count(*) AS n FROM web.clicks WHERE page = 'cart'"
        )["rows"][0]["n"],
        50
    );
    // The record that is not JSON went under the error prefix, with the reason.
    let listed = server.json(&["lake", "ls", "errors/clicks/format-conversion-failed"]);
    assert!(
        listed
            .to_string()
            .contains("errors/clicks/format-conversion-failed/"),
        "{listed}"
    );
}

#[test]
fn a_delivery_file_reads_a_stream_and_writes_json_lines() {
    let project = Project::new();
    project.write(
        "deliveries/events.yaml",
        "table: raw.events\nbuffering: { interval: 1s }\n",
    );
    let server = Server::start(project.path());
    let script = r#"
import json, sys
import boto3
client = boto3.client('firehose', endpoint_url=sys.argv[1], region_name='us-east-1')
d = client.describe_delivery_stream(DeliveryStreamName='events')['DeliveryStreamDescription']
assert d['DeliveryStreamType'] == 'DirectPut', d
r = client.put_record_batch(DeliveryStreamName='events',
    Records=[{'Data': json.dumps({'n': i}).encode()} for i in range(10)])
assert r['FailedPutCount'] == 0, r
print('ok')
"#;
    python_ok(&server, script, &[&server.url]);
    assert!(
        eventually(Duration::from_secs(30), || count(
            &server,
            "SELECT count(*) AS n FROM raw.events WHERE n >= 0"
        ) == 10),
        "{}",
        server.log_text()
    );
}

/// Firehose's transform contract with a real weir function: records answered `Ok` are
/// delivered as the function rewrote them, `Dropped` ones are not, `ProcessingFailed` ones go
/// under the error prefix.
const TRANSFORM: &str = r#"command: |
  python3 -c '
  import base64, json, sys
  event = json.load(sys.stdin)
  out = []
  for r in event["records"]:
      doc = json.loads(base64.b64decode(r["data"]))
      result = ["Ok", "Dropped", "ProcessingFailed"][doc["n"] % 3]
      doc["doubled"] = doc["n"] * 2
      out.append({"recordId": r["recordId"], "result": result,
                  "data": base64.b64encode(json.dumps(doc).encode()).decode()})
  print(json.dumps({"records": out}))
  '
"#;

#[test]
fn a_transform_function_rewrites_drops_and_fails_records() {
    let project = Project::new();
    project.write("functions/double.yaml", TRANSFORM);
    project.write(
        "deliveries/doubled.yaml",
        "table: t.doubled
transform: double
buffering: { interval: 1s }
",
    );
    let server = Server::start(project.path());
    let script = r#"
import json, sys
import boto3
client = boto3.client('firehose', endpoint_url=sys.argv[1], region_name='us-east-1')
r = client.put_record_batch(DeliveryStreamName='doubled',
    Records=[{'Data': json.dumps({'n': i}).encode()} for i in range(9)])
assert r['FailedPutCount'] == 0, r
print('ok')
"#;
    python_ok(&server, script, &[&server.url]);
    assert!(
        eventually(Duration::from_secs(30), || count(
            &server,
            "SELECT count(*) AS n FROM t.doubled WHERE doubled = n * 2"
        ) == 3),
        "{}",
        server.log_text()
    );
    assert_eq!(
        sql(&server, "SELECT sum(n) AS n FROM t.doubled")["rows"][0]["n"],
        9,
        "n = 0, 3, 6"
    );
    let failed = eventually(Duration::from_secs(10), || {
        server
            .json(&["lake", "ls", "errors/doubled/processing-failed"])
            .to_string()
            .contains(".json")
    });
    assert!(failed, "{}", server.log_text());
}

/// Puts numbered records in batches until killed, printing each acknowledged batch's first id.
const PRODUCER: &str = r#"
import json, sys, time
import boto3
from botocore.config import Config
client = boto3.client('firehose', endpoint_url=sys.argv[1], region_name='us-east-1',
                      config=Config(retries={'max_attempts': 0}, connect_timeout=2, read_timeout=5))
start = int(sys.argv[2])
i = start
while True:
    batch = [{'Data': json.dumps({'id': n}).encode()} for n in range(i, i + 50)]
    try:
        r = client.put_record_batch(DeliveryStreamName='flow', Records=batch)
    except Exception:
        break
    if r['FailedPutCount'] == 0:
        print(i, flush=True)
    i += 50
    time.sleep(0.01)
"#;

#[test]
fn a_kill_9_while_records_flow_loses_and_doubles_nothing() {
    let project = Project::new();
    project.write(
        "deliveries/flow.yaml",
        "format: parquet\ntable: t.flow\nbuffering: { interval: 0s }\n",
    );
    let mut server = Server::start(project.path());
    let env = server.aws_env();
    let url = server.url.clone();
    let producer = |start: &str| {
        Command::new("python3")
            .args(["-c", PRODUCER, &url, start])
            .envs(env.clone())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with boto3")
    };
    let first = producer("0");
    std::thread::sleep(Duration::from_millis(2500));
    server.kill9();
    let output = first.wait_with_output().expect("producer");
    let mut acknowledged: Vec<i64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(!acknowledged.is_empty(), "no batch was acknowledged");

    server.start_again();
    let second = producer("1000000");
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9();
    let output = second.wait_with_output().expect("producer");
    acknowledged.extend(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<i64>().ok()),
    );
    server.start_again();

    // Every acknowledged batch is in the table exactly once; unacknowledged ones may be there
    // (their records can be durable when the answer was lost), but never twice.
    let expected_min = acknowledged.len() as i64 * 50;
    let settled = eventually(Duration::from_secs(60), || {
        let total = count(&server, "SELECT count(*) AS n FROM t.flow");
        let distinct = count(&server, "SELECT count(DISTINCT id) AS n FROM t.flow");
        total >= expected_min && total == distinct
    });
    let total = count(&server, "SELECT count(*) AS n FROM t.flow");
    let distinct = count(&server, "SELECT count(DISTINCT id) AS n FROM t.flow");
    assert!(
        settled,
        "total {total}, distinct {distinct}, acknowledged {expected_min}\n{}",
        server.log_text()
    );
    for first_id in acknowledged {
        let query = format!(
            "SELECT count(*) AS n FROM t.flow WHERE id >= {first_id} AND id < {}",
            first_id + 50
        );
        assert_eq!(count(&server, &query), 50, "batch {first_id}");
    }
}
