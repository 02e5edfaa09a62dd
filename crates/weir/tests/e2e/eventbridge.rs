//! The EventBridge API through the real binary, as boto3 and the AWS CLI drive it: buses, rules,
//! targets, tags, PutEvents delivered to a Kinesis stream target through an input transformer,
//! TestEventPattern, archives and replays, paging, and AWS's errors.

use serde_json::{Value, json};

use crate::support::*;

/// Runs a Python script with boto3 clients `e` (EventBridge) and `k` (Kinesis) against the
/// server; `error(call, **kwargs)` returns an AWS error's (code, message), `sink_records(n)`
/// waits for `n` records on the Kinesis stream `sink` and returns their data as JSON; the script
/// asserts and prints `ok`.
fn boto3(server: &Server, script: &str) {
    let prelude = format!(
        "import datetime, json, time, boto3\n\
         from botocore.exceptions import ClientError\n\
         e = boto3.client('events', endpoint_url='{url}', region_name='us-east-1')\n\
         k = boto3.client('kinesis', endpoint_url='{url}', region_name='us-east-1')\n\
         def error(call, **kwargs):\n\
         \x20   try:\n\
         \x20       call(**kwargs)\n\
         \x20   except ClientError as e:\n\
         \x20       return e.response['Error']['Code'], e.response['Error']['Message']\n\
         \x20   raise AssertionError('no error from ' + str(kwargs))\n\
         def sink_records(n, stream='sink', seconds=20):\n\
         \x20   shard = k.list_shards(StreamName=stream)['Shards'][0]['ShardId']\n\
         \x20   iterator = k.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType='TRIM_HORIZON')['ShardIterator']\n\
         \x20   records, deadline = [], time.time() + seconds\n\
         \x20   while len(records) < n and time.time() < deadline:\n\
         \x20       page = k.get_records(ShardIterator=iterator)\n\
         \x20       records += [json.loads(r['Data']) for r in page['Records']]\n\
         \x20       iterator = page['NextShardIterator']\n\
         \x20       if len(records) < n:\n\
         \x20           time.sleep(0.1)\n\
         \x20   assert len(records) == n, records\n\
         \x20   return records\n",
        url = server.url
    );
    python_ok(server, &format!("{prelude}{script}\nprint('ok')\n"), &[]);
}

#[test]
fn eventbridge_boto3_drives_buses_rules_targets_and_tags() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
# Buses: the default one is always there; custom ones by name or ARN, paged.
buses = e.list_event_buses()['EventBuses']
assert [b['Name'] for b in buses] == ['default'], buses
assert buses[0]['Arn'] == 'arn:aws:events:us-east-1:000000000000:event-bus/default', buses
bus = e.create_event_bus(Name='orders', Description='the shop', Tags=[{'Key': 'team', 'Value': 'shop'}])
assert bus['EventBusArn'] == 'arn:aws:events:us-east-1:000000000000:event-bus/orders', bus
assert bus['Description'] == 'the shop', bus
assert error(e.create_event_bus, Name='orders') == \
    ('ResourceAlreadyExistsException', 'Event bus orders already exists.')
described = e.describe_event_bus(Name=bus['EventBusArn'])
assert described['Name'] == 'orders' and described['Description'] == 'the shop', described
assert isinstance(described['CreationTime'], datetime.datetime), described
assert e.describe_event_bus()['Name'] == 'default'
assert error(e.describe_event_bus, Name='nope') == \
    ('ResourceNotFoundException', 'Event bus nope does not exist.')
first = e.list_event_buses(Limit=1)
assert [b['Name'] for b in first['EventBuses']] == ['default'] and first['NextToken'], first
rest = e.list_event_buses(Limit=1, NextToken=first['NextToken'])
assert [b['Name'] for b in rest['EventBuses']] == ['orders'] and 'NextToken' not in rest, rest
assert [b['Name'] for b in e.list_event_buses(NamePrefix='ord')['EventBuses']] == ['orders']

