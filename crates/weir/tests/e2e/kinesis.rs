//! The Kinesis Data Streams API through the real binary, as boto3 and the AWS CLI drive it:
//! streams, records, iterators of every kind, resharding with lineage, retention, tags, and
//! enhanced fan-out with SubscribeToShard read by boto3.

use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// Runs a Python script with a boto3 Kinesis client `k` against the server; `error(call,
/// **kwargs)` returns an AWS error's (code, message); the script asserts and prints `ok`.
fn boto3(server: &Server, script: &str) {
    let prelude = format!(
        "import base64, datetime, hashlib, time, boto3, botocore\n\
         from botocore.exceptions import ClientError\n\
         k = boto3.client('kinesis', endpoint_url='{}', region_name='us-east-1')\n\
         def error(call, **kwargs):\n\
         \x20   try:\n\
         \x20       call(**kwargs)\n\
         \x20   except ClientError as e:\n\
         \x20       return e.response['Error']['Code'], e.response['Error']['Message']\n\
         \x20   raise AssertionError('no error from ' + str(kwargs))\n\
         def read_shard(shard, stream='orders', **position):\n\
         \x20   position.setdefault('ShardIteratorType', 'TRIM_HORIZON')\n\
         \x20   iterator = k.get_shard_iterator(StreamName=stream, ShardId=shard, **position)['ShardIterator']\n\
         \x20   records, children = [], None\n\
         \x20   while iterator:\n\
         \x20       page = k.get_records(ShardIterator=iterator)\n\
         \x20       records += page['Records']\n\
         \x20       children = page.get('ChildShards')\n\
         \x20       iterator = page.get('NextShardIterator')\n\
         \x20       if not page['Records'] and page['MillisBehindLatest'] == 0:\n\
         \x20           break\n\
         \x20   return records, iterator, children\n",
        server.url
    );
    python_ok(server, &format!("{prelude}{script}\nprint('ok')\n"), &[]);
}

#[test]
fn kinesis_boto3_drives_streams_records_iterators_and_resharding() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
k.create_stream(StreamName='orders', ShardCount=2)
d = k.describe_stream(StreamName='orders')['StreamDescription']
assert d['StreamStatus'] == 'ACTIVE', d
arn = d['StreamARN']
assert arn == 'arn:aws:kinesis:us-east-1:000000000000:stream/orders', arn
assert [s['ShardId'] for s in d['Shards']] == ['shardId-000000000000', 'shardId-000000000001'], d
assert d['Shards'][0]['HashKeyRange'] == {'StartingHashKey': '0', 'EndingHashKey': str(2**127 - 1)}, d
assert d['Shards'][1]['HashKeyRange']['EndingHashKey'] == str(2**128 - 1), d
assert d['StreamModeDetails'] == {'StreamMode': 'PROVISIONED'} and d['RetentionPeriodHours'] == 24, d
assert isinstance(d['StreamCreationTimestamp'], datetime.datetime), d
assert d['HasMoreShards'] is False
page = k.describe_stream(StreamName='orders', Limit=1)['StreamDescription']
assert page['HasMoreShards'] and len(page['Shards']) == 1, page
rest = k.describe_stream(StreamName='orders', ExclusiveStartShardId='shardId-000000000000')['StreamDescription']
assert [s['ShardId'] for s in rest['Shards']] == ['shardId-000000000001'], rest
assert error(k.create_stream, StreamName='orders', ShardCount=1) == \
    ('ResourceInUseException', 'Stream orders under account 000000000000 already exists.')
assert error(k.describe_stream, StreamName='nope') == \
    ('ResourceNotFoundException', 'Stream nope under account 000000000000 not found.')

k.create_stream(StreamName='clicks', StreamModeDetails={'StreamMode': 'ON_DEMAND'})
summary = k.describe_stream_summary(StreamARN=arn.replace('orders', 'clicks'))['StreamDescriptionSummary']
assert summary['OpenShardCount'] == 4 and summary['StreamModeDetails'] == {'StreamMode': 'ON_DEMAND'}, summary
listed = k.list_streams()
assert listed['StreamNames'] == ['clicks', 'orders'] and not listed['HasMoreStreams'], listed
assert [s['StreamARN'] for s in listed['StreamSummaries']][1] == arn, listed
first = k.list_streams(Limit=1)
assert first['StreamNames'] == ['clicks'] and first['HasMoreStreams'], first
assert k.list_streams(NextToken=first['NextToken'])['StreamNames'] == ['orders']

