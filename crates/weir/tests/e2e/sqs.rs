//! Queues through the real binary, as boto3's `sqs` client and the AWS CLI drive them (the JSON
//! protocol with SQS's query-compatible errors): every operation, message attributes and the
//! MD5 digests botocore checks, FIFO groups and de-duplication, the batch rules, long polling,
//! redrive to a dead-letter queue; and durability: an acknowledged send survives kill -9, and a
//! received message that was not deleted comes back after its visibility timeout across a
//! restart.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

/// Runs a script with a boto3 client `q` (SQS) and `error(call, **kwargs)`: the exception's
/// class name, the error code (the query code, as botocore shows it) and message.
fn boto3(server: &Server, script: &str) {
    let prelude = format!(
        "import base64, hashlib, json, threading, time, boto3\n\
         from botocore.exceptions import ClientError\n\
         q = boto3.client('sqs', endpoint_url='{url}', region_name='us-east-1')\n\
         def error(call, **kwargs):\n\
         \x20   try:\n\
         \x20       call(**kwargs)\n\
         \x20   except ClientError as e:\n\
         \x20       return type(e).__name__, e.response['Error']['Code'], e.response['Error']['Message']\n\
         \x20   raise AssertionError('no error from ' + str(kwargs))\n",
        url = server.url,
    );
    python_ok(server, &format!("{prelude}{script}\nprint('ok')\n"), &[]);
}

#[test]
fn boto3_drives_every_sqs_operation() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
url = q.create_queue(QueueName='orders', Attributes={'VisibilityTimeout': '5'}, tags={'team': 'data'})['QueueUrl']
assert url.endswith('/000000000000/orders'), url
# The same name and attributes: the same queue; different attributes: QueueAlreadyExists.
assert q.create_queue(QueueName='orders', Attributes={'VisibilityTimeout': '5'})['QueueUrl'] == url
kind, code, message = error(q.create_queue, QueueName='orders', Attributes={'VisibilityTimeout': '6'})
assert (kind, code) == ('QueueNameExists', 'QueueAlreadyExists'), (kind, code, message)
assert q.get_queue_url(QueueName='orders')['QueueUrl'] == url
assert error(q.get_queue_url, QueueName='nope') == \
    ('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.')
try:
    q.get_queue_url(QueueName='nope')
except q.exceptions.QueueDoesNotExist as e:
    assert e.response['Error']['QueryErrorCode'] == 'QueueDoesNotExist'
    assert e.response['Error']['Type'] == 'Sender'

# Listing: by prefix, and a page at a time with MaxResults and NextToken.
for name in ['orders-b', 'orders-a', 'other']:
    q.create_queue(QueueName=name)
listed = q.list_queues(QueueNamePrefix='orders')['QueueUrls']
assert [u.rsplit('/', 1)[1] for u in listed] == ['orders', 'orders-a', 'orders-b'], listed
page = q.list_queues(MaxResults=2)
assert len(page['QueueUrls']) == 2 and 'NextToken' in page, page
rest = q.list_queues(MaxResults=2, NextToken=page['NextToken'])
assert len(rest['QueueUrls']) == 2 and 'NextToken' not in rest, rest
assert 'QueueUrls' not in q.list_queues(QueueNamePrefix='zzz')
assert error(q.list_queues, MaxResults=1001)[1] == 'InvalidParameterValue'

# Attributes.
attributes = q.get_queue_attributes(QueueUrl=url, AttributeNames=['All'])['Attributes']
assert attributes['VisibilityTimeout'] == '5' and attributes['QueueArn'] == 'arn:aws:sqs:us-east-1:000000000000:orders', attributes
assert attributes['MessageRetentionPeriod'] == '345600' and attributes['DelaySeconds'] == '0', attributes
q.set_queue_attributes(QueueUrl=url, Attributes={'VisibilityTimeout': '7'})
assert q.get_queue_attributes(QueueUrl=url, AttributeNames=['VisibilityTimeout'])['Attributes'] == {'VisibilityTimeout': '7'}
assert error(q.get_queue_attributes, QueueUrl=url, AttributeNames=['Bogus'])[1] == 'InvalidAttributeName'

