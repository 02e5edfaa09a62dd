//! A function's failure reaches a state machine as Lambda's does: the Error is the error type,
//! the Cause is JSON text (`errorMessage`, `errorType`, `trace`) that `States.StringToJson` reads.

use serde_json::Value;

use crate::support::*;

#[test]
fn a_function_failure_cause_is_lambda_json() {
    let project = Project::new();
    // Exits non-zero without naming an error: weir names it, and its stderr is the trace.
    project.write(
        "functions/crash.yaml",
        "command: \"echo first line >&2; echo second line >&2; exit 3\"\n",
    );
    // Reports its own error the way Lambda runtimes do: that object is the Cause.
    project.write(
        "functions/refuse.yaml",
        "command: [python3, -c, \"import json,sys; print(json.dumps({'errorType': 'ValueError', 'errorMessage': 'amount must be positive', 'stackTrace': ['  File x.py, line 1']})); sys.exit(1)\"]\n",
    );
    project.write(
        "machines/parse.asl.yaml",
        r#"
StartAt: Crash
States:
  Crash:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:000000000000:function:crash
    Catch:
      - ErrorEquals: [States.ALL]
        ResultPath: $.crash
        Next: Refuse
    End: true
  Refuse:
    Type: Task
    Resource: arn:aws:states:::lambda:invoke
    Parameters:
      FunctionName: refuse
    Catch:
      - ErrorEquals: [ValueError]
        ResultPath: $.refuse
        Next: Parse
    End: true
  Parse:
    Type: Pass
    Parameters:
      crash.$: States.StringToJson($.crash.Cause)
      crash_error.$: $.crash.Error
      refuse.$: States.StringToJson($.refuse.Cause)
      refuse_error.$: $.refuse.Error
    End: true
"#,
    );
    let server = Server::start(project.path());
    let run = server.cli(&["machines", "start", "parse", "--wait", "--json"]);
    let done: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    assert_eq!(
        done["status"],
        "SUCCEEDED",
        "{done}\n{}\n{}",
        stderr(&run),
        server.log_text()
    );
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();

    let crash = &output["crash"];
    assert_eq!(output["crash_error"], "Function.Failed", "{output}");
    assert_eq!(crash["errorType"], "Function.Failed", "{output}");
    assert_eq!(crash["errorMessage"], "exit status 3", "{output}");
    assert_eq!(
        crash["trace"],
        serde_json::json!(["first line", "second line", "exit status 3"]),
        "{output}"
    );

    assert_eq!(output["refuse_error"], "ValueError", "{output}");
    assert_eq!(
        output["refuse"],
        serde_json::json!({
            "errorType": "ValueError",
            "errorMessage": "amount must be positive",
            "stackTrace": ["  File x.py, line 1"],
        }),
        "{output}"
    );
}
