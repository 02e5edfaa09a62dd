//! Authentication, roles, grants, CSRF and the audit log through the real binary: every route the
//! router serves (read from its own table) refuses an anonymous caller and one whose role is too
//! small; a cross-site form post is refused; boto3 with a wrong secret gets AWS's error.

use std::process::Command;

use serde_json::Value;
use weir_model::access::Role;
use weir_server::auth::{Dialect, Need};

use crate::support::*;

pub(crate) fn project() -> Project {
    let project = Project::new();
    project.pipeline("etl_daily", "tasks:\n  a:\n    command: echo etl\n");
    project.pipeline("ml_train", "tasks:\n  a:\n    command: echo ml\n");
    project
}

/// A new credential's token, access key id and secret.
pub(crate) fn create(server: &Server, role: &str, name: &str, extra: &[&str]) -> Value {
    let mut args = vec!["tokens", "create", "--role", role, "--name", name];
    args.extend_from_slice(extra);
    server.json(&args)
}

/// A credential narrowed to the pipelines `etl_*`, the tables `sales.*` and the prefix `raw/a/`.
pub(crate) fn narrowed(server: &Server, role: &str, name: &str) -> Value {
    let grants = [
        "--pipelines",
        "etl_*",
        "--tables",
        "sales.*",
        "--prefixes",
        "raw/a/",
    ];
    create(server, role, name, &grants)
}

/// The audit log once `holds` is true of its entries, or as it is after 10 seconds: an entry is
/// queued before its call is answered and committed with the next batch, just after.
pub(crate) fn audit_when(server: &Server, holds: impl Fn(&[Value]) -> bool) -> Value {
    let read = || server.json(&["audit"]);
    let entries = |audit: &Value| audit["entries"].as_array().cloned().unwrap_or_default();
    eventually(std::time::Duration::from_secs(10), || {
        holds(&entries(&read()))
    });
    read()
}

pub(crate) fn with_token(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let bearer = format!("Bearer {token}");
    http_with(
        method,
        &format!("{}{path}", server.url),
        Some(body),
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
    )
    .expect("server answers")
}

/// The route's path with every parameter filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether an answer is a refusal in the route's dialect: `unauthenticated` (no credential) or a
/// role or grant that does not allow it.
fn refused(dialect: Dialect, anonymous: bool, status: u16, body: &str) -> bool {
    match (dialect, anonymous) {
        (Dialect::Rest, true) => status == 401 && body.contains("unauthenticated"),
        (Dialect::Rest, false) => status == 403 && body.contains("forbidden"),
        (Dialect::Browser, true) => status == 303,
        (Dialect::Browser, false) => status == 403,
        (Dialect::AwsJson | Dialect::AwsRest, true) => {
            body.contains("MissingAuthenticationTokenException")
                && matches!(
                    (dialect, status),
                    (Dialect::AwsJson, 400) | (Dialect::AwsRest, 403)
                )
        }
        (Dialect::AwsJson | Dialect::AwsRest, false) => body.contains("AccessDeniedException"),
    }
}