# Records: placed by the partition key's MD5, or an explicit hash key.
expected = 'shardId-000000000000' if int(hashlib.md5(b'a').hexdigest(), 16) < 2**127 else 'shardId-000000000001'
before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
put = k.put_record(StreamName='orders', Data=b'first', PartitionKey='a')
assert put['ShardId'] == expected, put
first_sequence = put['SequenceNumber']
assert len(first_sequence) == 39 and put['EncryptionType'] == 'NONE', put
high = k.put_record(StreamARN=arn, Data=b'high', PartitionKey='a', ExplicitHashKey=str(2**127))
assert high['ShardId'] == 'shardId-000000000001', high
batch = k.put_records(StreamName='orders', Records=[{'Data': b'r%d' % i, 'PartitionKey': 'k%d' % i} for i in range(20)])
assert batch['FailedRecordCount'] == 0 and len(batch['Records']) == 20, batch
assert all(r['ShardId'].startswith('shardId-') for r in batch['Records']), batch

everything = []
for shard in ['shardId-000000000000', 'shardId-000000000001']:
    records, _, _ = read_shard(shard)
    sequences = [r['SequenceNumber'] for r in records]
    assert sequences == sorted(sequences), sequences
    everything += records
assert len(everything) == 22, everything
assert sorted(r['Data'] for r in everything) == sorted([b'first', b'high'] + [b'r%d' % i for i in range(20)])
first_record = next(r for r in everything if r['Data'] == b'first')
assert first_record['PartitionKey'] == 'a' and first_record['SequenceNumber'] == first_sequence
assert isinstance(first_record['ApproximateArrivalTimestamp'], datetime.datetime)

# Every iterator type.
at, _, _ = read_shard(expected, ShardIteratorType='AT_SEQUENCE_NUMBER', StartingSequenceNumber=first_sequence)
assert at[0]['SequenceNumber'] == first_sequence, at
after, _, _ = read_shard(expected, ShardIteratorType='AFTER_SEQUENCE_NUMBER', StartingSequenceNumber=first_sequence)
assert len(after) == len(at) - 1 and after[0]['SequenceNumber'] > first_sequence, (at, after)
since, _, _ = read_shard(expected, ShardIteratorType='AT_TIMESTAMP', Timestamp=before)
assert len(since) == len(at), since
latest, iterator, _ = read_shard('shardId-000000000001', ShardIteratorType='LATEST')
assert latest == [] and iterator, latest
k.put_record(StreamName='orders', Data=b'later', PartitionKey='z', ExplicitHashKey=str(2**128 - 1))
page = k.get_records(ShardIterator=iterator)
assert [r['Data'] for r in page['Records']] == [b'later'], page
one = k.get_records(ShardIterator=k.get_shard_iterator(StreamName='orders', ShardId=expected, ShardIteratorType='TRIM_HORIZON')['ShardIterator'], Limit=1)
assert len(one['Records']) == 1 and one['MillisBehindLatest'] >= 0 and one['NextShardIterator'], one

# Resharding keeps lineage; a parent read to its end names its children.
k.split_shard(StreamName='orders', ShardToSplit='shardId-000000000000', NewStartingHashKey=str(2**126))
shards = k.list_shards(StreamName='orders')['Shards']
assert [s['ShardId'] for s in shards] == ['shardId-00000000000%d' % i for i in range(4)], shards
assert 'EndingSequenceNumber' in shards[0]['SequenceNumberRange'], shards
assert [s.get('ParentShardId') for s in shards[2:]] == ['shardId-000000000000'] * 2, shards
assert shards[3]['HashKeyRange']['StartingHashKey'] == str(2**126), shards
_, iterator, children = read_shard('shardId-000000000000')
assert iterator is None and sorted(c['ShardId'] for c in children) == ['shardId-000000000002', 'shardId-000000000003'], children
assert children[0]['ParentShards'] == ['shardId-000000000000'], children
open_shards = k.list_shards(StreamName='orders', ShardFilter={'Type': 'AT_LATEST'})['Shards']
assert [s['ShardId'] for s in open_shards] == ['shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'], open_shards
after_one = k.list_shards(StreamName='orders', ShardFilter={'Type': 'AFTER_SHARD_ID', 'ShardId': 'shardId-000000000001'})['Shards']
assert [s['ShardId'] for s in after_one] == ['shardId-000000000002', 'shardId-000000000003'], after_one
paged = k.list_shards(StreamName='orders', MaxResults=3)
assert len(paged['Shards']) == 3 and paged['NextToken'], paged
assert [s['ShardId'] for s in k.list_shards(NextToken=paged['NextToken'])['Shards']] == ['shardId-000000000003']
assert error(k.list_shards, StreamName='orders', NextToken=paged['NextToken']) == \
    ('InvalidArgumentException', 'NextToken and StreamName cannot be provided together.')
