//! The audit log says why: a refusal by a handler (a grant), by a route (a role), a failed call,
//! and sign-ins at the browser, each with the credential it concerned and never its token.

use serde_json::Value;

use crate::security::{audit_when, narrowed, project, sign_in, with_token};
use crate::support::*;

#[test]
fn the_audit_log_says_why_calls_were_refused_or_failed_and_who_signed_in() {
    let project = project();
    let server = Server::start(project.path());
    let etl = narrowed(&server, "viewer", "etl");
    let token = etl["token"].as_str().unwrap();
    let (status, _) = with_token(
        &server,
        token,
        "POST",
        "/api/v1/sql",
        r#"{"query": "SELECT * FROM hr.pay"}"#,
    );
    assert_eq!(status, 403);
    let (status, _) = with_token(
        &server,
        token,
        "POST",
        "/api/v1/pipelines/etl_daily/runs",
        "{}",
    );
    assert_eq!(status, 403);
    assert_eq!(server.post("/api/v1/pipelines/nope/runs", "{}").0, 404);
    sign_in(&server, token);
    let (status, _) = http(
        "GET",
        &format!("{}/login?token=weir_wrong", server.url),
        None,
    )
    .unwrap();
    assert_eq!(status, 401);

    // The last call's entry is committed after the others.
    let audit = audit_when(&server, |entries| {
        entries
            .iter()
            .any(|e| e["action"] == "GET /login" && e["outcome"] == "unauthenticated")
    });
    let entries = audit["entries"].as_array().unwrap();
    let find = |action: &str, outcome: &str| -> &Value {
        entries
            .iter()
            .find(|e| e["action"] == action && e["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {outcome} {action} in {audit}"))
    };
    let detail = |entry: &Value| entry["detail"].as_str().unwrap_or_default().to_string();
    let sql = find("POST /api/v1/sql", "denied");
    assert_eq!(sql["credential"], "etl");
    assert!(detail(sql).contains("not granted table `hr.pay`"), "{sql}");
    let role = find("POST /api/v1/pipelines/{name}/runs", "denied");
    assert!(detail(role).contains("needs operator"), "{role}");
    let failed = find("POST /api/v1/pipelines/{name}/runs", "failed");
    assert_eq!(failed["credential"], "admin");
    assert!(detail(failed).contains("nope"), "{failed}");
    let signed_in = find("GET /login", "ok");
    assert_eq!(signed_in["credential"], "etl");
    assert_eq!(signed_in["role"], "viewer");
    let refused = find("GET /login", "unauthenticated");
    assert!(detail(refused).contains("unknown credential"), "{refused}");
    assert!(!audit.to_string().contains(token), "{audit}");
}

#[test]
fn a_flood_of_anonymous_refusals_is_recorded_up_to_a_share_per_source() {
    let project = project();
    let server = Server::start(project.path());
    let url = format!("{}/api/v1/pipelines", server.url);
    for _ in 0..150 {
        let (status, _) = http_with("GET", &url, None, &[("Authorization", "Bearer weir_guess")])
            .expect("answer");
        assert_eq!(status, 401);
    }
    // An admin's call after the flood: once it is in the log, everything before it is.
    let marker = server.cli(&["tokens", "create", "--role", "viewer", "--name", "after"]);
    assert!(marker.status.success(), "{}", stderr(&marker));
    let audit = audit_when(&server, |entries| {
        entries.iter().any(|e| e["action"] == "POST /api/v1/tokens")
    });
    let anonymous = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "unauthenticated")
        .count();
    assert_eq!(anonymous, 60, "{audit}");
}
