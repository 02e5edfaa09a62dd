//! The dashboard's state machine pages through the real binary: the list, a machine's
//! executions with filters, an execution's states, Map iterations, Parallel branches and
//! history; who sees which buttons, grants and escaping.

use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::{Browser, WAIT};
use crate::security::{create, with_token};
use crate::support::*;

const ARN: &str = "arn:aws:states:us-east-1:000000000000";

/// Orders: a Choice that goes to a Fail state for a rejected order.
const ORDERS: &str = r#"{"StartAt": "Check", "States": {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Ship"}], "Default": "Reject"},
    "Ship": {"Type": "Pass", "End": true},
    "Reject": {"Type": "Fail", "Error": "OrderRejected", "Cause": "no stock for <b>widgets</b>"}}}"#;

/// A Map over `items` whose iterations fail for odd numbers (tolerated), then a Parallel of two
/// branches.
const MAPPER: &str = r#"{"StartAt": "Each", "States": {
    "Each": {"Type": "Map", "ItemsPath": "$.items", "ToleratedFailurePercentage": 100, "ResultPath": null,
      "ItemProcessor": {"StartAt": "Odd?", "States": {
        "Odd?": {"Type": "Choice", "Choices": [{"Variable": "$.odd", "BooleanEquals": true, "Next": "Boom"}], "Default": "Keep"},
        "Keep": {"Type": "Pass", "End": true},
        "Boom": {"Type": "Fail", "Error": "OddItem", "Cause": "odd"}}},
      "Next": "Both"},
    "Both": {"Type": "Parallel", "End": true, "Branches": [
      {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": true}}},
      {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "Next": "Right again"}, "Right again": {"Type": "Pass", "End": true}}}]}}}"#;

/// Waits a minute: an execution that stays RUNNING; its one state's name is markup.
const SLOW: &str = r#"{"StartAt": "<script>alert(1)</script>", "States": {
    "<script>alert(1)</script>": {"Type": "Wait", "Seconds": 60, "End": true}}}"#;

fn project() -> Project {
    let project = Project::new();
    project.write("machines/orders.asl.json", ORDERS);
    project.write("machines/mapper.asl.json", MAPPER);
    project.write("machines/slow.asl.json", SLOW);
    project
}

/// Starts an execution and waits until it is no longer RUNNING (unless `wait` is false).
fn start(server: &Server, machine: &str, name: &str, input: &Value, wait: bool) -> Value {
    let (status, started) = server.aws(
        "AWSStepFunctions.StartExecution",
        &json!({"stateMachineArn": format!("{ARN}:stateMachine:{machine}"), "name": name,
                "input": input.to_string()})
        .to_string(),
    );
    assert_eq!(status, 200, "{started}");
    let arn = started["executionArn"].as_str().unwrap().to_string();
    let describe = || {
        server
            .aws(
                "AWSStepFunctions.DescribeExecution",
                &json!({"executionArn": arn}).to_string(),
            )
            .1
    };
    if wait {
        assert!(
            eventually(Duration::from_secs(20), || describe()["status"]
                != "RUNNING"),
            "{}",
            describe()
        );
    }
    describe()
}

/// A page as the admin: its status and HTML.
fn page(server: &Server, path: &str) -> (u16, String) {
    server.get(path)
}

