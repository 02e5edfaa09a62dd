//! What an execution's history says about each state of its definition, read in one pass: how
//! often each state was entered, exited, failed and retried, each Map's iterations and the
//! errors that ended states. The execution page draws its graph, its Map and Parallel summaries
//! and its history table from this, so a Map of 10,000 items costs one walk over its ~40,000
//! events, decoding of each event only the name and index it carries (never its input or
//! output), whatever the page shows.
//!
//! The history's events of states run concurrently (Parallel branches, Map iterations)
//! interleave, and only `…StateEntered`/`…StateExited` and `MapIteration…` events name their
//! state. The others are given to the state they most likely belong to: task events to the Task
//! state entered last, `MapState…`/`ParallelState…` events to the innermost Map or Parallel
//! still running. Iterations of one Map run the same states, so counts per state name hold
//! however their events interleave.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use weir_model::asl::{self, StateKind, Transition};
use weir_store::HistoryEventRecord;

/// One state of a definition, nested ones included.
#[derive(Debug, Clone)]
pub(crate) struct ShapeState {
    /// Unique in the shape: the names of the enclosing states and this one, joined by `/`.
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    /// The Map or Parallel branch the state runs in: its label (`Fan · branch 2`).
    pub group: Option<String>,
}

/// A Parallel state's branches: the indexes (into [`Shape::states`]) of each branch's states.
#[derive(Debug, Clone)]
pub(crate) struct ShapeParallel {
    pub state: usize,
    pub branches: Vec<Vec<usize>>,
}

/// A definition's states and transitions, nested Map and Parallel states flattened.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    pub states: Vec<ShapeState>,
    /// (from, to, label) as indexes into `states`.
    pub edges: Vec<(usize, usize, Option<String>)>,
    /// A name's state (the first with that name: names are unique in a valid definition).
    pub by_name: HashMap<String, usize>,
    pub parallels: Vec<ShapeParallel>,
}

impl Shape {
    pub(crate) fn of(machine: &asl::StateMachine) -> Shape {
        let mut shape = Shape::default();
        shape.add_scope(
            &scope(machine.states.iter()),
            &machine.start_at,
            "",
            None,
            None,
        );
        shape
    }

