//! Functions triggered by streams (event source mappings) through the real binary, as boto3's
//! `lambda` and `kinesis` clients drive them: the mapping's lifecycle and fields, the exact
//! event a function gets, ReportBatchItemFailures, and a failing batch that stalls only its own
//! shard until its retries are spent and it goes to the on-failure stream.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// A function that appends each event it gets to `events.jsonl` (in the project) and reports as
/// failed, once, every record whose data is `retry-me`; it fails outright on a record `poison`.
const HANDLER: &str = r#"
import base64, json, os, sys
event = json.load(sys.stdin)
with open('events.jsonl', 'a') as f:
    f.write(json.dumps(event) + '\n')
datas = [base64.b64decode(r['kinesis']['data']) for r in event['Records']]
if b'poison' in datas:
    sys.exit('poison in the batch')
failures = []
for record, data in zip(event['Records'], datas):
    if data == b'retry-me' and not os.path.exists('retried'):
        failures.append({'itemIdentifier': record['kinesis']['sequenceNumber']})
if failures:
    open('retried', 'w').close()
print(json.dumps({'batchItemFailures': failures}))
"#;

fn project() -> Project {
    let project = Project::new();
    project.write("handler.py", HANDLER);
    project.write("functions/handler.yaml", "command: [python3, handler.py]\n");
    project
}

/// Runs a script with boto3 clients `k` (Kinesis) and `l` (Lambda), `error(call, **kwargs)`
/// (an AWS error's code and message), `events()` (what the function got, in order),
/// `datas(event)` and `wait(what, condition)`.
fn boto3(server: &Server, project: &Project, script: &str) {
    let prelude = format!(
        "import base64, json, os, time, boto3\n\
         from botocore.exceptions import ClientError\n\
         k = boto3.client('kinesis', endpoint_url='{url}', region_name='us-east-1')\n\
         l = boto3.client('lambda', endpoint_url='{url}', region_name='us-east-1')\n\
         def error(call, **kwargs):\n\
         \x20   try:\n\
         \x20       call(**kwargs)\n\
         \x20   except ClientError as e:\n\
         \x20       return e.response['Error']['Code'], e.response['Error']['Message']\n\
         \x20   raise AssertionError('no error from ' + str(kwargs))\n\
         def events():\n\
         \x20   path = os.path.join({project:?}, 'events.jsonl')\n\
         \x20   if not os.path.exists(path):\n\
         \x20       return []\n\
         \x20   return [json.loads(line) for line in open(path)]\n\
         def datas(event):\n\
         \x20   return [base64.b64decode(r['kinesis']['data']).decode() for r in event['Records']]\n\
         def wait(what, condition, seconds=30):\n\
         \x20   deadline = time.time() + seconds\n\
         \x20   while not condition():\n\
         \x20       assert time.time() < deadline, 'timed out waiting for ' + what + ': ' + str([datas(e) for e in events()])\n\
         \x20       time.sleep(0.05)\n",
        url = server.url,
        project = project.path().display().to_string(),
    );
    python_ok(server, &format!("{prelude}{script}\nprint('ok')\n"), &[]);
}

