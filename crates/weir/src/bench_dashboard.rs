//! `weir bench dashboard`: how fast the dashboard shows pipelines.
//!
//! - Grid render: a pipeline of `tasks` tasks with `runs` finished runs (written straight into
//!   the store before the server starts: `tasks × runs` task instances), and its grid page
//!   (`/ui/pipelines/NAME?runs=N`) asked for `requests` times one after another over loopback
//!   HTTP by the real server (this executable): median and p95 of the time to the whole page,
//!   and its size.
//! - Task end to grid: a pipeline of one short task triggered `latency_runs` times, with a page's
//!   way of staying live: an SSE client on `/ui/live?topics=pipeline:NAME` that, on each event
//!   (after weir.js's 150 ms debounce), fetches the grid again until the task's cell shows
//!   success. The figure is from the task's end as the store recorded it to that fetch's answer.
//! - The page of a Map execution of `map_items` items: `bench_dashboard_map.rs`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use weir_store::{Mutation, RunMutation, RunRecord, Store, TaskRecord};

use crate::bench::{ServerProcess, quantile};

/// What `weir bench dashboard` is asked to measure.
pub struct DashboardBench {
    pub tasks: usize,
    pub runs: usize,
    pub requests: usize,
    pub latency_runs: usize,
    /// Items of the Map execution whose page is timed (0: none).
    pub map_items: usize,
}

/// The debounce weir.js waits after a live event before it fetches the page again.
const DEBOUNCE: Duration = Duration::from_millis(150);

pub async fn run(options: DashboardBench) -> anyhow::Result<()> {
    outln!("weir bench dashboard");
    let project = tempfile::tempdir()?;
    let pipelines = project.path().join("pipelines");
    std::fs::create_dir_all(&pipelines)?;
    let mut yaml = String::from("tasks:\n");
    for i in 0..options.tasks {
        // Groups of ten (`g0.t0` …), as big pipelines are drawn.
        yaml.push_str(&format!("  g{}.t{i}:\n    noop: true\n", i / 10));
    }
    std::fs::write(pipelines.join("wide.yaml"), yaml)?;
    std::fs::write(
        pipelines.join("short.yaml"),
        "tasks:\n  work:\n    command: \"true\"\n",
    )?;
    let filled = Instant::now();
    fill(project.path(), options.tasks, options.runs).await?;
    outln!(
        "store filled with {} runs × {} tasks ({} task instances) in {:.1} s",
        options.runs,
        options.tasks,
        options.runs * options.tasks,
        filled.elapsed().as_secs_f64()
    );

    let server = ServerProcess::start(project.path(), &[]).await?;
    let token = server
        .admin_token()
        .context("the server wrote no admin token")?;
    let client = reqwest::Client::new();
    let get = |path: String| {
        client
            .get(format!("{}{path}", server.url))
            .bearer_auth(&token)
            .send()
    };

    outln!(
        "grid of {} tasks × {} runs, whole page over loopback HTTP ({} requests each, one at a time):",
        options.tasks,
        options.runs,
        options.requests
    );
    outln!(
        "  {:>12}  {:>10}  {:>10}  {:>12}  {:>14}",
        "runs shown",
        "median",
        "p95",
        "bytes",
        "bytes per cell"
    );
    for shown in [25usize, 1000] {
        let shown = shown.min(options.runs.max(1));
        let path = format!("/ui/pipelines/wide?runs={shown}");
        // One first request warms the server's caches (pipelines, prepared statements).
        let warm = get(path.clone()).await?;
        if !warm.status().is_success() {
            bail!("GET {path}: {}", warm.status());
        }
        let mut millis = Vec::with_capacity(options.requests);
        let mut bytes = 0;
        for _ in 0..options.requests {
            let sent = Instant::now();
            let answer = get(path.clone()).await?;
            let page = answer.bytes().await?;
            millis.push(sent.elapsed().as_secs_f64() * 1000.0);
            bytes = page.len();
        }
        millis.sort_by(f64::total_cmp);
        let cells = (shown * options.tasks).max(1);
        outln!(
            "  {shown:>12}  {:>7.1} ms  {:>7.1} ms  {bytes:>12}  {:>14.1}",
            quantile(&millis, 0.5),
            quantile(&millis, 0.95),
            bytes as f64 / cells as f64
        );
    }

    let mut latencies = Vec::with_capacity(options.latency_runs);
    for _ in 0..options.latency_runs {
        latencies.push(end_to_grid(&client, &server.url, &token).await?);
    }
    latencies.sort_by(f64::total_cmp);
    outln!(
        "task end → grid shows it (SSE + page re-fetch, {} ms debounce as weir.js), {} runs: median {:.0} ms, p95 {:.0} ms",
        DEBOUNCE.as_millis(),
        options.latency_runs,
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.95)
    );
    drop(server);

    if options.map_items > 0 {
        outln!("state machine execution page (bench_dashboard_map.rs):");
        crate::bench_dashboard_map::map_execution_figures(options.map_items, options.requests)
            .await?;
    }
    Ok(())
}

