//! The history the stream pages chart: every [`INTERVAL`] a background task reads each stream's
//! counters ([`weir_stream::Streams::activity`], numbers in memory) and each consumer group's
//! lag, and keeps the last hour per stream. Rates need two readings, so the first point of a
//! stream comes one interval after the task first sees it.
//!
//! One task per server, started by the first page that asks ([`Samples::shared`]); it holds
//! the server only weakly and ends when the server is gone or stopping. Bounded: at most
//! [`MAX_STREAMS`] streams × [`POINTS`] points, each with at most [`MAX_CONSUMERS`] lags.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::AppState;

/// How often the streams are read.
pub(crate) const INTERVAL: Duration = Duration::from_secs(5);
/// Points kept per stream: an hour at [`INTERVAL`].
pub(crate) const POINTS: usize = 720;
/// Streams sampled at most (the first by name); the rest have no history.
pub(crate) const MAX_STREAMS: usize = 128;
/// Consumer groups whose lag one point keeps at most (the first by name). With a point's 48
/// bytes and 32 per lag, the history holds at most 128 × 720 × 176 bytes: about 16 MB.
pub(crate) const MAX_CONSUMERS: usize = 4;

/// One reading of a stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    pub records_per_s: f64,
    pub bytes_per_s: f64,
    /// Per consumer group: the worst shard's milliseconds and records behind. The names are
    /// shared with the point before, so an hour of points holds each name once.
    pub lag: Vec<(Arc<str>, i64, u64)>,
}

/// One stream's history, and the counters of its last reading (for the next rate).
#[derive(Debug, Default)]
struct History {
    points: VecDeque<Point>,
    last: Option<(i64, u64, u64)>,
}

/// Every sampled stream's history.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    streams: Mutex<HashMap<String, History>>,
}

/// The servers of this process with their samples, each held weakly: a server that is gone
/// drops out at the next look.
type Registry = Mutex<Vec<(Weak<AppState>, Arc<Samples>)>>;
static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();

impl Samples {
    /// The samples of this server, starting its sampler on first use.
    pub(crate) fn shared(state: &Arc<AppState>) -> Arc<Samples> {
        let registry = REGISTRY.get_or_init(Registry::default);
        let mut servers = registry.lock().unwrap_or_else(|e| e.into_inner());
        servers.retain(|(server, _)| server.strong_count() > 0);
        if let Some((_, samples)) = servers
            .iter()
            .find(|(server, _)| std::ptr::eq(server.as_ptr(), Arc::as_ptr(state)))
        {
            return Arc::clone(samples);
        }
        let samples = Arc::new(Samples::default());
        servers.push((Arc::downgrade(state), Arc::clone(&samples)));
        tokio::spawn(run(Arc::downgrade(state), Arc::clone(&samples)));
        samples
    }

    /// A stream's points, oldest first.
    pub(crate) fn points(&self, stream: &str) -> Vec<Point> {
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(stream)
            .map(|history| history.points.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A stream's average records/s and bytes/s over its points of the last `window`; None
    /// before there are any.
    pub(crate) fn recent_rate(&self, stream: &str, window: Duration) -> Option<(f64, f64)> {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let points = &streams.get(stream)?.points;
        let newest = points.back()?.at_ms;
        let since = newest - window.as_millis() as i64;
        let recent: Vec<&Point> = points.iter().filter(|p| p.at_ms > since).collect();
        let n = recent.len() as f64;
        Some((
            recent.iter().map(|p| p.records_per_s).sum::<f64>() / n,
            recent.iter().map(|p| p.bytes_per_s).sum::<f64>() / n,
        ))
    }

    /// Takes a reading of `stream` at `at_ms`: its counters (records, bytes, as
    /// [`weir_stream::StreamActivity`] counts them) and its groups' lag. The first reading of a
    /// stream only sets the counters; counters that went back (the stream was made again)
    /// start over.
    pub(crate) fn record(
        &self,
        stream: &str,
        at_ms: i64,
        (records, bytes): (u64, u64),
        lag: Vec<(String, i64, u64)>,
    ) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if !streams.contains_key(stream) && streams.len() >= MAX_STREAMS {
            return;
        }
        let history = streams.entry(stream.to_string()).or_default();
        let previous = history.last.replace((at_ms, records, bytes));
        let Some((then, then_records, then_bytes)) = previous else {
            return;
        };
        let seconds = (at_ms - then) as f64 / 1000.0;
        if seconds <= 0.0 || records < then_records || bytes < then_bytes {
            return;
        }
        let before = history
            .points
            .back()
            .map(|p| p.lag.as_slice())
            .unwrap_or_default();
        let lag = lag
            .into_iter()
            .take(MAX_CONSUMERS)
            .map(|(group, millis, records)| {
                let name = before
                    .iter()
                    .find(|(known, _, _)| **known == *group)
                    .map_or_else(
                        || Arc::from(group.as_str()),
                        |(known, _, _)| Arc::clone(known),
                    );
                (name, millis, records)
            })
            .collect();
        history.points.push_back(Point {
            at_ms,
            records_per_s: (records - then_records) as f64 / seconds,
            bytes_per_s: (bytes - then_bytes) as f64 / seconds,
            lag,
        });
        while history.points.len() > POINTS {
            history.points.pop_front();
        }
    }

    /// Forgets the streams not in `keep` (deleted ones).
    fn retain(&self, keep: &[String]) {
        self.streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|name, _| keep.contains(name));
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        (
            streams.len(),
            streams.values().map(|h| h.points.len()).max().unwrap_or(0),
        )
    }
}