#[test]
fn every_route_refuses_an_anonymous_caller_and_too_small_a_role() {
    let project = project();
    let server = Server::start(project.path());
    let viewer = create(&server, "viewer", "v", &[]);
    let operator = create(&server, "operator", "o", &[]);
    let token_of = |role: Role| match role {
        Role::Viewer => viewer["token"].as_str().unwrap().to_string(),
        Role::Operator => operator["token"].as_str().unwrap().to_string(),
        Role::Admin => server.token(),
    };
    let rules = weir_server::routes().rules().to_vec();
    assert!(
        rules.len() > 40,
        "the router's table lists {} rules",
        rules.len()
    );
    let mut checked = 0;
    for rule in &rules {
        let path = concrete(rule.path);
        let needed = match rule.need {
            Need::Open => {
                // The dashboard's stylesheet and script hold no data, and the sign-in page
                // needs them before anyone has signed in.
                assert!(
                    matches!(rule.path, "/healthz" | "/login" | "/ui/assets/{file}"),
                    "{} {} is open to anyone",
                    rule.method,
                    rule.path
                );
                continue;
            }
            Need::Role(role) => Some(role),
            Need::Metrics | Need::Operation => None,
        };
        let headers: &[(&str, &str)] = &[("Content-Type", "application/json")];
        let (status, body) = http_with(
            rule.method.as_str(),
            &format!("{}{path}", server.url),
            Some("{}"),
            headers,
        )
        .expect("answer");
        assert!(
            refused(rule.dialect, true, status, &body),
            "anonymous {} {path} was not refused: {status} {body}",
            rule.method
        );
        if let Some(below) = needed.and_then(Role::below) {
            let (status, body) =
                with_token(&server, &token_of(below), rule.method.as_str(), &path, "{}");
            assert!(
                refused(rule.dialect, false, status, &body),
                "{below} {} {path} was not refused: {status} {body}",
                rule.method
            );
        }
        checked += 1;
    }
    // Every AWS operation: anonymous, and with the role just below the one it needs.
    for (target, needed) in weir_server::aws_operations() {
        let call = |token: Option<&str>| {
            let bearer = token.map(|t| format!("Bearer {t}"));
            let mut headers = vec![
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", target.as_str()),
            ];
            if let Some(bearer) = &bearer {
                headers.push(("Authorization", bearer));
            }
            http_with("POST", &format!("{}/", server.url), Some("{}"), &headers).expect("answer")
        };
        let (status, body) = call(None);
        assert!(
            refused(Dialect::AwsJson, true, status, &body),
            "anonymous {target}: {status} {body}"
        );
        if let Some(below) = needed.below() {
            let (status, body) = call(Some(&token_of(below)));
            assert!(
                refused(Dialect::AwsJson, false, status, &body),
                "{below} {target}: {status} {body}"
            );
        }
        checked += 1;
    }
    assert!(checked > 50);
    // What stays open.
    assert_eq!(
        http("GET", &format!("{}/healthz", server.url), None)
            .unwrap()
            .0,
        200
    );
}

/// Signs in through the link the server prints, returning the session cookie.
pub(crate) fn sign_in(server: &Server, token: &str) -> String {
    let (status, headers, _) = http_full(
        "GET",
        &format!("{}/login?token={token}&next=/runs", server.url),
        None,
        &[],
    )
    .expect("answer");
    assert_eq!(status, 303);
    let location = headers.iter().find(|(k, _)| k == "location").unwrap();
    assert_eq!(location.1, "/runs");
    let cookie = &headers.iter().find(|(k, _)| k == "set-cookie").unwrap().1;
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

#[test]
fn a_cross_site_form_post_is_refused_and_the_session_works_from_weirs_own_pages() {
    let project = project();
    let server = Server::start(project.path());
    // The sign-in link carries the admin token for a person at a terminal only: the test's
    // server writes to a log file, which gets where the token is instead.
    let log = server.log_text();
    assert!(
        log.contains("/login with the admin token in") && log.contains("admin-token"),
        "{log}"
    );
    assert!(!log.contains(&server.token()), "{log}");
    let operator = create(&server, "operator", "web", &[]);
    let cookie = sign_in(&server, operator["token"].as_str().unwrap());
    let trigger = format!("{}/api/v1/pipelines/etl_daily/runs", server.url);
    // What a page on another site makes the browser send: a text/plain form post with the cookie.
    let forged = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "text/plain"),
        ("Origin", "http://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ];
    let (status, body) = http_with("POST", &trigger, Some("x=1"), &forged).unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("cross-site"), "{body}");
    // An older browser that sends neither header: no JSON body, no CSRF token, refused.
    let plain = [("Cookie", cookie.as_str()), ("Content-Type", "text/plain")];
    let (status, body) = http_with("POST", &trigger, Some("x=1"), &plain).unwrap();
    assert_eq!(status, 403, "{body}");
    // Without the cookie it is not even a caller.
    let (status, _) = http_with("POST", &trigger, Some("x=1"), &forged[1..]).unwrap();
    assert_eq!(status, 401);
    let runs_before = server.get_json("/api/v1/runs")["runs"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(runs_before, 0, "a refused post triggered a run");

    // From weir's own pages: same origin, JSON, and the session's CSRF token works too.
    let host = server.url.trim_start_matches("http://").to_string();
    let origin = server.url.clone();
    let own = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/json"),
        ("Origin", origin.as_str()),
        ("Host", host.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let (status, body) = http_with("POST", &trigger, Some("{}"), &own).unwrap();
    assert_eq!(status, 201, "{body}");
    let (_, session) = http_with(
        "GET",
        &format!("{}/api/v1/session", server.url),
        None,
        &[("Cookie", cookie.as_str())],
    )
    .unwrap();
    let session: Value = serde_json::from_str(&session).unwrap();
    assert_eq!(session["name"], "web");
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    let with_csrf = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "text/plain"),
        ("X-CSRF-Token", csrf.as_str()),
    ];
    let (status, body) = http_with("POST", &trigger, Some(""), &with_csrf).unwrap();
    assert!(status == 201 || status == 400, "{status} {body}");
    assert!(!body.contains("cross-site") && status != 403, "{body}");
    // A viewer's session may look but not trigger.
    let viewer = create(&server, "viewer", "looker", &[]);
    let viewer_cookie = sign_in(&server, viewer["token"].as_str().unwrap());
    let (status, _) = http_with(
        "POST",
        &trigger,
        Some("{}"),
        &[
            ("Cookie", viewer_cookie.as_str()),
            ("Content-Type", "application/json"),
        ],
    )
    .unwrap();
    assert_eq!(status, 403);
    // A bad token at the sign-in page sets nothing.
    let (status, headers, _) = http_full(
        "GET",
        &format!("{}/login?token=weir_nope", server.url),
        None,
        &[],
    )
    .unwrap();
    assert_eq!(status, 401);
    assert!(!headers.iter().any(|(k, _)| k == "set-cookie"));
}