# Rules on a custom bus: pattern, state, description; paging; AWS's refusals.
pattern = {'source': ['shop'], 'detail': {'total': [{'numeric': ['>', 100]}]}}
rule_arn = e.put_rule(Name='big-orders', EventBusName='orders', EventPattern=json.dumps(pattern),
                      Description='orders over 100')['RuleArn']
assert rule_arn == 'arn:aws:events:us-east-1:000000000000:rule/orders/big-orders', rule_arn
e.put_rule(Name='all-orders', EventBusName=bus['EventBusArn'], EventPattern='{"source": ["shop"]}',
           State='DISABLED', Tags=[{'Key': 'kind', 'Value': 'audit'}])
rule = e.describe_rule(Name='big-orders', EventBusName='orders')
assert rule['Arn'] == rule_arn and rule['State'] == 'ENABLED' and rule['EventBusName'] == 'orders', rule
assert json.loads(rule['EventPattern']) == pattern and rule['Description'] == 'orders over 100', rule
assert rule['CreatedBy'] == '000000000000', rule
first = e.list_rules(EventBusName='orders', Limit=1)
assert [r['Name'] for r in first['Rules']] == ['all-orders'] and first['NextToken'], first
assert first['Rules'][0]['State'] == 'DISABLED', first
rest = e.list_rules(EventBusName='orders', NextToken=first['NextToken'])
assert [r['Name'] for r in rest['Rules']] == ['big-orders'] and 'NextToken' not in rest, rest
assert [r['Name'] for r in e.list_rules(EventBusName='orders', NamePrefix='big')['Rules']] == ['big-orders']
assert e.list_rules()['Rules'] == []
assert error(e.describe_rule, Name='big-orders') == \
    ('ResourceNotFoundException', 'Rule big-orders does not exist on EventBus default.')