k.merge_shards(StreamName='orders', ShardToMerge='shardId-000000000002', AdjacentShardToMerge='shardId-000000000003')
merged = k.list_shards(StreamName='orders', ShardFilter={'Type': 'AT_LATEST'})['Shards']
assert merged[-1]['ParentShardId'] == 'shardId-000000000002' and merged[-1]['AdjacentParentShardId'] == 'shardId-000000000003', merged
scaled = k.update_shard_count(StreamName='orders', TargetShardCount=4, ScalingType='UNIFORM_SCALING')
assert (scaled['CurrentShardCount'], scaled['TargetShardCount']) == (2, 4), scaled
assert k.describe_stream_summary(StreamName='orders')['StreamDescriptionSummary']['OpenShardCount'] == 4

# Retention.
k.increase_stream_retention_period(StreamName='orders', RetentionPeriodHours=48)
assert k.describe_stream(StreamName='orders')['StreamDescription']['RetentionPeriodHours'] == 48
assert error(k.decrease_stream_retention_period, StreamName='orders', RetentionPeriodHours=72) == ('InvalidArgumentException',
    'Requested retention period (72 hours) for stream orders can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.')
assert error(k.increase_stream_retention_period, StreamName='orders', RetentionPeriodHours=9000) == ('InvalidArgumentException',
    'Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.')
k.decrease_stream_retention_period(StreamName='orders', RetentionPeriodHours=24)

# Tags, by name and by ARN.
k.add_tags_to_stream(StreamName='orders', Tags={'team': 'data', 'env': 'test'})
assert k.list_tags_for_stream(StreamName='orders')['Tags'] == [{'Key': 'env', 'Value': 'test'}, {'Key': 'team', 'Value': 'data'}]
limited = k.list_tags_for_stream(StreamName='orders', Limit=1)
assert limited['HasMoreTags'] and len(limited['Tags']) == 1, limited
k.remove_tags_from_stream(StreamName='orders', TagKeys=['env'])
k.tag_resource(ResourceARN=arn, Tags={'owner': 'me'})
assert k.list_tags_for_resource(ResourceARN=arn)['Tags'] == [{'Key': 'owner', 'Value': 'me'}, {'Key': 'team', 'Value': 'data'}]
k.untag_resource(ResourceARN=arn, TagKeys=['owner'])
assert k.list_tags_for_stream(StreamARN=arn)['Tags'] == [{'Key': 'team', 'Value': 'data'}]

k.delete_stream(StreamName='clicks')
assert k.list_streams()['StreamNames'] == ['orders']
assert error(k.get_shard_iterator, StreamName='clicks', ShardId='shardId-000000000000', ShardIteratorType='LATEST')[0] == 'ResourceNotFoundException'
"#,
    );
}

#[test]
fn kinesis_enhanced_fan_out_pushes_records_to_boto3s_subscribe_to_shard() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
k.create_stream(StreamName='feed', ShardCount=1)
arn = k.describe_stream_summary(StreamName='feed')['StreamDescriptionSummary']['StreamARN']
consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName='app')['Consumer']
consumer_arn = consumer['ConsumerARN']
assert consumer_arn.startswith(arn + '/consumer/app:'), consumer
for _ in range(100):
    described = k.describe_stream_consumer(ConsumerARN=consumer_arn)['ConsumerDescription']
    if described['ConsumerStatus'] == 'ACTIVE':
        break
    time.sleep(0.1)
assert described['StreamARN'] == arn and described['ConsumerName'] == 'app', described
assert k.describe_stream_consumer(StreamARN=arn, ConsumerName='app')['ConsumerDescription']['ConsumerARN'] == consumer_arn
assert [c['ConsumerName'] for c in k.list_stream_consumers(StreamARN=arn)['Consumers']] == ['app']
assert k.describe_stream_summary(StreamName='feed')['StreamDescriptionSummary']['ConsumerCount'] == 1

k.put_records(StreamName='feed', Records=[{'Data': d, 'PartitionKey': 'p'} for d in [b'a', b'b', b'c']])
subscription = k.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId='shardId-000000000000',
                                    StartingPosition={'Type': 'TRIM_HORIZON'})
got = []
for event in subscription['EventStream']:
    shard_event = event['SubscribeToShardEvent']
    got += [r['Data'] for r in shard_event['Records']]
    if len(got) >= 3:
        break
