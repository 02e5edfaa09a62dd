//! `weir bench auth`: what authentication costs on the hot paths. Two real servers (this
//! executable, on projects of their own), one with authentication on and one with
//! `WEIR_AUTH_ENABLED=false`, are called the same way over keep-alive HTTP: REST calls with the
//! admin's bearer token or with none, Step Functions calls signed with Signature Version 4 (a key
//! pair from `POST /api/v1/tokens`) or unsigned.
//!
//! On a shared machine the noise is larger than what is measured: the same server measured twice
//! in a row can differ by half. So the calls alternate between the two servers one by one (which
//! goes first alternates too), both servers are started anew for each round (where a process
//! lands then changes from round to round), and the figures printed are the medians of the
//! rounds, with the spread of the rounds' overheads beside them. A request is built (and
//! signed) before its clock starts: a figure is what the server and the loopback take.

use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use weir_server::auth::sigv4;

use crate::bench::{ServerProcess, bench_config, quantile};

/// A pipeline of one no-op task: the trigger-and-wait figure.
const ONE_TASK: &str = "one";
/// A chain of no-op tasks: the chain-gap figure.
const CHAIN: &str = "chain";
/// The state machines StartExecution starts, one Pass state each: an express one (in memory)
/// and a standard one (its start committed before the answer, as a PutRecords is).
const EXPRESS: &str = "bench-express";
const STANDARD: &str = "bench-standard";

#[derive(Clone, Copy, Debug)]
enum Figure {
    ShowRun,
    TriggerAndWait,
    DescribeStateMachine,
    StartExpress,
    StartStandard,
    ChainGap,
}

impl Figure {
    fn label(self, chain: usize) -> String {
        match self {
            Figure::ShowRun => "GET /api/v1/runs/{id} (bearer token)".into(),
            Figure::TriggerAndWait => {
                "trigger + wait, one no-op task (bearer token, 2 calls)".into()
            }
            Figure::DescribeStateMachine => "DescribeStateMachine (SigV4)".into(),
            Figure::StartExpress => "StartExecution, express Pass machine (SigV4)".into(),
            Figure::StartStandard => {
                "StartExecution, standard Pass machine, durable (SigV4)".into()
            }
            Figure::ChainGap => format!("chain of {chain} no-op tasks, gap between tasks"),
        }
    }
}

/// One server and what its calls need.
struct Side {
    server: ServerProcess,
    client: reqwest::Client,
    /// The admin's bearer token; none with authentication off.
    token: Option<String>,
    /// The access key id and secret AWS calls are signed with; none with authentication off.
    keys: Option<(String, String)>,
    region: String,
    /// A finished run, for `GET /api/v1/runs/{id}`.
    run_id: String,
    express_arn: String,
    standard_arn: String,
    _project: tempfile::TempDir,
}

/// One round's figure on one side: per call (or per gap), in milliseconds.
#[derive(Clone, Copy)]
struct Sample {
    median: f64,
    p95: f64,
}

