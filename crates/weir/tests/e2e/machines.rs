//! State machines through the real binary: the Step Functions API driven by boto3 and the AWS
//! CLI, `weir machines`, task resources (functions, pipelines, other machines), and kill -9 in
//! the middle of executions.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// Runs a Python script with boto3 against the server; the script asserts and prints `ok`.
fn boto3(server: &Server, project: &Project, script: &str) {
    let prelude = format!(
        "import json, time, sys, boto3, botocore, botocore.config\n\
         sf = boto3.client('stepfunctions', endpoint_url='{}', region_name='us-east-1')\n\
         PROJECT = {:?}\n\
         def wait(arn):\n\
         \x20   for _ in range(2000):\n\
         \x20       d = sf.describe_execution(executionArn=arn)\n\
         \x20       if d['status'] != 'RUNNING':\n\
         \x20           return d\n\
         \x20       time.sleep(0.01)\n\
         \x20   raise AssertionError('still running: ' + arn)\n",
        server.url,
        project.path().display().to_string()
    );
    python_ok(server, &format!("{prelude}{script}\nprint('ok')\n"), &[]);
}

#[test]
fn boto3_drives_the_step_functions_api() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        &project,
        r#"
definition = {
    "StartAt": "Add",
    "States": {
        "Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "ResultPath": "$.result", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.result.sum", "NumericGreaterThan": 100, "Next": "TooBig"}], "Default": "Done"},
        "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "sum over 100"},
        "Done": {"Type": "Succeed", "OutputPath": "$.result"}
    }
}
created = sf.create_state_machine(name='adder', definition=json.dumps(definition),
    roleArn='arn:aws:iam::123456789012:role/sfn', type='STANDARD',
    loggingConfiguration={'level': 'ERROR', 'includeExecutionData': True},
    tracingConfiguration={'enabled': True}, tags=[{'key': 'team', 'value': 'data'}])
arn = created['stateMachineArn']
assert arn.endswith(':stateMachine:adder'), arn
described = sf.describe_state_machine(stateMachineArn=arn)
assert described['loggingConfiguration']['level'] == 'ERROR', described
assert described['tracingConfiguration'] == {'enabled': True}, described
assert described['roleArn'] == 'arn:aws:iam::123456789012:role/sfn'
assert json.loads(described['definition']) == definition

# Same name and input while running: the same execution; a different input: refused.
first = sf.start_execution(stateMachineArn=arn, name='small', input='{"a": 1, "b": 2}')
done = wait(first['executionArn'])
assert done['status'] == 'SUCCEEDED', done
assert json.loads(done['output']) == {'sum': 3}, done
try:
    sf.start_execution(stateMachineArn=arn, name='small', input='{"a": 5, "b": 2}')
    raise AssertionError('a reused name was accepted')
except sf.exceptions.ExecutionAlreadyExists:
    pass

big = wait(sf.start_execution(stateMachineArn=arn, name='big', input='{"a": 100, "b": 2}')['executionArn'])
assert big['status'] == 'FAILED' and big['error'] == 'TooBig' and big['cause'] == 'sum over 100', big

history = sf.get_execution_history(executionArn=first['executionArn'])['events']
types = [e['type'] for e in history]
assert types == ['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'ChoiceStateEntered',
                 'ChoiceStateExited', 'SucceedStateEntered', 'SucceedStateExited',
                 'ExecutionSucceeded'], types
assert [e['id'] for e in history] == list(range(1, 9))
assert history[1]['stateEnteredEventDetails']['name'] == 'Add'
assert json.loads(history[0]['executionStartedEventDetails']['input']) == {'a': 1, 'b': 2}
reverse = sf.get_execution_history(executionArn=first['executionArn'], reverseOrder=True, maxResults=2)
assert [e['type'] for e in reverse['events']] == ['ExecutionSucceeded', 'SucceedStateExited']
assert 'nextToken' in reverse

failed = sf.list_executions(stateMachineArn=arn, statusFilter='FAILED')['executions']
assert [e['name'] for e in failed] == ['big'], failed
page = sf.list_executions(stateMachineArn=arn, maxResults=1)
assert len(page['executions']) == 1 and 'nextToken' in page
rest = sf.list_executions(stateMachineArn=arn, maxResults=1, nextToken=page['nextToken'])
assert rest['executions'][0]['name'] != page['executions'][0]['name']

