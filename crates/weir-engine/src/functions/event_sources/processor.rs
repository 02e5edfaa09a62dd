//! A mapping's batch processor: invokes the function with Lambda's Kinesis event and says what
//! the consumer group may checkpoint. As Lambda does: a batch that fails is retried (only its
//! shard waits) until it succeeds, its records grow older than `MaximumRecordAgeInSeconds` or
//! `MaximumRetryAttempts` is spent, and then described to the on-failure destination and passed;
//! `BisectBatchOnFunctionError` retries the first half of a failed batch first (a split does not
//! use a retry); with `ReportBatchItemFailures`, the records before the first one reported failed
//! are checkpointed and the retry starts at it; a tumbling window hands each invocation the
//! `state` the previous one of its window returned, and its final invocation comes when the
//! window's time is up (or earlier, with the first record of a later window).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{Map, Value};
use weir_model::event_source::Destination;
use weir_store::Mutation;
use weir_stream::consumer::{ProcessError, ShardProcessor};
use weir_stream::{Record, SequenceNumber, ShardId, Streams};

use super::event::{self, Answer, EventSource, Window};
use super::failure::{self, Condition, GivenUp, ObjectWriter};
use super::{Runtime, now_ms};
use crate::functions::Functions;

/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A window's final invocation waits this long past the window's end, for records that arrived
/// in the window to become durable and readable.
const WINDOW_GRACE: Duration = Duration::from_secs(1);
/// How often a window that is due but still has records to process looks again.
const WINDOW_RECHECK: Duration = Duration::from_millis(200);
/// Why a batch whose function answered `batchItemFailures` is retried.
const ITEM_FAILURES: &str = "the function reported batch item failures";

pub(super) struct StreamInvoker {
    pub runtime: Arc<Runtime>,
    pub functions: Arc<Functions>,
    pub streams: Streams,
    pub objects: Option<Arc<dyn ObjectWriter>>,
    pub region: String,
    pub identity_arn: String,
    /// Per shard: the batch being retried.
    retries: Mutex<HashMap<ShardId, Retry>>,
    /// Per shard: the tumbling window open and its state.
    windows: Mutex<HashMap<ShardId, OpenWindow>>,
    /// Per shard, with tumbling windows: held while a batch is processed and while a window is
    /// closed, so a window's final invocation never runs beside an invocation of the shard.
    shard_turns: Mutex<HashMap<ShardId, Arc<tokio::sync::Mutex<()>>>>,
    /// Per shard: the offset after the last record processed (or given up on).
    processed_until: Mutex<HashMap<ShardId, u64>>,
    /// This invoker, for the timers that close quiet windows: they end with it (a stopped
    /// mapping closes no window).
    me: Weak<StreamInvoker>,
}

/// The retries of the batch that starts at `first`.
#[derive(Debug, Clone, Copy)]
struct Retry {
    first: SequenceNumber,
    /// Failed invocations of records from `first` (bisections excluded).
    attempts: u32,
    /// How many records from `first` the next invocation takes (smaller after a bisection).
    size: usize,
}

struct OpenWindow {
    start_ms: i64,
    state: Value,
}

/// What a due window's timer found.
enum Closing {
    /// The window was closed, now or before.
    Closed,
    /// Records of the shard are still to be processed (some may be the window's).
    NotYet,
    /// The final invocation failed; it is tried again.
    Failed,
}

/// How an invocation went.
enum Invoked {
    Answer(Answer),
    Failed(String),
}

impl StreamInvoker {
    pub(super) fn new(
        runtime: Arc<Runtime>,
        functions: Arc<Functions>,
        streams: Streams,
        objects: Option<Arc<dyn ObjectWriter>>,
        region: String,
        identity_arn: String,
    ) -> Arc<StreamInvoker> {
        Arc::new_cyclic(|me| StreamInvoker {
            runtime,
            functions,
            streams,
            objects,
            region,
            identity_arn,
            retries: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            shard_turns: Mutex::new(HashMap::new()),
            processed_until: Mutex::new(HashMap::new()),
            me: me.clone(),
        })
    }

