//! The event bus through the real binary: rules from `rules/*.yaml` reaching every kind of
//! target, the built-in events weir emits as its parts change, a pipeline's inline trigger on a
//! new partition, the dead-letter queue of a target that cannot take an event, and events
//! acknowledged before a kill -9 delivered after the restart.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// Runs a Python script with boto3 clients `e` (EventBridge), `q` (SQS), `k` (Kinesis) and `s`
/// (Step Functions); `messages(queue, n)` waits for `n` messages on a queue and returns their
/// bodies as JSON (deleting them); the script asserts and prints `ok`.
fn boto3(server: &Server, script: &str) {
    let prelude = format!(
        "import json, os, time, boto3\n\
         e = boto3.client('events', endpoint_url='{url}', region_name='us-east-1')\n\
         q = boto3.client('sqs', endpoint_url='{url}', region_name='us-east-1')\n\
         k = boto3.client('kinesis', endpoint_url='{url}', region_name='us-east-1')\n\
         s = boto3.client('stepfunctions', endpoint_url='{url}', region_name='us-east-1')\n\
         def messages(queue, n, seconds=30, attributes=False):\n\
         \x20   url = q.get_queue_url(QueueName=queue)['QueueUrl']\n\
         \x20   got, deadline = [], time.time() + seconds\n\
         \x20   while len(got) < n and time.time() < deadline:\n\
         \x20       page = q.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=['All'])\n\
         \x20       for m in page.get('Messages', []):\n\
         \x20           got.append((json.loads(m['Body']), m.get('MessageAttributes', {{}})) if attributes else json.loads(m['Body']))\n\
         \x20           q.delete_message(QueueUrl=url, ReceiptHandle=m['ReceiptHandle'])\n\
         \x20   assert len(got) >= n, (queue, got)\n\
         \x20   return got\n\
         def put(source, detail_type, detail, bus='default'):\n\
         \x20   answer = e.put_events(Entries=[{{'Source': source, 'DetailType': detail_type, 'Detail': json.dumps(detail), 'EventBusName': bus}}])\n\
         \x20   assert answer['FailedEntryCount'] == 0, answer\n\
         \x20   return answer['Entries'][0]['EventId']\n",
        url = server.url
    );
    python_ok(server, &format!("{prelude}{script}\nprint('ok')\n"), &[]);
}