# Tags.
assert q.list_queue_tags(QueueUrl=url)['Tags'] == {'team': 'data'}
q.tag_queue(QueueUrl=url, Tags={'cost': '1'})
q.untag_queue(QueueUrl=url, TagKeys=['team'])
assert q.list_queue_tags(QueueUrl=url)['Tags'] == {'cost': '1'}

# A message with attributes: botocore checks every MD5 SQS answers with.
attrs = {'s': {'DataType': 'String', 'StringValue': 'é'}, 'n': {'DataType': 'Number', 'StringValue': '12.5'},
         'b': {'DataType': 'Binary', 'BinaryValue': b'\x00\xff'}, 'c': {'DataType': 'String.custom', 'StringValue': 'x'}}
sent = q.send_message(QueueUrl=url, MessageBody='héllo', MessageAttributes=attrs)
assert sent['MD5OfMessageBody'] == hashlib.md5('héllo'.encode()).hexdigest(), sent
assert 'MD5OfMessageAttributes' in sent and 'SequenceNumber' not in sent, sent
got = q.receive_message(QueueUrl=url, MessageAttributeNames=['All'], MessageSystemAttributeNames=['All'])['Messages']
assert len(got) == 1 and got[0]['Body'] == 'héllo' and got[0]['MessageId'] == sent['MessageId'], got
assert got[0]['MessageAttributes'] == attrs, got[0]['MessageAttributes']
assert got[0]['MD5OfMessageAttributes'] == sent['MD5OfMessageAttributes']
assert got[0]['Attributes']['ApproximateReceiveCount'] == '1', got[0]['Attributes']
assert set(got[0]['Attributes']) >= {'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp'}, got[0]['Attributes']
# Hidden while in flight; its visibility can be changed; then deleted.
assert 'Messages' not in q.receive_message(QueueUrl=url)
q.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]['ReceiptHandle'], VisibilityTimeout=0)
again = q.receive_message(QueueUrl=url, AttributeNames=['ApproximateReceiveCount'])['Messages']
assert again[0]['MessageId'] == sent['MessageId'] and again[0]['Attributes']['ApproximateReceiveCount'] == '2', again
assert again[0]['ReceiptHandle'] != got[0]['ReceiptHandle']
q.delete_message(QueueUrl=url, ReceiptHandle=again[0]['ReceiptHandle'])
assert 'Messages' not in q.receive_message(QueueUrl=url, VisibilityTimeout=0)
code = error(q.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
assert code[1] == 'InvalidParameterValue', code
assert 'MaxNumberOfMessages' in code[2], code
assert error(q.receive_message, QueueUrl=url, WaitTimeSeconds=21)[1] == 'InvalidParameterValue'

# Batches: each entry answered on its own; the rules on entries refuse the whole call.
sent = q.send_message_batch(QueueUrl=url, Entries=[{'Id': 'a', 'MessageBody': 'one'}, {'Id': 'b', 'MessageBody': 'two', 'DelaySeconds': 0}])
assert sorted(s['Id'] for s in sent['Successful']) == ['a', 'b'] and sent['Failed'] == [], sent
assert error(q.send_message_batch, QueueUrl=url, Entries=[]) [:2] == ('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest')
many = [{'Id': str(i), 'MessageBody': 'x'} for i in range(11)]
assert error(q.send_message_batch, QueueUrl=url, Entries=many) == ('TooManyEntriesInBatchRequest',
    'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'Maximum number of entries per request are 10. You have sent 11.')
assert error(q.send_message_batch, QueueUrl=url, Entries=[{'Id': 'a', 'MessageBody': 'x'}, {'Id': 'a', 'MessageBody': 'y'}]) == \
    ('BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 'Id a repeated.')
assert error(q.send_message_batch, QueueUrl=url, Entries=[{'Id': 'a b', 'MessageBody': 'x'}])[:2] == \
    ('InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId')
big = 'x' * (600 * 1024)
kind, code, message = error(q.send_message_batch, QueueUrl=url, Entries=[{'Id': 'a', 'MessageBody': big}, {'Id': 'b', 'MessageBody': big}])
assert (kind, code) == ('BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong'), (kind, code, message)
got = q.receive_message(QueueUrl=url, MaxNumberOfMessages=10)['Messages']
assert sorted(m['Body'] for m in got) == ['one', 'two'], got
changed = q.change_message_visibility_batch(QueueUrl=url, Entries=[
    {'Id': 'x', 'ReceiptHandle': got[0]['ReceiptHandle'], 'VisibilityTimeout': 30},
    {'Id': 'y', 'ReceiptHandle': 'not-a-handle', 'VisibilityTimeout': 30}])
assert [s['Id'] for s in changed['Successful']] == ['x'], changed
assert [(f['Id'], f['SenderFault'], f['Code']) for f in changed['Failed']] == [('y', True, 'ReceiptHandleIsInvalid')], changed
deleted = q.delete_message_batch(QueueUrl=url, Entries=[
    {'Id': 'x', 'ReceiptHandle': got[0]['ReceiptHandle']}, {'Id': 'y', 'ReceiptHandle': got[1]['ReceiptHandle']},
    {'Id': 'z', 'ReceiptHandle': 'not-a-handle'}])
assert sorted(s['Id'] for s in deleted['Successful']) == ['x', 'y'], deleted
assert [(f['Id'], f['Code']) for f in deleted['Failed']] == [('z', 'ReceiptHandleIsInvalid')], deleted

# Purge, then delete: every later call on the queue is QueueDoesNotExist.
q.send_message(QueueUrl=url, MessageBody='gone')
q.purge_queue(QueueUrl=url)
assert 'Messages' not in q.receive_message(QueueUrl=url)
assert error(q.purge_queue, QueueUrl=url)[1] == 'AWS.SimpleQueueService.PurgeQueueInProgress'
q.delete_queue(QueueUrl=url)
assert error(q.send_message, QueueUrl=url, MessageBody='x')[0] == 'QueueDoesNotExist'
"#,
    );
}

#[test]
fn fifo_queues_keep_group_order_and_drop_duplicates() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
url = q.create_queue(QueueName='jobs.fifo', Attributes={'FifoQueue': 'true', 'ContentBasedDeduplication': 'true'})['QueueUrl']
assert error(q.create_queue, QueueName='jobs', Attributes={'FifoQueue': 'true'})[1] == 'InvalidParameterValue'
first = q.send_message(QueueUrl=url, MessageBody='a1', MessageGroupId='a')
assert 'SequenceNumber' in first, first
# The same body within five minutes is the same message (content-based de-duplication).
assert q.send_message(QueueUrl=url, MessageBody='a1', MessageGroupId='a')['MessageId'] == first['MessageId']
q.send_message(QueueUrl=url, MessageBody='a2', MessageGroupId='a')
q.send_message(QueueUrl=url, MessageBody='a3', MessageGroupId='a')
got = q.receive_message(QueueUrl=url, MessageSystemAttributeNames=['All'])['Messages']
assert [m['Body'] for m in got] == ['a1'], got
a1 = got[0]
assert a1['Attributes']['MessageGroupId'] == 'a' and a1['Attributes']['SequenceNumber'] == first['SequenceNumber'], a1
# While group a has a message in flight, none of its others is received; group b's are.
assert 'Messages' not in q.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
q.send_message(QueueUrl=url, MessageBody='b1', MessageGroupId='b', MessageDeduplicationId='d-b1')
b1 = q.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=['MessageDeduplicationId'])['Messages']
assert [(m['Body'], m['Attributes']['MessageDeduplicationId']) for m in b1] == [('b1', 'd-b1')], b1
q.delete_message(QueueUrl=url, ReceiptHandle=a1['ReceiptHandle'])
rest = q.receive_message(QueueUrl=url, MaxNumberOfMessages=10)['Messages']
assert [m['Body'] for m in rest] == ['a2', 'a3'], rest
# A FIFO send needs its group.
assert error(q.send_message, QueueUrl=url, MessageBody='x')[1] == 'MissingParameter'
"#,
    );
}

