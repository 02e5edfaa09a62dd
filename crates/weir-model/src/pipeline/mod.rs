//! Pipelines: DAGs of tasks defined in `pipelines/*.yaml`. See `docs/pipelines.md` for the format.
//!
//! [`parse_pipeline`] turns a file's text into a checked [`Pipeline`] or a list of [`Problem`]s,
//! each at `file:line:column`. A parsed pipeline is immutable and versioned by the hash of its
//! text: a run keeps the version it started with.

mod actions;
pub(crate) mod fields;
mod graph;
mod parse;
pub(crate) mod yaml;

use std::time::Duration;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::action::ActionSpec;
use crate::schedule::Schedule;

pub use parse::{PIPELINE_KEYS, TASK_OWN_KEYS, parse_pipeline};

/// Runs of one pipeline allowed at once unless `max_active_runs` says otherwise (Airflow's default).
pub const DEFAULT_MAX_ACTIVE_RUNS: u32 = 16;

/// A checked pipeline definition.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The file's stem.
    pub name: String,
    /// The file path as given to the parser (used in problems and shown to users).
    pub file: String,
    /// Hex SHA-256 of `source`: the version.
    pub version: String,
    /// The exact text the pipeline was parsed from, kept so a run can re-parse its own version.
    pub source: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub schedule: Option<Schedule>,
    /// Time zone of the schedule and of `start_date`/`end_date` given as plain dates.
    pub timezone: chrono_tz::Tz,
    /// First instant a scheduled interval may start at.
    pub start_date: Option<DateTime<Utc>>,
    /// Last instant a scheduled interval may start at.
    pub end_date: Option<DateTime<Utc>>,
    pub catchup: bool,
    /// Declared params with their defaults; a trigger may override these and only these.
    pub params: Map<String, Value>,
    pub max_active_runs: u32,
    /// Task instances of one run allowed to run at once (None: no limit beyond the engine's).
    pub max_active_tasks: Option<u32>,
    /// Tasks in a topological order: every task comes after all of its `depends_on`.
    pub tasks: IndexMap<String, Task>,
    pub on_success: Vec<Notification>,
    pub on_failure: Vec<Notification>,
    /// Events that start a run (`triggers:`), each a rule managed by weir.
    pub triggers: Vec<crate::events::trigger::Trigger>,
}

/// One task of a pipeline.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub depends_on: Vec<String>,
    pub action: ActionSpec,
    pub retry: RetryPolicy,
    /// Limit on one attempt's run time; the attempt fails (and may retry) when exceeded.
    pub timeout: Option<Duration>,
    pub trigger_rule: TriggerRule,
    /// A named concurrency limit shared across pipelines (`[pools]` in weir.toml; `default` if unset).
    pub pool: Option<String>,
    /// Dynamic fan-out: a template expression (e.g. `tasks.list.output.files`) evaluated when the
    /// task becomes ready; one task instance runs per element of the resulting list.
    pub map_over: Option<String>,
    pub description: Option<String>,
    /// What happens to an attempt the server lost (it crashed or was stopped while it ran).
    pub on_lost: OnLost,
}

/// What happens to an attempt that was running when the server stopped (a crash, `kill -9`, or a
/// stop whose grace period ran out). The task did nothing wrong, so by default it runs again and
/// the lost attempt is not counted against its retries; a task whose side effects must never
/// happen twice says `on_lost: fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnLost {
    /// Run the task again, without using one of its retries.
    #[default]
    Rerun,
    /// Fail the task: it may have done part of its work, and must not run twice.
    Fail,
}

impl OnLost {
    pub const ALL: [(&'static str, OnLost); 2] = [("rerun", OnLost::Rerun), ("fail", OnLost::Fail)];
}

/// How a failed attempt is retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `retries + 1` attempts in all).
    pub retries: u32,
    pub delay: Duration,
    /// Doubles the delay after each retry.
    pub exponential_backoff: bool,
    pub max_delay: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 0,
            delay: Duration::from_secs(300),
            exponential_backoff: false,
            max_delay: None,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `next_try` (2 for the first retry).
    pub fn delay_before(&self, next_try: u32) -> Duration {
        let mut delay = self.delay;
        if self.exponential_backoff {
            let doublings = next_try.saturating_sub(2).min(32);
            delay = delay.saturating_mul(1u32 << doublings.min(31));
        }
        match self.max_delay {
            Some(max) if delay > max => max,
            _ => delay,
        }
    }
}

/// When a task runs, given the states of its upstream tasks (Airflow's trigger rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerRule {
    #[default]
    AllSuccess,
    AllDone,
    AllFailed,
    OneSuccess,
    OneFailed,
    NoneFailed,
}

impl TriggerRule {
    pub const ALL: [(&'static str, TriggerRule); 6] = [
        ("all_success", TriggerRule::AllSuccess),
        ("all_done", TriggerRule::AllDone),
        ("all_failed", TriggerRule::AllFailed),
        ("one_success", TriggerRule::OneSuccess),
        ("one_failed", TriggerRule::OneFailed),
        ("none_failed", TriggerRule::NoneFailed),
    ];

    pub fn name(self) -> &'static str {
        TriggerRule::ALL
            .iter()
            .find(|(_, r)| *r == self)
            .map(|(n, _)| *n)
            .unwrap_or("all_success")
    }
}

/// Something done when a run ends: a webhook (an HTTP POST of the run's context as JSON) or an
/// action run with the run's context in its templates.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    Webhook { url: String },
    Action(ActionSpec),
}