code, message = error(e.put_rule, Name='bad', EventPattern='{"source": "shop"}')
assert code == 'InvalidEventPatternException' and message.startswith('Event pattern is not valid. Reason: '), message
assert error(e.put_rule, Name='x y', EventPattern='{"source": ["a"]}') == ('ValidationException',
    "1 validation error detected: Value 'x y' at 'name' failed to satisfy constraint: "
    "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
e.disable_rule(Name='big-orders', EventBusName='orders')
assert e.describe_rule(Name='big-orders', EventBusName='orders')['State'] == 'DISABLED'
e.enable_rule(Name='big-orders', EventBusName='orders')
assert e.describe_rule(Name='big-orders', EventBusName='orders')['State'] == 'ENABLED'

# Targets: put, listed back as put, found by ARN; a rule with targets cannot be deleted.
k.create_stream(StreamName='sink', ShardCount=1)
sink = k.describe_stream_summary(StreamName='sink')['StreamDescriptionSummary']['StreamARN']
target = {'Id': 'sink', 'Arn': sink, 'KinesisParameters': {'PartitionKeyPath': '$.id'},
          'InputTransformer': {'InputPathsMap': {'id': '$.id', 'total': '$.detail.total'},
                               'InputTemplate': '{"order": <id>, "total": <total>}'},
          'RetryPolicy': {'MaximumRetryAttempts': 3, 'MaximumEventAgeInSeconds': 60}}
put = e.put_targets(Rule='big-orders', EventBusName='orders', Targets=[target])
assert put['FailedEntryCount'] == 0 and put['FailedEntries'] == [], put
listed = e.list_targets_by_rule(Rule='big-orders', EventBusName='orders')['Targets']
assert listed == [target], listed
assert e.list_rule_names_by_target(TargetArn=sink, EventBusName='orders')['RuleNames'] == ['big-orders']
assert e.list_rule_names_by_target(TargetArn=sink)['RuleNames'] == []
assert error(e.put_targets, Rule='big-orders', EventBusName='orders',
             Targets=[{'Id': 't', 'Arn': sink, 'Input': '{not json'}]) == \
    ('ValidationException', 'JSON syntax error in input for target t.')
assert error(e.delete_rule, Name='big-orders', EventBusName='orders') == \
    ('ValidationException', "Rule can't be deleted since it has targets.")

# Events: each entry answered on its own; a matching one reaches the stream, transformed.
put = e.put_events(Entries=[
    {'Source': 'shop', 'DetailType': 'Order Placed', 'Detail': json.dumps({'total': 150}), 'EventBusName': 'orders'},
    {'Source': 'shop', 'DetailType': 'Order Placed', 'Detail': json.dumps({'total': 50}), 'EventBusName': 'orders'},
    {'Source': 'shop', 'DetailType': 'Order Placed', 'EventBusName': 'orders'},
])
assert put['FailedEntryCount'] == 1, put
assert put['Entries'][2] == {'ErrorCode': 'InvalidArgument',
    'ErrorMessage': 'Parameter Detail is not valid. Reason: Detail is a required argument.'}, put
big = put['Entries'][0]['EventId']
assert sink_records(1) == [{'order': big, 'total': 150}]

# Tags on buses and rules, by ARN.
e.tag_resource(ResourceARN=rule_arn, Tags=[{'Key': 'owner', 'Value': 'ops'}, {'Key': 'tier', 'Value': '1'}])
e.untag_resource(ResourceARN=rule_arn, TagKeys=['tier'])
assert e.list_tags_for_resource(ResourceARN=rule_arn)['Tags'] == [{'Key': 'owner', 'Value': 'ops'}]
all_orders = 'arn:aws:events:us-east-1:000000000000:rule/orders/all-orders'
assert e.list_tags_for_resource(ResourceARN=all_orders)['Tags'] == [{'Key': 'kind', 'Value': 'audit'}]

# Taking it down: targets, rules, then the bus.
removed = e.remove_targets(Rule='big-orders', EventBusName='orders', Ids=['sink', 'other'])
assert removed['FailedEntryCount'] == 0, removed
assert e.list_targets_by_rule(Rule='big-orders', EventBusName='orders')['Targets'] == []
e.delete_rule(Name='big-orders', EventBusName='orders')
e.delete_rule(Name='all-orders', EventBusName='orders')
e.delete_rule(Name='all-orders', EventBusName='orders')
e.delete_event_bus(Name='orders')
assert [b['Name'] for b in e.list_event_buses()['EventBuses']] == ['default']
assert error(e.delete_event_bus, Name='default') == ('ValidationException', 'Cannot delete event bus default.')
"#,
    );
}

#[test]
fn eventbridge_boto3_tests_patterns_and_replays_archived_events() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
event = {'version': '0', 'id': '1', 'detail-type': 'Object Created', 'source': 'aws.s3',
         'account': '000000000000', 'time': '2026-12-06T10:00:00Z', 'region': 'us-east-1',
         'resources': [], 'detail': {'object': {'key': 'raw/clicks/1.json', 'size': 2048}}}
def test(pattern):
    return e.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))['Result']
assert test({'detail': {'object': {'key': [{'prefix': 'raw/'}], 'size': [{'numeric': ['>=', 1024]}]}}}) is True
assert test({'source': [{'anything-but': 'aws.s3'}]}) is False
assert test({'$or': [{'source': ['nope']}, {'detail-type': [{'equals-ignore-case': 'object created'}]}]}) is True
assert error(e.test_event_pattern, EventPattern='{"source": ["a"]}', Event='{"source": "a"}') == \
    ('ValidationException', 'Parameter Event is not valid.')

# An archive of the default bus keeps what is put; a replay puts it back, marked, to the rule.
k.create_stream(StreamName='sink', ShardCount=1)
sink = k.describe_stream_summary(StreamName='sink')['StreamDescriptionSummary']['StreamARN']
archive = e.create_archive(ArchiveName='everything', EventSourceArn='arn:aws:events:us-east-1:000000000000:event-bus/default',
                           Description='all of it', RetentionDays=0)