#[test]
fn redrive_long_polling_and_the_aws_cli() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        r#"
dlq = q.create_queue(QueueName='failed')['QueueUrl']
dlq_arn = q.get_queue_attributes(QueueUrl=dlq, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
policy = json.dumps({'deadLetterTargetArn': dlq_arn, 'maxReceiveCount': '2'})
url = q.create_queue(QueueName='work', Attributes={'RedrivePolicy': policy})['QueueUrl']
assert q.list_dead_letter_source_queues(QueueUrl=dlq)['queueUrls'] == [url]
q.send_message(QueueUrl=url, MessageBody='poison')
for _ in range(2):
    got = q.receive_message(QueueUrl=url, VisibilityTimeout=0)['Messages']
    assert got[0]['Body'] == 'poison'
# Past maxReceiveCount receives, the message is in the dead-letter queue, not the source.
assert 'Messages' not in q.receive_message(QueueUrl=url)
moved = q.receive_message(QueueUrl=dlq, WaitTimeSeconds=2, MessageSystemAttributeNames=['All'])['Messages']
assert moved[0]['Body'] == 'poison', moved

# Long polling: a receive waits for a message sent while it waits, and answers at once then.
def later():
    time.sleep(1)
    q.send_message(QueueUrl=url, MessageBody='late')
threading.Thread(target=later).start()
started = time.time()
got = q.receive_message(QueueUrl=url, WaitTimeSeconds=10)['Messages']
took = time.time() - started
assert got[0]['Body'] == 'late' and 0.8 < took < 5, took
started = time.time()
assert 'Messages' not in q.receive_message(QueueUrl=url, WaitTimeSeconds=1, VisibilityTimeout=0)
assert time.time() - started >= 0.9
"#,
    );
    // The AWS CLI: its commands, and an error as it prints one.
    let created = server.aws_cli(&["sqs", "create-queue", "--queue-name", "cli"]);
    let url = created["QueueUrl"].as_str().expect("QueueUrl").to_string();
    let sent = server.aws_cli(&[
        "sqs",
        "send-message",
        "--queue-url",
        &url,
        "--message-body",
        "from the cli",
    ]);
    // MD5 of "from the cli".
    assert_eq!(sent["MD5OfMessageBody"], "adc1c5502a75b5c1afdc54d0d67abd6f");
    let received = server.aws_cli(&["sqs", "receive-message", "--queue-url", &url]);
    assert_eq!(received["Messages"][0]["Body"], "from the cli");
    let output = Command::new("aws")
        .args(["sqs", "get-queue-url", "--queue-name", "nope"])
        .args(["--endpoint-url", &server.url, "--region", "us-east-1"])
        .envs(server.aws_env())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .output()
        .expect("aws");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(
            "An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the GetQueueUrl operation: The specified queue does not exist."
        ),
        "{}",
        stderr(&output)
    );
}