    /// Adds a scope's states; answers the index of its StartAt state and those of the states
    /// that end it (so the enclosing state can be linked to them).
    fn add_scope(
        &mut self,
        states: &[(&String, &asl::State)],
        start_at: &str,
        prefix: &str,
        group: Option<&str>,
        exit_to: Option<usize>,
    ) -> Option<usize> {
        let first = self.states.len();
        for &(name, state) in states {
            let index = self.states.len();
            self.states.push(ShapeState {
                id: format!("{prefix}{name}"),
                name: name.to_string(),
                kind: state.kind.type_name(),
                group: group.map(str::to_string),
            });
            self.by_name.entry(name.to_string()).or_insert(index);
        }
        let local = |name: &str| {
            states
                .iter()
                .position(|(n, _)| *n == name)
                .map(|i| first + i)
        };
        for (offset, &(name, state)) in states.iter().enumerate() {
            let index = first + offset;
            let mut nexts: Vec<(usize, Option<String>)> = Vec::new();
            if let Transition::Next(next) = &state.transition
                && let Some(to) = local(next)
            {
                nexts.push((to, None));
            }
            if let StateKind::Choice(choice) = &state.kind {
                for (i, rule) in choice.choices.iter().enumerate() {
                    if let Some(to) = local(&rule.next) {
                        nexts.push((to, Some(format!("rule {}", i + 1))));
                    }
                }
                if let Some(to) = choice.default.as_deref().and_then(local) {
                    nexts.push((to, Some("Default".into())));
                }
            }
            for catcher in &state.catch {
                if let Some(to) = local(&catcher.next) {
                    nexts.push((to, Some("Catch".into())));
                }
            }
            let ends = matches!(state.transition, Transition::End)
                || matches!(state.kind, StateKind::Succeed);
            // Where the states that end this one's branches lead: the state after it.
            let after = match &state.transition {
                Transition::Next(next) => local(next),
                Transition::End => exit_to,
                Transition::None => None,
            };
            let before = self.edges.len();
            match &state.kind {
                StateKind::Map(map) => {
                    let label = format!("{name} · each item");
                    let inner = format!("{prefix}{name}/");
                    if let Some(start) = self.add_scope(
                        &scope(map.processor.states.iter()),
                        &map.processor.start_at,
                        &inner,
                        Some(&label),
                        after,
                    ) {
                        self.edges.push((index, start, Some("each item".into())));
                    }
                }
                StateKind::Parallel(parallel) => {
                    let mut branches = Vec::new();
                    for (b, branch) in parallel.branches.iter().enumerate() {
                        let label = format!("{name} · branch {}", b + 1);
                        let inner = format!("{prefix}{name}/{}/", b + 1);
                        let from = self.states.len();
                        if let Some(start) = self.add_scope(
                            &scope(branch.states.iter()),
                            &branch.start_at,
                            &inner,
                            Some(&label),
                            after,
                        ) {
                            self.edges
                                .push((index, start, Some(format!("branch {}", b + 1))));
                        }
                        // The branch's own states; those of Maps and Parallels nested in it
                        // come after them.
                        branches.push((from..from + branch.states.len()).collect());
                    }
                    self.parallels.push(ShapeParallel {
                        state: index,
                        branches,
                    });
                }
                _ => {}
            }
            // A Map's or Parallel's inner states lead on to what follows it: no edge of its own
            // goes there then.
            let inner_exit = after.is_some_and(|after| {
                self.edges[before..]
                    .iter()
                    .any(|(from, to, label)| *to == after && label.is_none() && *from != index)
            });
            for (to, label) in nexts {
                if inner_exit && label.is_none() {
                    continue;
                }
                self.edges.push((index, to, label));
            }
            if ends
                && !inner_exit
                && let Some(to) = exit_to
            {
                self.edges.push((index, to, None));
            }
        }
        local(start_at)
    }
}

/// A scope's states in their order.
fn scope<'a>(
    states: impl Iterator<Item = (&'a String, &'a asl::State)>,
) -> Vec<(&'a String, &'a asl::State)> {
    states.collect()
}

/// A state's visits as the history tells them.
#[derive(Debug, Clone, Default)]
pub(crate) struct StateRecord {
    pub entered: u64,
    pub exited: u64,
    /// Failure events given to the state (a task's `TaskFailed`, a Map's `MapStateFailed`…).
    pub failures: u64,
    /// Tasks scheduled beyond one per visit: retries.
    pub retries: u64,
    scheduled: u64,
    pub first_at: Option<i64>,
    pub last_at: Option<i64>,
    /// The last failure given to the state: its event id, error and cause.
    pub last_error: Option<Failure>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Failure {
    pub event: i64,
    pub error: String,
    pub cause: String,
}

/// How an execution's state, a Map iteration or a Parallel branch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Status {
    NotReached,
    Succeeded,
    Running,
    Retrying,
    Aborted,
    TimedOut,
    Failed,
}

