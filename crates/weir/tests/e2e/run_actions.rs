//! Marking a whole run, and one action on many runs (the grid's bulk actions), through the real
//! binary: each run answers for itself, is checked against the credential's grants as its own
//! route would check it, and is audited.

use serde_json::{Value, json};

use crate::security::{audit_when, narrowed, with_token};
use crate::support::*;

const FAILS: &str = "tasks:\n  broken:\n    command: exit 3\n  after:\n    depends_on: [broken]\n    command: 'true'\n";
const SLOW: &str = "tasks:\n  slow:\n    command: sleep 60\n";

fn project() -> Project {
    let project = Project::new();
    project.pipeline("etl_fails", FAILS);
    project.pipeline("etl_slow", SLOW);
    project.pipeline("ml_fails", FAILS);
    project
}

fn trigger(server: &Server, pipeline: &str) -> String {
    let (status, body) = server.post(&format!("/api/v1/pipelines/{pipeline}/runs"), "{}");
    assert_eq!(status, 201, "{body}");
    let run: Value = serde_json::from_str(&body).expect("JSON");
    run["run_id"].as_str().expect("run id").to_string()
}

fn ended(server: &Server, pipeline: &str) -> String {
    let run_id = trigger(server, pipeline);
    server.wait_run(&run_id);
    run_id
}

fn bulk(server: &Server, body: Value) -> (u16, Value) {
    let (status, text) = server.post("/api/v1/runs/bulk", &body.to_string());
    (status, serde_json::from_str(&text).expect("JSON answer"))
}

