//! The checked, typed form of a state machine definition: what the interpreter runs.
//!
//! Field names follow the States Language. Where JSONPath and JSONata states spell the same idea
//! differently, one field holds both (documented on the field), so the interpreter does not
//! branch on the language more than it must. Dynamic values (`TimeoutSecondsPath`,
//! `"{% … %}"`, …) are [`Dynamic`]s; payloads are compiled [`Template`]s.

use indexmap::IndexMap;
use serde_json::Value;

use super::errors::Jitter;
use super::path::Path;
use super::payload::Template;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    #[default]
    JsonPath,
    Jsonata,
}

/// A whole definition.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub version: Option<String>,
    /// The execution's time limit, in seconds.
    pub timeout_seconds: Option<u64>,
    /// The top-level language (each [`State`] carries its effective one).
    pub query_language: QueryLanguage,
    pub start_at: String,
    pub states: IndexMap<String, State>,
}

/// A Parallel branch or a Map's item processor: a machine of its own, whose states may only
/// transition among themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: IndexMap<String, State>,
    /// Map's `ProcessorConfig` (`Mode`, `ExecutionType`), as written.
    pub processor_config: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub name: String,
    pub comment: Option<String>,
    /// The effective language: the state's own `QueryLanguage`, else the machine's.
    pub query_language: QueryLanguage,
    pub kind: StateKind,
    /// `InputPath`: `None` when written as `null` (the input becomes `{}`); defaults to `$`.
    pub input_path: Option<Path>,
    /// `Parameters` (JSONPath; Map's `ItemSelector` is in [`Map`]) or `Arguments` (JSONata).
    pub parameters: Option<Template>,
    /// `ResultSelector` (JSONPath).
    pub result_selector: Option<Template>,
    /// `ResultPath`: `None` when written as `null` (the result is discarded); defaults to `$`.
    pub result_path: Option<Path>,
    /// `OutputPath`: `None` when written as `null` (the output is `{}`); defaults to `$`.
    pub output_path: Option<Path>,
    /// `Output` (JSONata).
    pub output: Option<Template>,
    /// `Assign`: variables to set when the state succeeds.
    pub assign: Option<Template>,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
    /// Choice (its rules name the next state), Succeed and Fail.
    None,
}

/// A value that is either written in the definition or computed when the state runs: from a
/// path (`…Path` fields, JSONPath), an intrinsic function (Fail's `ErrorPath`), or a JSONata
/// expression (`"{% … %}"`).
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic<T> {
    Fixed(T),
    Computed(Template),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    Pass(Pass),
    Task(Task),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Parallel),
    Map(Box<Map>),
}

impl StateKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// `Result` (JSONPath): the state's result in place of its input.
    pub result: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// A URI, usually an ARN (`arn:aws:states:::lambda:invoke`, `arn:aws:lambda:…:function:f`).
    Uri(String),
    /// A resource left for a template engine to fill (`{"Ref": …}`, `{"Fn::GetAtt": …}`) or a
    /// `${placeholder}` string: accepted so that CloudFormation-style definitions validate, but
    /// it cannot run until substituted.
    Unresolved(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub resource: Resource,
    pub timeout_seconds: Option<Dynamic<u64>>,
    pub heartbeat_seconds: Option<Dynamic<u64>>,
    pub credentials: Option<Template>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub choices: Vec<ChoiceRule>,
    pub default: Option<String>,
}

/// A top-level choice rule: a condition and where it leads.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    pub comment: Option<String>,
    pub condition: Condition,
    pub next: String,
    pub assign: Option<Template>,
    /// `Output` (JSONata): the state's output when this rule matches.
    pub output: Option<Template>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// `{"Variable": …, "<Operator>": …}` (JSONPath).
    Compare(Comparison),
    /// `"Condition": "{% … %}"` (JSONata): matches when the expression is `true`.
    Jsonata(Template),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub variable: Path,
    pub test: Test,
    /// The right-hand side: a literal, or for the `…Path` operators a path.
    pub operand: Operand,
}

/// The relation a comparison operator checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    String(Rel),
    Numeric(Rel),
    Timestamp(Rel),
    BooleanEquals,
    StringMatches,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    Path(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    /// `Seconds` (a number, or JSONata) or `SecondsPath`.
    Seconds(Dynamic<u64>),
    /// `Timestamp` (RFC 3339 text, or JSONata) or `TimestampPath`.
    Timestamp(Dynamic<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    /// `Error` or `ErrorPath` (a path or intrinsic function), or JSONata.
    pub error: Option<Dynamic<String>>,
    /// `Cause` or `CausePath`, or JSONata.
    pub cause: Option<Dynamic<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parallel {
    pub branches: Vec<Branch>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    /// The items: `ItemsPath` (JSONPath, default `$`) or `Items` (JSONata: an array or an
    /// expression); `None` means the whole input, which must be an array.
    pub items: Option<Template>,
    /// `ItemSelector` (or the older `Parameters` of a Map state).
    pub item_selector: Option<Template>,
    /// `ItemProcessor` (or the older `Iterator`).
    pub processor: Branch,
    /// 0 means no limit.
    pub max_concurrency: Option<Dynamic<u64>>,
    pub tolerated_failure_count: Option<Dynamic<u64>>,
    pub tolerated_failure_percentage: Option<Dynamic<f64>>,
    /// `ItemReader`, `ItemBatcher` and `ResultWriter`, checked for their exclusive fields and
    /// kept as written (the interpreter maps them onto lake objects).
    pub item_reader: Option<Value>,
    pub item_batcher: Option<Value>,
    pub result_writer: Option<Value>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub comment: Option<String>,
    pub error_equals: Vec<String>,
    /// Default 1.
    pub interval_seconds: u64,
    /// Default 3; 0 means never retry.
    pub max_attempts: u64,
    /// Default 2.0.
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: Jitter,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub comment: Option<String>,
    pub error_equals: Vec<String>,
    pub next: String,
    /// `ResultPath` (JSONPath): `None` when `null`; defaults to `$`.
    pub result_path: Option<Path>,
    pub assign: Option<Template>,
    /// `Output` (JSONata).
    pub output: Option<Template>,
}

impl Retrier {
    /// Whether this retrier handles `error`.
    pub fn matches(&self, error: &str) -> bool {
        super::errors::error_equals_matches(&self.error_equals, error)
    }

    /// The wait before retry number `retry` (0-based), given a random number in `[0, 1)` for
    /// FULL jitter.
    pub fn delay(&self, retry: u32, random: f64) -> std::time::Duration {
        super::errors::retry_delay(
            self.interval_seconds,
            self.backoff_rate,
            self.max_delay_seconds,
            self.jitter,
            retry,
            random,
        )
    }
}

impl Catcher {
    pub fn matches(&self, error: &str) -> bool {
        super::errors::error_equals_matches(&self.error_equals, error)
    }
}

impl State {
    /// The first retrier that handles `error` (the spec: retriers are tried in order), with its
    /// index, for the interpreter's per-retrier attempt counts.
    pub fn retrier_for(&self, error: &str) -> Option<(usize, &Retrier)> {
        self.retry
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(error))
    }

    /// The first catcher that handles `error`.
    pub fn catcher_for(&self, error: &str) -> Option<&Catcher> {
        self.catch.iter().find(|c| c.matches(error))
    }
}