/// Writes `runs` finished runs of the pipeline `wide` with `tasks` task instances each.
async fn fill(project: &std::path::Path, tasks: usize, runs: usize) -> anyhow::Result<()> {
    let data = project.join(".weir");
    std::fs::create_dir_all(&data)?;
    let url = format!("sqlite://{}", data.join("weir.db").display());
    let store: std::sync::Arc<dyn Store> = weir_store::open(&url)
        .await
        .with_context(|| format!("cannot open {url}"))?;
    let hour = 3_600_000_000i64;
    let start = weir_engine::time::now_us() - runs as i64 * hour;
    for r in 0..runs {
        let at = start + r as i64 * hour;
        let id = format!("wide__scheduled__{}", weir_engine::time::format_us(at));
        // One failure in seven runs, so the grid has colours to draw.
        let failed = r % 7 == 3;
        let mut batch: Vec<Mutation> = vec![
            RunMutation::InsertRun(RunRecord {
                id: id.clone(),
                pipeline: "wide".into(),
                version: "bench".into(),
                state: if failed { "failed" } else { "success" }.into(),
                run_type: "scheduled".into(),
                logical_date: at,
                interval_start: at,
                interval_end: at + hour,
                params: json!({}),
                created_at: at,
                started_at: Some(at),
                ended_at: Some(at + 60_000_000),
                notified: true,
                event: None,
            })
            .into(),
        ];
        for t in 0..tasks {
            let state = match (failed, t) {
                (true, t) if t == tasks / 2 => "failed",
                (true, t) if t > tasks / 2 => "upstream_failed",
                _ => "success",
            };
            let ran = state != "upstream_failed";
            batch.push(
                RunMutation::PutTask(TaskRecord {
                    run_id: id.clone(),
                    task_id: format!("g{}.t{t}", t / 10),
                    map_index: -1,
                    state: state.into(),
                    try_number: i32::from(ran),
                    max_tries: 1,
                    started_at: ran.then_some(at + t as i64 * 1_000_000),
                    ended_at: ran.then_some(at + t as i64 * 1_000_000 + 800_000),
                    next_try_at: None,
                    output: None,
                    item: None,
                    error: None,
                })
                .into(),
            );
        }
        store.apply(&batch).await?;
    }
    Ok(())
}

/// Triggers the pipeline `short` and measures from its task's recorded end to the grid page
/// (fetched again on each live event, as weir.js does) showing its cell as a success, in ms.
async fn end_to_grid(client: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<f64> {
    let mut live = client
        .get(format!("{url}/ui/live?topics=pipeline:short"))
        .bearer_auth(token)
        .send()
        .await?;
    if !live.status().is_success() {
        bail!("GET /ui/live: {}", live.status());
    }
    let triggered = client
        .post(format!("{url}/api/v1/pipelines/short/runs"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await?
        .json::<Value>()
        .await?;
    let run_id = triggered["run_id"]
        .as_str()
        .context("the trigger answered no run_id")?
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let shown_at = loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(remaining, live.chunk())
            .await
            .context("the grid did not show the task's end within 30 s")??;
        let Some(chunk) = chunk else {
            bail!("the live stream ended");
        };
        if !String::from_utf8_lossy(&chunk).contains("event: change") {
            continue;
        }
        tokio::time::sleep(DEBOUNCE).await;
        let page = client
            .get(format!("{url}/ui/pipelines/short?runs=1"))
            .bearer_auth(token)
            .send()
            .await?
            .text()
            .await?;
        let now = weir_engine::time::now_us();
        if shows_success(&page, &run_id) {
            break now;
        }
    };
    let mut run_url = reqwest::Url::parse(url)?;
    run_url
        .path_segments_mut()
        .map_err(|()| anyhow::anyhow!("{url} cannot hold a path"))?
        .extend(["api", "v1", "runs", &run_id]);
    let run = client
        .get(run_url)
        .bearer_auth(token)
        .send()
        .await?
        .json::<Value>()
        .await?;
    let ended = run["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["task_id"] == "work"))
        .and_then(|t| t["ended_at"].as_str())
        .context("the task has no end time")?;
    let ended = chrono::DateTime::parse_from_rfc3339(ended)?.timestamp_micros();
    Ok((shown_at - ended) as f64 / 1000.0)
}

/// Whether the grid's only column is the run and its `work` cell shows success.
fn shows_success(page: &str, run_id: &str) -> bool {
    let Some(row) = page.split("data-task=\"work\"").nth(1) else {
        return false;
    };
    let row = row.split("</tr>").next().unwrap_or("");
    // The column header's title starts with the run's id.
    page.contains(&format!("title=\"{run_id} · ")) && row.contains("<td class=s ")
}