impl Status {
    /// As Step Functions spells a status (what `html::state_badge` and the graph read).
    pub(crate) fn api(self) -> &'static str {
        match self {
            Status::NotReached => "NOT_REACHED",
            Status::Succeeded => "SUCCEEDED",
            Status::Running => "RUNNING",
            Status::Retrying => "RETRYING",
            Status::Aborted => "ABORTED",
            Status::TimedOut => "TIMED_OUT",
            Status::Failed => "FAILED",
        }
    }

    /// The graph's words for it.
    pub(crate) fn graph_state(self) -> Option<&'static str> {
        match self {
            Status::NotReached => None,
            Status::Succeeded => Some("succeeded"),
            Status::Running => Some("running"),
            Status::Retrying => Some("retrying"),
            Status::Aborted => Some("aborted"),
            Status::TimedOut => Some("timed_out"),
            Status::Failed => Some("failed"),
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Status> {
        Some(match text.to_ascii_uppercase().as_str() {
            "NOT_REACHED" => Status::NotReached,
            "SUCCEEDED" => Status::Succeeded,
            "RUNNING" => Status::Running,
            "RETRYING" => Status::Retrying,
            "ABORTED" => Status::Aborted,
            "TIMED_OUT" => Status::TimedOut,
            "FAILED" => Status::Failed,
            _ => return None,
        })
    }
}

/// One iteration of a Map state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Iteration {
    pub index: u64,
    pub status: Status,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The ids of its `MapIterationStarted` event and of the event that ended it.
    pub start_event: i64,
    pub end_event: Option<i64>,
}

/// A Map state's iterations, over all its visits, in the order they started.
#[derive(Debug, Clone, Default)]
pub(crate) struct MapRecord {
    /// Items of its visits (`MapStateStarted`'s `length`), summed.
    pub items: u64,
    pub iterations: Vec<Iteration>,
}

/// What the history says, one entry per state of the [`Shape`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    pub states: Vec<StateRecord>,
    /// By the Map state's index in the shape.
    pub maps: HashMap<usize, MapRecord>,
    /// For each event (same order as the history), the state it is given to.
    pub event_state: Vec<Option<usize>>,
    /// When the history starts (its first event), for elapsed times.
    pub started_at: Option<i64>,
}

/// The part of an event's details the summary reads: `{"…EventDetails": {"name", "index"}}`
/// of the events that name their state. The name is borrowed from the text, and the input or
/// output beside it skipped, not copied.
#[derive(Deserialize)]
struct Named<'a> {
    #[serde(
        borrow,
        default,
        rename = "stateEnteredEventDetails",
        alias = "stateExitedEventDetails",
        alias = "mapIterationStartedEventDetails",
        alias = "mapIterationSucceededEventDetails",
        alias = "mapIterationFailedEventDetails",
        alias = "mapIterationAbortedEventDetails"
    )]
    details: Option<NameAndIndex<'a>>,
}

#[derive(Deserialize)]
struct NameAndIndex<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<u64>,
}

/// The state an event names, and the iteration's index for a Map iteration's event.
fn name_and_index(details: &str) -> Option<(Cow<'_, str>, Option<u64>)> {
    let named: Named<'_> = serde_json::from_str(details).ok()?;
    let details = named.details?;
    Some((details.name?, details.index))
}

/// The `error` and `cause` of a failure event's details.
fn failure_of(event: i64, details: &str) -> Failure {
    #[derive(Deserialize, Default)]
    struct ErrorAndCause {
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        cause: Option<String>,
    }
    let outer: HashMap<String, ErrorAndCause> = serde_json::from_str(details).unwrap_or_default();
    let inner = outer.into_values().next().unwrap_or_default();
    Failure {
        event,
        error: inner.error.unwrap_or_default(),
        cause: inner.cause.unwrap_or_default(),
    }
}

/// Whether an event type reports a state's (or the execution's) failure.
fn is_failure(event_type: &str) -> bool {
    matches!(
        event_type,
        "TaskFailed"
            | "TaskTimedOut"
            | "TaskStartFailed"
            | "TaskSubmitFailed"
            | "LambdaFunctionFailed"
            | "LambdaFunctionTimedOut"
            | "LambdaFunctionStartFailed"
            | "LambdaFunctionScheduleFailed"
            | "MapStateFailed"
            | "ParallelStateFailed"
            | "ExecutionFailed"
            | "ExecutionTimedOut"
    )
}