#[test]
fn with_authentication_off_a_cross_site_form_post_is_still_refused() {
    let project = project();
    let server = Server::start_with(project.path(), &[("WEIR_AUTH_ENABLED", "false")]);
    assert!(server.log_text().contains("authentication is OFF"));
    let trigger = format!("{}/api/v1/pipelines/etl_daily/runs", server.url);
    let forged = [
        ("Content-Type", "text/plain"),
        ("Sec-Fetch-Site", "cross-site"),
    ];
    let (status, body) = http_with("POST", &trigger, Some("x=1"), &forged).unwrap();
    assert_eq!(status, 403, "{body}");
    let (status, body) = http_with(
        "POST",
        &trigger,
        Some("x=1"),
        &[("Content-Type", "text/plain")],
    )
    .unwrap();
    assert_eq!(status, 403, "{body}");
    let (status, body) = http("POST", &trigger, Some("{}")).unwrap();
    assert_eq!(status, 201, "{body}");
}

#[test]
fn aws_clients_need_a_valid_signature_and_get_aws_errors() {
    let project = project();
    let server = Server::start(project.path());
    let operator = create(&server, "operator", "boto", &[]);
    let revoked = create(&server, "operator", "old", &[]);
    assert!(server.cli(&["tokens", "revoke", "old"]).status.success());
    let script = r#"
import sys, boto3, botocore
url, key, secret, old_key, old_secret = sys.argv[1:6]
def client(k, s):
    return boto3.client('stepfunctions', endpoint_url=url, region_name='us-east-1',
                        aws_access_key_id=k, aws_secret_access_key=s)
assert client(key, secret).list_state_machines()['stateMachines'] == []
def code(k, s):
    try:
        client(k, s).list_state_machines()
    except botocore.exceptions.ClientError as e:
        return e.response['Error']['Code'], e.response['Error']['Message']
    raise AssertionError('accepted')
c, m = code(key, 'wrong' + secret[5:])
assert c == 'InvalidSignatureException', (c, m)
assert m.startswith('The request signature we calculated does not match the signature you provided.'), m
c, m = code('AKIAUNKNOWNUNKNOWN00', secret)
assert (c, m) == ('UnrecognizedClientException', 'The security token included in the request is invalid.'), (c, m)
c, m = code(old_key, old_secret)
assert c == 'UnrecognizedClientException', (c, m)
wrong_region = boto3.client('stepfunctions', endpoint_url=url, region_name='eu-west-1',
                            aws_access_key_id=key, aws_secret_access_key=secret)
try:
    wrong_region.list_state_machines()
    raise AssertionError('another region was accepted')
except botocore.exceptions.ClientError as e:
    assert 'Credential should be scoped to a valid region' in e.response['Error']['Message'], e.response
# An operator may not create state machines (they run commands): AWS's AccessDeniedException.
try:
    client(key, secret).create_state_machine(name='m', roleArn='arn:aws:iam::1:role/r',
        definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')
    raise AssertionError('an operator created a machine')
except botocore.exceptions.ClientError as e:
    assert e.response['Error']['Code'] == 'AccessDeniedException', e.response
print('ok')
"#;
    let output = Command::new("python3")
        .args([
            "-c",
            script,
            &server.url,
            operator["access_key_id"].as_str().unwrap(),
            operator["secret_access_key"].as_str().unwrap(),
            revoked["access_key_id"].as_str().unwrap(),
            revoked["secret_access_key"].as_str().unwrap(),
        ])
        .output()
        .expect("python3 with boto3");
    assert!(
        output.status.success() && stdout(&output).trim().ends_with("ok"),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    // Every refusal is in the audit log, with the credential when one was recognised.
    let revoked_by_admin = |e: &Value| {
        e["action"] == "DELETE /api/v1/tokens/{name}"
            && e["credential"] == "admin"
            && e["outcome"] == "ok"
    };
    let denied_to_boto = |e: &Value| {
        e["outcome"] == "denied"
            && e["credential"] == "boto"
            && e["action"] == "AWSStepFunctions.CreateStateMachine"
    };
    let audit = audit_when(&server, |entries| entries.iter().any(denied_to_boto));
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["outcome"] == "unauthenticated"
        && e["detail"].as_str().unwrap_or("").contains("signature")));
    assert!(entries.iter().any(denied_to_boto), "{audit}");
    assert!(entries.iter().any(revoked_by_admin), "{audit}");
}

