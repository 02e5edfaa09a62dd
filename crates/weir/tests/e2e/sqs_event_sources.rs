//! Functions triggered by queues through the real binary: a mapping made with boto3's `lambda`
//! client on an SQS queue ARN (SQS's settings and refusals), the exact Lambda SQS event the
//! function gets, messages deleted once processed, `batchItemFailures` left in the queue and
//! redriven to its dead-letter queue; and a mapping written in a function file (`queue:`).

use crate::support::*;

/// Appends each event it gets to `events.jsonl` (in the project), fails outright on a batch
/// with a message `crash`, and reports as failed every message whose body is `fail`.
const HANDLER: &str = r#"
import json, sys
event = json.load(sys.stdin)
with open('events.jsonl', 'a') as f:
    f.write(json.dumps(event) + '\n')
if any(r['body'] == 'crash' for r in event['Records']):
    sys.exit('crash in the batch')
failures = [{'itemIdentifier': r['messageId']} for r in event['Records'] if r['body'] == 'fail']
print(json.dumps({'batchItemFailures': failures}))
"#;

#[test]
fn queues_invoke_functions_with_lambdas_sqs_event() {
    let project = Project::new();
    project.write("handler.py", HANDLER);
    project.write("functions/handler.yaml", "command: [python3, handler.py]\n");
    project.write(
        "functions/tally.yaml",
        "command: [python3, handler.py]\nevent_sources:\n  - queue: tally\n    batch_size: 20\n    batching_window: 1s\n",
    );
    let server = Server::start(project.path());
    let prelude = format!(
        "import hashlib, json, os, time, boto3\n\
         from botocore.exceptions import ClientError\n\
         q = boto3.client('sqs', endpoint_url='{url}', region_name='us-east-1')\n\
         l = boto3.client('lambda', endpoint_url='{url}', region_name='us-east-1')\n\
         def error(call, **kwargs):\n\
         \x20   try:\n\
         \x20       call(**kwargs)\n\
         \x20   except ClientError as e:\n\
         \x20       return e.response['Error']['Code'], e.response['Error']['Message']\n\
         \x20   raise AssertionError('no error from ' + str(kwargs))\n\
         def records():\n\
         \x20   path = os.path.join({project:?}, 'events.jsonl')\n\
         \x20   if not os.path.exists(path):\n\
         \x20       return []\n\
         \x20   return [r for line in open(path) for r in json.loads(line)['Records']]\n\
         def wait(what, condition, seconds=30):\n\
         \x20   deadline = time.time() + seconds\n\
         \x20   while not condition():\n\
         \x20       assert time.time() < deadline, 'timed out waiting for ' + what + ': ' + str([r['body'] for r in records()])\n\
         \x20       time.sleep(0.05)\n",
        url = server.url,
        project = project.path().display().to_string(),
    );
    let script = r#"
dead = q.create_queue(QueueName='dead')['QueueUrl']
dead_arn = q.get_queue_attributes(QueueUrl=dead, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
policy = json.dumps({'deadLetterTargetArn': dead_arn, 'maxReceiveCount': 2})
# Long enough for a loaded machine to invoke and delete within it; short for failures to return.
inbox = q.create_queue(QueueName='inbox', Attributes={'VisibilityTimeout': '3', 'RedrivePolicy': policy})['QueueUrl']
arn = q.get_queue_attributes(QueueUrl=inbox, AttributeNames=['QueueArn'])['Attributes']['QueueArn']

# SQS's settings: no starting position, more than ten only with a batching window.
assert error(l.create_event_source_mapping, FunctionName='handler', EventSourceArn=arn, StartingPosition='LATEST') == \
    ('InvalidParameterValueException', 'StartingPosition is not valid for SQS event sources.')
assert error(l.create_event_source_mapping, FunctionName='handler', EventSourceArn=arn, BatchSize=100) == \
    ('InvalidParameterValueException', 'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10')
assert error(l.create_event_source_mapping, FunctionName='handler', EventSourceArn=arn, ParallelizationFactor=2)[0] == 'InvalidParameterValueException'
assert error(l.create_event_source_mapping, FunctionName='handler', EventSourceArn=arn.replace('inbox', 'nope'))[0] == 'InvalidParameterValueException'
fifo = q.create_queue(QueueName='ordered.fifo', Attributes={'FifoQueue': 'true'})['QueueUrl']
fifo_arn = q.get_queue_attributes(QueueUrl=fifo, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
assert error(l.create_event_source_mapping, FunctionName='handler', EventSourceArn=fifo_arn, BatchSize=100, MaximumBatchingWindowInSeconds=5) == \
    ('InvalidParameterValueException', 'Batching window is not supported for FIFO queues')
m = l.create_event_source_mapping(FunctionName='handler', EventSourceArn=arn, FunctionResponseTypes=['ReportBatchItemFailures'],
                                  ScalingConfig={'MaximumConcurrency': 2})
assert m['State'] == 'Creating' and m['EventSourceArn'] == arn and m['BatchSize'] == 10, m
assert m['ScalingConfig'] == {'MaximumConcurrency': 2} and 'StartingPosition' not in m, m
assert [x['UUID'] for x in l.list_event_source_mappings(EventSourceArn=arn)['EventSourceMappings']] == [m['UUID']]

sent = q.send_message(QueueUrl=inbox, MessageBody='hello', MessageAttributes={'k': {'DataType': 'String', 'StringValue': 'v'}})
q.send_message(QueueUrl=inbox, MessageBody='fail')
wait('both messages', lambda: {'hello', 'fail'} <= {r['body'] for r in records()})
record = next(r for r in records() if r['body'] == 'hello')
assert set(record) == {'messageId', 'receiptHandle', 'body', 'attributes', 'messageAttributes', 'md5OfMessageAttributes',
                       'md5OfBody', 'eventSource', 'eventSourceARN', 'awsRegion'}, record
assert record['messageId'] == sent['MessageId'] and record['md5OfBody'] == hashlib.md5(b'hello').hexdigest(), record
assert record['md5OfMessageAttributes'] == sent['MD5OfMessageAttributes'], record
assert record['messageAttributes'] == {'k': {'stringValue': 'v', 'stringListValues': [], 'binaryListValues': [], 'dataType': 'String'}}, record
assert list(record['attributes']) == ['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp'], record
assert record['attributes']['ApproximateReceiveCount'] == '1', record
assert (record['eventSource'], record['eventSourceARN'], record['awsRegion']) == ('aws:sqs', arn, 'us-east-1'), record

# The failed message is received again after its visibility timeout, then redriven; the
# processed one is gone.
moved = q.receive_message(QueueUrl=dead, WaitTimeSeconds=20)['Messages']
assert [x['Body'] for x in moved] == ['fail'], moved
assert [r['body'] for r in records()].count('fail') == 2, [r['body'] for r in records()]
assert [r['body'] for r in records()].count('hello') == 1
counts = q.get_queue_attributes(QueueUrl=inbox, AttributeNames=['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'])['Attributes']
assert counts == {'ApproximateNumberOfMessages': '0', 'ApproximateNumberOfMessagesNotVisible': '0'}, counts

# A function that fails leaves its whole batch to the visibility timeout and the redrive.
u = l.update_event_source_mapping(UUID=m['UUID'], BatchSize=1)
assert u['State'] == 'Updating' and u['BatchSize'] == 1, u
assert error(l.update_event_source_mapping, UUID=m['UUID'], MaximumRetryAttempts=2) == \
    ('InvalidParameterValueException', 'Unsupported MaximumRetryAttempts parameter for given event source mapping type.')
q.send_message(QueueUrl=inbox, MessageBody='crash')
moved = q.receive_message(QueueUrl=dead, WaitTimeSeconds=20)['Messages']
assert [x['Body'] for x in moved] == ['crash'], moved
assert [r['body'] for r in records()].count('crash') == 2, [r['body'] for r in records()]
l.delete_event_source_mapping(UUID=m['UUID'])

# A mapping in a function file: a batch of up to 20 gathered over a second.
tally = q.create_queue(QueueName='tally')['QueueUrl']
for i in range(2):
    q.send_message_batch(QueueUrl=tally, Entries=[{'Id': str(j), 'MessageBody': 't%d' % (i * 10 + j)} for j in range(10)])
wait('the tally batch', lambda: sum(1 for r in records() if r['body'].startswith('t')) == 20)
mapped = l.list_event_source_mappings(FunctionName='tally')['EventSourceMappings']
assert len(mapped) == 1 and mapped[0]['BatchSize'] == 20 and mapped[0]['EventSourceArn'].endswith(':tally'), mapped
"#;
    python_ok(&server, &format!("{prelude}{script}\nprint('ok')\n"), &[]);
}