/// Producers send as fast as they can while the server is killed with SIGKILL; after a restart,
/// every send that was acknowledged is received, byte for byte. A message received and not
/// deleted comes back only after its visibility timeout, across the restart, with its receive
/// count kept.
#[test]
fn acknowledged_sends_survive_kill_9_and_visibility_survives_a_restart() {
    let project = Project::new();
    let mut server = Server::start(project.path());
    boto3(
        &server,
        r#"
q.create_queue(QueueName='load')
url = q.create_queue(QueueName='held')['QueueUrl']
q.send_message(QueueUrl=url, MessageBody='held body')
"#,
    );
    // Four producers, each writing the bodies SQS acknowledged to its own file.
    let acked = project.path().join("acked");
    std::fs::create_dir_all(&acked).expect("acked dir");
    let producer = format!(
        "import sys, json, boto3\n\
         from botocore.config import Config\n\
         q = boto3.client('sqs', endpoint_url='{url}', region_name='us-east-1', config=Config(retries={{'max_attempts': 0}}, connect_timeout=1, read_timeout=5))\n\
         url = q.get_queue_url(QueueName='load')['QueueUrl']\n\
         out = open(sys.argv[1], 'a')\n\
         n = 0\n\
         while True:\n\
         \x20   entries = [{{'Id': str(i), 'MessageBody': '%s-%d-%d-é' % (sys.argv[2], n, i)}} for i in range(10)]\n\
         \x20   n += 1\n\
         \x20   try:\n\
         \x20       answer = q.send_message_batch(QueueUrl=url, Entries=entries)\n\
         \x20   except Exception:\n\
         \x20       break\n\
         \x20   for s in answer['Successful']:\n\
         \x20       out.write(entries[int(s['Id'])]['MessageBody'] + '\\n')\n\
         \x20   out.flush()\n",
        url = server.url
    );
    let producers: Vec<_> = (0..4)
        .map(|p| {
            Command::new("python3")
                .arg("-c")
                .arg(&producer)
                .arg(acked.join(format!("{p}.txt")))
                .arg(format!("p{p}"))
                .envs(server.aws_env())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3")
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(30), || {
            std::fs::read_to_string(acked.join("0.txt")).is_ok_and(|t| t.lines().count() >= 200)
        }),
        "the producers got no acknowledgements:\n{}",
        server.log_text()
    );
    // Received and not deleted just before the crash: hidden for 8 seconds.
    boto3(
        &server,
        r#"
got = q.receive_message(QueueUrl=q.get_queue_url(QueueName='held')['QueueUrl'], VisibilityTimeout=8)['Messages']
assert got[0]['Body'] == 'held body'
"#,
    );
    let held_at = std::time::Instant::now();
    server.kill9();
    for mut producer in producers {
        let _ = producer.wait();
    }
    let mut expected: Vec<String> = Vec::new();
    for p in 0..4 {
        let text = std::fs::read_to_string(acked.join(format!("{p}.txt"))).unwrap_or_default();
        expected.extend(text.lines().map(str::to_string));
    }
    assert!(expected.len() >= 200, "{} acknowledged", expected.len());
    std::fs::write(
        project.path().join("expected.json"),
        serde_json::to_string(&expected).unwrap(),
    )
    .expect("expected");
    server.start_again();
    let remaining = Duration::from_secs(8).saturating_sub(held_at.elapsed());
    boto3(
        &server,
        &format!(
            r#"
url = q.get_queue_url(QueueName='held')['QueueUrl']
# Still hidden after the restart while its visibility timeout runs ({remaining:.1} s left).
if {remaining:.1} > 2.5:
    assert 'Messages' not in q.receive_message(QueueUrl=url)
got = q.receive_message(QueueUrl=url, WaitTimeSeconds=12, AttributeNames=['ApproximateReceiveCount'])['Messages']
assert got[0]['Body'] == 'held body' and got[0]['Attributes']['ApproximateReceiveCount'] == '2', got

expected = json.load(open({expected:?}))
url = q.get_queue_url(QueueName='load')['QueueUrl']
received = set()
while True:
    got = q.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=1).get('Messages', [])
    if not got:
        break
    for m in got:
        assert hashlib.md5(m['Body'].encode()).hexdigest() == m['MD5OfBody']
        received.add(m['Body'])
missing = [b for b in expected if b not in received]
assert not missing, '%d of %d acknowledged sends lost, e.g. %s' % (len(missing), len(expected), missing[:3])
"#,
            remaining = remaining.as_secs_f64(),
            expected = project.path().join("expected.json").display().to_string(),
        ),
    );
}