assert archive['ArchiveArn'] == 'arn:aws:events:us-east-1:000000000000:archive/everything', archive
assert archive['State'] == 'ENABLED', archive
assert error(e.list_archives, NamePrefix='e', State='ENABLED') == ('ValidationException',
    'At most one filter is allowed for ListArchives. Use either : State, EventSourceArn, or NamePrefix.')
start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
ids = [x['EventId'] for x in e.put_events(Entries=[
    {'Source': 'shop', 'DetailType': 'Order Placed', 'Detail': json.dumps({'n': n})} for n in range(3)])['Entries']]
deadline = time.time() + 20
while e.describe_archive(ArchiveName='everything')['EventCount'] < 3 and time.time() < deadline:
    time.sleep(0.1)
described = e.describe_archive(ArchiveName='everything')
assert described['EventCount'] == 3 and described['SizeBytes'] > 0, described
assert described['Description'] == 'all of it' and described['RetentionDays'] == 0, described
assert [a['ArchiveName'] for a in e.list_archives(State='ENABLED')['Archives']] == ['everything']
time.sleep(1.1)
end = datetime.datetime.now(datetime.timezone.utc)

rule_arn = e.put_rule(Name='replayed', EventPattern=json.dumps({'replay-name': [{'exists': True}]}))['RuleArn']
e.put_targets(Rule='replayed', Targets=[{'Id': 'sink', 'Arn': sink, 'InputPath': '$.detail'}])
replay = e.start_replay(ReplayName='backfill', EventSourceArn=archive['ArchiveArn'], EventStartTime=start,
                        EventEndTime=end, Destination={'Arn': 'arn:aws:events:us-east-1:000000000000:event-bus/default',
                                                       'FilterArns': [rule_arn]})
assert replay['ReplayArn'] == 'arn:aws:events:us-east-1:000000000000:replay/backfill', replay
assert replay['State'] in ('STARTING', 'RUNNING', 'COMPLETED'), replay
deadline = time.time() + 20
while e.describe_replay(ReplayName='backfill')['State'] != 'COMPLETED' and time.time() < deadline:
    time.sleep(0.1)
described = e.describe_replay(ReplayName='backfill')
assert described['State'] == 'COMPLETED', described
assert described['Destination']['FilterArns'] == [rule_arn], described
assert isinstance(described['EventLastReplayedTime'], datetime.datetime), described
assert sorted(r['n'] for r in sink_records(3)) == [0, 1, 2]
assert [r['ReplayName'] for r in e.list_replays(State='COMPLETED')['Replays']] == ['backfill']
assert error(e.cancel_replay, ReplayName='backfill')[0] == 'IllegalStatusException'
assert error(e.describe_replay, ReplayName='nope') == ('ResourceNotFoundException', 'Replay nope does not exist.')
e.update_archive(ArchiveName='everything', RetentionDays=7)
assert e.describe_archive(ArchiveName='everything')['RetentionDays'] == 7
e.delete_archive(ArchiveName='everything')
assert error(e.describe_archive, ArchiveName='everything') == \
    ('ResourceNotFoundException', 'Archive everything does not exist.')
"#,
    );
}