impl Summary {
    /// Reads `events` (in id order) once. `execution_status` is the execution's
    /// (`RUNNING`, `FAILED`…): what a state still open at the end of the history is doing.
    pub(crate) fn read(shape: &Shape, events: &[HistoryEventRecord]) -> Summary {
        let mut summary = Summary {
            states: vec![StateRecord::default(); shape.states.len()],
            maps: HashMap::new(),
            event_state: Vec::with_capacity(events.len()),
            started_at: events.first().map(|e| e.at),
        };
        let mut last_task: Option<usize> = None;
        let mut last_entered: Option<usize> = None;
        // Maps and Parallels entered and not yet ended, innermost last.
        let mut maps: Vec<usize> = Vec::new();
        let mut parallels: Vec<usize> = Vec::new();
        // Iterations started and not ended: (Map, index) → position in its list.
        let mut open_iterations: HashMap<(usize, u64), usize> = HashMap::new();
        let mut any_failure = false;
        for event in events {
            let kind = event.event_type.as_str();
            let mut given: Option<usize> = None;
            if let Some(state_kind) = kind
                .strip_suffix("StateEntered")
                .or_else(|| kind.strip_suffix("StateExited"))
            {
                let entered = kind.ends_with("Entered");
                if let Some((name, _)) = name_and_index(&event.details)
                    && let Some(&index) = shape.by_name.get(name.as_ref())
                {
                    given = Some(index);
                    let record = &mut summary.states[index];
                    record.first_at.get_or_insert(event.at);
                    record.last_at = Some(event.at);
                    if entered {
                        record.entered += 1;
                        last_entered = Some(index);
                        match state_kind {
                            "Task" => last_task = Some(index),
                            "Map" => maps.push(index),
                            "Parallel" => parallels.push(index),
                            _ => {}
                        }
                    } else {
                        record.exited += 1;
                    }
                }
            } else if kind.starts_with("MapIteration") {
                if let Some((name, Some(item))) = name_and_index(&event.details)
                    && let Some(&map) = shape.by_name.get(name.as_ref())
                {
                    given = Some(map);
                    let record = summary.maps.entry(map).or_default();
                    if kind == "MapIterationStarted" {
                        open_iterations.insert((map, item), record.iterations.len());
                        record.iterations.push(Iteration {
                            index: item,
                            status: Status::Running,
                            started_at: event.at,
                            ended_at: None,
                            start_event: event.id,
                            end_event: None,
                        });
                    } else if let Some(position) = open_iterations.remove(&(map, item)) {
                        let iteration = &mut record.iterations[position];
                        iteration.status = match kind {
                            "MapIterationSucceeded" => Status::Succeeded,
                            "MapIterationAborted" => Status::Aborted,
                            _ => Status::Failed,
                        };
                        iteration.ended_at = Some(event.at);
                        iteration.end_event = Some(event.id);
                    }
                }
            } else if kind.starts_with("MapState") {
                given = maps.last().copied();
                if let Some(map) = given {
                    if kind == "MapStateStarted" {
                        let length = name_and_length(&event.details);
                        summary.maps.entry(map).or_default().items += length;
                    } else {
                        maps.pop();
                    }
                }
            } else if kind.starts_with("ParallelState") {
                given = parallels.last().copied();
                if kind != "ParallelStateStarted" {
                    parallels.pop();
                }
            } else if kind.starts_with("Task") || kind.starts_with("LambdaFunction") {
                given = last_task;
                if let Some(task) = given
                    && kind.ends_with("Scheduled")
                {
                    summary.states[task].scheduled += 1;
                }
            } else if kind.starts_with("Execution") && is_failure(kind) && !any_failure {
                // A failure no state reported (a Choice that matched no rule, a Fail state):
                // the state entered last.
                given = last_entered;
            }
            if is_failure(kind) {
                any_failure = true;
                if let Some(state) = given {
                    let record = &mut summary.states[state];
                    record.failures += 1;
                    record.last_error = Some(failure_of(event.id, &event.details));
                }
            }
            summary.event_state.push(given);
        }
        for (index, record) in summary.states.iter_mut().enumerate() {
            if shape.states[index].kind == "Task" {
                record.retries = record.scheduled.saturating_sub(record.entered);
            }
        }
        summary
    }