pub async fn run(calls: usize, rounds: usize, chain: usize) -> anyhow::Result<ExitCode> {
    let (calls, rounds) = (calls.max(1), rounds.max(1));
    let mut figures = vec![
        Figure::ShowRun,
        Figure::TriggerAndWait,
        Figure::DescribeStateMachine,
        Figure::StartExpress,
        Figure::StartStandard,
    ];
    if chain > 0 {
        figures.push(Figure::ChainGap);
    }
    outln!(
        "weir bench auth: two real servers, authentication on and off, started anew each round; {calls} calls per figure alternating between them; {rounds} rounds (medians of the rounds)"
    );
    let mut samples: Vec<Vec<(Sample, Sample)>> = vec![Vec::new(); figures.len()];
    for round in 0..rounds {
        // A new pair each round: which core a server lands on and what runs beside it change
        // from round to round instead of favouring one side throughout.
        let on_first = round % 2 == 0;
        let (on, off) = if on_first {
            let on = Side::start(true, chain).await?;
            (on, Side::start(false, chain).await?)
        } else {
            let off = Side::start(false, chain).await?;
            (Side::start(true, chain).await?, off)
        };
        // Not counted: connections opened, the servers' first allocations and caches.
        for figure in &figures {
            alternate(&on, &off, *figure, calls.min(50), on_first).await?;
        }
        for (figure, rounds_of_figure) in figures.iter().zip(&mut samples) {
            let (on_times, off_times) = alternate(&on, &off, *figure, calls, on_first).await?;
            rounds_of_figure.push((sample(on_times), sample(off_times)));
        }
    }
    let rows: Vec<Vec<String>> = figures
        .iter()
        .zip(&samples)
        .map(|(figure, rounds_of_figure)| row(figure.label(chain), rounds_of_figure))
        .collect();
    crate::output::table(
        &[
            "figure",
            "auth on: median / p95",
            "auth off: median / p95",
            "overhead",
            "overhead, each round",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// `calls` calls to each server, one to each in turn (which one first alternates), so that both
/// see the same moments of the machine; or one run of the chain on each. Milliseconds per call
/// (or per gap), with authentication on and off.
async fn alternate(
    on: &Side,
    off: &Side,
    figure: Figure,
    calls: usize,
    on_first: bool,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    if let Figure::ChainGap = figure {
        return Ok(if on_first {
            let on_gaps = on.chain_gaps().await?;
            (on_gaps, off.chain_gaps().await?)
        } else {
            let off_gaps = off.chain_gaps().await?;
            (on.chain_gaps().await?, off_gaps)
        });
    }
    let mut on_times = Vec::with_capacity(calls);
    let mut off_times = Vec::with_capacity(calls);
    for call in 0..calls {
        if (call % 2 == 0) == on_first {
            on_times.push(on.call(figure).await?);
            off_times.push(off.call(figure).await?);
        } else {
            off_times.push(off.call(figure).await?);
            on_times.push(on.call(figure).await?);
        }
    }
    Ok((on_times, off_times))
}

/// A figure's line: the medians of the rounds with authentication on and off, the overhead of
/// the median, and the spread of the rounds' overheads (the noise to read it against).
fn row(label: String, rounds: &[(Sample, Sample)]) -> Vec<String> {
    let median_of = |pick: &dyn Fn(&(Sample, Sample)) -> f64| {
        let mut values: Vec<f64> = rounds.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        quantile(&values, 0.5)
    };
    let on = (median_of(&|r| r.0.median), median_of(&|r| r.0.p95));
    let off = (median_of(&|r| r.1.median), median_of(&|r| r.1.p95));
    let mut each: Vec<f64> = rounds
        .iter()
        .map(|(on, off)| overhead(on.median, off.median))
        .collect();
    each.sort_by(f64::total_cmp);
    let spread = match (each.first(), each.last()) {
        (Some(low), Some(high)) if each.len() > 1 => format!("{low:+.1} … {high:+.1} %"),
        (Some(only), _) => format!("{only:+.1} %"),
        _ => "-".into(),
    };
    vec![
        label,
        format!("{:.3} / {:.3} ms", on.0, on.1),
        format!("{:.3} / {:.3} ms", off.0, off.1),
        format!("{:+.1} %", overhead(on.0, off.0)),
        spread,
    ]
}

fn overhead(on: f64, off: f64) -> f64 {
    (on / off - 1.0) * 100.0
}

fn sample(mut values: Vec<f64>) -> Sample {
    values.sort_by(f64::total_cmp);
    Sample {
        median: quantile(&values, 0.5),
        p95: quantile(&values, 0.95),
    }
}

impl Side {
    async fn start(auth: bool, chain: usize) -> anyhow::Result<Side> {
        let project = tempfile::tempdir().context("temporary directory")?;
        let pipelines = project.path().join("pipelines");
        std::fs::create_dir_all(&pipelines)?;
        std::fs::write(
            pipelines.join(format!("{ONE_TASK}.yaml")),
            "tasks:\n  only:\n    noop: true\n",
        )?;
        if chain > 0 {
            let mut yaml = String::from("tasks:\n");
            for i in 0..chain {
                yaml.push_str(&format!("  t{i}:\n    noop: true\n"));
                if i > 0 {
                    yaml.push_str(&format!("    depends_on: [t{}]\n", i - 1));
                }
            }
            std::fs::write(pipelines.join(format!("{CHAIN}.yaml")), yaml)?;
        }
        let enabled = if auth { "true" } else { "false" };
        // Errors only: the server with authentication off warns that it is off.
        let env = [("WEIR_AUTH_ENABLED", enabled), ("WEIR_LOG", "error")];
        let server = ServerProcess::start(project.path(), &env).await?;
        let mut side = Side {
            token: None,
            keys: None,
            region: bench_config()?.aws.region,
            client: reqwest::Client::new(),
            server,
            run_id: String::new(),
            express_arn: String::new(),
            standard_arn: String::new(),
            _project: project,
        };
        if auth {
            side.token = Some(
                side.server
                    .admin_token()
                    .context("the server with authentication on wrote no admin token")?,
            );
            let request = side
                .rest(Method::POST, "/api/v1/tokens")
                .json(&json!({"role": "admin", "name": "bench"}))
                .build()?;
            let issued = side.send(request).await?;
            let key = |field: &str| {
                issued[field]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("POST /api/v1/tokens answered no {field}"))
            };
            side.keys = Some((key("access_key_id")?, key("secret_access_key")?));
        }
        side.express_arn = side.create_machine(EXPRESS, "EXPRESS").await?;
        side.standard_arn = side.create_machine(STANDARD, "STANDARD").await?;
        side.run_id = side.trigger_and_wait(ONE_TASK).await?;
        Ok(side)
    }

    /// Creates a one-Pass-state machine of `machine_type` (`EXPRESS`, `STANDARD`); its ARN.
    async fn create_machine(&self, name: &str, machine_type: &str) -> anyhow::Result<String> {
        let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
        let created = self
            .send(self.aws(
                "CreateStateMachine",
                &json!({
                    "name": name,
                    "definition": definition.to_string(),
                    "roleArn": "arn:aws:iam::000000000000:role/weir-bench",
                    "type": machine_type,
                }),
            )?)
            .await?;
        Ok(created["stateMachineArn"]
            .as_str()
            .context("CreateStateMachine answered no stateMachineArn")?
            .to_owned())
    }

    /// One call of `figure` (not the chain), timed from its sending to its answer read, in
    /// milliseconds.
    async fn call(&self, figure: Figure) -> anyhow::Result<f64> {
        let request = match figure {
            Figure::ShowRun => self
                .rest(Method::GET, &format!("/api/v1/runs/{}", self.run_id))
                .build()?,
            Figure::DescribeStateMachine => self.aws(
                "DescribeStateMachine",
                &json!({"stateMachineArn": self.express_arn}),
            )?,
            Figure::StartExpress => self.aws(
                "StartExecution",
                &json!({"stateMachineArn": self.express_arn}),
            )?,
            Figure::StartStandard => self.aws(
                "StartExecution",
                &json!({"stateMachineArn": self.standard_arn}),
            )?,
            Figure::TriggerAndWait | Figure::ChainGap => {
                let started = Instant::now();
                self.trigger_and_wait(ONE_TASK).await?;
                return Ok(started.elapsed().as_secs_f64() * 1000.0);
            }
        };
        let started = Instant::now();
        self.send(request).await?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }

    /// Triggers a run of `pipeline`, waits for its end, and returns its id.
    async fn trigger_and_wait(&self, pipeline: &str) -> anyhow::Result<String> {
        let trigger = self
            .rest(Method::POST, &format!("/api/v1/pipelines/{pipeline}/runs"))
            .json(&json!({}))
            .build()?;
        let run = self.send(trigger).await?;
        let run_id = run["run_id"]
            .as_str()
            .context("the trigger answered no run_id")?
            .to_owned();
        loop {
            let wait = self
                .rest(Method::GET, &format!("/api/v1/runs/{run_id}/wait"))
                .build()?;
            let run = self.send(wait).await?;
            match run["state"].as_str() {
                Some("success") => return Ok(run_id),
                Some("queued" | "running") => continue,
                state => bail!("benchmark run {run_id} ended {state:?}"),
            }
        }
    }

    /// One run of the chain: the gaps from each task's end to the next one's start, read from
    /// its attempts, in milliseconds.
    async fn chain_gaps(&self) -> anyhow::Result<Vec<f64>> {
        let run_id = self.trigger_and_wait(CHAIN).await?;
        let request = self
            .rest(Method::GET, &format!("/api/v1/runs/{run_id}/attempts"))
            .build()?;
        let answer = self.send(request).await?;
        let mut attempts: Vec<(usize, i64, Option<i64>)> = answer["attempts"]
            .as_array()
            .context("the attempts answer has no attempts")?
            .iter()
            .filter_map(|attempt| {
                let index = attempt["task_id"]
                    .as_str()?
                    .strip_prefix('t')?
                    .parse()
                    .ok()?;
                Some((
                    index,
                    attempt["started_at_us"].as_i64()?,
                    attempt["ended_at_us"].as_i64(),
                ))
            })
            .collect();
        attempts.sort_unstable_by_key(|(index, _, _)| *index);
        Ok(attempts
            .windows(2)
            .filter_map(|pair| Some((pair[1].1 - pair[0].2?) as f64 / 1000.0))
            .collect())
    }

    /// A call of the native API, with the bearer token when authentication is on.
    fn rest(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.server.url));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// A Step Functions call on `POST /`, signed when authentication is on.
    fn aws(&self, operation: &str, body: &Value) -> anyhow::Result<reqwest::Request> {
        let body = body.to_string().into_bytes();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_str(&self.server.host)?);
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        headers.insert(
            "x-amz-target",
            HeaderValue::from_str(&format!("AWSStepFunctions.{operation}"))?,
        );
        if let Some((access_key_id, secret_access_key)) = &self.keys {
            let signer = sigv4::Signer {
                access_key_id,
                secret_access_key,
                region: &self.region,
                service: "states",
            };
            let unsigned = sigv4::Unsigned {
                method: "POST",
                path: "/",
                query: None,
                body: &body,
            };
            sigv4::sign(&unsigned, &mut headers, &signer, SystemTime::now())?;
        }
        Ok(self
            .client
            .post(format!("{}/", self.server.url))
            .headers(headers)
            .body(body)
            .build()?)
    }

    /// Sends a request and reads its answer whole; anything but a success is an error (a
    /// benchmark of refusals would measure nothing).
    async fn send(&self, request: reqwest::Request) -> anyhow::Result<Value> {
        let what = match request.headers().get("x-amz-target") {
            Some(target) => String::from_utf8_lossy(target.as_bytes()).into_owned(),
            None => format!("{} {}", request.method(), request.url().path()),
        };
        let response = self.client.execute(request).await?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            bail!(
                "{what} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body).with_context(|| format!("{what} answered no JSON"))
    }
}