/// A function that appends each event it gets to `record.jsonl` in the project.
const RECORDER: &str = "import json, sys\nevent = json.load(sys.stdin)\nopen('record.jsonl', 'a').write(json.dumps(event) + '\\n')\nprint('{}')\n";

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_rule_file_starts_a_run_an_execution_a_function_a_record_and_a_message() {
    let project = Project::new();
    project.write("record.py", RECORDER);
    project.write("functions/record.yaml", "command: [python3, record.py]\n");
    project.pipeline(
        "fulfil",
        "params:\n  order: 0\ntasks:\n  pack:\n    command: echo \"order {{ params.order }} from event {{ event.id }} of {{ event.source }}\"\n",
    );
    project.write(
        "machines/ship.asl.json",
        r#"{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}"#,
    );
    project.write(
        "rules/orders.yaml",
        r#"description: Orders from the shop start everything
pattern:
  source: [shop]
  detail-type: [Order Placed]
  detail:
    total: [{numeric: [">", 100]}]
targets:
  - id: run
    pipeline: fulfil
    input_transformer:
      input_paths: {order: $.detail.id}
      input_template: '{"order": <order>}'
  - id: exec
    machine: ship
    input_path: $.detail
  - id: fn
    function: record
  - id: rec
    stream: orders
    partition_key_path: $.detail.id
  - id: msg
    queue: orders
"#,
    );
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
k.create_stream(StreamName='orders', ShardCount=1)
q.create_queue(QueueName='orders')
put('shop', 'Order Placed', {'id': 6, 'total': 50})
event_id = put('shop', 'Order Placed', {'id': 7, 'total': 150})

# The queue gets the whole event, once: the small order matched nothing.
[body] = messages('orders', 1)
assert body['id'] == event_id and body['detail'] == {'id': 7, 'total': 150}, body
assert body['detail-type'] == 'Order Placed' and body['source'] == 'shop', body

# The stream gets it with the partition key the rule's path reads.
shard = k.list_shards(StreamName='orders')['Shards'][0]['ShardId']
iterator = k.get_shard_iterator(StreamName='orders', ShardId=shard, ShardIteratorType='TRIM_HORIZON')['ShardIterator']
records = k.get_records(ShardIterator=iterator)['Records']
assert len(records) == 1 and records[0]['PartitionKey'] == '7', records
assert json.loads(records[0]['Data'])['id'] == event_id

# The state machine ran with the InputPath's part of the event, named after event and target.
arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:ship'
deadline = time.time() + 20
while True:
    executions = s.list_executions(stateMachineArn=arn)['executions']
    if executions and executions[0]['status'] == 'SUCCEEDED':
        break
    assert time.time() < deadline, executions
    time.sleep(0.1)
assert len(executions) == 1 and executions[0]['name'] == 'exec_' + event_id, executions
out = s.describe_execution(executionArn=executions[0]['executionArn'])
assert json.loads(out['input']) == {'id': 7, 'total': 150}, out
"#,
    );
    // The function got the whole event.
    wait_for("the function's invocation", || {
        project.path().join("record.jsonl").exists()
    });
    let recorded: Value =
        serde_json::from_str(project.read("record.jsonl").lines().next().unwrap()).unwrap();
    assert_eq!(recorded["detail"]["id"], 7, "{recorded}");
    // The pipeline ran with the transformer's params and the event in its context.
    let mut run = Value::Null;
    wait_for("the pipeline run", || {
        let runs = server.get_json("/api/v1/pipelines/fulfil/runs");
        match runs["runs"].as_array().and_then(|r| r.first()) {
            Some(first) => {
                run = first.clone();
                true
            }
            None => false,
        }
    });
    let run = server.wait_run(run["run_id"].as_str().unwrap());
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(run["params"]["order"], 7, "{run}");
    let log = server.cli(&["runs", "logs", run["run_id"].as_str().unwrap(), "pack"]);
    let log = stdout(&log);
    assert!(
        log.contains(&format!(
            "order 7 from event {} of shop",
            recorded["id"].as_str().unwrap()
        )),
        "{log}"
    );
}