/// A credential narrowed by grants reaches the queues its globs name (by URL, by name, and a
/// redrive policy's dead-letter queue), and lists only those; a viewer cannot send.
#[test]
fn grants_on_names_cover_queues() {
    let project = Project::new();
    let server = Server::start(project.path());
    let narrow = crate::security::create(&server, "operator", "team", &["--pipelines", "team-*"]);
    let viewer = crate::security::create(&server, "viewer", "watcher", &[]);
    let keys = |credential: &serde_json::Value| {
        format!(
            "aws_access_key_id={:?}, aws_secret_access_key={:?}",
            credential["access_key_id"].as_str().unwrap_or_default(),
            credential["secret_access_key"].as_str().unwrap_or_default()
        )
    };
    boto3(
        &server,
        &format!(
            r#"
mine = q.create_queue(QueueName='team-jobs')['QueueUrl']
theirs = q.create_queue(QueueName='other-jobs')['QueueUrl']
n = boto3.client('sqs', endpoint_url=q.meta.endpoint_url, region_name='us-east-1', {narrow})
v = boto3.client('sqs', endpoint_url=q.meta.endpoint_url, region_name='us-east-1', {viewer})
assert n.list_queues()['QueueUrls'] == [mine]
n.send_message(QueueUrl=mine, MessageBody='x')
kind, code, message = error(n.send_message, QueueUrl=theirs, MessageBody='x')
assert code == 'AccessDenied' and 'queue other-jobs' in message, (kind, code, message)
assert error(n.get_queue_url, QueueName='other-jobs')[1] == 'AccessDenied'
# An operator may not shape queues, even its own.
assert error(n.delete_queue, QueueUrl=mine)[1] == 'AccessDenied'
assert error(v.send_message, QueueUrl=mine, MessageBody='x')[1] == 'AccessDenied'
assert v.get_queue_attributes(QueueUrl=mine, AttributeNames=['ApproximateNumberOfMessages'])['Attributes'] == {{'ApproximateNumberOfMessages': '1'}}
"#,
            narrow = keys(&narrow),
            viewer = keys(&viewer),
        ),
    );
}