# Validation names the JSON path of each problem; bad definitions are refused whole.
check = sf.validate_state_machine_definition(definition='{"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": true}}}')
assert check['result'] == 'FAIL', check
assert any(d['location'] == '$.StartAt' for d in check['diagnostics']), check
assert sf.validate_state_machine_definition(definition=json.dumps(definition))['result'] == 'OK'
try:
    sf.create_state_machine(name='broken', definition='{"StartAt": 1}', roleArn='arn:aws:iam::1:role/r')
    raise AssertionError('a bad definition was accepted')
except sf.exceptions.InvalidDefinition as e:
    assert 'StartAt' in str(e)
try:
    sf.describe_execution(executionArn=arn.replace('stateMachine', 'execution') + ':nope')
    raise AssertionError('found a missing execution')
except sf.exceptions.ExecutionDoesNotExist:
    pass
try:
    sf.create_state_machine(name='has space', definition=json.dumps(definition), roleArn='arn:aws:iam::1:role/r')
    raise AssertionError('a bad name was accepted')
except sf.exceptions.InvalidName:
    pass
names = [m['name'] for m in sf.list_state_machines()['stateMachines']]
assert names == ['adder'], names

# Express machines run synchronously. (boto3 sends StartSyncExecution to a `sync-` host, as
# AWS's endpoints have one; pointed at weir, that prefix is turned off.)
sync_client = boto3.client('stepfunctions', endpoint_url=sf.meta.endpoint_url, region_name='us-east-1',
    config=botocore.config.Config(inject_host_prefix=False))
express = sf.create_state_machine(name='quick', type='EXPRESS', roleArn='arn:aws:iam::1:role/r',
    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"fast": True}, "End": True}}}))
sync = sync_client.start_sync_execution(stateMachineArn=express['stateMachineArn'], input='{}')
assert sync['status'] == 'SUCCEEDED' and json.loads(sync['output']) == {'fast': True}, sync

# Task tokens: the task hands its token out (here into a file) and waits for SendTaskSuccess.
token_file = PROJECT + '/token'
approval = sf.create_state_machine(name='approval', roleArn='arn:aws:iam::1:role/r', definition=json.dumps({
    "StartAt": "Ask", "States": {"Ask": {"Type": "Task",
        "Resource": "arn:weir:states:::action:command.waitForTaskToken",
        "Parameters": {"command.$": "States.Format('printf %s {} > " + token_file + "', $$.Task.Token)"},
        "End": True}}}))
waiting = sf.start_execution(stateMachineArn=approval['stateMachineArn'], name='w1')
for _ in range(500):
    try:
        token = open(token_file).read()
        if token:
            break
    except FileNotFoundError:
        pass
    time.sleep(0.01)
sf.send_task_heartbeat(taskToken=token)
sf.send_task_success(taskToken=token, output='{"approved": "yes"}')
approved = wait(waiting['executionArn'])
assert json.loads(approved['output']) == {'approved': 'yes'}, approved
try:
    sf.send_task_success(taskToken=token, output='{}')
    raise AssertionError('a used token was accepted')
except sf.exceptions.TaskDoesNotExist:
    pass