fn message(answer: &Value) -> String {
    answer["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_whole_run_is_marked_success_or_failed() {
    let project = project();
    let server = Server::start(project.path());
    let failed = ended(&server, "etl_fails");
    assert_eq!(server.run(&failed)["state"], "failed");

    let (status, body) = server.post(
        &format!("/api/v1/runs/{failed}/mark"),
        r#"{"state": "success"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let marked: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(marked["state"], "success");
    let run = server.run(&failed);
    assert_eq!(run["state"], "success");
    assert_eq!(
        task_states(&run).into_values().collect::<Vec<_>>(),
        ["success", "success"]
    );
    // The audit trail of the run says it was done by hand.
    let events = server.get_json(&format!("/api/v1/runs/{failed}/events"));
    assert!(
        events["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["message"] == "marked success by hand"),
        "{events}"
    );

    // A running run marked failed: its attempt is stopped and it ends at once.
    let running = trigger(&server, "etl_slow");
    assert!(eventually(std::time::Duration::from_secs(20), || {
        server
            .attempts(&running, "slow")
            .iter()
            .any(|a| !a["pid"].is_null())
    }));
    let (status, body) = server.post(
        &format!("/api/v1/runs/{running}/mark"),
        r#"{"state": "failed"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.run(&running)["state"], "failed");
    assert!(
        eventually(std::time::Duration::from_secs(15), || {
            server
                .attempts(&running, "slow")
                .iter()
                .all(|a| !a["ended_at"].is_null())
        }),
        "the `sleep 60` was not stopped"
    );

    // Bad requests name the field and the rule, and change nothing.
    for (body, expected) in [
        (
            r#"{"state": "skipped"}"#,
            "`state` must be `success` or `failed`",
        ),
        (r#"{"state": "success", "map_index": 1}"#, "unknown field"),
        (r#"{}"#, "missing field `state`"),
    ] {
        let (status, text) = server.post(&format!("/api/v1/runs/{failed}/mark"), body);
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(expected), "{body}: {text}");
    }
    assert_eq!(server.run(&failed)["state"], "success");
    let (status, text) = server.post("/api/v1/runs/absent/mark", r#"{"state": "failed"}"#);
    assert_eq!(status, 404, "{text}");
}

#[test]
fn bulk_actions_answer_for_each_run() {
    let project = project();
    let server = Server::start(project.path());
    let failed = [ended(&server, "etl_fails"), ended(&server, "etl_fails")];
    let running = trigger(&server, "etl_slow");

    // Retry: the failed runs start again; an unknown run answers for itself.
    let (status, answer) = bulk(
        &server,
        json!({"action": "retry", "runs": [failed[0], "absent", failed[1]]}),
    );
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["run"], failed[0].as_str());
    assert_eq!(results[0]["ok"], true, "{answer}");
    assert!(
        matches!(results[0]["state"].as_str(), Some("queued" | "running")),
        "{answer}"
    );
    assert_eq!(results[1]["run"], "absent");
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["error"]["code"], "not_found");
    assert_eq!(results[2]["ok"], true, "{answer}");
    for run_id in &failed {
        assert_eq!(server.wait_run(run_id)["state"], "failed");
    }

    // Mark success, then mark failed: a run already ended is amended.
    let (_, answer) = bulk(
        &server,
        json!({"action": "mark_success", "runs": [failed[0], failed[1]]}),
    );
    assert!(
        answer["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["ok"] == true && r["state"] == "success"),
        "{answer}"
    );
    for run_id in &failed {
        assert_eq!(server.run(run_id)["state"], "success");
    }
    // Retrying a run with nothing to rerun is that run's conflict, not the call's.
    let (_, answer) = bulk(&server, json!({"action": "retry", "runs": [failed[0]]}));
    assert_eq!(
        answer["results"][0]["error"]["code"], "conflict",
        "{answer}"
    );

    // Cancel: the running run ends cancelled; an ended one cannot be cancelled.
    let (_, answer) = bulk(
        &server,
        json!({"action": "cancel", "runs": [running, failed[1]]}),
    );
    assert_eq!(answer["results"][0]["ok"], true, "{answer}");
    assert_eq!(answer["results"][0]["state"], "cancelled");
    assert_eq!(
        answer["results"][1]["error"]["code"], "conflict",
        "{answer}"
    );
    assert_eq!(server.run(&running)["state"], "cancelled");

    // The call itself is refused when the request is wrong, naming the field and the rule.
    let many: Vec<String> = (0..1_001).map(|i| format!("r{i}")).collect();
    for (body, expected) in [
        (
            json!({"action": "retry", "runs": []}),
            "`runs` must name 1 to 1000 runs, got 0",
        ),
        (
            json!({"action": "retry", "runs": many}),
            "`runs` must name 1 to 1000 runs, got 1001",
        ),
        (
            json!({"action": "rerun", "runs": ["a"]}),
            "`action` must be one of retry, cancel, mark_success, mark_failed",
        ),
        (json!({"action": "retry"}), "missing field `runs`"),
        (
            json!({"action": "retry", "runs": ["a"], "all": true}),
            "unknown field `all`",
        ),
    ] {
        let (status, answer) = bulk(&server, body.clone());
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(message(&answer).contains(expected), "{body}: {answer}");
    }
}

#[test]
fn bulk_actions_check_each_run_against_the_grants_and_audit_each() {
    let project = project();
    let server = Server::start(project.path());
    let etl = ended(&server, "etl_fails");
    let ml = ended(&server, "ml_fails");
    let operator = narrowed(&server, "operator", "etl");
    let token = operator["token"].as_str().expect("token");

    let body = json!({"action": "mark_success", "runs": [etl, ml, "absent"]}).to_string();
    let (status, text) = with_token(&server, token, "POST", "/api/v1/runs/bulk", &body);
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results[0]["ok"], true, "{answer}");
    // Another pipeline's run, and a run that does not exist, are refused alike: the answer does
    // not tell which runs exist.
    assert_eq!(results[1]["error"]["code"], "forbidden", "{answer}");
    assert!(
        message(&results[1]).contains("no run it may see")
            && !message(&results[1]).contains("pipeline `ml_fails`"),
        "{answer}"
    );
    assert_eq!(results[2]["error"]["code"], "forbidden", "{answer}");
    assert!(
        message(&results[2]).contains("no run it may see"),
        "{answer}"
    );
    assert_eq!(
        server.run(&ml)["state"],
        "failed",
        "a refused run is untouched"
    );
    assert_eq!(server.run(&etl)["state"], "success");
    // The single route refuses the same run with the same words.
    let (status, text) = with_token(
        &server,
        token,
        "POST",
        &format!("/api/v1/runs/{ml}/mark"),
        r#"{"state": "success"}"#,
    );
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("no run it may see"), "{text}");

    // Each run is in the audit log as its own route's call, and the bulk call with its tally.
    let audit = audit_when(&server, |entries| {
        entries
            .iter()
            .any(|e| e["action"] == "POST /api/v1/runs/bulk")
            && entries
                .iter()
                .filter(|e| e["action"] == "POST /api/v1/runs/{run_id}/mark")
                .count()
                >= 4
    });
    let entries = audit["entries"].as_array().expect("entries");
    let item = |target: String, outcome: &str| {
        entries.iter().any(|e| {
            e["action"] == "POST /api/v1/runs/{run_id}/mark"
                && e["target"] == target.as_str()
                && e["outcome"] == outcome
                && e["credential"] == "etl"
        })
    };
    assert!(item(format!("/api/v1/runs/{etl}/mark"), "ok"), "{audit}");
    assert!(item(format!("/api/v1/runs/{ml}/mark"), "denied"), "{audit}");
    assert!(
        item("/api/v1/runs/absent/mark".to_string(), "denied"),
        "{audit}"
    );
    let call = entries
        .iter()
        .find(|e| e["action"] == "POST /api/v1/runs/bulk")
        .expect("the bulk call");
    assert_eq!(
        call["detail"], "mark_success of 3 runs: 1 done, 2 refused or failed",
        "{audit}"
    );
}
