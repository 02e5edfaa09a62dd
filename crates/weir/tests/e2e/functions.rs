//! Functions through the real binary: the CLI, the REST API, the Lambda API as boto3 calls it,
//! and the `function` pipeline action.

use serde_json::{Value, json};

use crate::support::*;

/// A project with three functions: `echo` returns its event, `fail` reports an error of its own,
/// `slow` runs past its timeout.
fn project() -> Project {
    let project = Project::new();
    project.write(
        "functions/echo.yaml",
        "description: Returns its event\ncommand: [cat]\n",
    );
    project.write(
        "functions/fail.yaml",
        r#"command: |
  echo "about to break" >&2
  echo '{"errorType": "Boom", "errorMessage": "it broke"}'
  exit 2
"#,
    );
    project.write(
        "functions/slow.yaml",
        "command: echo started >&2; sleep 30\ntimeout: 300ms\n",
    );
    project
}

#[test]
fn the_cli_lists_invokes_and_shows_logs() {
    let project = project();
    project.write("functions/broken.yaml", "comand: cat\n");
    let server = Server::start(project.path());

    let listed = server.json(&["functions", "list"]);
    let names: Vec<&str> = listed["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["echo", "fail", "slow"]);
    assert_eq!(
        listed["functions"][0]["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    let problem = &listed["problems"][0];
    assert_eq!(problem["file"], "functions/broken.yaml");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `command`?"),
        "{problem}"
    );

    // Success: the result on stdout.
    let output = server.cli(&[
        "functions",
        "invoke",
        "echo",
        "--payload",
        r#"{"order_id": 7, "tags": ["a"]}"#,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result, json!({"order_id": 7, "tags": ["a"]}));

    // The function's own error: `error: ERROR: cause` on stderr, exit 1.
    let output = server.cli(&["functions", "invoke", "fail"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with("error: Boom: it broke\nstderr:\nabout to break\nexit status 2\n"),
        "{err}"
    );
    assert!(stdout(&output).is_empty());

    // A timeout.
    let output = server.cli(&["functions", "invoke", "slow"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with("error: States.Timeout: timed out after 300ms"),
        "{err}"
    );
    assert!(err.contains("stderr:\nstarted"), "{err}");

    // Unknown functions and bad payloads.
    let output = server.cli(&["functions", "invoke", "nope"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no function `nope`"),
        "{}",
        stderr(&output)
    );
    let output = server.cli(&["functions", "invoke", "echo", "--payload", "{oops"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--payload must be JSON"),
        "{}",
        stderr(&output)
    );

    // The most recent invocation's log, and one by id.
    let output = server.cli(&["functions", "logs", "fail"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stdout(&output);
    assert!(
        log.contains("== payload\n{}\n== stderr\nabout to break\n"),
        "{log}"
    );
    assert!(log.contains("== error Boom"), "{log}");
    let invoked = server.json(&["functions", "invoke", "echo", "--payload", "[1]"]);
    let id = invoked["invocation_id"].as_str().unwrap();
    assert_eq!(invoked["result"], json!([1]));
    let log = server.json(&["functions", "logs", "echo", id]);
    assert!(log["log"].as_str().unwrap().contains("== result"), "{log}");
    let shown = server.json(&["functions", "show", "slow"]);
    assert_eq!(shown["timeout"], "300ms");
}

#[test]
fn the_rest_api_answers_results_errors_and_logs() {
    let project = project();
    let server = Server::start(project.path());
    let (status, body) = server.post("/api/v1/functions/echo/invoke", r#"{"a": [1, 2]}"#);
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["result"], json!({"a": [1, 2]}));
    let id = body["invocation_id"].as_str().unwrap().to_string();

    let (status, body) = server.post("/api/v1/functions/fail/invoke", "");
    assert_eq!(status, 422, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "Boom");
    assert!(body["cause"].as_str().unwrap().ends_with("exit status 2"));
    assert!(body["invocation_id"].is_string());

    let (status, body) = server.post("/api/v1/functions/nope/invoke", "{}");
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.post("/api/v1/functions/echo/invoke", "{not json");
    assert_eq!(status, 400, "{body}");

    let log = server.get_json(&format!("/api/v1/functions/echo/invocations/{id}/log"));
    assert!(
        log["log"].as_str().unwrap().contains(r#"{"a":[1,2]}"#),
        "{log}"
    );
    let (status, _) = server.get("/api/v1/functions/echo/invocations/nope/log");
    assert_eq!(status, 404);
    let ids = server.get_json("/api/v1/functions/echo/invocations");
    assert_eq!(ids["invocations"], json!([id]));

    // Definitions are picked up without a restart.
    project.write("functions/late.yaml", "command: echo '\"late\"'\n");
    let (status, body) = server.post("/api/v1/functions/late/invoke", "{}");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["result"],
        "late"
    );
}

const BOTO3_SCRIPT: &str = r#"
import base64, json, sys
import boto3

client = boto3.client('lambda', endpoint_url=sys.argv[1], region_name='us-east-1')

r = client.invoke(FunctionName='echo', Payload=json.dumps({'order': 7}))
assert r['StatusCode'] == 200, r
assert 'FunctionError' not in r, r
assert r['ExecutedVersion'] == '$LATEST', r
assert json.loads(r['Payload'].read()) == {'order': 7}

r = client.invoke(FunctionName='arn:aws:lambda:us-east-1:000000000000:function:echo',
                  Payload=b'[1, 2]')
assert json.loads(r['Payload'].read()) == [1, 2]

r = client.invoke(FunctionName='fail', Payload='{}')
assert r['StatusCode'] == 200, r
assert r['FunctionError'] == 'Unhandled', r
body = json.loads(r['Payload'].read())
assert body['errorType'] == 'Boom', body
assert body['errorMessage'].startswith('it broke'), body
assert 'about to break' in body['errorMessage'], body

r = client.invoke(FunctionName='slow', Payload='{}')
assert r['FunctionError'] == 'Unhandled', r
assert json.loads(r['Payload'].read())['errorType'] == 'States.Timeout'

r = client.invoke(FunctionName='echo', Payload='{"x": 1}', LogType='Tail')
assert '== payload' in base64.b64decode(r['LogResult']).decode(), r

try:
    client.invoke(FunctionName='nope', Payload='{}')
    raise SystemExit('expected ResourceNotFoundException')
except client.exceptions.ResourceNotFoundException as e:
    assert 'function:nope' in str(e), e

r = client.invoke(FunctionName='echo', InvocationType='Event', Payload='{}')
assert r['StatusCode'] == 202, r

names = [f['FunctionName'] for f in client.list_functions()['Functions']]
assert names == ['echo', 'fail', 'slow'], names
config = client.get_function(FunctionName='slow')['Configuration']
assert config['Timeout'] == 1 and config['FunctionArn'].endswith(':function:slow'), config
print('ok')
"#;

#[test]
fn boto3_invokes_functions_unchanged() {
    let project = project();
    let server = Server::start(project.path());
    python_ok(&server, BOTO3_SCRIPT, &[&server.url]);
}

#[test]
fn the_function_action_passes_results_downstream_and_fails_with_the_cause() {
    let project = project();
    project.write(
        "functions/double.yaml",
        "command: |\n  python3 -c 'import json,sys; e=json.load(sys.stdin); print(json.dumps({\"twice\": int(e[\"n\"]) * 2, \"event\": e}))'\n",
    );
    project.pipeline(
        "doubling",
        r#"params: { n: 21 }
tasks:
  make:
    noop: { output: { n: 5, tag: upstream } }
  double:
    function: double
    payload: { n: "{{ params.n }}" }
  again:
    depends_on: [make]
    function: double
    payload: "{{ tasks.make.output | tojson }}"
  check:
    depends_on: [double, again]
    command: test "{{ tasks.double.output.twice }} {{ tasks.again.output.twice }} {{ tasks.again.output.event.tag }}" = "42 10 upstream"
"#,
    );
    project.pipeline(
        "failing",
        r#"tasks:
  breaks:
    function: fail
    retries: 1
    retry_delay: 0s
  waits:
    function: slow
"#,
    );
    let server = Server::start(project.path());

    let run = server.trigger_wait("doubling", &[]);
    let run_id = run["run_id"].as_str().unwrap();
    let run = server.run(run_id);
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(
        server.task(&run, "double")["output"],
        json!({"twice": 42, "event": {"n": "21"}})
    );

    let run = server.trigger_wait("failing", &[]);
    let run_id = run["run_id"].as_str().unwrap();
    let run = server.run(run_id);
    assert_eq!(run["state"], "failed", "{run}");
    let attempts = server.attempts(run_id, "breaks");
    assert_eq!(attempts.len(), 2, "retries apply to function errors");
    let error = attempts[0]["error"].as_str().unwrap();
    assert!(error.starts_with("Boom: it broke"), "{error}");
    let attempts = server.attempts(run_id, "waits");
    assert_eq!(attempts[0]["state"], "timed_out", "{attempts:?}");
    let logs = server.json(&["runs", "logs", run_id, "breaks"]);
    let log = logs["logs"][0]["log"].as_str().unwrap();
    assert!(log.contains("function fail\npayload: {}"), "{log}");
    assert!(
        log.contains("failed: Boom\ncause:\nit broke\nstderr:\nabout to break\nexit status 2"),
        "{log}"
    );
}

#[test]
fn validate_reports_function_problems_and_missing_functions() {
    let project = project();
    project.write("functions/bad.yaml", "command: cat\ntimout: 5s\n");
    project.pipeline(
        "uses",
        "tasks:\n  a:\n    function: echo\n  b:\n    function: ecco\n",
    );
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains(
            "functions/bad.yaml:2:1: unknown key `timout` in function `bad`; did you mean `timeout`?"
        ),
        "{out}"
    );
    assert!(
        out.contains("pipelines/uses.yaml:5:5: task `b` invokes function `ecco`, which functions/ does not define; did you mean `echo`?"),
        "{out}"
    );
    std::fs::remove_file(project.path().join("functions/bad.yaml")).unwrap();
    project.pipeline("uses", "tasks:\n  a:\n    function: echo\n");
    let output = weir(&["validate", project.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("ok: 1 pipeline, 3 functions, no problems"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_invoke_payload_over_lambdas_quota_is_refused_as_lambda_refuses_it() {
    let project = project();
    let server = Server::start(project.path());
    let url = format!("{}/2015-03-31/functions/echo/invocations", server.url);
    // 6 MB is Lambda's quota for a synchronous invocation's payload.
    let big = format!("\"{}\"", "x".repeat(6_291_456));
    let bearer = format!("Bearer {}", server.token());
    let (status, body) =
        http_with("POST", &url, Some(&big), &[("Authorization", &bearer)]).expect("answer");
    assert_eq!(status, 413, "{}", &body[..body.len().min(200)]);
    let error: Value = serde_json::from_str(&body).expect("JSON error");
    assert_eq!(error["__type"], "RequestTooLargeException", "{error}");
    assert_eq!(
        error["message"],
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    );
    // Under the quota it runs.
    let small = format!("\"{}\"", "x".repeat(1_000_000));
    let (status, echoed) =
        http_with("POST", &url, Some(&small), &[("Authorization", &bearer)]).expect("answer");
    assert_eq!(status, 200);
    assert_eq!(echoed.len(), small.len());
}
