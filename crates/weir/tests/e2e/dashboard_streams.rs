//! The streams, deliveries, rules and queues pages over HTTP with the real binary: a stream's
//! shards, newest records (escaped) and throughput and lag charts; a delivery's objects; a
//! rule's pattern, targets and matches; queue depth and dead letters; what a viewer and a
//! narrowed credential see.

use std::time::Duration;

use crate::security::{create, with_token};
use crate::support::*;

/// Polls a page until `holds` is true of it (or 30 s pass) and returns it as it then is.
fn page_when(server: &Server, path: &str, holds: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    eventually(Duration::from_secs(30), || {
        let (status, page) = server.get(path);
        assert_eq!(status, 200, "GET {path}: {page}");
        last = page;
        holds(&last)
    });
    last
}

fn put_records(server: &Server, stream: &str, records: &str) {
    let (status, body) = server.post(
        &format!("/api/v1/streams/{stream}/records"),
        &format!("{{\"records\": {records}}}"),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"failed\":0"), "{body}");
}

/// A server whose project delivers the stream `clicks` (2 shards, made here) to `out/clicks/`.
fn with_clicks(project: &Project) -> Server {
    project.write(
        "deliveries/clicks_out.yaml",
        "source: { stream: clicks, start: trim_horizon }\nprefix: out/clicks/\nbuffering: { interval: 1s }\n",
    );
    let server = Server::start(project.path());
    let (status, body) = server.post("/api/v1/streams", r#"{"name": "clicks", "shards": 2}"#);
    assert_eq!(status, 200, "{body}");
    server
}

#[test]
fn a_stream_page_shows_shards_records_throughput_and_lag_and_its_delivery_its_objects() {
    let project = Project::new();
    let server = with_clicks(&project);
    // The first look starts the sampler: rates come from its readings 5 s apart.
    let (status, first) = server.get("/ui/streams/clicks");
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("shardId-000000000000") && first.contains("shardId-000000000001"));
    assert!(first.contains("data-refresh=\"5\"") && first.contains("data-live=\"stream:clicks\""));
    put_records(
        &server,
        "clicks",
        r#"[{"partition_key": "<b>k</b>", "data": "<script>alert(1)</script>"},
            {"partition_key": "bin", "data_base64": "/wAQ"},
            {"partition_key": "a", "data": "{\"n\": 1}"},
            {"partition_key": "b", "data": "{\"n\": 2}"}]"#,
    );
    let page = page_when(&server, "/ui/streams/clicks", |page| {
        page.contains("Incoming records per second") && page.contains("<svg")
    });
    assert!(page.contains("Incoming bytes per second"), "{page}");
    // Records: escaped text, binary as hex, newest first.
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("&lt;b&gt;k&lt;/b&gt;") && !page.contains("<b>k</b>"));
    assert!(
        page.contains("binary, 3 bytes") && page.contains("ff 00 10"),
        "{page}"
    );
    assert_eq!(page.matches("<tr class=\"record\">").count(), 4, "{page}");
    // The delivery's consumer group reads the stream: its lag is listed and charted.
    let page = page_when(&server, "/ui/streams/clicks", |page| {
        page.contains("data-consumer=\"delivery/clicks_out\"")
            && page.contains("Consumer lag (milliseconds behind)")
    });
    assert!(page.contains("data-lag-ms="), "{page}");

    // The list: the stream with its rate once measured, and the delivery.
    let list = page_when(&server, "/ui/streams", |page| {
        page.contains("data-stream=\"clicks\"") && !page.contains("measuring…")
    });
    assert!(
        list.contains("href=\"/ui/deliveries/clicks_out\""),
        "{list}"
    );
    assert!(
        !list.contains("__delivery"),
        "weir's own streams are not listed"
    );

    // The delivery page lists the object it wrote, linked to the lake's object API.
    // Each shard's batch is its own object: all four records are delivered in two or more.
    let delivery = page_when(&server, "/ui/deliveries/clicks_out", |page| {
        page.contains("data-delivered=\"4\"")
    });
    assert!(delivery.contains("<tr class=\"object\">"), "{delivery}");
    assert!(
        delivery.contains("/api/v1/lake/objects/out/clicks/"),
        "{delivery}"
    );
    assert!(
        delivery.contains("href=\"/ui/streams/clicks\""),
        "{delivery}"
    );
    let (status, _) = server.get("/ui/deliveries/missing");
    assert_eq!(status, 404);
    let (status, _) = server.get("/ui/streams/missing");
    assert_eq!(status, 404);
    let (status, _) = server.get("/ui/streams/__delivery-clicks_out");
    assert_eq!(status, 404, "weir's own streams are not found");
}