#[test]
fn grants_narrow_pipelines_tables_and_lake_prefixes() {
    let project = project();
    let server = Server::start(project.path());
    let narrow = narrowed(&server, "operator", "etl");
    let token = narrow["token"].as_str().unwrap();
    let as_etl = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("WEIR_SERVER", &server.url)
            .env("WEIR_TOKEN", token)
            .output()
            .unwrap()
    };
    let listed = as_etl(&["pipelines", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<&str> = listed["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["etl_daily"]);
    assert!(
        as_etl(&["pipelines", "trigger", "etl_daily", "--wait"])
            .status
            .success()
    );
    let refused = as_etl(&["pipelines", "trigger", "ml_train"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("not granted pipeline `ml_train`"),
        "{}",
        stderr(&refused)
    );

    // Tables: an admin makes two; the narrowed credential reads one and is refused the other.
    project.write("orders.csv", "id,total\n1,10\n2,20\n");
    let orders = project.path().join("orders.csv");
    for (db, key) in [
        ("sales", "raw/a/orders/orders.csv"),
        ("hr", "raw/b/pay/pay.csv"),
    ] {
        assert!(
            server
                .cli(&["lake", "put", orders.to_str().unwrap(), key])
                .status
                .success()
        );
        // Each folder under the crawled prefix becomes a table.
        let prefix = &key[..6];
        let crawl = server.cli(&["crawl", prefix, "--database", db]);
        assert!(crawl.status.success(), "{}", stderr(&crawl));
    }
    let read = as_etl(&["sql", "SELECT sum(total) AS t FROM sales.orders", "--json"]);
    assert!(read.status.success(), "{}", stderr(&read));
    let other = as_etl(&["sql", "SELECT * FROM hr.pay"]);
    assert!(
        stderr(&other).contains("not granted table `hr.pay`"),
        "{}",
        stderr(&other)
    );
    let joined = as_etl(&[
        "sql",
        "WITH x AS (SELECT * FROM hr.pay) SELECT * FROM sales.orders, x",
    ]);
    assert!(stderr(&joined).contains("hr.pay"), "{}", stderr(&joined));
    let write = as_etl(&[
        "sql",
        "CREATE TABLE sales.copy AS SELECT * FROM sales.orders",
    ]);
    assert!(
        stderr(&write).contains("needs role admin"),
        "{}",
        stderr(&write)
    );
    let tables = as_etl(&["catalog", "list", "--json"]);
    let tables = String::from_utf8_lossy(&tables.stdout).to_string();
    assert!(
        tables.contains("orders") && !tables.contains("\"pay\""),
        "{tables}"
    );

    // Lake prefixes.
    assert!(as_etl(&["lake", "ls", "raw/a/"]).status.success());
    let outside = as_etl(&["lake", "get", "raw/b/pay/pay.csv", "-"]);
    assert!(
        stderr(&outside).contains("not granted lake key"),
        "{}",
        stderr(&outside)
    );
    let listing = as_etl(&["lake", "ls", "raw/", "--json"]);
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(
        listing.contains("raw/a/") && !listing.contains("raw/b/"),
        "{listing}"
    );
}

#[test]
fn credentials_are_listed_without_secrets_revoked_and_expire() {
    use std::os::unix::fs::PermissionsExt;
    let project = project();
    let server = Server::start(project.path());
    let mode = std::fs::metadata(server.data.join("admin-token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // In the project, the CLI finds the admin token with no setting at all.
    let local = Command::new(BIN)
        .args(["pipelines", "list"])
        .current_dir(project.path())
        .env("WEIR_SERVER", &server.url)
        .env_remove("WEIR_TOKEN")
        .output()
        .unwrap();
    assert!(local.status.success(), "{}", stderr(&local));
    // Elsewhere, a clear refusal that says what to do.
    let elsewhere = Command::new(BIN)
        .args(["pipelines", "list"])
        .current_dir(std::env::temp_dir())
        .env("WEIR_SERVER", &server.url)
        .env_remove("WEIR_TOKEN")
        .output()
        .unwrap();
    assert!(!elsewhere.status.success());
    assert!(
        stderr(&elsewhere).contains("WEIR_TOKEN"),
        "{}",
        stderr(&elsewhere)
    );

    let ci = create(&server, "operator", "ci", &["--expires", "2s"]);
    let token = ci["token"].as_str().unwrap().to_string();
    let listed = server.json(&["tokens", "list"]).to_string();
    assert!(listed.contains("\"ci\"") && !listed.contains(&token));
    assert!(!listed.contains(ci["secret_access_key"].as_str().unwrap()));
    let (status, _) = with_token(&server, &token, "GET", "/api/v1/pipelines", "");
    assert_eq!(status, 200);
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let (status, body) = with_token(&server, &token, "GET", "/api/v1/pipelines", "");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("expired"), "{body}");
    let other = create(&server, "viewer", "temp", &[]);
    let other_token = other["token"].as_str().unwrap();
    assert!(server.cli(&["tokens", "revoke", "temp"]).status.success());
    let (status, body) = with_token(&server, other_token, "GET", "/api/v1/pipelines", "");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    // Malformed headers: a clear 401, never a crash.
    for header in [
        "Bearer",
        "Basic abc",
        &format!("Bearer {}", "x".repeat(10_000)),
    ] {
        let (status, body) = http_with(
            "GET",
            &format!("{}/api/v1/pipelines", server.url),
            None,
            &[("Authorization", header)],
        )
        .unwrap();
        assert_eq!(status, 401, "{header:.20}: {body}");
    }
}

#[test]
fn metrics_need_a_credential_unless_made_public() {
    let project = project();
    let closed = Server::start(project.path());
    let url = format!("{}/metrics", closed.url);
    assert_eq!(http("GET", &url, None).unwrap().0, 401);
    assert_eq!(closed.get("/metrics").0, 200);
    drop(closed);
    let other = Project::new();
    let open = Server::start_with(other.path(), &[("WEIR_AUTH_PUBLIC_METRICS", "true")]);
    let url = format!("{}/metrics", open.url);
    assert_eq!(http("GET", &url, None).unwrap().0, 200);
    // Only the metrics: the rest still needs a credential.
    let url = format!("{}/api/v1/pipelines", open.url);
    assert_eq!(http("GET", &url, None).unwrap().0, 401);
}

/// Audit entries wait a moment to be committed together (`access/audit.rs`): a call made just
/// before the server is stopped is still in the log when it starts again.
#[test]
fn a_call_just_before_a_stop_is_in_the_audit_log_after_it() {
    let project = project();
    let mut server = Server::start(project.path());
    let (status, body) = server.post("/api/v1/pipelines/etl_daily/pause", "{}");
    assert_eq!(status, 200, "{body}");
    let (_, stopped_cleanly) = server.terminate(std::time::Duration::from_secs(30));
    assert!(stopped_cleanly);
    server.start_again();
    let audit = server.json(&["audit"]);
    let entries = audit["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "POST /api/v1/pipelines/{name}/pause"
                && e["target"] == "/api/v1/pipelines/etl_daily/pause"
                && e["outcome"] == "ok"),
        "{audit:#}"
    );
}