# Stop, then delete.
sleeper = sf.create_state_machine(name='sleeper', roleArn='arn:aws:iam::1:role/r', definition=json.dumps({
    "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}))
long = sf.start_execution(stateMachineArn=sleeper['stateMachineArn'], name='long')
stopped = sf.stop_execution(executionArn=long['executionArn'], error='Manual', cause='no need')
assert 'stopDate' in stopped
aborted = sf.describe_execution(executionArn=long['executionArn'])
assert aborted['status'] == 'ABORTED' and aborted['cause'] == 'no need', aborted
sf.delete_state_machine(stateMachineArn=sleeper['stateMachineArn'])
try:
    sf.describe_state_machine(stateMachineArn=sleeper['stateMachineArn'])
    raise AssertionError('a deleted machine is still there')
except sf.exceptions.StateMachineDoesNotExist:
    pass
"#,
    );
}

#[test]
fn the_aws_cli_and_weir_machines_see_the_same_executions() {
    let project = Project::new();
    project.write(
        "machines/greet.asl.json",
        r#"{"StartAt": "Greet", "States": {"Greet": {"Type": "Pass",
            "Parameters": {"greeting.$": "States.Format('hello {}', $.who)"}, "End": true}}}"#,
    );
    let server = Server::start(project.path());
    let aws = |args: &[&str]| server.aws_cli(args);
    let machines = aws(&["stepfunctions", "list-state-machines"]);
    let arn = machines["stateMachines"][0]["stateMachineArn"]
        .as_str()
        .expect("the machine file is listed")
        .to_string();
    assert!(arn.ends_with(":stateMachine:greet"), "{machines}");
    let started = aws(&[
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        &arn,
        "--name",
        "from-cli",
        "--input",
        r#"{"who": "cli"}"#,
    ]);
    let execution = started["executionArn"].as_str().unwrap().to_string();
    assert!(eventually(Duration::from_secs(10), || {
        aws(&[
            "stepfunctions",
            "describe-execution",
            "--execution-arn",
            &execution,
        ])["status"]
            == "SUCCEEDED"
    }));

    let shown = server.cli(&["machines", "describe", "greet:from-cli"]);
    assert!(stdout(&shown).contains("SUCCEEDED"), "{}", stdout(&shown));
    assert!(stdout(&shown).contains("hello cli"), "{}", stdout(&shown));
    let run = server.cli(&[
        "machines",
        "start",
        "greet",
        "--input",
        r#"{"who": "weir"}"#,
        "--wait",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stdout(&run).contains("\"greeting\": \"hello weir\""),
        "{}",
        stdout(&run)
    );
    let history = server.json(&["machines", "history", "greet:from-cli"]);
    let types: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let listed = aws(&[
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        &arn,
    ]);
    assert_eq!(
        listed["executions"].as_array().unwrap().len(),
        2,
        "{listed}"
    );

    let bad = project.write("bad.asl.json", r#"{"StartAt": "X", "States": {}}"#);
    let check = server.cli(&["machines", "validate", bad.to_str().unwrap()]);
    assert!(!check.status.success());
    assert!(
        stderr(&check).contains("bad.asl.json:1:"),
        "{}",
        stderr(&check)
    );
    assert!(stderr(&check).contains("$.StartAt"), "{}", stderr(&check));

    // A machine file's `triggers` are checked with its definition, not as part of it.
    let triggered = project.write(
        "on-upload.asl.yaml",
        "triggers:\n  - event: {source: [weir.lake]}\n    input_path: $.detail\nStartAt: Done\nStates:\n  Done: {Type: Succeed}\n",
    );
    let check = server.cli(&["machines", "validate", triggered.to_str().unwrap()]);
    assert!(check.status.success(), "{}", stderr(&check));
    let bad_trigger = project.write(
        "bad-trigger.asl.yaml",
        "triggers:\n  - event: {source: [weir.lake]}\n    input_path: detail\nStartAt: Done\nStates:\n  Done: {Type: Succeed}\n",
    );
    let check = server.cli(&["machines", "validate", bad_trigger.to_str().unwrap()]);
    assert!(!check.status.success());
    assert!(
        stderr(&check)
            .contains("bad-trigger.asl.yaml:3:17: InputPath for target trigger is invalid."),
        "{}",
        stderr(&check)
    );
}

#[test]
fn tasks_run_functions_pipelines_and_other_machines() {
    let project = Project::new();
    project.write(
        "functions/double.yaml",
        "command: [python3, -c, \"import json,sys; e=json.load(sys.stdin); print(json.dumps({'n': e['n'] * 2}))\"]\n",
    );
    project.write(
        "functions/explode.yaml",
        "command: \"echo boom >&2; exit 4\"\n",
    );
    project.pipeline(
        "report",
        "params: { n: 0 }\ntasks:\n  write:\n    command: \"echo {{ params.n }} > report.txt\"\n",
    );
    project.write(
        "machines/child.asl.json",
        r#"{"StartAt": "Inc", "States": {"Inc": {"Type": "Pass", "Parameters": {"child.$": "States.MathAdd($.n, 1)"}, "End": true}}}"#,
    );
    project.write(
        "machines/parent.asl.yaml",
        r#"
StartAt: Double
States:
  Double:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:000000000000:function:double
    Next: Invoke
  Invoke:
    Type: Task
    Resource: arn:aws:states:::lambda:invoke
    Parameters:
      FunctionName: double
      Payload.$: $
    ResultSelector:
      n.$: $.Payload.n
    Next: Child
  Child:
    Type: Task
    Resource: arn:aws:states:::states:startExecution.sync:2
    Parameters:
      StateMachineArn: arn:aws:states:us-east-1:000000000000:stateMachine:child
      Input.$: $
    ResultSelector:
      n.$: $.Output.child
    Next: Report
  Report:
    Type: Task
    Resource: arn:weir:states:::pipeline:run.sync
    Parameters:
      Pipeline: report
      Params:
        n.$: States.Format('{}', $.n)
    ResultPath: $.run
    Next: Explode
  Explode:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:000000000000:function:explode
    Catch:
      - ErrorEquals: [States.ALL]
        ResultPath: $.error
        Next: Done
    End: true
  Done:
    Type: Succeed
"#,
    );
    let server = Server::start(project.path());
    let run = server.cli(&[
        "machines",
        "start",
        "parent",
        "--input",
        r#"{"n": 5}"#,
        "--wait",
        "--json",
    ]);
    let done: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    assert_eq!(done["status"], "SUCCEEDED", "{done}\n{}", server.log_text());
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["n"], 21, "5 doubled twice, plus one: {output}");
    assert_eq!(output["run"]["State"], "success", "{output}");
    assert_eq!(project.read("report.txt").trim(), "21");
    assert!(
        output["error"]["Cause"].as_str().unwrap().contains("boom"),
        "a failing function's cause carries its stderr: {output}"
    );
    let history = server.json(&[
        "machines",
        "history",
        done["executionArn"].as_str().unwrap(),
    ]);
    let types: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in [
        "LambdaFunctionScheduled",
        "LambdaFunctionSucceeded",
        "LambdaFunctionFailed",
        "TaskScheduled",
        "TaskSucceeded",
    ] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
}