subscription['EventStream'].close()
assert got == [b'a', b'b', b'c'], got
continuation = shard_event['ContinuationSequenceNumber']
assert continuation == shard_event['Records'][-1]['SequenceNumber'], shard_event
assert shard_event['MillisBehindLatest'] == 0, shard_event

# A live subscription: records put after it started are pushed to it.
subscription = k.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId='shardId-000000000000',
    StartingPosition={'Type': 'AFTER_SEQUENCE_NUMBER', 'SequenceNumber': continuation})
k.put_record(StreamName='feed', Data=b'live', PartitionKey='p')
pushed = []
for event in subscription['EventStream']:
    pushed += [r['Data'] for r in event['SubscribeToShardEvent']['Records']]
    if pushed:
        break
subscription['EventStream'].close()
assert pushed == [b'live'], pushed

assert error(k.subscribe_to_shard, ConsumerARN=consumer_arn, ShardId='shardId-000000000000',
    StartingPosition={'Type': 'AT_SEQUENCE_NUMBER'})[0] == 'InvalidArgumentException'
k.deregister_stream_consumer(ConsumerARN=consumer_arn)
for _ in range(100):
    if not k.list_stream_consumers(StreamARN=arn)['Consumers']:
        break
    time.sleep(0.1)
assert error(k.describe_stream_consumer, ConsumerARN=consumer_arn)[0] == 'ResourceNotFoundException'
"#,
    );
}

/// An empty shard's starting sequence number is below its first record's, as on AWS: a
/// consumer that resumes AFTER it (the KCL resubscribing with an empty shard's
/// ContinuationSequenceNumber) gets the first record once it is put.
#[test]
fn kinesis_resuming_after_an_empty_shards_starting_sequence_number_delivers_its_first_record() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
k.create_stream(StreamName='quiet', ShardCount=1)
arn = k.describe_stream_summary(StreamName='quiet')['StreamDescriptionSummary']['StreamARN']
shard = k.list_shards(StreamName='quiet')['Shards'][0]
start = shard['SequenceNumberRange']['StartingSequenceNumber']
assert len(start) == 39, start
consumer_arn = k.register_stream_consumer(StreamARN=arn, ConsumerName='kcl')['Consumer']['ConsumerARN']
for _ in range(100):
    if k.describe_stream_consumer(ConsumerARN=consumer_arn)['ConsumerDescription']['ConsumerStatus'] == 'ACTIVE':
        break
    time.sleep(0.1)

# Subscribed to the empty shard, the first event carries no records and continues from the
# shard's starting sequence number.
subscription = k.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId='shardId-000000000000',
                                    StartingPosition={'Type': 'TRIM_HORIZON'})
for event in subscription['EventStream']:
    first_event = event['SubscribeToShardEvent']
    break
subscription['EventStream'].close()
assert first_event['Records'] == [], first_event
continuation = first_event['ContinuationSequenceNumber']
assert continuation == start, (continuation, start)

# Resuming AFTER it, by subscription and by iterator, before the first record is put.
iterator = k.get_shard_iterator(StreamName='quiet', ShardId='shardId-000000000000',
    ShardIteratorType='AFTER_SEQUENCE_NUMBER', StartingSequenceNumber=start)['ShardIterator']
at_start = k.get_shard_iterator(StreamName='quiet', ShardId='shardId-000000000000',
    ShardIteratorType='AT_SEQUENCE_NUMBER', StartingSequenceNumber=start)['ShardIterator']
subscription = k.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId='shardId-000000000000',
    StartingPosition={'Type': 'AFTER_SEQUENCE_NUMBER', 'SequenceNumber': continuation})
put = k.put_record(StreamName='quiet', Data=b'first', PartitionKey='p')
assert put['SequenceNumber'] > start, (put, start)
pushed = []
for event in subscription['EventStream']:
    pushed += event['SubscribeToShardEvent']['Records']
    if pushed:
        break
subscription['EventStream'].close()
assert [(r['Data'], r['SequenceNumber']) for r in pushed] == [(b'first', put['SequenceNumber'])], pushed
for it in [iterator, at_start]:
    records = k.get_records(ShardIterator=it)['Records']
    assert [r['Data'] for r in records] == [b'first'], records
"#,
    );
}