fn rules_project() -> Project {
    let project = Project::new();
    project.write(
        "rules/orders.yaml",
        "pattern: {source: [\"<shop>\"], detail-type: [Order Placed]}\ntargets:\n  - queue: sink\n  - id: nowhere\n    pipeline: missing\n    retry_policy: {maximum_retry_attempts: 0}\n",
    );
    project
}

#[test]
fn the_rules_page_shows_a_rules_pattern_target_and_matches_and_operators_may_disable_it() {
    let project = rules_project();
    let server = Server::start(project.path());
    let (status, answer) = server.aws("AmazonSQS.CreateQueue", r#"{"QueueName": "sink"}"#);
    assert_eq!(status, 200, "{answer}");
    let (status, page) = server.get("/ui/rules");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-rule=\"orders\""), "{page}");
    // The pattern, pretty and escaped; the target's ARN.
    assert!(page.contains("&quot;&lt;shop&gt;&quot;"), "{page}");
    assert!(!page.contains("<shop>"));
    assert!(
        page.contains("arn:aws:sqs:us-east-1:000000000000:sink"),
        "{page}"
    );
    assert!(page.contains("data-matched=\"0\""), "{page}");
    let (status, answer) = server.aws(
        "AWSEvents.PutEvents",
        r#"{"Entries": [{"Source": "<shop>", "DetailType": "Order Placed", "Detail": "{\"id\": 1}"}]}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["FailedEntryCount"], 0, "{answer}");
    // Matched first, then delivered to the queue.
    let page = page_when(&server, "/ui/rules", |page| {
        page.contains("data-matched=\"1\"") && page.contains("1 delivered")
    });
    assert!(page.contains("1 matched"), "{page}");
    // A rule of a file changes with its file: no button. One made through the API has one,
    // which sends EventBridge's DisableRule.
    assert!(!page.contains("data-aws-target"), "{page}");
    assert!(page.contains("change its file"), "{page}");
    let (status, answer) = server.aws(
        "AWSEvents.PutRule",
        r#"{"Name": "by_api", "EventPattern": "{\"source\": [\"api\"]}"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    let (_, page) = server.get("/ui/rules");
    assert!(
        page.contains("data-aws-target=\"AWSEvents.DisableRule\""),
        "{page}"
    );
    let (status, answer) = server.aws(
        "AWSEvents.DisableRule",
        r#"{"Name": "by_api", "EventBusName": "default"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    let (_, page) = server.get("/ui/rules/default/by_api");
    assert!(
        page.contains("data-aws-target=\"AWSEvents.EnableRule\""),
        "{page}"
    );
    assert!(page.contains("disabled"), "{page}");
    let (_, page) = server.get("/ui/rules/default/orders");
    // The rule's latest failures, with EventBridge's code and the reason.
    assert!(page.contains("Latest failed deliveries"), "{page}");
    assert!(page.contains("<code>RESOURCE_NOT_FOUND</code>"), "{page}");
    assert!(
        page.contains("1 failed, 0 dead-lettered, 1 dropped"),
        "{page}"
    );
    let (status, _) = server.get("/ui/rules/default/missing");
    assert_eq!(status, 404);
}

#[test]
fn the_queues_page_shows_depth_and_dead_letters_after_a_redrive() {
    let project = Project::new();
    let server = Server::start(project.path());
    let aws = |target: &str, body: serde_json::Value| {
        let (status, answer) = server.aws(target, &body.to_string());
        assert_eq!(status, 200, "{target}: {answer}");
        answer
    };
    let dlq = aws(
        "AmazonSQS.CreateQueue",
        serde_json::json!({"QueueName": "failed"}),
    );
    let dlq_url = dlq["QueueUrl"].as_str().unwrap().to_string();
    let policy = serde_json::json!({
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:failed",
        "maxReceiveCount": 1,
    });
    let work = aws(
        "AmazonSQS.CreateQueue",
        serde_json::json!({"QueueName": "work", "Attributes": {"RedrivePolicy": policy.to_string()}}),
    );
    let url = work["QueueUrl"].as_str().unwrap().to_string();
    for body in ["poison", "fine", "also fine"] {
        aws(
            "AmazonSQS.SendMessage",
            serde_json::json!({"QueueUrl": url, "MessageBody": body}),
        );
    }
    let (_, page) = server.get("/ui/queues");
    assert!(page.contains("data-queue=\"work\""), "{page}");
    assert!(page.contains("data-visible=\"3\""), "{page}");
    assert!(page.contains("after 1 receive<"), "{page}");
    // Received twice (past maxReceiveCount), the first message moves to the dead-letter queue.
    let got = aws(
        "AmazonSQS.ReceiveMessage",
        serde_json::json!({"QueueUrl": url, "VisibilityTimeout": 0, "MaxNumberOfMessages": 1}),
    );
    assert_eq!(got["Messages"].as_array().map(Vec::len), Some(1), "{got}");
    let got = aws(
        "AmazonSQS.ReceiveMessage",
        serde_json::json!({"QueueUrl": url, "VisibilityTimeout": 30, "MaxNumberOfMessages": 10}),
    );
    let in_flight = got["Messages"].as_array().map_or(0, Vec::len);
    let page = page_when(&server, "/ui/queues", |page| {
        page.contains("holds 1 dead letters")
    });
    assert!(page.contains("class=\"dead-letters\""), "{page}");
    assert!(page.contains("1 dead letters</span>"), "{page}");
    assert!(page.contains("data-queue=\"failed\""));
    let queue = server.get("/ui/queues/work").1;
    assert!(
        queue.contains(&format!("<dt>In flight</dt><dd>{in_flight}</dd>")),
        "{queue}"
    );
    assert!(queue.contains("RedrivePolicy"), "{queue}");
    assert!(
        queue.contains("data-aws-target=\"AmazonSQS.PurgeQueue\""),
        "{queue}"
    );
    assert!(!queue.contains("poison"), "messages are never shown");
    let (_, dead) = server.get("/ui/queues/failed");
    assert!(dead.contains("data-visible=\"1\""), "{dead}");
    assert!(dead.contains(&dlq_url), "{dead}");
    let (status, _) = server.get("/ui/queues/missing");
    assert_eq!(status, 404);
}

#[test]
fn a_viewer_sees_no_buttons_and_a_narrowed_credential_only_what_it_is_granted() {
    let project = rules_project();
    let server = Server::start(project.path());
    for name in ["etl_clicks", "ml_clicks"] {
        let (status, body) = server.post(
            "/api/v1/streams",
            &format!("{{\"name\": \"{name}\", \"shards\": 1}}"),
        );
        assert_eq!(status, 200, "{body}");
        server.aws(
            "AmazonSQS.CreateQueue",
            &format!("{{\"QueueName\": \"{name}_q\"}}"),
        );
    }
    let (status, answer) = server.aws("AWSEvents.CreateEventBus", r#"{"Name": "etl_bus"}"#);
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = server.aws(
        "AWSEvents.PutRule",
        r#"{"Name": "etl_rule", "EventBusName": "etl_bus", "EventPattern": "{\"source\": [\"etl\"]}"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    // The admin has buttons on these pages; a viewer has none.
    assert!(server.get("/ui/rules").1.contains("data-action"));
    assert!(
        server
            .get("/ui/queues/ml_clicks_q")
            .1
            .contains("data-action")
    );

    let viewer = create(&server, "viewer", "watcher", &[]);
    let viewer = viewer["token"].as_str().unwrap();
    for path in [
        "/ui/rules",
        "/ui/queues/ml_clicks_q",
        "/ui/streams/etl_clicks",
    ] {
        let (status, page) = with_token(&server, viewer, "GET", path, "");
        assert_eq!(status, 200, "{path}: {page}");
        assert!(
            !page.contains("data-action"),
            "{path}: a viewer has no buttons"
        );
    }

    let narrowed = create(&server, "operator", "etl", &["--pipelines", "etl_*"]);
    let narrowed = narrowed["token"].as_str().unwrap();
    let get = |path: &str| with_token(&server, narrowed, "GET", path, "");
    let (status, streams) = get("/ui/streams");
    assert_eq!(status, 200, "{streams}");
    assert!(streams.contains("data-stream=\"etl_clicks\""), "{streams}");
    assert!(!streams.contains("ml_clicks"), "{streams}");
    assert_eq!(get("/ui/streams/ml_clicks").0, 404);
    assert_eq!(get("/ui/streams/etl_clicks").0, 200);
    let (_, rules) = get("/ui/rules");
    assert!(rules.contains("data-bus=\"etl_bus\""), "{rules}");
    assert!(rules.contains("data-rule=\"etl_rule\""), "{rules}");
    assert!(!rules.contains("data-bus=\"default\""), "{rules}");
    assert!(
        !rules.contains("data-aws-target"),
        "a narrowed credential may not shape rules: no Enable/Disable"
    );
    assert_eq!(get("/ui/rules/default/orders").0, 404);
    let (_, queues) = get("/ui/queues");
    assert!(queues.contains("data-queue=\"etl_clicks_q\""), "{queues}");
    assert!(!queues.contains("ml_clicks_q"), "{queues}");
    assert_eq!(get("/ui/queues/ml_clicks_q").0, 404);
    let (_, queue) = get("/ui/queues/etl_clicks_q");
    assert!(
        queue.contains("AmazonSQS.PurgeQueue"),
        "an operator may purge"
    );
}

/// In a real browser: a stream's page shows records put after it was opened, and its charts,
/// without a reload; then the rules, queues and delivery pages, each photographed.
#[test]
fn in_a_browser_a_stream_page_follows_new_records_without_a_reload() {
    use crate::browser::{Browser, WAIT};
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let project = rules_project();
    let server = with_clicks(&project);
    let (status, answer) = server.aws("AmazonSQS.CreateQueue", r#"{"QueueName": "sink"}"#);
    assert_eq!(status, 200, "{answer}");
    put_records(
        &server,
        "clicks",
        r#"[{"partition_key": "first", "data": "{\"n\": 1}"}]"#,
    );
    browser.sign_in(&server.url, &server.token());
    browser.goto("/ui/streams/clicks");
    browser.wait_for_text("#stream-records", "first", WAIT);
    // A mark on the page: a reload would lose it.
    browser.eval("window.weirMark = 'still here'; return true;", Vec::new());
    // Records keep coming for a while, so that the charts have a few readings to draw.
    for i in 0..6 {
        put_records(
            &server,
            "clicks",
            &format!(
                r#"[{{"partition_key": "live-{i}", "data": "{{\"n\": {i}}}"}}, {{"partition_key": "<b>x</b>", "data": "<img src=x>"}}]"#
            ),
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    browser.wait_for_text("#stream-records", "live-5", Duration::from_secs(30));
    let readings = || {
        browser
            .eval(
                "const p = document.querySelector('#latest-rate'); \
                 const m = p && p.textContent.match(/\\((\\d+) reading/); \
                 return m ? Number(m[1]) : 0;",
                Vec::new(),
            )
            .as_u64()
            .unwrap_or(0)
    };
    assert!(
        eventually(Duration::from_secs(30), || readings() >= 3),
        "the charts did not reach 3 readings (at {})",
        readings()
    );
    browser.wait_for_text(
        "#stream-charts",
        "Incoming records per second",
        Duration::from_secs(30),
    );
    browser.wait_for("#stream-charts svg", WAIT);
    browser.wait_for_text(
        "#stream-consumers",
        "delivery/clicks_out",
        Duration::from_secs(30),
    );
    assert_eq!(
        browser.eval("return window.weirMark || null;", Vec::new()),
        serde_json::json!("still here"),
        "the page was reloaded instead of updated"
    );
    // Hostile data is text on the page, never markup.
    assert_eq!(browser.count("#stream-records img"), 0);
    browser.wait_for_text("#stream-records", "<img src=x>", WAIT);
    browser.screenshot("streams-stream");

    let (status, answer) = server.aws(
        "AWSEvents.PutEvents",
        r#"{"Entries": [{"Source": "<shop>", "DetailType": "Order Placed", "Detail": "{\"id\": 1}"}]}"#,
    );
    assert_eq!(status, 200, "{answer}");
    browser.goto("/ui/rules");
    browser.wait_for_text(
        "tr[data-rule=orders]",
        "1 delivered",
        Duration::from_secs(30),
    );
    browser.screenshot("streams-rules");

    let policy = serde_json::json!({
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:failed",
        "maxReceiveCount": 1,
    });
    server.aws("AmazonSQS.CreateQueue", r#"{"QueueName": "failed"}"#);
    let (_, work) = server.aws(
        "AmazonSQS.CreateQueue",
        &serde_json::json!({"QueueName": "work", "Attributes": {"RedrivePolicy": policy.to_string()}})
            .to_string(),
    );
    let url = work["QueueUrl"].as_str().unwrap_or_default().to_string();
    for body in ["poison", "fine"] {
        server.aws(
            "AmazonSQS.SendMessage",
            &serde_json::json!({"QueueUrl": url, "MessageBody": body}).to_string(),
        );
    }
    for _ in 0..2 {
        server.aws(
            "AmazonSQS.ReceiveMessage",
            &serde_json::json!({"QueueUrl": url, "VisibilityTimeout": 0, "MaxNumberOfMessages": 1})
                .to_string(),
        );
    }
    browser.goto("/ui/queues");
    browser.wait_for_text("tr.dead-letters", "dead letters", Duration::from_secs(30));
    browser.screenshot("streams-queues");

    browser.goto("/ui/deliveries/clicks_out");
    browser.wait_for("tr.object", Duration::from_secs(30));
    browser.screenshot("streams-delivery");
    assert_eq!(browser.console_errors(), Vec::<String>::new());
}