fn ok_page(server: &Server, path: &str) -> String {
    let (status, html) = page(server, path);
    assert_eq!(status, 200, "GET {path}: {html}");
    html
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The rows of a table whose `tr` carry `data-ATTR="…"`: those values in order.
fn attrs(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .collect()
}

#[test]
fn the_executions_of_a_machine_filter_by_status_and_name() {
    let project = project();
    let server = Server::start(project.path());
    for (name, ok) in [
        ("good-1", true),
        ("bad-1", false),
        ("good-2", true),
        ("bad-2", false),
    ] {
        start(&server, "orders", name, &json!({"ok": ok}), true);
    }
    let all = ok_page(&server, "/ui/machines/orders");
    assert_eq!(
        attrs(&all, "data-execution"),
        ["bad-2", "good-2", "bad-1", "good-1"],
        "newest first"
    );
    // The definition and a start form (for the admin).
    assert!(all.contains("OrderRejected"), "{all}");
    assert!(all.contains("AWSStepFunctions.StartExecution"));
    assert!(all.contains("data-then=\"/ui/executions/{executionArn}\""));
    assert!(all.contains("data-json-text"));

    let failed = ok_page(&server, "/ui/machines/orders?status=FAILED");
    assert_eq!(attrs(&failed, "data-execution"), ["bad-2", "bad-1"]);
    let named = ok_page(&server, "/ui/machines/orders?q=GOOD");
    assert_eq!(attrs(&named, "data-execution"), ["good-2", "good-1"]);
    let both = ok_page(&server, "/ui/machines/orders?status=SUCCEEDED&q=2");
    assert_eq!(attrs(&both, "data-execution"), ["good-2"]);
    // Times are UTC: none started before 2000, all after it.
    let old = ok_page(
        &server,
        "/ui/machines/orders?started_before=2000-01-01T00:00",
    );
    assert!(attrs(&old, "data-execution").is_empty());
    let recent = ok_page(&server, "/ui/machines/orders?started_after=2000-01-01");
    assert_eq!(attrs(&recent, "data-execution").len(), 4);
    let (status, bad) = page(&server, "/ui/machines/orders?started_after=yesterday");
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("UTC"), "{bad}");

    // The list of machines: failures first, with the day's counts.
    let list = ok_page(&server, "/ui/machines");
    let names = attrs(&list, "data-name");
    assert_eq!(
        names.first().map(String::as_str),
        Some("orders"),
        "{names:?}"
    );
    assert!(list.contains("data-failed=\"2\""), "{list}");
    let filtered = ok_page(&server, "/ui/machines?q=MAP");
    assert_eq!(attrs(&filtered, "data-name"), ["mapper"]);
}

#[test]
fn an_execution_shows_each_state_and_where_it_failed() {
    let project = project();
    let server = Server::start(project.path());
    let failed = start(&server, "orders", "rejected", &json!({"ok": false}), true);
    assert_eq!(failed["status"], "FAILED");
    let arn = failed["executionArn"].as_str().unwrap();
    let html = ok_page(&server, &format!("/ui/executions/{}", encode(arn)));
    for (state, status) in [
        ("Check", "SUCCEEDED"),
        ("Reject", "FAILED"),
        ("Ship", "NOT_REACHED"),
    ] {
        assert!(
            html.contains(&format!("data-state=\"{state}\" data-status=\"{status}\"")),
            "{state} {status}: {html}"
        );
    }
    // The failed state's error and cause, escaped.
    assert!(html.contains("data-failed-state=\"Reject\""), "{html}");
    assert!(html.contains("OrderRejected"));
    assert!(
        html.contains("no stock for &lt;b&gt;widgets&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>widgets</b>"));
    // The history, with the input in a <details>.
    assert!(html.contains("data-type=\"ExecutionStarted\""));
    assert!(html.contains("data-type=\"FailStateEntered\""));
    assert!(html.contains("data-type=\"ExecutionFailed\""));
    // Failed and not stopped: redrivable, not stoppable.
    assert!(html.contains("AWSStepFunctions.RedriveExecution"));
    assert!(!html.contains("AWSStepFunctions.StopExecution"));
    // Only the events of one state.
    let check = ok_page(
        &server,
        &format!("/ui/executions/{}?state=Check", encode(arn)),
    );
    let types = attrs(&check, "data-type");
    assert_eq!(
        types,
        ["ChoiceStateEntered", "ChoiceStateExited"],
        "{check}"
    );
}

