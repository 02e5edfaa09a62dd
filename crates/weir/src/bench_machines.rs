//! `weir bench machines`: the state-machine interpreter's figures, in process, on a real store
//! (embedded SQLite in a temporary directory unless `--store` names one). Every transition's
//! history events and step records are committed: an execution counts as done once its end is
//! durable.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use weir_engine::actions::Registry;
use weir_engine::machines::{Machines, MachinesOptions, NewExecution, NewMachine};
use weir_store::Store;

pub async fn run(
    chain: usize,
    map: usize,
    starts: usize,
    runs: usize,
    store: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let url = match store {
        Some(url) => url.to_string(),
        None => format!("sqlite://{}", dir.path().join("weir.db").display()),
    };
    let store: Arc<dyn Store> = weir_store::open(&url)
        .await
        .with_context(|| format!("cannot open {url}"))?;
    let machines = Machines::start(MachinesOptions {
        store: store.clone(),
        project_dir: dir.path().to_path_buf(),
        data_dir: dir.path().join("data"),
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        engine: None,
        functions: None,
        actions: Registry::builtin(),
        objects: None,
        secrets: std::sync::Arc::new(weir_engine::secrets::Secrets::none()),
        watch: false,
        max_processes: 64,
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runs = runs.max(1);
    outln!(
        "weir bench machines ({})",
        if url.starts_with("sqlite") {
            "embedded SQLite"
        } else {
            "given store"
        }
    );
    if chain > 0 {
        let states: serde_json::Map<String, Value> = (0..chain)
            .map(|i| {
                let state = if i + 1 == chain {
                    json!({"Type": "Pass", "End": true})
                } else {
                    json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
                };
                (format!("S{i}"), state)
            })
            .collect();
        let definition = json!({"StartAt": "S0", "States": states});
        let arn = create(&machines, "chain", &definition).await?;
        let (rate, seconds) = median_rate(&machines, &store, &arn, runs, None).await?;
        outln!(
            "chain of {chain} Pass states: {rate:.0} transitions/s ({seconds:.3} s per execution, median of {runs})"
        );
    }
    if map > 0 {
        let definition = json!({
            "StartAt": "Each",
            "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": null,
                "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}},
                "End": true}}
        });
        let arn = create(&machines, "fanout", &definition).await?;
        let input = json!({ "items": (0..map).collect::<Vec<_>>() }).to_string();
        let (rate, seconds) =
            median_rate(&machines, &store, &arn, runs, Some(input.clone())).await?;
        outln!(
            "Map over {map} items: {rate:.0} transitions/s ({seconds:.3} s per execution, median of {runs})"
        );
        // The same in memory (an express machine: no history, nothing committed), which
        // separates the interpreter's own cost from the store's.
        let express = machines
            .create(NewMachine {
                name: "fanout-express".into(),
                definition: definition.to_string(),
                machine_type: Some("EXPRESS".into()),
                ..NewMachine::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started_at = Instant::now();
            let done = machines
                .start_sync_execution(NewExecution {
                    machine_arn: express.arn.clone(),
                    name: None,
                    input: Some(input.clone()),
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if done.status != "SUCCEEDED" {
                bail!("express Map ended {}: {:?}", done.status, done.cause);
            }
            times.push(started_at.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let seconds = times[times.len() / 2];
        outln!(
            "Map over {map} items, express (in memory, no history): {:.0} transitions/s ({seconds:.3} s)",
            (map + 1) as f64 / seconds
        );
    }
    if starts > 0 {
        let definition =
            json!({"StartAt": "First", "States": {"First": {"Type": "Pass", "End": true}}});
        let arn = create(&machines, "latency", &definition).await?;
        let mut latencies = Vec::with_capacity(starts);
        for _ in 0..starts {
            let before = weir_engine::time::now_us();
            let started = start(&machines, &arn, None).await?;
            machines
                .wait(&started, Duration::from_secs(30))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let history = store.history(&started).await?;
            let Some(entered) = history
                .iter()
                .find(|e| e.event_type.ends_with("StateEntered"))
            else {
                bail!("{started}: no state was entered");
            };
            latencies.push((entered.at - before) as f64 / 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        let median = latencies[latencies.len() / 2];
        let p95 = latencies[(latencies.len() * 95 / 100).min(latencies.len() - 1)];
        outln!(
            "StartExecution to first state entered: median {median:.3} ms, p95 {p95:.3} ms ({starts} executions)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn create(machines: &Machines, name: &str, definition: &Value) -> anyhow::Result<String> {
    let machine = machines
        .create(NewMachine {
            name: name.into(),
            definition: definition.to_string(),
            ..NewMachine::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(machine.arn)
}

async fn start(machines: &Machines, arn: &str, input: Option<String>) -> anyhow::Result<String> {
    let started = machines
        .start_execution(NewExecution {
            machine_arn: arn.into(),
            name: None,
            input,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(started.arn)
}

/// Transitions (states entered) per second of whole executions, start to durable end.
async fn median_rate(
    machines: &Machines,
    store: &Arc<dyn Store>,
    arn: &str,
    runs: usize,
    input: Option<String>,
) -> anyhow::Result<(f64, f64)> {
    let mut figures = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started_at = Instant::now();
        let execution = start(machines, arn, input.clone()).await?;
        let done = machines
            .wait(&execution, Duration::from_secs(600))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let seconds = started_at.elapsed().as_secs_f64();
        if done.status != "SUCCEEDED" {
            bail!("{execution} ended {}: {:?}", done.status, done.cause);
        }
        let history = store.history(&execution).await?;
        let transitions = history
            .iter()
            .filter(|e| e.event_type.ends_with("StateEntered"))
            .count();
        figures.push((transitions as f64 / seconds, seconds));
    }
    figures.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(figures[figures.len() / 2])
}