#[test]
fn kinesis_the_aws_cli_puts_and_gets_records() {
    let project = Project::new();
    let server = Server::start(project.path());
    let aws = |args: &[&str]| -> Value {
        let mut all = vec!["kinesis"];
        all.extend_from_slice(args);
        server.aws_cli(&all)
    };
    aws(&[
        "create-stream",
        "--stream-name",
        "cli",
        "--shard-count",
        "1",
    ]);
    let put = aws(&[
        "put-record",
        "--stream-name",
        "cli",
        "--partition-key",
        "k",
        "--data",
        "hello",
    ]);
    assert_eq!(put["ShardId"], "shardId-000000000000", "{put}");
    let iterator = aws(&[
        "get-shard-iterator",
        "--stream-name",
        "cli",
        "--shard-id",
        "shardId-000000000000",
        "--shard-iterator-type",
        "TRIM_HORIZON",
    ]);
    let iterator = iterator["ShardIterator"].as_str().expect("an iterator");
    let records = aws(&["get-records", "--shard-iterator", iterator]);
    // The CLI sends the text as bytes and shows what it reads back as base64.
    assert_eq!(records["Records"][0]["Data"], "aGVsbG8=", "{records}");
    assert_eq!(
        records["Records"][0]["SequenceNumber"],
        put["SequenceNumber"]
    );
    let shards = aws(&["list-shards", "--stream-name", "cli"]);
    assert_eq!(
        shards["Shards"].as_array().map(Vec::len),
        Some(1),
        "{shards}"
    );
    aws(&["delete-stream", "--stream-name", "cli"]);
    assert_eq!(aws(&["list-streams"])["StreamNames"], serde_json::json!([]));
}

/// Calls a Kinesis operation with curl (`extra` picks the HTTP version and the TLS trust) and
/// returns what curl printed: the response's head and body, or as much of a stream as came in
/// `seconds`.
fn curl(server: &Server, extra: &[&str], operation: &str, body: &str, seconds: u32) -> String {
    let output = Command::new("curl")
        .args(["-si", "--max-time", &seconds.to_string()])
        .args(extra)
        .args([
            "-H",
            &format!("X-Amz-Target: Kinesis_20131202.{operation}"),
            "-H",
            "Content-Type: application/x-amz-json-1.1",
            "-H",
            &format!("Authorization: Bearer {}", server.token()),
            "--data-binary",
            body,
            &format!("{}/", server.url),
        ])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn kinesis_http2_clients_are_answered_and_subscribe_to_shard_streams_over_http2() {
    let project = Project::new();
    let (cert, key) = self_signed_certificate(project.path());
    let server = Server::start_https(
        project.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let h2 = ["--http2", "--cacert", cert.to_str().unwrap()];
    let created = curl(
        &server,
        &h2,
        "CreateStream",
        r#"{"StreamName": "h2", "ShardCount": 1}"#,
        30,
    );
    // ALPN chose HTTP/2.
    assert!(created.starts_with("HTTP/2 200"), "{created}");
    let put = curl(
        &server,
        &h2,
        "PutRecord",
        r#"{"StreamName": "h2", "PartitionKey": "k", "Data": "aGVsbG8gaDI="}"#,
        30,
    );
    assert!(put.starts_with("HTTP/2 200"), "{put}");
    let registered = curl(
        &server,
        &h2,
        "RegisterStreamConsumer",
        r#"{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/h2", "ConsumerName": "c"}"#,
        30,
    );
    let body = registered.split("\r\n\r\n").nth(1).unwrap_or_default();
    let consumer: Value = serde_json::from_str(body).expect("a consumer");
    let consumer_arn = consumer["Consumer"]["ConsumerARN"]
        .as_str()
        .expect("an ARN");
    // The subscription streams for five minutes: curl stops after two seconds with what came.
    let subscription = curl(
        &server,
        &h2,
        "SubscribeToShard",
        &serde_json::json!({
            "ConsumerARN": consumer_arn,
            "ShardId": "shardId-000000000000",
            "StartingPosition": {"Type": "TRIM_HORIZON"},
        })
        .to_string(),
        2,
    );
    assert!(subscription.starts_with("HTTP/2 200"), "{subscription}");
    assert!(
        subscription.contains("content-type: application/vnd.amazon.eventstream"),
        "{subscription}"
    );
    let initial = subscription
        .find("initial-response")
        .expect("initial-response");
    let event = subscription
        .find("SubscribeToShardEvent")
        .expect("an event");
    assert!(initial < event, "{subscription}");
    assert!(
        subscription.contains("\"Data\":\"aGVsbG8gaDI=\""),
        "{subscription}"
    );
}

#[test]
fn kinesis_http2_without_tls_is_answered_with_prior_knowledge() {
    let project = Project::new();
    let server = Server::start(project.path());
    let listed = curl(
        &server,
        &["--http2-prior-knowledge"],
        "ListStreams",
        "{}",
        30,
    );
    assert!(listed.starts_with("HTTP/2 200"), "{listed}");
    assert!(listed.contains("\"StreamNames\":[]"), "{listed}");
}