    /// A state's status, given how the execution stands (`RUNNING`, `FAILED`, …).
    pub(crate) fn status(&self, shape: &Shape, state: usize, execution: &str) -> Status {
        let record = &self.states[state];
        if record.entered == 0 {
            return Status::NotReached;
        }
        if shape.states[state].kind == "Fail" {
            return Status::Failed;
        }
        let open = record.entered.saturating_sub(record.exited);
        let unrecovered = record.failures.saturating_sub(record.retries).min(open);
        let running = execution == "RUNNING";
        match (open, unrecovered, running) {
            (0, _, _) => Status::Succeeded,
            (_, 1.., true) => Status::Retrying,
            (_, 1.., false) => Status::Failed,
            (_, 0, true) => Status::Running,
            (_, 0, false) => match execution {
                "TIMED_OUT" => Status::TimedOut,
                _ => Status::Aborted,
            },
        }
    }

    /// The iterations of a Map, their statuses settled for how the execution stands: one still
    /// open when the execution has ended was cut short.
    pub(crate) fn map_counts(&self, map: usize, execution: &str) -> Vec<(Status, u64)> {
        let mut counts: HashMap<Status, u64> = HashMap::new();
        if let Some(record) = self.maps.get(&map) {
            for iteration in &record.iterations {
                *counts
                    .entry(settled(iteration.status, execution))
                    .or_default() += 1;
            }
        }
        let mut counts: Vec<(Status, u64)> = counts.into_iter().collect();
        counts.sort_by_key(|count| std::cmp::Reverse(count.0));
        counts
    }
}

/// An iteration's status once the execution has ended (an open one was cut short).
pub(crate) fn settled(status: Status, execution: &str) -> Status {
    match (status, execution) {
        (Status::Running, "RUNNING") => Status::Running,
        (Status::Running, "TIMED_OUT") => Status::TimedOut,
        (Status::Running, _) => Status::Aborted,
        (status, _) => status,
    }
}