    fn source(&self) -> EventSource<'_> {
        EventSource {
            stream_arn: &self.runtime.source_arn,
            region: &self.region,
            identity_arn: &self.identity_arn,
        }
    }

    fn window_length_ms(&self) -> i64 {
        i64::from(self.runtime.config.tumbling_window_seconds) * 1000
    }

    /// The retry state of the batch starting at `first` (a new one if another batch was retried).
    fn retry_of(&self, shard: ShardId, first: SequenceNumber, whole: usize) -> Retry {
        let mut retries = self.retries.lock().unwrap_or_else(|e| e.into_inner());
        let retry = retries.entry(shard).or_insert(Retry {
            first,
            attempts: 0,
            size: whole,
        });
        if retry.first != first {
            *retry = Retry {
                first,
                attempts: 0,
                size: whole,
            };
        }
        *retry
    }

    fn set_retry(&self, shard: ShardId, retry: Option<Retry>) {
        let mut retries = self.retries.lock().unwrap_or_else(|e| e.into_inner());
        match retry {
            Some(retry) => retries.insert(shard, retry),
            None => retries.remove(&shard),
        };
    }

    /// Invokes the function with `records` (all of one tumbling window when windows are on), or
    /// with a part of them per concurrent invocation when the parallelization factor asks for it.
    async fn invoke(&self, shard: ShardId, records: &[Record]) -> Invoked {
        let factor = self.runtime.config.parallelization_factor as usize;
        if factor > 1 && self.window_length_ms() == 0 && records.len() > 1 {
            return self.invoke_in_parallel(shard, records, factor).await;
        }
        self.invoke_once(shard, records).await
    }

    /// Lambda's ParallelizationFactor: the batch is split by partition key (a key's records stay
    /// together, in order) into up to `factor` invocations that run at once. The batch is done
    /// up to its first record that failed in any of them; the retry starts there, so records
    /// after it that succeeded elsewhere come again (at least once, as in Lambda).
    async fn invoke_in_parallel(
        &self,
        shard: ShardId,
        records: &[Record],
        factor: usize,
    ) -> Invoked {
        let mut parts: Vec<Vec<usize>> = vec![Vec::new(); factor];
        for (i, record) in records.iter().enumerate() {
            let part = weir_stream::hash::hash_key(&record.partition_key) % factor as u128;
            parts[part as usize].push(i);
        }
        let calls = parts
            .iter()
            .filter(|part| !part.is_empty())
            .map(|part| async move {
                let batch: Vec<Record> = part.iter().map(|&i| records[i].clone()).collect();
                (part, self.invoke_once(shard, &batch).await)
            });
        let mut first_failed = records.len();
        let mut error = None;
        for (part, outcome) in futures::future::join_all(calls).await {
            match outcome {
                Invoked::Answer(Answer::AllDone) => {}
                Invoked::Answer(Answer::FailedFrom(k)) => {
                    first_failed = first_failed.min(part.get(k).copied().unwrap_or(0));
                }
                Invoked::Failed(message) => {
                    first_failed = first_failed.min(part[0]);
                    error = Some(message);
                }
            }
        }
        match error {
            _ if first_failed == records.len() => Invoked::Answer(Answer::AllDone),
            Some(message) if first_failed == 0 => Invoked::Failed(message),
            _ => Invoked::Answer(Answer::FailedFrom(first_failed)),
        }
    }

    async fn invoke_once(&self, shard: ShardId, records: &[Record]) -> Invoked {
        let config = &self.runtime.config;
        let window_ms = self.window_length_ms();
        let payload = if window_ms > 0 {
            let start_ms = records
                .first()
                .map_or(0, |r| r.arrival_ms - r.arrival_ms.rem_euclid(window_ms));
            let state = self.window_state(shard, start_ms);
            let window = Window {
                start_ms,
                end_ms: start_ms + window_ms,
                state: &state,
                is_final: false,
            };
            event::windowed_event(&self.source(), shard, records, &window)
        } else {
            event::kinesis_event(&self.source(), shard, records)
        };
        match self
            .functions
            .invoke(&self.runtime.function, &payload)
            .await
        {
            Ok(invocation) => {
                if window_ms > 0 {
                    self.keep_window_state(shard, event::returned_state(&invocation.result));
                }
                self.runtime.set_result("OK");
                Invoked::Answer(if config.report_batch_item_failures {
                    event::read_answer(&invocation.result, records)
                } else {
                    Answer::AllDone
                })
            }
            Err(error) => {
                self.runtime.set_result("PROBLEM: Function call failed");
                Invoked::Failed(error.to_string())
            }
        }
    }

    /// The state of the window starting at `start_ms`: kept from the window's last invocation,
    /// or `{}` for a new window (after the previous one's final invocation).
    fn window_state(&self, shard: ShardId, start_ms: i64) -> Value {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(&shard) {
            Some(open) if open.start_ms == start_ms => open.state.clone(),
            _ => Value::Object(Map::new()),
        }
    }

    fn keep_window_state(&self, shard: ShardId, state: Value) {
        // The window is the one `close_window_before` left open for these records.
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = windows.get_mut(&shard) {
            open.state = state;
        }
    }

    /// Before records of the window starting at `start_ms`: the final invocation of the window
    /// open before it, if any (with its state and no records), then that window is opened.
    async fn close_window_before(&self, shard: ShardId, start_ms: i64) -> Result<(), String> {
        let open = {
            let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            windows
                .get(&shard)
                .map(|open| (open.start_ms, open.state.clone()))
        };
        match open {
            Some((open_start, _)) if open_start == start_ms => return Ok(()),
            Some((open_start, state)) => self.final_invoke(shard, open_start, &state).await?,
            None => {}
        }
        {
            let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            windows.insert(
                shard,
                OpenWindow {
                    start_ms,
                    state: Value::Object(Map::new()),
                },
            );
        }
        self.close_when_due(shard, start_ms);
        Ok(())
    }

    /// The window's final invocation: no records, its last state, `isFinalInvokeForWindow`.
    async fn final_invoke(
        &self,
        shard: ShardId,
        start_ms: i64,
        state: &Value,
    ) -> Result<(), String> {
        let window = Window {
            start_ms,
            end_ms: start_ms + self.window_length_ms(),
            state,
            is_final: true,
        };
        let payload = event::windowed_event(&self.source(), shard, &[], &window);
        match self
            .functions
            .invoke(&self.runtime.function, &payload)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                self.runtime.set_result("PROBLEM: Function call failed");
                Err(error.to_string())
            }
        }
    }

    /// Lambda closes a window when its time is up, records or not: a timer that, past the
    /// window's end, gives it its final invocation once every record of the shard that arrived
    /// by then is processed (a later window's first record may have closed it already).
    fn close_when_due(&self, shard: ShardId, start_ms: i64) {
        let me = self.me.clone();
        let due_ms = start_ms + self.window_length_ms() + WINDOW_GRACE.as_millis() as i64;
        tokio::spawn(async move {
            let wait = u64::try_from(due_ms - now_ms()).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            let mut failures = 0;
            loop {
                // Held only while looking, so a stopped mapping's invoker goes away.
                let Some(invoker) = me.upgrade() else { return };
                let delay = match invoker.close_if_quiet(shard, start_ms).await {
                    Closing::Closed => return,
                    Closing::NotYet => WINDOW_RECHECK,
                    Closing::Failed => {
                        failures += 1;
                        backoff(failures)
                    }
                };
                drop(invoker);
                tokio::time::sleep(delay).await;
            }
        });
    }

    async fn close_if_quiet(&self, shard: ShardId, start_ms: i64) -> Closing {
        let turn = self.shard_turn(shard);
        let _turn = turn.lock().await;
        let state = {
            let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            match windows.get(&shard) {
                Some(open) if open.start_ms == start_ms => open.state.clone(),
                _ => return Closing::Closed,
            }
        };
        if self.records_waiting(shard) {
            return Closing::NotYet;
        }
        if self.final_invoke(shard, start_ms, &state).await.is_err() {
            return Closing::Failed;
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows
            .get(&shard)
            .is_some_and(|open| open.start_ms == start_ms)
        {
            windows.remove(&shard);
        }
        Closing::Closed
    }

    /// Whether the shard has records after the last one processed.
    fn records_waiting(&self, shard: ShardId) -> bool {
        let next = self
            .processed_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&shard)
            .copied();
        let Some(next) = next else { return true };
        // A shard that cannot be read (its stream deleted) has nothing to wait for.
        self.streams
            .read(&self.runtime.config.stream, shard, next, 1, 1)
            .is_ok_and(|batch| !batch.records.is_empty())
    }

    fn shard_turn(&self, shard: ShardId) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.shard_turns.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(turns.entry(shard).or_default())
    }

    /// Describes records given up on to the on-failure destination (nowhere without one: they
    /// are passed, as Lambda passes them).
    async fn give_up(
        &self,
        shard: ShardId,
        records: &[Record],
        condition: Condition,
        invoke_count: u32,
        error: Option<&str>,
    ) -> Result<(), String> {
        tracing::warn!(
            mapping = %self.runtime.uuid,
            function = %self.runtime.function,
            %shard,
            records = records.len(),
            ?condition,
            "event source mapping passes a batch it could not process"
        );
        let Some(destination) = self
            .runtime
            .config
            .on_failure
            .as_deref()
            .and_then(Destination::parse)
        else {
            return Ok(());
        };
        let given_up = GivenUp {
            function_arn: &self.runtime.function_arn,
            stream_arn: &self.runtime.source_arn,
            shard,
            records,
            condition,
            invoke_count,
            error,
        };
        let description = failure::description(&given_up, now_ms());
        let event = event::kinesis_event(&self.source(), shard, records);
        failure::send(
            &destination,
            &self.streams,
            self.objects.as_ref(),
            description,
            event,
        )
        .await
    }
}