#[test]
fn a_map_shows_its_iterations_counted_and_paged_and_a_parallel_its_branches() {
    let project = project();
    let server = Server::start(project.path());
    let items: Vec<Value> = (0..130)
        .map(|i| json!({"n": i, "odd": i % 2 == 1}))
        .collect();
    let done = start(&server, "mapper", "many", &json!({"items": items}), true);
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let arn = done["executionArn"].as_str().unwrap();
    let path = format!("/ui/executions/{}", encode(arn));
    let html = ok_page(&server, &path);
    assert!(html.contains("data-map=\"Each\""), "{html}");
    assert!(html.contains("130 iterations"), "{html}");
    // The counts link to the iterations in that status.
    let count = |html: &str, status: &str| -> Option<u64> {
        let needle = format!("data-count=\"{status}\"");
        let at = html.find(&needle)?;
        let text = &html[at..];
        let end = text.find("</a>")?;
        text[..end].rsplit(' ').next()?.trim().parse().ok()
    };
    assert_eq!(count(&html, "SUCCEEDED"), Some(65), "{html}");
    assert_eq!(count(&html, "FAILED"), Some(65), "{html}");
    // A page of iterations, not all 130.
    let indexes = attrs(&html, "data-index");
    assert_eq!(indexes.len(), 50, "{indexes:?}");
    let failed_page = ok_page(&server, &format!("{path}?map=Each&status=FAILED&page=1"));
    let failed: Vec<u64> = attrs(&failed_page, "data-index")
        .iter()
        .map(|i| i.parse().unwrap())
        .collect();
    assert_eq!(failed.len(), 15, "the second page of 65 failed ones");
    assert!(failed.iter().all(|i| i % 2 == 1), "{failed:?}");
    assert!(failed_page.contains("← previous"));
    // States inside the Map: counted over all iterations.
    assert!(
        html.contains("data-state=\"Keep\" data-status=\"SUCCEEDED\""),
        "{html}"
    );
    assert!(
        html.contains("data-state=\"Boom\" data-status=\"FAILED\""),
        "{html}"
    );

    // The Parallel's two branches, both done; the second ran two states.
    assert!(html.contains("data-parallel=\"Both\""), "{html}");
    assert!(
        html.contains("data-branch=\"1\" data-status=\"SUCCEEDED\""),
        "{html}"
    );
    assert!(
        html.contains("data-branch=\"2\" data-status=\"SUCCEEDED\""),
        "{html}"
    );
    assert!(html.contains("2 of 2"), "{html}");
    let branch = ok_page(&server, &format!("{path}?branch=Both&b=2"));
    let types = attrs(&branch, "data-type");
    assert_eq!(
        types,
        [
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited"
        ],
        "{branch}"
    );
    // The history is paged: 100 events of the ~530.
    assert_eq!(attrs(&html, "data-type").len(), 100);
    assert!(html.contains("later events →"));
}

#[test]
fn a_viewer_sees_no_actions_and_a_narrowed_credential_no_other_machine() {
    let project = project();
    let server = Server::start(project.path());
    let running = start(&server, "slow", "waiting", &json!({}), false);
    let running_arn = running["executionArn"].as_str().unwrap().to_string();
    let rejected = start(&server, "orders", "no", &json!({"ok": false}), true);
    let rejected_arn = rejected["executionArn"].as_str().unwrap().to_string();
    let slow = format!("/ui/executions/{}", encode(&running_arn));

    // The admin (an operator at least) may stop the running one, from its page and in bulk.
    let admin = ok_page(&server, &slow);
    assert!(admin.contains("AWSStepFunctions.StopExecution"), "{admin}");
    let list = ok_page(&server, "/ui/machines/slow");
    assert!(list.contains("data-bulk-each"), "{list}");
    assert!(list.contains(&format!("data-select value=\"{running_arn}\"")));

    let viewer = create(&server, "viewer", "watcher", &[]);
    let viewer = viewer["token"].as_str().unwrap();
    let as_viewer = |path: &str| {
        let (status, html) = with_token(&server, viewer, "GET", path, "");
        assert_eq!(status, 200, "{path}: {html}");
        html
    };
    let seen = as_viewer(&slow);
    assert!(seen.contains("data-status=\"RUNNING\""), "{seen}");
    assert!(!seen.contains("StopExecution"), "{seen}");
    let seen = as_viewer("/ui/machines/slow");
    assert!(
        !seen.contains("StartExecution") && !seen.contains("data-select"),
        "{seen}"
    );
    let seen = as_viewer(&format!("/ui/executions/{}", encode(&rejected_arn)));
    assert!(!seen.contains("RedriveExecution"), "{seen}");

    // A credential for the orders machine only: the others do not exist for it.
    let narrow = create(
        &server,
        "operator",
        "orders-only",
        &["--pipelines", "orders"],
    );
    let narrow = narrow["token"].as_str().unwrap();
    for path in [slow.as_str(), "/ui/machines/slow", "/ui/machines/mapper"] {
        let (status, html) = with_token(&server, narrow, "GET", path, "");
        assert_eq!(status, 404, "{path}: {html}");
        // Nothing of it but what the request itself said.
        assert!(
            !html.contains("data-status") && !html.contains("Wait"),
            "{html}"
        );
    }
    let (status, list) = with_token(&server, narrow, "GET", "/ui/machines", "");
    assert_eq!(status, 200);
    assert_eq!(attrs(&list, "data-name"), ["orders"], "{list}");
    let (status, _) = with_token(
        &server,
        narrow,
        "GET",
        &format!("/ui/executions/{}", encode(&rejected_arn)),
        "",
    );
    assert_eq!(status, 200);
}