#[test]
fn weirs_own_changes_are_events_shaped_as_aws_gives_them() {
    let project = Project::new();
    project.pipeline("hello", "tasks:\n  say:\n    command: echo hi\n");
    project.write(
        "machines/flow.asl.json",
        r#"{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}"#,
    );
    project.write("part.csv", "day,n\n2026-01-01,1\n");
    project.write(
        "deliveries/clicks.yaml",
        "table: raw.clicks\nbuffering: { interval: 1s }\n",
    );
    // One queue per source, fed by a rule on the default bus.
    let rules = [
        (
            "objects",
            r#"{source: [aws.s3], detail-type: [Object Created]}"#,
        ),
        (
            "partitions",
            r#"{source: [aws.glue], detail-type: [Glue Data Catalog Table State Change]}"#,
        ),
        (
            "runs",
            r#"{source: [weir.pipelines], detail-type: [Pipeline Run Status Change], detail: {state: [success]}}"#,
        ),
        (
            "tasks",
            r#"{source: [weir.pipelines], detail-type: [Pipeline Task Status Change], detail: {state: [running]}}"#,
        ),
        (
            "executions",
            r#"{source: [aws.states], detail-type: [Step Functions Execution Status Change]}"#,
        ),
        (
            "streams",
            r#"{source: [weir.streams], detail-type: [Stream Status Change]}"#,
        ),
        (
            "deliveries",
            r#"{source: [weir.deliveries], detail-type: [Delivery Object Written]}"#,
        ),
    ];
    for (name, pattern) in rules {
        project.write(
            &format!("rules/{name}.yaml"),
            &format!("pattern: {pattern}\ntargets:\n  - queue: {name}\n"),
        );
    }
    let server = Server::start(project.path());
    for (name, _) in rules {
        server.aws_cli(&["sqs", "create-queue", "--queue-name", name]);
    }
    // A lake object, a partitioned table, a run, an execution, a stream.
    let part = project.path().join("part.csv");
    let put = server.cli(&["lake", "put", part.to_str().unwrap(), "raw/part.csv"]);
    assert!(put.status.success(), "{}", stderr(&put));
    let sql = server.cli(&[
        "sql",
        "CREATE TABLE web.daily PARTITIONED BY (day) AS SELECT n, day FROM (VALUES (1, '2026-01-01'), (2, '2026-01-02')) AS t(n, day)",
    ]);
    assert!(sql.status.success(), "{}", stderr(&sql));
    let run = server.trigger_wait("hello", &[]);
    assert_eq!(run["state"], "success", "{run}");
    server.aws_cli(&[
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        "arn:aws:states:us-east-1:000000000000:stateMachine:flow",
        "--name",
        "first",
        "--input",
        "{\"n\": 1}",
    ]);
    server.aws_cli(&[
        "kinesis",
        "create-stream",
        "--stream-name",
        "clicks",
        "--shard-count",
        "1",
    ]);
    boto3(
        &server,
        &format!(
            r#"
objects = [m['detail'] for m in messages('objects', 1)]
assert any(o['object']['key'] == 'raw/part.csv' and o['object']['size'] == 19 and o['bucket']['name'] == 'weir-lake'
           and o['reason'] == 'PutObject' for o in objects), objects

partitions = messages('partitions', 2)
assert all(p['source'] == 'aws.glue' for p in partitions)
details = sorted((p['detail'] for p in partitions), key=lambda d: d['changedPartitions'])
assert [d['changedPartitions'] for d in details] == [['[2026-01-01]'], ['[2026-01-02]']], details
assert details[0]['databaseName'] == 'web' and details[0]['tableName'] == 'daily', details
assert details[0]['typeOfChange'] == 'BatchCreatePartition' and details[0]['partitionValues'] == {{'day': '2026-01-01'}}, details
assert partitions[0]['resources'] == ['arn:aws:glue:us-east-1:000000000000:table/web/daily'], partitions

[run] = messages('runs', 1)
assert run['detail']['pipeline'] == 'hello' and run['detail']['runId'] == {run_id:?}, run
assert run['detail']['previousState'] == 'running', run
assert run['resources'] == ['arn:weir:pipelines:us-east-1:000000000000:pipeline/hello'], run
[task] = messages('tasks', 1)
assert task['detail']['taskId'] == 'say' and task['detail']['tryNumber'] == 1, task

executions = messages('executions', 2)
statuses = sorted(x['detail']['status'] for x in executions)
assert statuses == ['RUNNING', 'SUCCEEDED'], statuses
[done] = [x for x in executions if x['detail']['status'] == 'SUCCEEDED']
assert done['detail-type'] == 'Step Functions Execution Status Change' and done['source'] == 'aws.states', done
arn = 'arn:aws:states:us-east-1:000000000000:execution:flow:first'
assert done['resources'] == [arn] and done['detail']['executionArn'] == arn, done
assert done['detail']['name'] == 'first' and json.loads(done['detail']['input']) == {{'n': 1}}, done
assert json.loads(done['detail']['output']) == {{'n': 1}} and done['detail']['stopDate'] >= done['detail']['startDate'], done

f = boto3.client('firehose', endpoint_url=e.meta.endpoint_url, region_name='us-east-1')
f.put_record(DeliveryStreamName='clicks', Record={{'Data': b'{{"n": 1}}'}})
[delivered] = messages('deliveries', 1)
assert delivered['detail']['deliveryStreamName'] == 'clicks' and delivered['detail']['table'] == 'raw.clicks', delivered
assert delivered['resources'] == ['arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks'], delivered

[stream] = messages('streams', 1)
assert stream['detail'] == {{'streamName': 'clicks', 'streamARN': 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks',
                            'change': 'CREATED', 'openShardCount': 1}}, stream
"#,
            run_id = run["run_id"].as_str().unwrap()
        ),
    );
}