#[test]
fn event_source_mappings_invoke_functions_with_lambdas_kinesis_event() {
    let project = project();
    let server = Server::start(project.path());
    boto3(
        &server,
        &project,
        r#"
k.create_stream(StreamName='orders', ShardCount=1)
arn = k.describe_stream(StreamName='orders')['StreamDescription']['StreamARN']
function_arn = 'arn:aws:lambda:us-east-1:000000000000:function:handler'
m = l.create_event_source_mapping(FunctionName='handler', EventSourceArn=arn, StartingPosition='TRIM_HORIZON',
                                  BatchSize=10, FunctionResponseTypes=['ReportBatchItemFailures'])
assert m['ResponseMetadata']['HTTPStatusCode'] == 202, m
uuid = m['UUID']
assert len(uuid) == 36 and m['State'] == 'Creating', m
assert m['EventSourceArn'] == arn and m['FunctionArn'] == function_arn, m
assert m['BatchSize'] == 10 and m['StartingPosition'] == 'TRIM_HORIZON', m
assert m['MaximumRetryAttempts'] == -1 and m['MaximumRecordAgeInSeconds'] == -1, m
assert m['MaximumBatchingWindowInSeconds'] == 0 and m['ParallelizationFactor'] == 1, m
assert m['BisectBatchOnFunctionError'] is False and m['TumblingWindowInSeconds'] == 0, m
assert m['FunctionResponseTypes'] == ['ReportBatchItemFailures'], m
assert m['LastProcessingResult'] == 'No records processed', m
assert m['EventSourceMappingArn'] == 'arn:aws:lambda:us-east-1:000000000000:event-source-mapping:' + uuid, m
assert l.get_event_source_mapping(UUID=uuid)['State'] == 'Enabled'

# A second mapping of the same stream and function, an unknown function or stream: refused.
code, message = error(l.create_event_source_mapping, FunctionName='handler', EventSourceArn=arn, StartingPosition='LATEST')
assert code == 'ResourceConflictException' and uuid in message, message
assert error(l.create_event_source_mapping, FunctionName='nope', EventSourceArn=arn, StartingPosition='LATEST') == \
    ('ResourceNotFoundException', 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope')
code, _ = error(l.create_event_source_mapping, FunctionName='handler', EventSourceArn=arn.replace('orders', 'nope'), StartingPosition='LATEST')
assert code == 'InvalidParameterValueException', code
assert error(l.get_event_source_mapping, UUID='00000000-0000-0000-0000-000000000000')[0] == 'ResourceNotFoundException'

# Records put with the Kinesis API reach the function as Lambda's Kinesis event, in order.
k.put_records(StreamName='orders', Records=[{'PartitionKey': 'p%d' % i, 'Data': d.encode()}
              for i, d in enumerate(['one', 'two', 'retry-me', 'four'])])
wait('the retry after the item failure', lambda: len(events()) >= 2)
got = events()
assert [datas(e) for e in got[:2]] == [['one', 'two', 'retry-me', 'four'], ['retry-me', 'four']], got
put = k.get_records(ShardIterator=k.get_shard_iterator(StreamName='orders', ShardId='shardId-000000000000',
                    ShardIteratorType='TRIM_HORIZON')['ShardIterator'])['Records']
for record, stored in zip(got[0]['Records'], put):
    sequence = stored['SequenceNumber']
    expected = {
        'kinesis': {'kinesisSchemaVersion': '1.0', 'partitionKey': stored['PartitionKey'], 'sequenceNumber': sequence,
                    'data': base64.b64encode(stored['Data']).decode(),
                    'approximateArrivalTimestamp': record['kinesis']['approximateArrivalTimestamp']},
        'eventSource': 'aws:kinesis', 'eventVersion': '1.0', 'eventID': 'shardId-000000000000:' + sequence,
        'eventName': 'aws:kinesis:record', 'invokeIdentityArn': 'arn:aws:iam::000000000000:role/weir',
        'awsRegion': 'us-east-1', 'eventSourceARN': arn,
    }
    assert record == expected, (record, expected)
    assert abs(record['kinesis']['approximateArrivalTimestamp'] - stored['ApproximateArrivalTimestamp'].timestamp()) < 0.002
assert set(got[0].keys()) == {'Records'}, got[0].keys()

# Listing, by function and by stream; an update restarts it from its checkpoint.
assert [x['UUID'] for x in l.list_event_source_mappings(FunctionName='handler')['EventSourceMappings']] == [uuid]
assert [x['UUID'] for x in l.list_event_source_mappings(EventSourceArn=arn)['EventSourceMappings']] == [uuid]
assert l.list_event_source_mappings(FunctionName=function_arn)['EventSourceMappings'][0]['LastProcessingResult'] == 'OK'
u = l.update_event_source_mapping(UUID=uuid, BatchSize=1, MaximumRetryAttempts=3)
assert u['State'] == 'Updating' and u['BatchSize'] == 1 and u['MaximumRetryAttempts'] == 3, u
k.put_record(StreamName='orders', PartitionKey='p', Data=b'five')
wait('the record after the update', lambda: len(events()) == 3)
assert datas(events()[2]) == ['five'], events()
time.sleep(0.3)
assert len(events()) == 3, 'nothing processed twice'

d = l.delete_event_source_mapping(UUID=uuid)
assert d['State'] == 'Deleting' and d['ResponseMetadata']['HTTPStatusCode'] == 202, d
assert error(l.get_event_source_mapping, UUID=uuid)[0] == 'ResourceNotFoundException'
assert l.list_event_source_mappings()['EventSourceMappings'] == []
k.put_record(StreamName='orders', PartitionKey='p', Data=b'six')
time.sleep(0.5)
assert len(events()) == 3, 'a deleted mapping invokes nothing'
"#,
    );
}

#[test]
fn event_source_a_failing_batch_stalls_only_its_own_shard() {
    let project = project();
    let server = Server::start(project.path());
    let stalled = std::thread::scope(|scope| {
        // While the poisoned shard stalls, /metrics shows it behind and the other caught up.
        let watcher = scope.spawn(|| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                let (_, metrics) = server.get("/metrics");
                let lag = |shard: &str| {
                    metrics
                        .lines()
                        .find(|l| {
                            l.starts_with("weir_stream_consumer_lag_records{")
                                && l.contains(&format!("shard=\"{shard}\""))
                                && l.contains("stream=\"orders\"")
                        })
                        .and_then(|l| l.rsplit(' ').next())
                        .and_then(|v| v.parse::<f64>().ok())
                };
                if let (Some(behind), Some(caught_up)) =
                    (lag("shardId-000000000000"), lag("shardId-000000000001"))
                    && behind >= 2.0
                    && caught_up == 0.0
                {
                    return true;
                }
                if std::time::Instant::now() > deadline {
                    return false;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        run_stall_script(&server, &project);
        watcher.join().unwrap_or(false)
    });
    assert!(
        stalled,
        "the lag gauges never showed shard 0 behind and shard 1 caught up"
    );
}

fn run_stall_script(server: &Server, project: &Project) {
    boto3(
        server,
        project,
        r#"
k.create_stream(StreamName='orders', ShardCount=2)
k.create_stream(StreamName='dlq', ShardCount=1)
arn = k.describe_stream(StreamName='orders')['StreamDescription']['StreamARN']
dlq = arn.replace('orders', 'dlq')
m = l.create_event_source_mapping(FunctionName='handler', EventSourceArn=arn, StartingPosition='TRIM_HORIZON',
                                  BatchSize=2, DestinationConfig={'OnFailure': {'Destination': dlq}})
uuid = m['UUID']
assert m['DestinationConfig']['OnFailure'] == {'Destination': dlq}, m
# Shard 0 gets a poisoned batch; shard 1 only good records.
first, second = '0', str(2**127)
k.put_records(StreamName='orders', Records=[
    {'PartitionKey': 'a', 'ExplicitHashKey': first, 'Data': b'poison'},
    {'PartitionKey': 'a', 'ExplicitHashKey': first, 'Data': b'after-poison'},
    {'PartitionKey': 'a', 'ExplicitHashKey': first, 'Data': b'later-0'},
] + [{'PartitionKey': 'b', 'ExplicitHashKey': second, 'Data': ('s1-%d' % i).encode()} for i in range(5)])
seen = lambda: [d for e in events() for d in datas(e)]
wait('shard 1', lambda: all('s1-%d' % i in seen() for i in range(5)))
wait('retries of the poisoned batch', lambda: seen().count('poison') >= 3)
assert 'later-0' not in seen(), seen()
# (shard 1's last success may land after a failed retry of shard 0: the next retry says so)
wait('the problem to show', lambda: l.get_event_source_mapping(UUID=uuid)['LastProcessingResult'] == 'PROBLEM: Function call failed')
# With its retries spent, the poisoned batch goes to the on-failure stream and the shard moves on.
l.update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=0)
wait('the rest of shard 0', lambda: 'later-0' in seen())
failed = k.get_records(ShardIterator=k.get_shard_iterator(StreamName='dlq', ShardId='shardId-000000000000',
                       ShardIteratorType='TRIM_HORIZON')['ShardIterator'])['Records']
assert len(failed) == 1, failed
info = json.loads(failed[0]['Data'])
assert info['requestContext']['condition'] == 'RetryAttemptsExhausted', info
assert info['requestContext']['functionArn'] == 'arn:aws:lambda:us-east-1:000000000000:function:handler', info
batch = info['KinesisBatchInfo']
assert batch['shardId'] == 'shardId-000000000000' and batch['streamArn'] == arn and batch['batchSize'] == 2, batch
assert seen().count('s1-0') == 1, 'shard 1 was never processed again'
"#,
    );
}

/// A mapping's lag per shard is in `/api/v1/streams/NAME/consumers` and `weir streams
/// describe`: the records put while the function fails are behind, then none once it succeeds.
#[test]
fn event_source_lag_is_shown_by_the_streams_api_and_goes_to_zero() {
    let project = Project::new();
    // Fails while the file `hold` exists.
    project.write(
        "gate.py",
        "import json, os, sys\njson.load(sys.stdin)\nif os.path.exists('hold'):\n    sys.exit('held')\nprint('{}')\n",
    );
    let hold = project.write("hold", "");
    let server = Server::start(project.path());
    assert!(
        server
            .cli(&["streams", "create", "orders"])
            .status
            .success()
    );
    project.write(
        "functions/gate.yaml",
        "command: [python3, gate.py]\nevent_sources:\n  - stream: orders\n    batch_size: 10\n",
    );
    let consumers = || server.get_json("/api/v1/streams/orders/consumers");
    assert!(
        eventually(Duration::from_secs(30), || consumers()["consumers"]
            .as_array()
            .is_some_and(|c| c.len() == 1)),
        "the mapping never ran: {}",
        consumers()
    );
    let put = server.json(&[
        "streams",
        "put",
        "orders",
        "--partition-key",
        "k",
        "a",
        "b",
        "c",
    ]);
    let last_sequence = put["records"][2]["sequence_number"].clone();
    let shard_lag = || consumers()["consumers"][0]["shards"][0].clone();
    assert!(
        eventually(Duration::from_secs(30), || {
            let lag = shard_lag();
            lag["records_behind"] == 3 && lag["millis_behind"].as_i64() > Some(0)
        }),
        "the failing batch's lag never showed: {}",
        consumers()
    );
    let listed = consumers();
    let group = &listed["consumers"][0];
    assert!(
        group["group"].as_str().unwrap().starts_with("lambda:")
            && group["description"]
                .as_str()
                .unwrap()
                .starts_with("function gate (event source mapping "),
        "{listed}"
    );
    assert_eq!(group["shards"][0]["shard_id"], "shardId-000000000000");
    assert_eq!(group["shards"][0]["checkpoint"], Value::Null);
    let described = stdout(&server.cli(&["streams", "describe", "orders"]));
    let row = described
        .lines()
        .skip_while(|line| !line.starts_with("CONSUMER "))
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        row.starts_with("function gate (event source mapping ")
            && row.contains("  shardId-000000000000  3  "),
        "{described}"
    );

    std::fs::remove_file(hold).unwrap();
    assert!(
        eventually(Duration::from_secs(30), || {
            let lag = shard_lag();
            lag["records_behind"] == 0 && lag["millis_behind"] == 0
        }),
        "the lag never went to zero: {}",
        consumers()
    );
    assert_eq!(shard_lag()["checkpoint"], last_sequence);
    let (status, _) = server.get("/api/v1/streams/nope/consumers");
    assert_eq!(status, 404);
}
