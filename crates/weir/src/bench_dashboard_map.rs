//! `weir bench dashboard`'s figure for state machines: the page of a Map execution of `items`
//! items (a Pass state per item: four history events each, ~40,000 for 10,000 items), run by the
//! real server (this executable) and then asked for `requests` times one after another over
//! loopback HTTP: median and p95 of the time to the whole page, its size, and the same for the
//! execution's history read alone through GetExecutionHistory's first page, for comparison.
//! Target (issue 14): at most 100 ms for 10,000 items.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::bench::{AwsJson, ServerProcess, quantile};

/// Runs the Map execution and times its page; prints the figures as the other benches do and
/// answers them as (label, value) rows.
pub(crate) async fn map_execution_figures(
    items: usize,
    requests: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let project = tempfile::tempdir()?;
    let machines = project.path().join("machines");
    std::fs::create_dir_all(&machines)?;
    let definition = json!({
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": null,
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}},
            "End": true}}
    });
    std::fs::write(machines.join("fanout.asl.json"), definition.to_string())?;
    let server = ServerProcess::start(project.path(), &[]).await?;
    let token = server
        .admin_token()
        .context("the server wrote no admin token")?;
    let client = reqwest::Client::new();
    let aws = AwsJson {
        client: client.clone(),
        url: format!("{}/", server.url),
        token: token.clone(),
    };
    let sfn = |operation: &'static str, body: serde_json::Value| {
        let aws = aws.clone();
        async move { aws.call_to("AWSStepFunctions", operation, body).await }
    };
    let input = json!({ "items": (0..items).collect::<Vec<_>>() }).to_string();
    let ran = Instant::now();
    let started = sfn(
        "StartExecution",
        json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:fanout",
               "name": "bench", "input": input}),
    )
    .await?;
    let arn = started["executionArn"]
        .as_str()
        .context("StartExecution gave no executionArn")?
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let described = sfn("DescribeExecution", json!({ "executionArn": arn })).await?;
        match described["status"].as_str() {
            Some("RUNNING") if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Some("SUCCEEDED") => break,
            other => bail!("the Map execution ended {other:?}: {described}"),
        }
    }
    let ran = ran.elapsed().as_secs_f64();

    let page = format!(
        "{}/ui/executions/{}",
        server.url,
        // An execution ARN's only character to encode in a path segment.
        arn.replace(':', "%3A")
    );
    let mut rows = vec![(
        format!("Map over {items} items (a Pass each), run by the server"),
        format!("{ran:.2} s"),
    )];
    rows.extend(
        timed(
            &format!("execution page of the Map of {items}"),
            requests,
            || client.get(&page).bearer_auth(&token),
        )
        .await?,
    );
    let history = json!({ "executionArn": arn, "maxResults": 1000 }).to_string();
    rows.extend(
        timed("GetExecutionHistory, first 1,000 events", requests, || {
            aws.request_to("AWSStepFunctions", "GetExecutionHistory", history.clone())
        })
        .await?,
    );
    for (label, value) in &rows {
        outln!("  {label}: {value}");
    }
    Ok(rows)
}

/// Sends a request `requests` times one after another (after one that warms the server up):
/// median and p95 of the time to the whole answer, and its size.
async fn timed(
    what: &str,
    requests: usize,
    send: impl Fn() -> reqwest::RequestBuilder,
) -> anyhow::Result<Vec<(String, String)>> {
    let warm = send().send().await?;
    if !warm.status().is_success() {
        bail!("{what}: {}", warm.status());
    }
    let mut millis = Vec::with_capacity(requests);
    let mut bytes = 0;
    for _ in 0..requests.max(1) {
        let sent = Instant::now();
        let answer = send().send().await?;
        if !answer.status().is_success() {
            bail!("{what}: {}", answer.status());
        }
        bytes = answer.bytes().await?.len();
        millis.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    millis.sort_by(f64::total_cmp);
    Ok(vec![
        (
            format!("{what}, {} requests: median", millis.len()),
            format!("{:.1} ms", quantile(&millis, 0.5)),
        ),
        (
            format!("{what}: p95"),
            format!("{:.1} ms", quantile(&millis, 0.95)),
        ),
        (format!("{what}: bytes"), bytes.to_string()),
    ])
}