#[test]
fn eventbridge_the_aws_cli_puts_rules_targets_and_events() {
    let project = Project::new();
    let server = Server::start(project.path());
    let aws = |args: &[&str]| server.aws_cli(args);
    aws(&[
        "kinesis",
        "create-stream",
        "--stream-name",
        "sink",
        "--shard-count",
        "1",
    ]);
    let rule = aws(&[
        "events",
        "put-rule",
        "--name",
        "clicks",
        "--event-pattern",
        r#"{"detail-type": ["Click"]}"#,
    ]);
    assert_eq!(
        rule["RuleArn"],
        "arn:aws:events:us-east-1:000000000000:rule/clicks"
    );
    let sink = "arn:aws:kinesis:us-east-1:000000000000:stream/sink";
    let put = aws(&[
        "events",
        "put-targets",
        "--rule",
        "clicks",
        "--targets",
        &format!("Id=sink,Arn={sink},InputPath=$.detail"),
    ]);
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
    let listed = aws(&["events", "list-rules"]);
    assert_eq!(listed["Rules"][0]["Name"], "clicks", "{listed}");
    let put = aws(&[
        "events",
        "put-events",
        "--entries",
        &json!([{"Source": "web", "DetailType": "Click", "Detail": "{\"page\": \"/home\"}"}])
            .to_string(),
    ]);
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
    let matched = aws(&[
        "events",
        "test-event-pattern",
        "--event-pattern",
        r#"{"detail": {"page": [{"prefix": "/h"}]}}"#,
        "--event",
        &json!({"id": "1", "account": "000000000000", "source": "web", "time": "2026-12-06T10:00:00Z",
                "region": "us-east-1", "detail-type": "Click", "resources": [], "detail": {"page": "/home"}})
        .to_string(),
    ]);
    assert_eq!(matched, json!({"Result": true}));
    // The event reached the stream, as the target's InputPath selects it.
    let shard = "shardId-000000000000";
    let iterator = aws(&[
        "kinesis",
        "get-shard-iterator",
        "--stream-name",
        "sink",
        "--shard-id",
        shard,
        "--shard-iterator-type",
        "TRIM_HORIZON",
    ])["ShardIterator"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut data: Vec<Value> = Vec::new();
    assert!(
        eventually(std::time::Duration::from_secs(20), || {
            let page = aws(&["kinesis", "get-records", "--shard-iterator", &iterator]);
            data = page["Records"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["Data"].as_str())
                .filter_map(|b64| {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.decode(b64).ok()
                })
                .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
                .collect();
            !data.is_empty()
        }),
        "no record reached the stream"
    );
    assert_eq!(data, vec![json!({"page": "/home"})]);
}

#[test]
fn eventbridge_grants_narrow_a_signed_client_to_its_buses() {
    let project = Project::new();
    let server = Server::start(project.path());
    let narrow = crate::security::create(&server, "operator", "shop", &["--pipelines", "orders*"]);
    let key = narrow["access_key_id"].as_str().unwrap_or_default();
    let secret = narrow["secret_access_key"].as_str().unwrap_or_default();
    boto3(
        &server,
        &format!(
            r#"
e.create_event_bus(Name='orders')
e.create_event_bus(Name='billing')
shop = boto3.client('events', endpoint_url=e.meta.endpoint_url, region_name='us-east-1',
                    aws_access_key_id='{key}', aws_secret_access_key='{secret}')
entry = {{'Source': 'shop', 'DetailType': 'Order Placed', 'Detail': '{{}}'}}
put = shop.put_events(Entries=[dict(entry, EventBusName='orders')])
assert put['FailedEntryCount'] == 0, put
code, message = error(shop.put_events, Entries=[dict(entry, EventBusName='orders'), entry])
assert code == 'AccessDeniedException' and 'event bus default' in message, message
code, message = error(shop.put_events, Entries=[dict(entry, EventBusName='arn:aws:events:us-east-1:000000000000:event-bus/billing')])
assert code == 'AccessDeniedException' and 'event bus billing' in message, message
assert [b['Name'] for b in shop.list_event_buses()['EventBuses']] == ['orders']
assert error(shop.list_rules, EventBusName='billing')[0] == 'AccessDeniedException'
assert shop.list_rules(EventBusName='orders')['Rules'] == []
# Rules reach past names (a target starts what the credential may not): not for a narrowed one.
code, message = error(shop.put_rule, Name='r', EventBusName='orders', EventPattern='{{"source": ["shop"]}}')
assert code == 'AccessDeniedException', message
assert error(shop.create_event_bus, Name='orders-2')[0] == 'AccessDeniedException'
event = {{'id': '1', 'account': '000000000000', 'source': 'shop', 'time': '2026-12-06T10:00:00Z',
          'region': 'us-east-1', 'detail-type': 'Order Placed', 'resources': [], 'detail': {{}}}}
assert shop.test_event_pattern(EventPattern='{{"source": ["shop"]}}', Event=json.dumps(event))['Result'] is True
"#
        ),
    );
}