#[test]
fn a_pipeline_trigger_runs_it_when_a_partition_lands_with_the_event_in_its_context() {
    let project = Project::new();
    project.pipeline(
        "aggregate",
        r#"triggers:
  - event:
      source: [aws.glue]
      detail-type: [Glue Data Catalog Table State Change]
      detail:
        databaseName: [web]
        tableName: [clicks]
    input_transformer:
      input_paths: {hour: $.detail.partitionValues.hour}
      input_template: '{"hour": <hour>}'
params:
  hour: ""
tasks:
  count:
    command: echo "hour {{ params.hour }} of {{ event.detail.tableName }}"
"#,
    );
    // A state machine's trigger: the execution's input is the InputPath's part of the event.
    project.write(
        "machines/notify.asl.yaml",
        "triggers:\n  - event: {source: [aws.glue], detail: {tableName: [clicks]}}\n    input_path: $.detail\nStartAt: Done\nStates:\n  Done: {Type: Pass, End: true}\n",
    );
    let server = Server::start(project.path());
    let sql = server.cli(&[
        "sql",
        "CREATE TABLE web.clicks PARTITIONED BY (hour) AS SELECT 1 AS n, '13' AS hour",
    ]);
    assert!(sql.status.success(), "{}", stderr(&sql));
    let mut runs = Value::Null;
    wait_for("the triggered run", || {
        runs = server.get_json("/api/v1/pipelines/aggregate/runs");
        runs["runs"].as_array().is_some_and(|r| !r.is_empty())
    });
    let run = server.wait_run(runs["runs"][0]["run_id"].as_str().unwrap());
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(run["params"]["hour"], "13", "{run}");
    let log = stdout(&server.cli(&["runs", "logs", run["run_id"].as_str().unwrap(), "count"]));
    assert!(log.contains("hour 13 of clicks"), "{log}");
    boto3(
        &server,
        r#"
arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:notify'
deadline = time.time() + 20
while not s.list_executions(stateMachineArn=arn)['executions']:
    assert time.time() < deadline
    time.sleep(0.1)
[execution] = s.list_executions(stateMachineArn=arn)['executions']
described = s.describe_execution(executionArn=execution['executionArn'])
assert json.loads(described['input'])['tableName'] == 'clicks', described
"#,
    );
    // The trigger is a rule weir manages: listed, not changed through the API.
    let rules = server.get_json("/api/v1/rules");
    let names: Vec<&str> = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"aggregate.trigger-1"), "{rules}");
}

#[test]
fn an_event_a_target_cannot_take_goes_to_the_dead_letter_queue_with_the_reason() {
    let project = Project::new();
    project.write(
        "rules/lost.yaml",
        "pattern: {source: [shop]}\ntargets:\n  - id: nowhere\n    pipeline: missing\n    retry_policy: {maximum_retry_attempts: 0}\n    dead_letter_queue: failed\n",
    );
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
q.create_queue(QueueName='failed')
# The sources of built-in events are weir's alone, entry by entry.
answer = e.put_events(Entries=[
    {'Source': 'aws.s3', 'DetailType': 'Object Created', 'Detail': '{}'},
    {'Source': 'weir.pipelines', 'DetailType': 'Pipeline Run Status Change', 'Detail': '{}'},
    {'Source': 'shop', 'DetailType': 'Order Placed', 'Detail': '{"id": 0}'},
])
assert answer['FailedEntryCount'] == 2, answer
assert answer['Entries'][0] == {'ErrorCode': 'NotAuthorizedForSourceException', 'ErrorMessage': 'Not authorized for the source.'}, answer
assert answer['Entries'][1]['ErrorCode'] == 'NotAuthorizedForSourceException' and 'EventId' in answer['Entries'][2], answer
messages('failed', 1)
event_id = put('shop', 'Order Placed', {'id': 1})
[(body, attributes)] = messages('failed', 1, attributes=True)
assert body['id'] == event_id, body
values = {name: a['StringValue'] for name, a in attributes.items()}
assert values['RULE_ARN'] == 'arn:aws:events:us-east-1:000000000000:rule/lost', values
assert values['TARGET_ARN'] == 'arn:weir:pipelines:us-east-1:000000000000:pipeline/missing', values
assert values['ERROR_CODE'] == 'RESOURCE_NOT_FOUND', values
assert 'missing' in values['ERROR_MESSAGE'], values
"#,
    );
    let stats = server.get_json("/api/v1/rules/default/lost");
    assert_eq!(stats["stats"]["dead_lettered"], 2, "{stats}");
}