fn backoff(attempts: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << attempts.saturating_sub(1).min(16))
        .min(MAX_BACKOFF)
}

#[async_trait::async_trait]
impl ShardProcessor for StreamInvoker {
    async fn process(
        &self,
        shard: ShardId,
        records: Vec<Record>,
    ) -> Result<Vec<Mutation>, ProcessError> {
        let turn = (self.window_length_ms() > 0).then(|| self.shard_turn(shard));
        let _turn = match &turn {
            Some(turn) => Some(turn.lock().await),
            None => None,
        };
        let outcome = self.process_batch(shard, &records).await;
        let done = match &outcome {
            Ok(_) => records.len(),
            Err(error) => error.done.min(records.len()),
        };
        if let Some(last) = done.checked_sub(1).map(|i| &records[i]) {
            self.processed_until
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(shard, last.offset + 1);
        }
        outcome
    }
}

impl StreamInvoker {
    /// Invokes the function with `records` until they are done, given up on, or must wait.
    async fn process_batch(
        &self,
        shard: ShardId,
        records: &[Record],
    ) -> Result<Vec<Mutation>, ProcessError> {
        let config = self.runtime.config.clone();
        let unfinished = |done: usize, message: String, delay: Duration| {
            ProcessError::new(message)
                .retry_after(delay)
                .partial(done, Vec::new())
        };
        let mut done = 0;
        // Records past the maximum age are not invoked with.
        if config.maximum_record_age_seconds >= 0 {
            let cutoff = now_ms() - i64::from(config.maximum_record_age_seconds) * 1000;
            let expired = records.iter().take_while(|r| r.arrival_ms < cutoff).count();
            if expired > 0 {
                let given_up = &records[..expired];
                self.give_up(shard, given_up, Condition::RecordAgeExceeded, 0, None)
                    .await
                    .map_err(|e| unfinished(0, e, FIRST_BACKOFF))?;
                done = expired;
            }
        }
        let window_ms = self.window_length_ms();
        while done < records.len() {
            let rest = &records[done..];
            let mut retry = self.retry_of(shard, rest[0].sequence, rest.len());
            let mut size = retry.size.clamp(1, rest.len());
            if window_ms > 0 {
                // One window per invocation.
                let start = rest[0].arrival_ms - rest[0].arrival_ms.rem_euclid(window_ms);
                let same_window = rest
                    .iter()
                    .take_while(|r| r.arrival_ms - r.arrival_ms.rem_euclid(window_ms) == start)
                    .count();
                size = size.min(same_window);
                self.close_window_before(shard, start)
                    .await
                    .map_err(|e| unfinished(done, e, backoff(retry.attempts + 1)))?;
            }
            let batch = &rest[..size];
            // Why the batch is retried; `function_failed` when the invocation itself failed
            // (not when the function reported items), as the on-failure record's
            // `functionError` tells.
            let (error, function_failed) = match self.invoke(shard, batch).await {
                Invoked::Answer(Answer::AllDone) => {
                    done += size;
                    self.set_retry(shard, None);
                    continue;
                }
                Invoked::Answer(Answer::FailedFrom(first_failed)) if first_failed > 0 => {
                    // The records before the first failure are done; the retry starts there.
                    done += first_failed;
                    retry = Retry {
                        first: batch[first_failed].sequence,
                        attempts: 0,
                        size: rest.len() - first_failed,
                    };
                    size -= first_failed;
                    (ITEM_FAILURES.to_string(), false)
                }
                Invoked::Answer(Answer::FailedFrom(_)) => (ITEM_FAILURES.to_string(), false),
                Invoked::Failed(error) => (error, true),
            };
            if config.bisect_batch_on_function_error && size > 1 {
                // Halves do not use a retry.
                retry.size = size / 2;
                self.set_retry(shard, Some(retry));
                continue;
            }
            retry.attempts += 1;
            let exhausted = config.maximum_retry_attempts >= 0
                && i64::from(retry.attempts) > i64::from(config.maximum_retry_attempts);
            if exhausted {
                let failed = &records[done..done + size];
                self.give_up(
                    shard,
                    failed,
                    Condition::RetryAttemptsExhausted,
                    retry.attempts,
                    function_failed.then_some(error.as_str()),
                )
                .await
                .map_err(|e| unfinished(done, e, backoff(retry.attempts)))?;
                done += size;
                self.set_retry(shard, None);
                continue;
            }
            self.set_retry(shard, Some(retry));
            return Err(unfinished(done, error, backoff(retry.attempts)));
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_a_limit() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(400));
        assert_eq!(backoff(4), Duration::from_millis(1600));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