#[test]
fn names_and_data_are_escaped() {
    let project = project();
    let server = Server::start(project.path());
    let running = start(
        &server,
        "slow",
        "markup",
        &json!({"note": "<img src=x onerror=alert(2)>"}),
        false,
    );
    let arn = running["executionArn"].as_str().unwrap();
    let html = ok_page(&server, &format!("/ui/executions/{}", encode(arn)));
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{html}"
    );
    let machine = ok_page(&server, "/ui/machines/slow");
    assert!(!machine.contains("<script>alert(1)"), "{machine}");
}

/// The page of a Map of 10,000 items shows summaries and a page of each list, never 10,000
/// rows; its server time is printed (`weir bench dashboard` measures it properly). The history
/// it is drawn from reads the same through GetExecutionHistory's pages.
#[test]
fn the_page_of_a_map_of_10000_items_shows_a_page_of_them() {
    let project = Project::new();
    project.write(
        "machines/fanout.asl.json",
        r#"{"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
            "ResultPath": null, "ItemProcessor": {"StartAt": "Item", "States": {
            "Item": {"Type": "Pass", "End": true}}}, "End": true}}}"#,
    );
    let server = Server::start(project.path());
    let items: Vec<u32> = (0..10_000).collect();
    let done = start(&server, "fanout", "big", &json!({ "items": items }), true);
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let arn = done["executionArn"].as_str().unwrap();
    let path = format!("/ui/executions/{}", encode(arn));
    let mut millis = Vec::new();
    let mut html = String::new();
    for _ in 0..5 {
        let sent = std::time::Instant::now();
        html = ok_page(&server, &path);
        millis.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    millis.sort_by(f64::total_cmp);
    eprintln!(
        "page of a Map of 10,000 items: median {:.0} ms over loopback ({} bytes)",
        millis[2],
        html.len()
    );
    assert!(html.contains("10000 iterations"), "{html}");
    assert!(html.contains("data-count=\"SUCCEEDED\""));
    assert_eq!(attrs(&html, "data-index").len(), 50);
    assert_eq!(attrs(&html, "data-type").len(), 100);
    assert!(html.contains("data-state=\"Item\" data-status=\"SUCCEEDED\""));
    assert!(
        html.contains("Item (Pass · 10000×)"),
        "the graph counts the visits"
    );
    assert!(html.len() < 400_000, "{} bytes", html.len());
    // The last page of iterations.
    let last = ok_page(&server, &format!("{path}?map=Each&page=199"));
    let indexes = attrs(&last, "data-index");
    assert_eq!(indexes.len(), 50);
    assert!(
        !last.contains("rel=\"next\">next"),
        "the last page has no next"
    );

    // GetExecutionHistory's pages are the whole history once, in order; reversed, the first
    // page is the last events.
    let read = |reverse: bool, all: bool| {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = json!({"executionArn": arn, "maxResults": 1000,
                                     "reverseOrder": reverse, "includeExecutionData": false});
            if let Some(token) = &token {
                request["nextToken"] = json!(token);
            }
            let (status, page) =
                server.aws("AWSStepFunctions.GetExecutionHistory", &request.to_string());
            assert_eq!(status, 200, "{page}");
            for event in page["events"].as_array().unwrap() {
                let entered = event.get("stateEnteredEventDetails");
                assert!(entered.is_none_or(|d| d.get("input").is_none()), "{event}");
                ids.push(event["id"].as_i64().unwrap());
            }
            match page["nextToken"].as_str() {
                Some(next) if all => token = Some(next.to_string()),
                _ => return ids,
            }
        }
    };
    let forwards = read(false, true);
    assert!(forwards.len() > 40_000, "{}", forwards.len());
    assert!(forwards.windows(2).all(|w| w[1] == w[0] + 1));
    let backwards = read(true, false);
    let last: Vec<i64> = forwards.iter().rev().take(1000).copied().collect();
    assert_eq!(backwards, last);
}

