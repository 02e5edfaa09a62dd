//! `weir bench …`: benchmarks that print their figures. Not timed tests: they measure and report.
//!
//! Gaps are measured from the attempt records: the time between one task's action ending and the
//! next task's action starting, which covers the engine's decision, the durable commit (fsync)
//! and the launch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use weir_engine::{Engine, EngineOptions, TriggerRequest, actions::Registry};
use weir_model::config::Config;
use weir_store::Store;

use crate::args::BenchCommand;

pub async fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Pipelines {
            chain,
            commands,
            fanout,
            idle_pipelines,
            store,
        } => {
            outln!(
                "weir bench pipelines ({} store)",
                if store.is_some() {
                    "given"
                } else {
                    "embedded SQLite"
                }
            );
            if chain > 0 {
                let figures = chain_gaps(chain, "noop: true", store.as_deref()).await?;
                outln!(
                    "chain of {chain} no-op tasks: median gap {:.3} ms, p95 {:.3} ms, total {:.2} s",
                    figures.median_ms,
                    figures.p95_ms,
                    figures.total_s
                );
            }
            if commands > 0 {
                let figures = chain_gaps(commands, "command: \"true\"", store.as_deref()).await?;
                outln!(
                    "chain of {commands} `command: true` tasks: median gap {:.3} ms, p95 {:.3} ms, total {:.2} s",
                    figures.median_ms,
                    figures.p95_ms,
                    figures.total_s
                );
            }
            if fanout > 0 {
                let (per_second, seconds) = fanout_rate(fanout, store.as_deref()).await?;
                outln!(
                    "fan-out of {fanout} no-op tasks: {per_second:.0} completions/s ({seconds:.2} s)"
                );
            }
            if idle_pipelines > 0 {
                let rss = idle_memory(idle_pipelines).await?;
                outln!(
                    "idle server with {idle_pipelines} pipelines: {:.1} MB resident",
                    rss as f64 / 1_048_576.0
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Machines {
            chain,
            map,
            starts,
            runs,
            store,
        } => crate::bench_machines::run(chain, map, starts, runs, store.as_deref()).await,
        BenchCommand::Auth {
            calls,
            rounds,
            chain,
        } => crate::bench_auth::run(calls, rounds, chain).await,
        BenchCommand::Streams {
            records,
            writers,
            http_seconds,
            connections,
            shards,
            latency_records,
        } => {
            crate::bench_streams::run(crate::bench_streams::StreamsBench {
                records,
                writers,
                http_seconds,
                connections,
                shards,
                latency_records,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Events {
            rules,
            match_seconds,
            latency_events,
            queue_seconds,
            connections,
        } => {
            crate::bench_events::run(crate::bench_events::EventsBench {
                rules,
                match_seconds,
                latency_events,
                queue_seconds,
                connections,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Dashboard {
            tasks,
            runs,
            requests,
            latency_runs,
            map_items,
        } => {
            crate::bench_dashboard::run(crate::bench_dashboard::DashboardBench {
                tasks,
                runs,
                requests,
                latency_runs,
                map_items,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Transforms { rows, dir } => {
            let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("weir-transform-bench"));
            let report = weir_lake::transform::bench::run(&dir, rows)
                .await
                .map_err(|e| anyhow::anyhow!("transform benchmark: {e}"))?;
            outln!("{}", report.trim_end());
            Ok(ExitCode::SUCCESS)
        }
    }
}

struct Gaps {
    median_ms: f64,
    p95_ms: f64,
    total_s: f64,
}

/// The defaults, with `WEIR_*` environment overrides (e.g. `WEIR_EXECUTOR_MAX_PARALLEL_TASKS`).
pub(crate) fn bench_config() -> anyhow::Result<Config> {
    crate::settings::load(std::path::Path::new("/nonexistent-weir-bench-project")).map_err(
        |problems| {
            anyhow::anyhow!(
                "invalid configuration: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        },
    )
}

async fn start_engine(
    project: &Path,
    store_url: Option<&str>,
    config: Config,
) -> anyhow::Result<Engine> {
    let data = project.join(".weir");
    std::fs::create_dir_all(&data)?;
    let url = match store_url {
        Some(url) => url.to_string(),
        None => format!("sqlite://{}", data.join("weir.db").display()),
    };
    let store: Arc<dyn Store> = weir_store::open(&url)
        .await
        .with_context(|| format!("cannot open {url}"))?;
    Ok(Engine::start(EngineOptions {
        project_dir: project.to_path_buf(),
        data_dir: data,
        config,
        store,
        registry: Registry::builtin(),
        watch: false,
        public_url: String::new(),
    })
    .await?)
}

async fn run_once(engine: &Engine, pipeline: &str) -> anyhow::Result<String> {
    let run = engine
        .trigger(TriggerRequest {
            pipeline: pipeline.into(),
            ..Default::default()
        })
        .await?;
    let done = engine.wait(&run.id, Duration::from_secs(3600)).await?;
    if done.state != "success" {
        bail!("benchmark run {} ended {}", done.id, done.state);
    }
    Ok(run.id)
}

async fn chain_gaps(tasks: usize, action: &str, store: Option<&str>) -> anyhow::Result<Gaps> {
    let dir = tempfile::tempdir()?;
    let mut yaml = String::from("tasks:\n");
    for i in 0..tasks {
        yaml.push_str(&format!("  t{i}:\n    {action}\n"));
        if i > 0 {
            yaml.push_str(&format!("    depends_on: [t{}]\n", i - 1));
        }
    }
    std::fs::create_dir_all(dir.path().join("pipelines"))?;
    std::fs::write(dir.path().join("pipelines/chain.yaml"), yaml)?;
    let engine = start_engine(dir.path(), store, bench_config()?).await?;
    let started = Instant::now();
    let run_id = run_once(&engine, "chain").await?;
    let total_s = started.elapsed().as_secs_f64();
    let mut attempts = engine.store().attempts(&run_id, None).await?;
    attempts.sort_by_key(|a| a.task_id[1..].parse::<usize>().unwrap_or(0));
    let mut gaps: Vec<f64> = attempts
        .windows(2)
        .filter_map(|w| Some((w[1].started_at - w[0].ended_at?) as f64 / 1000.0))
        .collect();
    gaps.sort_by(f64::total_cmp);
    Ok(Gaps {
        median_ms: quantile(&gaps, 0.5),
        p95_ms: quantile(&gaps, 0.95),
        total_s,
    })
}

async fn fanout_rate(tasks: usize, store: Option<&str>) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let mut yaml = String::from("tasks:\n");
    for i in 0..tasks {
        yaml.push_str(&format!("  t{i}: {{ noop: true }}\n"));
    }
    std::fs::create_dir_all(dir.path().join("pipelines"))?;
    std::fs::write(dir.path().join("pipelines/fanout.yaml"), yaml)?;
    let engine = start_engine(dir.path(), store, bench_config()?).await?;
    let started = Instant::now();
    let run_id = run_once(&engine, "fanout").await?;
    let seconds = started.elapsed().as_secs_f64();
    let attempts = engine.store().attempts(&run_id, None).await?;
    let done = attempts.iter().filter(|a| a.state == "success").count();
    if done != tasks {
        bail!("only {done} of {tasks} tasks succeeded");
    }
    Ok((tasks as f64 / seconds, seconds))
}

/// Starts the real server on a project of `pipelines` pipelines and reads its resident memory.
async fn idle_memory(pipelines: usize) -> anyhow::Result<u64> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("pipelines"))?;
    for p in 0..pipelines {
        let mut yaml = format!(
            "schedule: \"{} * * * *\"\nstart_date: 2026-01-01\ntasks:\n",
            p % 60
        );
        for t in 0..10 {
            yaml.push_str(&format!(
                "  t{t}:\n    command: echo {p}-{t} {{{{ ds }}}}\n"
            ));
            if t > 0 {
                yaml.push_str(&format!("    depends_on: [t{}]\n", t - 1));
            }
        }
        std::fs::write(dir.path().join(format!("pipelines/p{p}.yaml")), yaml)?;
    }
    let server = ServerProcess::start(dir.path(), &[]).await?;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/pipelines", server.url);
    let token = server.admin_token().unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let request = client.get(&url).bearer_auth(&token);
        if let Ok(response) = request.send().await {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if body["pipelines"].as_array().map(Vec::len) == Some(pipelines) {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("server did not load {pipelines} pipelines in time");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid))?;
    drop(server);
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    Ok(kb * 1024)
}

/// Calls of the bench server's AWS JSON protocols (`PROTOCOL.OPERATION` on `POST /`) with the
/// admin's bearer token.
#[derive(Clone)]
pub(crate) struct AwsJson {
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT/`
    pub url: String,
    pub token: String,
}

impl AwsJson {
    pub(crate) fn request_to(
        &self,
        protocol: &str,
        operation: &str,
        body: String,
    ) -> reqwest::RequestBuilder {
        self.client
            .post(&self.url)
            .header("X-Amz-Target", format!("{protocol}.{operation}"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .bearer_auth(&self.token)
            .body(body)
    }

    pub(crate) async fn call_to(
        &self,
        protocol: &str,
        operation: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let request = self.request_to(protocol, operation, body.to_string());
        self.answer(operation, request).await
    }

    pub(crate) async fn answer(
        &self,
        operation: &str,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<Value> {
        let answer = request.send().await?;
        let status = answer.status();
        let text = answer.text().await?;
        if !status.is_success() {
            bail!("{operation} answered {status}: {text}");
        }
        Ok(if text.is_empty() {
            serde_json::json!({})
        } else {
            serde_json::from_str(&text)?
        })
    }
}

/// The real `weir server` (this executable) on a project, on a free loopback port; killed when
/// dropped.
pub(crate) struct ServerProcess {
    child: tokio::process::Child,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`, the `Host` clients send.
    pub host: String,
    data: PathBuf,
}

impl ServerProcess {
    /// Starts the server with `env` added to its environment and waits until it answers.
    pub(crate) async fn start(project: &Path, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let host = format!("127.0.0.1:{}", free_port()?);
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["server", "--project"])
            .arg(project)
            .args(["--listen", &host])
            .env("WEIR_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().context("server has no pid")?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = format!("http://{host}");
        let health = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answer = health.get(format!("{url}/healthz")).send().await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!("the benchmark's server ended at start ({status})");
            }
            if Instant::now() > deadline {
                bail!("the benchmark's server did not answer in 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(ServerProcess {
            child,
            pid,
            url,
            host,
            data: project.join(".weir"),
        })
    }

    /// The admin token the server wrote before it listened (none with authentication off).
    pub(crate) fn admin_token(&self) -> Option<String> {
        let token = std::fs::read_to_string(self.data.join("admin-token")).ok()?;
        Some(token.trim().to_string()).filter(|token| !token.is_empty())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The value at quantile `q` (0 to 1) of sorted figures; NaN when there are none.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