/// An execution's history, checked to hold no event twice (ids 1, 2, … without a gap): how
/// many events of a type it has.
fn event_counts(server: &Server, arn: &str) -> impl Fn(&str) -> usize {
    let history = server.json(&["machines", "history", arn]);
    let events = history["events"].as_array().cloned().unwrap_or_default();
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as i64).collect::<Vec<_>>(),
        "{arn}: no event twice"
    );
    move |kind| events.iter().filter(|e| e["type"] == kind).count()
}

/// Counts the lines of a file (0 when missing).
fn lines(project: &Project, file: &str) -> usize {
    project.read(file).lines().count()
}

#[test]
fn kill_9_resumes_executions_without_running_finished_tasks_again() {
    let project = Project::new();
    project.write(
        "machines/steps.asl.json",
        r#"{
  "StartAt": "First",
  "States": {
    "First": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
              "Parameters": {"command.$": "States.Format('echo {} >> first.txt', $$.Execution.Name)"},
              "ResultPath": null, "Next": "Nap"},
    "Nap": {"Type": "Wait", "Seconds": 2, "Next": "Each"},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
             "ItemProcessor": {"StartAt": "Work", "States": {
                "Work": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
                         "Parameters": {"command.$": "States.Format('sleep 0.3; echo {} >> items.txt', $)"},
                         "End": true}}},
             "ResultPath": null, "Next": "Last"},
    "Last": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
             "Parameters": {"command": "echo done >> last.txt"}, "ResultPath": null, "End": true}
  }
}"#,
    );
    let mut server = Server::start(project.path());
    let start = |server: &Server, name: &str| -> String {
        let output = server.cli(&[
            "machines",
            "start",
            "steps",
            "--name",
            name,
            "--input",
            r#"{"items": [1, 2, 3, 4, 5, 6]}"#,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).trim().to_string()
    };
    let describe = |server: &Server, arn: &str| server.json(&["machines", "describe", arn]);

    // 1. Killed during the Wait, after the first task finished.
    let napping = start(&server, "napping");
    assert!(eventually(Duration::from_secs(10), || lines(
        &project,
        "first.txt"
    ) == 1));
    std::thread::sleep(Duration::from_millis(300));
    server.kill9();
    server.restart();
    // 2. Killed right after StartExecution was acknowledged.
    let fresh = start(&server, "fresh");
    server.kill9();
    server.restart();
    // 3. Killed in the middle of the Map (some items done, some running).
    let deadline = Instant::now() + Duration::from_secs(20);
    while lines(&project, "items.txt") < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill9();
    let items_at_kill = lines(&project, "items.txt");
    server.restart();

    for arn in [&napping, &fresh] {
        assert!(
            eventually(Duration::from_secs(30), || describe(&server, arn)["status"]
                == "SUCCEEDED"),
            "{arn} did not finish: {}\n{}",
            describe(&server, arn),
            server.log_text()
        );
        let count = event_counts(&server, arn);
        assert_eq!(count("ExecutionStarted"), 1);
        assert_eq!(count("ExecutionSucceeded"), 1);
        assert_eq!(count("MapIterationSucceeded"), 6, "{arn}");
    }
    // Every acknowledged execution ran its first task exactly once, and its last once.
    let first = project.read("first.txt");
    assert_eq!(
        first.lines().filter(|l| *l == "napping").count(),
        1,
        "{first}"
    );
    // Killed right after its start was acknowledged, its first task may have been in flight:
    // that one may run again (Step Functions' at-least-once for unfinished tasks), never more.
    let fresh = first.lines().filter(|l| *l == "fresh").count();
    assert!((1..=2).contains(&fresh), "{first}");
    assert_eq!(lines(&project, "last.txt"), 2);
    // Map items: each finished once per execution; only items in flight at a kill may repeat.
    let items = lines(&project, "items.txt");
    assert!(items >= 12, "{items} item runs");
    assert!(
        items <= 12 + 4,
        "at most the items in flight at the kill (2 per execution) ran again \
         ({items_at_kill} had finished, {items} runs in all)"
    );
}

/// What boto3 sees of failures Step Functions words in its own way: a runtime error's cause
/// names the state and the event that entered it; a Fail state without Error or Cause leaves
/// both out of DescribeExecution and of the ExecutionFailed event.
#[test]
fn failures_read_as_step_functions_writes_them() {
    let project = Project::new();
    let server = Server::start(project.path());
    boto3(
        &server,
        &project,
        r#"
role = 'arn:aws:iam::000000000000:role/r'
def run(name, definition, input):
    arn = sf.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)['stateMachineArn']
    started = sf.start_execution(stateMachineArn=arn, input=json.dumps(input))
    return wait(started['executionArn'])

done = run('missing', {"StartAt": "Load", "States": {"Load": {"Type": "Pass", "InputPath": "$.foo", "End": True}}}, {"a": 1})
assert done['status'] == 'FAILED', done
assert done['error'] == 'States.Runtime', done
expected = "An error occurred while executing the state 'Load' (entered at the event id #2). Invalid path '$.foo' : No results for path: $['foo']"
assert done['cause'] == expected, done['cause']

done = run('bare', {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail"}}}, {})
assert done['status'] == 'FAILED', done
assert 'error' not in done and 'cause' not in done, done
events = sf.get_execution_history(executionArn=done['executionArn'])['events']
assert events[-1]['type'] == 'ExecutionFailed', events[-1]
assert events[-1]['executionFailedEventDetails'] == {}, events[-1]
"#,
    );
}

/// RedriveExecution through boto3 and `weir machines redrive`: a failed execution runs again
/// under its ARN and succeeds; DescribeExecution and ListExecutions count the redrive, and
/// ListExecutions' redriveFilter keeps the redriven executions or the others.
#[test]
fn a_failed_execution_is_redriven() {
    let project = Project::new();
    let server = Server::start(project.path());
    let marker = project.path().join("fixed");
    boto3(
        &server,
        &project,
        &format!(
            r#"
marker = {marker:?}
definition = {{"StartAt": "Check", "States": {{"Check": {{"Type": "Task",
    "Resource": "arn:weir:states:::action:command",
    "Parameters": {{"command": "test -f " + marker}}, "End": True}}}}}}
arn = sf.create_state_machine(name='redo', definition=json.dumps(definition),
    roleArn='arn:aws:iam::000000000000:role/r')['stateMachineArn']
run = sf.start_execution(stateMachineArn=arn, name='first', input='{{}}')['executionArn']
done = wait(run)
assert done['status'] == 'FAILED', done
assert done['redriveCount'] == 0 and done['redriveStatus'] == 'REDRIVABLE', done
open(marker, 'w').close()
answer = sf.redrive_execution(executionArn=run, clientToken='once')
assert 'redriveDate' in answer, answer
done = wait(run)
assert done['status'] == 'SUCCEEDED', done
assert done['redriveCount'] == 1 and 'redriveDate' in done, done
assert done['redriveStatus'] == 'NOT_REDRIVABLE', done
assert done['redriveStatusReason'] == 'Execution is SUCCEEDED and cannot be redriven', done
types = [e['type'] for e in sf.get_execution_history(executionArn=run)['events']]
assert types.index('ExecutionRedriven') == types.index('ExecutionFailed') + 1, types
assert types[-1] == 'ExecutionSucceeded', types
other = sf.start_execution(stateMachineArn=arn, name='second', input='{{}}')['executionArn']
wait(other)
listed = {{e['name']: e for e in sf.list_executions(stateMachineArn=arn)['executions']}}
assert listed['first']['redriveCount'] == 1, listed
assert listed['first']['redriveDate'] == done['redriveDate'], listed
assert listed['second']['redriveCount'] == 0 and 'redriveDate' not in listed['second'], listed
names = lambda f: [e['name'] for e in sf.list_executions(stateMachineArn=arn, redriveFilter=f)['executions']]
assert names('REDRIVEN') == ['first'], names('REDRIVEN')
assert names('NOT_REDRIVEN') == ['second'], names('NOT_REDRIVEN')
try:
    sf.redrive_execution(executionArn=run)
    raise AssertionError('a succeeded execution was redriven')
except botocore.exceptions.ClientError as e:
    assert e.response['Error']['Code'] == 'ExecutionNotRedrivable', e.response
"#,
            marker = marker.display().to_string()
        ),
    );
    let again = server.cli(&["machines", "redrive", "redo:first"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("cannot be redriven"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn executions_and_their_inputs_are_checked() {
    let project = Project::new();
    project.write(
        "machines/ok.asl.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#,
    );
    project.write(
        "machines/broken.asl.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Nope"}}}"#,
    );
    let server = Server::start(project.path());
    let bad_input = server.cli(&["machines", "start", "ok", "--input", "{not json"]);
    assert!(!bad_input.status.success());
    assert!(
        stderr(&bad_input).contains("--input is not JSON"),
        "{}",
        stderr(&bad_input)
    );
    let listed = server.json(&["machines", "list"]);
    let names: Vec<&str> = listed["stateMachines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ok"], "an invalid file is not loaded");
    assert!(
        server.log_text().contains("machines/broken.asl.json:1:"),
        "the problem is logged with its position:\n{}",
        server.log_text()
    );
    let (status, body) = server.post("/", "{}");
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
}

#[test]
fn map_reads_its_items_from_the_lake() {
    let project = Project::new();
    project.write(
        "machines/totals.asl.json",
        r#"{
  "StartAt": "Rows",
  "States": {
    "Rows": {"Type": "Map",
      "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                     "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                     "Parameters": {"Bucket": "lake", "Key.$": "$.csv"}},
      "ItemProcessor": {"StartAt": "Amount", "States": {
        "Amount": {"Type": "Pass", "Parameters": {"cents.$": "States.StringToJson($.amount)"}, "End": true}}},
      "ResultPath": "$.rows", "Next": "Lines"},
    "Lines": {"Type": "Map",
      "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                     "ReaderConfig": {"InputType": "JSONL", "MaxItems": 3},
                     "Parameters": {"Key": "in/events.jsonl"}},
      "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"source": "events"}},
      "ItemProcessor": {"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.Items)", "from.$": "$.BatchInput.source"}, "End": true}}},
      "ResultPath": "$.batches", "Next": "Listing"},
    "Listing": {"Type": "Map",
      "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "lake", "Prefix": "in/"}},
      "ItemProcessor": {"StartAt": "Key", "States": {"Key": {"Type": "Pass", "InputPath": "$.Key", "End": true}}},
      "ResultPath": "$.keys", "End": true}
  }
}"#,
    );
    let server = Server::start(project.path());
    let csv = project.write("orders.csv", "id,amount\n1,250\n2,99\n");
    let jsonl = project.write(
        "events.jsonl",
        "{\"e\": 1}\n{\"e\": 2}\n{\"e\": 3}\n{\"e\": 4}\n",
    );
    for (file, key) in [(&csv, "in/orders.csv"), (&jsonl, "in/events.jsonl")] {
        let put = server.cli(&["lake", "put", file.to_str().unwrap(), key]);
        assert!(put.status.success(), "{}", stderr(&put));
    }
    let run = server.cli(&[
        "machines",
        "start",
        "totals",
        "--input",
        r#"{"csv": "in/orders.csv"}"#,
        "--wait",
        "--json",
    ]);
    let done: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    assert_eq!(done["status"], "SUCCEEDED", "{done}\n{}", server.log_text());
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output["rows"],
        serde_json::json!([{"cents": 250}, {"cents": 99}])
    );
    assert_eq!(
        output["batches"],
        serde_json::json!([{"n": 2, "from": "events"}, {"n": 1, "from": "events"}]),
        "MaxItems 3 in batches of 2"
    );
    assert_eq!(
        output["keys"],
        serde_json::json!(["in/events.jsonl", "in/orders.csv"])
    );

    let missing = server.cli(&[
        "machines",
        "start",
        "totals",
        "--input",
        r#"{"csv": "in/nothing.csv"}"#,
        "--wait",
        "--json",
    ]);
    let failed: Value = serde_json::from_slice(&missing.stdout).unwrap_or(Value::Null);
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["error"], "States.ItemReaderFailed", "{failed}");
}