/// Waits two seconds, then greets whoever the input names.
const GREET: &str = r#"{"StartAt": "Hold", "States": {
    "Hold": {"Type": "Wait", "Seconds": 2, "Next": "Greet"},
    "Greet": {"Type": "Pass", "Parameters": {"hello.$": "$.who"}, "End": true}}}"#;

/// In a real browser: an execution started from its machine's page with an input opens its own
/// page, whose graph turns green when it ends, without a reload; screenshots of the execution,
/// of a Map's page and of the list.
#[test]
fn an_execution_started_from_the_page_turns_green_without_a_reload() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = project();
    project.write("machines/greet.asl.json", GREET);
    let server = Server::start(project.path());
    let items: Vec<Value> = (0..40)
        .map(|i| json!({"n": i, "odd": i % 9 == 4}))
        .collect();
    start(
        &server,
        "mapper",
        "fan-out",
        &json!({ "items": items }),
        true,
    );
    start(&server, "orders", "rejected", &json!({"ok": false}), true);
    browser.sign_in(&server.url, &server.token());

    browser.goto("/ui/machines/greet");
    browser.click("#start-execution summary");
    browser.fill("#start input[name=name]", "from-the-page");
    browser.fill("#start textarea[name=input]", "not JSON");
    browser.click("#start button[type=submit]");
    // Bad JSON is refused in the page, before anything is sent.
    browser.wait_for_text("#toast", "input is not JSON", WAIT);
    assert_eq!(browser.count("#execution-status"), 0);
    browser.fill("#start textarea[name=input]", r#"{"who": "weir"}"#);
    browser.click("#start button[type=submit]");
    browser.wait_for("#execution-status[data-status=RUNNING]", WAIT);
    assert!(
        browser.path().contains("from-the-page"),
        "{}",
        browser.path()
    );
    // A mark on this document: a reload would lose it.
    browser.eval("window.weirTestMark = 'kept'; return true;", vec![]);
    browser.wait_for("#execution-status[data-status=SUCCEEDED]", WAIT);
    browser.wait_for("svg .node.st-success", WAIT);
    let green = browser.eval(
        "return document.querySelectorAll('svg .node.st-success').length;",
        vec![],
    );
    assert_eq!(green, json!(2), "both states green");
    assert_eq!(
        browser.eval("return window.weirTestMark || null;", vec![]),
        json!("kept"),
        "the page was not reloaded"
    );
    assert!(
        browser.text("main").contains("\"hello\": \"weir\""),
        "the output"
    );
    browser.screenshot("machines-execution");

    let mapper = server.aws(
        "AWSStepFunctions.DescribeExecution",
        &json!({"executionArn": format!("{ARN}:execution:mapper:fan-out")}).to_string(),
    );
    assert_eq!(mapper.0, 200, "{}", mapper.1);
    browser.goto(&format!(
        "/ui/executions/{}",
        encode(mapper.1["executionArn"].as_str().unwrap())
    ));
    browser.wait_for("[data-map=Each] [data-count=FAILED]", WAIT);
    browser.screenshot("machines-map");

    browser.goto("/ui/machines");
    browser.wait_for("#machine-list tr[data-name=orders]", WAIT);
    browser.screenshot("machines-list");
    assert_eq!(browser.console_errors(), Vec::<String>::new());
}

/// In a real browser: running executions selected on their machine's page are stopped with one
/// click (one StopExecution each, the Step Functions API having no bulk stop).
#[test]
fn running_executions_are_stopped_in_bulk_from_the_page() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = project();
    let server = Server::start(project.path());
    for name in ["first", "second"] {
        start(&server, "slow", name, &json!({}), false);
    }
    start(&server, "orders", "done", &json!({"ok": true}), true);
    browser.sign_in(&server.url, &server.token());
    browser.goto("/ui/machines/slow");
    browser.wait_for("tr[data-execution=second][data-status=RUNNING]", WAIT);
    browser.click("input[data-select-all]");
    browser.wait_for_text("[data-bulk-count]", "2 selected", WAIT);
    browser.click("button[data-bulk-each]");
    browser.click("[data-confirm-ok]");
    for name in ["first", "second"] {
        browser.wait_for(
            &format!("tr[data-execution={name}][data-status=ABORTED]"),
            WAIT,
        );
    }
    assert_eq!(browser.count("input[data-select]"), 0, "none left to stop");
    assert_eq!(browser.console_errors(), Vec::<String>::new());
}