/// What boto3 never sends (it checks them first), sent as raw JSON 1.0: each refused in SQS's
/// shape, the query code and fault in `x-amzn-query-error`.
#[test]
fn raw_requests_are_refused_in_sqs_shape() {
    let project = Project::new();
    let server = Server::start(project.path());
    let bearer = format!("Bearer {}", server.token());
    let call = |operation: &str, body: &str| {
        let target = format!("AmazonSQS.{operation}");
        let headers = [
            ("X-Amz-Target", target.as_str()),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Authorization", bearer.as_str()),
        ];
        let (status, headers, text) =
            http_full("POST", &format!("{}/", server.url), Some(body), &headers)
                .expect("server answers");
        let query_error = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("x-amzn-query-error"))
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        (status, query_error, body)
    };
    let (status, query_error, body) = call("CreateQueue", "{}");
    assert_eq!(
        (status, query_error.as_str()),
        (400, "MissingParameter;Sender")
    );
    assert_eq!(
        body["__type"],
        "com.amazonaws.sqs#MissingRequiredParameterException"
    );
    assert_eq!(
        body["message"],
        "The request must contain the parameter QueueName."
    );
    let (status, query_error, body) =
        call("SendMessage", r#"{"QueueUrl": "nope", "MessageBody": "x"}"#);
    assert_eq!(
        (status, query_error.as_str()),
        (400, "AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    assert_eq!(body["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
    let (status, _, body) = call("SendMessage", r#"{"QueueUrl": 7, "MessageBody": "x"}"#);
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("com.amazonaws.sqs#SerializationException"))
    );
    let (status, query_error, _) = call("AddPermission", "{}");
    assert_eq!(
        (status, query_error.as_str()),
        (400, "AWS.SimpleQueueService.UnsupportedOperation;Sender")
    );
    let (status, _, body) = call("ReceiveMessage", "[1]");
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("com.amazonaws.sqs#SerializationException"))
    );
}
