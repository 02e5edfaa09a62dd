//! Queue mappings on a real SQLite store, real `Queues` and real function processes: batches
//! gathered over the batching window, `MaximumConcurrency` invocations at once at most, every
//! message handled once and deleted, and a stopped mapping's long polls ended at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use weir_model::config::Config;
use weir_model::event_source::EventSourceConfig;
use weir_store::{Committer, Store};

use super::EventSources;
use crate::functions::Functions;
use crate::queues::{NewMessage, Queues};

struct Fixture {
    project: tempfile::TempDir,
    _data: tempfile::TempDir,
    queues: Queues,
    sources: EventSources,
}

impl Fixture {
    /// A function `handler` that sleeps `sleep_seconds` and appends, per invocation, a line with
    /// its start and end times and the bodies it got.
    async fn new(sleep_seconds: f64) -> Fixture {
        let project = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let log = project.path().join("invocations.jsonl");
        let script = format!(
            "import json, os, sys, time\nevent = json.load(sys.stdin)\nstart = time.time()\ntime.sleep({sleep_seconds})\nline = json.dumps({{'start': start, 'end': time.time(), 'bodies': [r['body'] for r in event['Records']]}})\nfd = os.open({log:?}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)\nos.write(fd, (line + '\\n').encode())\n",
            log = log.display().to_string()
        );
        std::fs::write(project.path().join("handler.py"), script).unwrap();
        std::fs::create_dir_all(project.path().join("functions")).unwrap();
        std::fs::write(
            project.path().join("functions/handler.yaml"),
            format!(
                "command: [python3, {}]\n",
                project.path().join("handler.py").display()
            ),
        )
        .unwrap();
        let url = format!("sqlite://{}/weir.db", data.path().display());
        let store: Arc<dyn Store> = weir_store::open(&url).await.unwrap();
        let committer = Committer::start(store.clone());
        let streams = weir_stream::Streams::open(
            weir_stream::StreamsConfig::new(
                data.path().join("streams"),
                "us-east-1",
                "000000000000",
            ),
            store.clone(),
            committer.clone(),
        )
        .await
        .unwrap();
        let queues = Queues::open(
            store.clone(),
            Committer::start(store.clone()),
            "us-east-1",
            "000000000000",
            "http://127.0.0.1:1",
        )
        .await
        .unwrap();
        let functions = Arc::new(Functions::new(
            project.path(),
            data.path(),
            &Config::default(),
            Arc::new(crate::secrets::Secrets::none()),
        ));
        let sources = EventSources::start(
            streams,
            Some(queues.clone()),
            store,
            committer,
            functions,
            None,
        )
        .await
        .unwrap();
        Fixture {
            project,
            _data: data,
            queues,
            sources,
        }
    }

    fn invocations(&self) -> Vec<Value> {
        invocations(self.project.path())
    }
}

fn invocations(project: &Path) -> Vec<Value> {
    std::fs::read_to_string(project.join("invocations.jsonl"))
        .unwrap_or_default()
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn message(body: String) -> NewMessage {
    NewMessage {
        body,
        ..NewMessage::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_mapping_gathers_batches_and_runs_at_most_its_concurrency() {
    let f = Fixture::new(0.4).await;
    f.queues
        .create_queue("jobs", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    for batch in 0..6 {
        let messages = (0..10)
            .map(|i| message(format!("m{}", batch * 10 + i)))
            .collect();
        for sent in f.queues.send("jobs", messages).await.unwrap() {
            sent.unwrap();
        }
    }
    let mut config = EventSourceConfig::for_queue("jobs");
    config.batch_size = 20;
    config.batching_window_seconds = 1;
    config.maximum_concurrency = Some(2);
    f.sources.create("handler", config).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let handled = |f: &Fixture| -> usize {
        f.invocations()
            .iter()
            .map(|i| i["bodies"].as_array().map_or(0, Vec::len))
            .sum()
    };
    while handled(&f) < 60 {
        assert!(Instant::now() < deadline, "{:?}", f.invocations());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let invocations = f.invocations();
    let mut bodies: Vec<String> = invocations
        .iter()
        .flat_map(|i| i["bodies"].as_array().unwrap().clone())
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 60, "each message once: {invocations:?}");
    let sizes: Vec<usize> = invocations
        .iter()
        .map(|i| i["bodies"].as_array().unwrap().len())
        .collect();
    assert!(sizes.iter().all(|n| *n <= 20), "{sizes:?}");
    assert!(
        sizes.iter().any(|n| *n > 10),
        "a batch gathers more than one receive within its window: {sizes:?}"
    );
    // At any invocation's start, at most two (itself included) were running.
    for one in &invocations {
        let at = one["start"].as_f64().unwrap();
        let running = invocations
            .iter()
            .filter(|o| o["start"].as_f64().unwrap() <= at && at < o["end"].as_f64().unwrap())
            .count();
        assert!(
            running <= 2,
            "{running} invocations at once: {invocations:?}"
        );
    }
    // Everything handled was deleted.
    let wait = Instant::now() + Duration::from_secs(10);
    loop {
        let depth = f.queues.depth("jobs").unwrap();
        if depth.visible + depth.in_flight == 0 {
            break;
        }
        assert!(Instant::now() < wait, "{depth:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_queue_mapping_ends_its_long_polls_at_once() {
    let f = Fixture::new(0.0).await;
    f.queues
        .create_queue("idle", BTreeMap::new(), BTreeMap::new())
        .await
        .unwrap();
    let info = f
        .sources
        .create("handler", EventSourceConfig::for_queue("idle"))
        .await
        .unwrap();
    // The pollers are in their long polls (20 seconds) on the empty queue.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    f.sources.delete(&info.uuid).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopping took {:?}",
        started.elapsed()
    );
    // Nothing receives any more: a message sent now stays visible.
    for sent in f
        .queues
        .send("idle", vec![message("after".into())])
        .await
        .unwrap()
    {
        sent.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(f.queues.depth("idle").unwrap().visible, 1);
    assert!(f.invocations().is_empty());
}