/// `MapStateStarted`'s `length`.
fn name_and_length(details: &str) -> u64 {
    #[derive(Deserialize)]
    struct Length {
        #[serde(default)]
        length: u64,
    }
    serde_json::from_str::<HashMap<Cow<'_, str>, Length>>(details)
        .ok()
        .and_then(|outer| outer.into_values().next())
        .map_or(0, |inner| inner.length)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn shape(definition: Value) -> Shape {
        let machine = asl::parse_definition("test", &definition.to_string()).expect("valid");
        Shape::of(&machine)
    }

    fn event(id: i64, event_type: &str, details: Value) -> HistoryEventRecord {
        HistoryEventRecord {
            execution_arn: "arn".into(),
            id,
            previous_id: id - 1,
            at: id * 1000,
            event_type: event_type.into(),
            details: details.to_string(),
        }
    }

    /// Events numbered from 1, each `(type, details)`.
    fn history(events: &[(&str, Value)]) -> Vec<HistoryEventRecord> {
        events
            .iter()
            .enumerate()
            .map(|(i, (kind, details))| event(i as i64 + 1, kind, details.clone()))
            .collect()
    }

    fn entered(kind: &str, name: &str) -> (String, Value) {
        (
            format!("{kind}StateEntered"),
            json!({"stateEnteredEventDetails": {"name": name, "input": "{\"big\": \"…\"}"}}),
        )
    }

    fn exited(kind: &str, name: &str) -> (String, Value) {
        (
            format!("{kind}StateExited"),
            json!({"stateExitedEventDetails": {"name": name, "output": "{}"}}),
        )
    }

    fn owned(events: &[(String, Value)]) -> Vec<HistoryEventRecord> {
        let borrowed: Vec<(&str, Value)> = events
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        history(&borrowed)
    }

    fn edges(shape: &Shape) -> Vec<(String, String, Option<String>)> {
        shape
            .edges
            .iter()
            .map(|(from, to, label)| {
                (
                    shape.states[*from].id.clone(),
                    shape.states[*to].id.clone(),
                    label.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn nested_states_lead_into_and_out_of_their_map_and_parallel() {
        let shape = shape(json!({"StartAt": "Each", "States": {
            "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "Item", "States": {
                "Item": {"Type": "Pass", "End": true}}}, "Next": "Both"},
            "Both": {"Type": "Parallel", "Next": "Done", "Branches": [
                {"StartAt": "L", "States": {"L": {"Type": "Pass", "End": true}}},
                {"StartAt": "R", "States": {"R": {"Type": "Succeed"}}}]},
            "Done": {"Type": "Succeed"}}}));
        let edges = edges(&shape);
        let has = |from: &str, to: &str, label: Option<&str>| {
            edges.contains(&(from.into(), to.into(), label.map(str::to_string)))
        };
        assert!(has("Each", "Each/Item", Some("each item")), "{edges:?}");
        assert!(has("Each/Item", "Both", None), "{edges:?}");
        assert!(
            !has("Each", "Both", None),
            "the Map's own edge is its items': {edges:?}"
        );
        assert!(has("Both", "Both/1/L", Some("branch 1")), "{edges:?}");
        assert!(has("Both", "Both/2/R", Some("branch 2")), "{edges:?}");
        assert!(has("Both/1/L", "Done", None) && has("Both/2/R", "Done", None));
        let item = shape.by_name["Item"];
        assert_eq!(
            shape.states[item].group.as_deref(),
            Some("Each · each item")
        );
        assert_eq!(shape.parallels.len(), 1);
        assert_eq!(shape.parallels[0].branches.len(), 2);
    }

    #[test]
    fn a_retried_task_reads_as_retrying_then_as_succeeded() {
        let shape = shape(json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}));
        let t = shape.by_name["T"];
        let failed = json!({"taskFailedEventDetails": {"error": "Boom", "cause": "it broke"}});
        let mut events = vec![
            ("ExecutionStarted".to_string(), json!({})),
            entered("Task", "T"),
            ("TaskScheduled".into(), json!({})),
            ("TaskStarted".into(), json!({})),
            ("TaskFailed".into(), failed),
        ];
        let summary = Summary::read(&shape, &owned(&events));
        assert_eq!(summary.status(&shape, t, "RUNNING"), Status::Retrying);
        // Had it ended here, the task is where it failed.
        assert_eq!(summary.status(&shape, t, "FAILED"), Status::Failed);
        let error = summary.states[t].last_error.clone().expect("error");
        assert_eq!((error.event, error.error.as_str()), (5, "Boom"));
        assert_eq!(error.cause, "it broke");
        assert_eq!(summary.event_state[4], Some(t), "the failure is the task's");

        events.extend([
            ("TaskScheduled".to_string(), json!({})),
            ("TaskStarted".into(), json!({})),
            ("TaskSucceeded".into(), json!({})),
            exited("Task", "T"),
            ("ExecutionSucceeded".into(), json!({})),
        ]);
        let summary = Summary::read(&shape, &owned(&events));
        assert_eq!(summary.status(&shape, t, "SUCCEEDED"), Status::Succeeded);
        assert_eq!(
            (summary.states[t].failures, summary.states[t].retries),
            (1, 1)
        );
    }

    #[test]
    fn interleaved_iterations_are_counted_and_settled() {
        let shape = shape(json!({"StartAt": "Each", "States": {
            "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "Item", "States": {
                "Item": {"Type": "Pass", "End": true}}}, "End": true}}}));
        let (map, item) = (shape.by_name["Each"], shape.by_name["Item"]);
        let iteration = |kind: &str, index: u64| {
            let key = format!("mapIteration{kind}EventDetails");
            (
                format!("MapIteration{kind}"),
                json!({ key: {"name": "Each", "index": index} }),
            )
        };
        let events = vec![
            entered("Map", "Each"),
            (
                "MapStateStarted".to_string(),
                json!({"mapStateStartedEventDetails": {"length": 3}}),
            ),
            iteration("Started", 0),
            iteration("Started", 1),
            entered("Pass", "Item"),
            iteration("Started", 2),
            entered("Pass", "Item"),
            exited("Pass", "Item"),
            iteration("Succeeded", 1),
            iteration("Failed", 0),
        ];
        let summary = Summary::read(&shape, &owned(&events));
        let record = &summary.maps[&map];
        assert_eq!(record.items, 3);
        let seen: Vec<(u64, Status)> = record
            .iterations
            .iter()
            .map(|i| (i.index, i.status))
            .collect();
        assert_eq!(
            seen,
            [
                (0, Status::Failed),
                (1, Status::Succeeded),
                (2, Status::Running)
            ]
        );
        assert_eq!(record.iterations[1].end_event, Some(9));
        assert_eq!(summary.status(&shape, map, "RUNNING"), Status::Running);
        assert_eq!(summary.status(&shape, item, "RUNNING"), Status::Running);
        assert_eq!(
            summary.map_counts(map, "RUNNING"),
            [
                (Status::Failed, 1),
                (Status::Running, 1),
                (Status::Succeeded, 1)
            ]
        );
        // Stopped now: what was still running was cut short.
        assert_eq!(
            summary.map_counts(map, "ABORTED"),
            [
                (Status::Failed, 1),
                (Status::Aborted, 1),
                (Status::Succeeded, 1)
            ]
        );
        assert_eq!(summary.status(&shape, map, "ABORTED"), Status::Aborted);
    }

    #[test]
    fn a_failure_no_state_reports_is_the_last_entered_states() {
        let shape = shape(json!({"StartAt": "Pick", "States": {
            "Pick": {"Type": "Choice", "Choices": [
                {"Variable": "$.x", "BooleanEquals": true, "Next": "Yes"}]},
            "Yes": {"Type": "Succeed"}}}));
        let events = vec![
            ("ExecutionStarted".to_string(), json!({})),
            entered("Choice", "Pick"),
            (
                "ExecutionFailed".into(),
                json!({"executionFailedEventDetails": {"error": "States.NoChoiceMatched", "cause": "none"}}),
            ),
        ];
        let summary = Summary::read(&shape, &owned(&events));
        let pick = shape.by_name["Pick"];
        assert_eq!(summary.status(&shape, pick, "FAILED"), Status::Failed);
        assert_eq!(
            summary.status(&shape, shape.by_name["Yes"], "FAILED"),
            Status::NotReached
        );
        assert_eq!(
            summary.states[pick]
                .last_error
                .as_ref()
                .map(|e| e.error.as_str()),
            Some("States.NoChoiceMatched")
        );
    }

    #[test]
    fn names_with_escapes_and_unknown_states_are_read_without_panicking() {
        let shape = shape(json!({"StartAt": "a \"quoted\" <name>", "States": {
            "a \"quoted\" <name>": {"Type": "Pass", "End": true}}}));
        let events = vec![
            entered("Pass", "a \"quoted\" <name>"),
            entered("Pass", "not in the definition"),
            ("PassStateExited".to_string(), json!("not an object")),
            ("Whatever".to_string(), json!({"x": 1})),
        ];
        let summary = Summary::read(&shape, &owned(&events));
        assert_eq!(summary.states[0].entered, 1);
        assert_eq!(summary.event_state, [Some(0), None, None, None]);
    }
}