#[test]
fn kill_9_during_tasks_leaves_no_process_behind() {
    kill_9_during_tasks_leaves_no_process_behind_when(false);
}

/// As a user starts it: `weir server` inside the project, whose data directory is then the
/// relative `.weir`. The marker its task processes carry must be the one the restart looks for.
#[test]
fn kill_9_during_tasks_leaves_no_process_behind_with_a_relative_data_directory() {
    kill_9_during_tasks_leaves_no_process_behind_when(true);
}

fn kill_9_during_tasks_leaves_no_process_behind_when(relative: bool) {
    let project = Project::new();
    // Each task notes its start, works for 2 s, then notes its end: a process that outlived the
    // server would add an end of its own after the restart. The work runs in a grandchild, which
    // the parent-death signal of the task's own process does not reach.
    project.write(
        "functions/slow.yaml",
        "command: |\n  sh -c 'echo start >> fn.txt; sleep 2; echo end >> fn.txt'; echo '{}'\n",
    );
    project.write(
        "machines/both.asl.json",
        r#"{
  "StartAt": "Both",
  "States": {
    "Both": {"Type": "Parallel", "End": true, "Branches": [
      {"StartAt": "Command", "States": {"Command": {"Type": "Task",
        "Resource": "arn:weir:states:::action:command",
        "Parameters": {"command": "sh -c 'echo start >> cmd.txt; sleep 2; echo end >> cmd.txt'"},
        "End": true}}},
      {"StartAt": "Function", "States": {"Function": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow", "End": true}}}
    ]}
  }
}"#,
    );
    let mut server = if relative {
        Server::start_relative(project.path(), &[])
    } else {
        Server::start(project.path())
    };
    let output = server.cli(&["machines", "start", "both", "--name", "both"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let arn = stdout(&output).trim().to_string();
    assert!(eventually(Duration::from_secs(10), || {
        project.read("cmd.txt").contains("start") && project.read("fn.txt").contains("start")
    }));
    server.kill9();
    server.restart();
    assert!(
        eventually(Duration::from_secs(30), || server
            .json(&["machines", "describe", &arn])["status"]
            == "SUCCEEDED"),
        "{}",
        server.log_text()
    );
    // Long enough for a surviving first process to have finished its sleep.
    std::thread::sleep(Duration::from_millis(2500));
    for file in ["cmd.txt", "fn.txt"] {
        let text = project.read(file);
        let count = |word: &str| text.lines().filter(|l| *l == word).count();
        assert_eq!(
            count("start"),
            2,
            "{file}: ran again after the restart\n{text}"
        );
        assert_eq!(
            count("end"),
            1,
            "{file}: the process running at the kill was killed at the restart\n{text}"
        );
    }
}

#[test]
fn machine_files_are_picked_up_while_the_server_runs() {
    let project = Project::new();
    let pass = |result: &str| {
        format!(
            r#"{{"StartAt": "A", "States": {{"A": {{"Type": "Pass", "Result": "{result}", "End": true}}}}}}"#
        )
    };
    project.write("machines/greet.asl.json", &pass("v1"));
    let server = Server::start(project.path());
    let run = |name: &str| -> Value { server.json(&["machines", "start", name, "--wait"]) };
    let definition = || {
        server.json(&["machines", "show", "greet"])["definition"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(run("greet")["output"], "\"v1\"");

    // An edit replaces the definition; new executions run it.
    project.write("machines/greet.asl.json", &pass("v2"));
    assert!(eventually(Duration::from_secs(10), || definition().contains("v2")));
    assert_eq!(run("greet")["output"], "\"v2\"");

    // A broken edit keeps the last good definition and says what is wrong.
    project.write(
        "machines/greet.asl.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Passs", "End": true}}}"#,
    );
    assert!(
        eventually(Duration::from_secs(10), || server
            .log_text()
            .contains("machines/greet.asl.json:1:")),
        "{}",
        server.log_text()
    );
    assert!(definition().contains("v2"));

    // A new file is a new machine (YAML too); a removed file removes its machine.
    project.write(
        "machines/other.asl.yaml",
        "StartAt: A\nStates:\n  A:\n    Type: Succeed\n",
    );
    let names = || -> Vec<String> {
        server.json(&["machines", "list"])["stateMachines"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|m| m["name"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(eventually(Duration::from_secs(10), || names()
        .contains(&"other".to_string())));
    std::fs::remove_file(project.path().join("machines/greet.asl.json")).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || !names()
            .contains(&"greet".to_string())),
        "{:?}",
        names()
    );
    assert!(names().contains(&"other".to_string()));
}

/// SendTaskSuccess answers only once the answer is durable: a kill -9 right after it leaves the
/// execution to finish with that answer after the restart, without its task running again or
/// waiting for the token a second time.
#[test]
fn a_task_token_answer_survives_kill_9_right_after_it_was_acknowledged() {
    let project = Project::new();
    project.write(
        "machines/approve.asl.json",
        r#"{
  "StartAt": "Approve",
  "States": {"Approve": {"Type": "Task",
    "Resource": "arn:weir:states:::action:command.waitForTaskToken",
    "Parameters": {"command.$": "States.Format('echo ran >> runs.txt; printf %s {} > token.txt', $$.Task.Token)"},
    "End": true}}
}"#,
    );
    let mut server = Server::start(project.path());
    let started = server.cli(&["machines", "start", "approve", "--name", "one"]);
    assert!(started.status.success(), "{}", stderr(&started));
    let arn = stdout(&started).trim().to_string();
    assert!(eventually(Duration::from_secs(10), || !project
        .read("token.txt")
        .is_empty()));
    let token = project.read("token.txt");
    let answered = server.cli(&[
        "machines",
        "send-success",
        &token,
        "--output",
        r#"{"approved": true}"#,
    ]);
    assert!(answered.status.success(), "{}", stderr(&answered));
    server.kill9();
    server.restart();
    assert!(
        eventually(Duration::from_secs(20), || server
            .json(&["machines", "describe", &arn])["status"]
            == "SUCCEEDED"),
        "{}\n{}",
        server.json(&["machines", "describe", &arn]),
        server.log_text()
    );
    let described = server.json(&["machines", "describe", &arn]);
    assert_eq!(described["output"], r#"{"approved":true}"#, "{described}");
    assert_eq!(lines(&project, "runs.txt"), 1, "the task ran again");
}

/// kill -9 while a redriven task runs: after the restart the execution finishes once, under
/// its one redrive; the state that succeeded before the failure is not run again (neither by
/// the redrive nor by the restart), and only the task that was cut off runs again.
#[test]
fn kill_9_during_a_redriven_task_finishes_the_redrive_once() {
    let project = Project::new();
    project.write(
        "machines/gated.asl.json",
        r#"{
  "StartAt": "Before",
  "States": {
    "Before": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
               "Parameters": {"command": "echo ran >> before.txt"}, "ResultPath": null, "Next": "Gate"},
    "Gate": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
             "Parameters": {"command": "echo ran >> gate.txt; test -f fixed || exit 1; while [ ! -f release ]; do sleep 0.05; done; echo ran >> gate-done.txt"},
             "ResultPath": null, "Next": "After"},
    "After": {"Type": "Task", "Resource": "arn:weir:states:::action:command",
              "Parameters": {"command": "echo ran >> after.txt"}, "ResultPath": null, "End": true}
  }
}"#,
    );
    let mut server = Server::start(project.path());
    let started = server.cli(&["machines", "start", "gated", "--name", "one"]);
    assert!(started.status.success(), "{}", stderr(&started));
    let arn = stdout(&started).trim().to_string();
    let status = |server: &Server| server.json(&["machines", "describe", &arn])["status"].clone();
    assert!(
        eventually(Duration::from_secs(20), || status(&server) == "FAILED"),
        "{}",
        server.log_text()
    );
    project.write("fixed", "");
    let redriven = server.cli(&["machines", "redrive", &arn]);
    assert!(redriven.status.success(), "{}", stderr(&redriven));
    assert!(
        eventually(Duration::from_secs(20), || lines(&project, "gate.txt") == 2),
        "the redriven task did not start:\n{}",
        server.log_text()
    );
    server.kill9();
    server.restart();
    // The task cut off by the kill runs again (its process was stopped with the server); the
    // release lets that new run finish.
    assert!(
        eventually(Duration::from_secs(20), || lines(&project, "gate.txt") == 3),
        "the redriven task did not run again after the restart:\n{}",
        server.log_text()
    );
    project.write("release", "");
    assert!(
        eventually(Duration::from_secs(20), || status(&server) == "SUCCEEDED"),
        "{}\n{}",
        server.json(&["machines", "describe", &arn]),
        server.log_text()
    );
    let described = server.json(&["machines", "describe", &arn]);
    assert_eq!(described["redriveCount"], 1, "{described}");
    assert_eq!(
        lines(&project, "before.txt"),
        1,
        "the state that succeeded ran again"
    );
    assert_eq!(
        lines(&project, "gate-done.txt"),
        1,
        "the gate finished twice"
    );
    assert_eq!(
        lines(&project, "after.txt"),
        1,
        "the last state ran more than once"
    );
    let count = event_counts(&server, &arn);
    assert_eq!(count("ExecutionRedriven"), 1);
    assert_eq!(count("ExecutionFailed"), 1);
    assert_eq!(count("ExecutionSucceeded"), 1);
    assert_eq!(count("ExecutionStarted"), 1);
}