#[test]
fn events_acknowledged_before_a_kill_reach_their_target_after_the_restart() {
    let project = Project::new();
    project.write(
        "rules/all.yaml",
        "pattern: {source: [load]}\ntargets:\n  - queue: sink\n",
    );
    let mut server = Server::start(project.path());
    server.aws_cli(&["sqs", "create-queue", "--queue-name", "sink"]);
    // Put events as fast as one client can and kill the server while it does; every id the
    // server answered must arrive.
    let script = r#"
import json, os, sys, boto3
e = boto3.client('events', endpoint_url=sys.argv[1], region_name='us-east-1')
ids = []
try:
    for i in range(100000):
        answer = e.put_events(Entries=[{'Source': 'load', 'DetailType': 'n', 'Detail': json.dumps({'i': i})} for _ in range(5)])
        ids += [x['EventId'] for x in answer['Entries'] if 'EventId' in x]
        open(sys.argv[2] + '.tmp', 'w').write(json.dumps(ids))
        os.replace(sys.argv[2] + '.tmp', sys.argv[2])
except Exception:
    pass
"#;
    let acked = project.path().join("acked.json");
    let mut producer = std::process::Command::new("python3")
        .args(["-c", script, &server.url, acked.to_str().unwrap()])
        .envs(server.aws_env())
        .spawn()
        .unwrap();
    wait_for("some acknowledged events", || {
        std::fs::read_to_string(&acked)
            .ok()
            .and_then(|text| serde_json::from_str::<Vec<String>>(&text).ok())
            .is_some_and(|ids| ids.len() >= 200)
    });
    server.kill9();
    let _ = producer.wait();
    let acked: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(&acked).unwrap()).unwrap_or_default();
    assert!(acked.len() >= 200);
    server.start_again();
    boto3(
        &server,
        &format!(
            r#"
acked = set({acked:?})
seen = set()
url = q.get_queue_url(QueueName='sink')['QueueUrl']
deadline = time.time() + 60
while not acked <= seen and time.time() < deadline:
    page = q.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for m in page.get('Messages', []):
        seen.add(json.loads(m['Body'])['id'])
        q.delete_message(QueueUrl=url, ReceiptHandle=m['ReceiptHandle'])
missing = acked - seen
assert not missing, (len(missing), len(acked))
"#
        ),
    );
}

#[test]
fn weir_events_tail_prints_what_the_bus_takes() {
    let project = Project::new();
    let server = Server::start(project.path());
    let tail = std::process::Command::new(BIN)
        .args(["events", "tail", "--count", "2"])
        .env("WEIR_SERVER", &server.url)
        .env("WEIR_TOKEN", server.token())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The tail starts at the bus's end: give it a moment to ask before putting.
    std::thread::sleep(Duration::from_millis(500));
    let mut ids = Vec::new();
    for n in [1, 2] {
        let detail = format!("{{\"n\": {n}}}");
        let put = server.cli(&[
            "events",
            "put",
            "--source",
            "shop",
            "--detail-type",
            "Order Placed",
            &detail,
        ]);
        assert!(put.status.success(), "{}", stderr(&put));
        ids.push(stdout(&put).trim().to_string());
    }
    let output = tail.wait_with_output().unwrap();
    let events: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let seen: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(seen, ids, "{events:?}");
    assert_eq!(events[1]["detail"]["n"], 2);
}

#[test]
fn a_narrowed_credential_reads_only_the_buses_it_is_granted() {
    use crate::security::{create, with_token};
    let project = Project::new();
    project.write(
        "rules/shop.yaml",
        "pattern: {source: [shop]}\ntargets:\n  - queue: q\n",
    );
    let server = Server::start(project.path());
    server.aws_cli(&["events", "create-event-bus", "--name", "orders"]);
    let narrow = create(
        &server,
        "viewer",
        "orders-only",
        &["--pipelines", "orders*"],
    );
    let token = narrow["token"].as_str().unwrap();
    let (status, body) = with_token(&server, token, "GET", "/api/v1/events/default", "");
    assert_eq!(status, 403, "{body}");
    let (status, body) = with_token(&server, token, "GET", "/api/v1/rules/default/shop", "");
    assert_eq!(status, 403, "{body}");
    let (status, body) = with_token(&server, token, "GET", "/api/v1/events/orders", "");
    assert_eq!(status, 200, "{body}");
    // The listing leaves out the rules of buses it is not granted.
    let (status, body) = with_token(&server, token, "GET", "/api/v1/rules", "");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("\"shop\""), "{body}");
    let admin = server.get_json("/api/v1/rules");
    assert!(admin.to_string().contains("\"shop\""), "{admin}");
}