/// Reads every stream each interval until the server is gone or stopping.
async fn run(server: Weak<AppState>, samples: Arc<Samples>) {
    let Some(mut stopping) = server.upgrade().map(|state| state.stopping.subscribe()) else {
        return;
    };
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopping.wait_for(|stopping| *stopping) => return,
        }
        let Some(state) = server.upgrade() else {
            return;
        };
        let Some(streams) = state.streams.clone() else {
            return;
        };
        drop(state);
        sample(&streams, &samples);
    }
}

/// One reading of every (not reserved) stream, the first [`MAX_STREAMS`] by name.
fn sample(streams: &weir_stream::Streams, samples: &Samples) {
    let now = weir_engine::time::now_us() / 1000;
    let names: Vec<String> = streams
        .list()
        .into_iter()
        .map(|s| s.name)
        .filter(|name| !weir_stream::is_reserved(name))
        .take(MAX_STREAMS)
        .collect();
    samples.retain(&names);
    for name in &names {
        let Ok(activity) = streams.activity(name) else {
            continue;
        };
        samples.record(
            name,
            now,
            (activity.records, activity.bytes),
            worst_lag(streams, name),
        );
    }
}

/// Each consumer group of `stream` with its worst shard's lag (milliseconds, records), by name.
pub(crate) fn worst_lag(streams: &weir_stream::Streams, stream: &str) -> Vec<(String, i64, u64)> {
    let mut worst: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    for group in streams.consumer_groups(stream) {
        let entry = worst.entry(group.group).or_default();
        for shard in &group.shards {
            entry.0 = entry.0.max(shard.millis_behind);
            entry.1 = entry.1.max(shard.records_behind);
        }
    }
    worst
        .into_iter()
        .map(|(group, (millis, records))| (group, millis, records))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_two_readings() {
        let samples = Samples::default();
        samples.record("s", 1_000, (10, 1_000), Vec::new());
        assert!(samples.points("s").is_empty());
        samples.record("s", 6_000, (60, 6_000), vec![("g".into(), 250, 3)]);
        let points = samples.points("s");
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].records_per_s, 10.0);
        assert_eq!(points[0].bytes_per_s, 1_000.0);
        assert_eq!(points[0].lag, vec![(Arc::from("g"), 250, 3)]);
        assert_eq!(
            samples.recent_rate("s", Duration::from_secs(60)),
            Some((10.0, 1_000.0))
        );
        // Counters that went back (the stream was made again) start over without a point.
        samples.record("s", 11_000, (5, 10), Vec::new());
        assert_eq!(samples.points("s").len(), 1);
        samples.record("s", 16_000, (10, 20), Vec::new());
        assert_eq!(samples.points("s").len(), 2);
        assert_eq!(
            samples.recent_rate("missing", Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn memory_is_bounded_by_streams_points_and_consumers() {
        let samples = Samples::default();
        let many_groups: Vec<(String, i64, u64)> =
            (0..50).map(|i| (format!("g{i}"), i, i as u64)).collect();
        for stream in 0..(MAX_STREAMS + 40) {
            for tick in 0..(POINTS + 100) as u64 {
                samples.record(
                    &format!("stream-{stream:04}"),
                    tick as i64 * 5_000,
                    (tick * 10, tick * 100),
                    many_groups.clone(),
                );
            }
        }
        let (streams, most_points) = samples.sizes();
        assert_eq!(streams, MAX_STREAMS);
        assert_eq!(most_points, POINTS);
        let points = samples.points("stream-0000");
        assert!(points.iter().all(|p| p.lag.len() == MAX_CONSUMERS));
        // One copy of each name for the whole history.
        assert!(Arc::ptr_eq(
            &points[0].lag[0].0,
            &points[POINTS - 1].lag[0].0
        ));
        // The oldest points went first: the newest reading is kept.
        assert_eq!(
            points.last().map(|p| p.at_ms),
            Some((POINTS as i64 + 99) * 5_000)
        );
        // Streams past the cap have no history.
        assert!(
            samples
                .points(&format!("stream-{:04}", MAX_STREAMS + 39))
                .is_empty()
        );
        samples.retain(&["stream-0001".to_string()]);
        assert_eq!(samples.sizes().0, 1);
    }
}
