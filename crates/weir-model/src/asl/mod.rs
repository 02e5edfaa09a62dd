//! The Amazon States Language (states-language.net/spec.html, plus the AWS developer guide's
//! additions: variables, JSONata, Map's item readers): the pure part of running state machines.
//!
//! - [`parse_definition`] reads a definition (JSON, or YAML) into a checked [`StateMachine`], or
//!   returns every [`Problem`] found, each at `file:line:column` with the JSON path of the place
//!   (`$.States.Choose.Choices[0].Next`).
//! - [`io`] is input and output processing (InputPath, Parameters, ResultSelector, ResultPath,
//!   OutputPath, Output, Assign); [`Template`] evaluates payload templates, intrinsic functions
//!   and JSONata values; [`Path`] is JSONPath as Step Functions reads it.
//! - [`choose()`] evaluates a Choice state; [`errors`] has the error names, Retry/Catch matching
//!   and Retry's back-off.
//!
//! Everything here is pure: what an evaluation reads (input, context object, variables, the
//! time, randomness) comes in through an [`Env`]. The interpreter lives in weir-engine.

pub mod choose;
pub mod env;
pub mod errors;
pub mod intrinsic;
pub mod io;
pub mod items;
pub mod jsonata;
pub mod model;
pub mod path;
pub mod payload;

mod json;
mod read;
mod tree;
mod validate;

pub use choose::{Chosen, choose, evaluate_condition, string_matches};
pub use env::{Entropy, Env};
pub use errors::{Jitter, StatesError, error_matches, retry_delay};
pub use intrinsic::Intrinsic;
pub use jsonata::{Jsonata, eval_jsonata};
pub use model::*;
pub use path::Path;
pub use payload::Template;
pub use read::MAX_NAME_CHARS;

use crate::problem::{Pos, Problem};

/// Reads and checks a state machine definition. `file` names it in problems; YAML is read when
/// the name ends in `.yaml`/`.yml`, or when the text does not start with `{`.
pub fn parse_definition(file: &str, text: &str) -> Result<StateMachine, Vec<Problem>> {
    read_definition(file, text, false).0
}

/// A state machine file of `machines/`: its definition, and the events that start it.
#[derive(Debug, Clone)]
pub struct MachineFile {
    pub machine: StateMachine,
    /// The top-level `triggers` key (lowercase, so it cannot clash with the States Language's
    /// fields), taken out before the definition is checked.
    pub triggers: Vec<crate::events::trigger::Trigger>,
    /// The definition as JSON text, without `triggers` (the text itself when it is JSON without
    /// them), as Describe returns it.
    pub definition: String,
}

/// Reads a state machine file: its `triggers` (see [`crate::events::trigger`]) and its
/// definition, every problem of both at `file:line:column`.
pub fn parse_machine_file(file: &str, name: &str, text: &str) -> Result<MachineFile, Vec<Problem>> {
    let (machine, root) = read_definition(file, text, true);
    let mut problems = Vec::new();
    let machine = machine.map_err(|found| problems.extend(found)).ok();
    let mut triggers = Vec::new();
    let mut had_triggers = false;
    // The triggers are read from the YAML tree (JSON text is YAML too), whose reader the
    // trigger fields share with pipelines and rules; its own load problems were reported by
    // the definition's reader.
    if let Some(yaml_root) = crate::pipeline::yaml::load(text).root
        && let Some(entry) = yaml_root
            .as_map()
            .and_then(|entries| entries.iter().find(|e| e.key == TRIGGERS_KEY))
    {
        had_triggers = true;
        let mut ctx = crate::pipeline::fields::Ctx {
            file,
            source: text,
            problems: Vec::new(),
        };
        triggers = crate::events::trigger::read_triggers(
            &mut ctx,
            name,
            &entry.value,
            crate::events::trigger::TriggerOwner::Machine,
        );
        problems.extend(ctx.problems);
    }
    match machine {
        Some(machine) if problems.is_empty() => {
            let definition = match (had_triggers, root) {
                (false, _) => definition_as_json(text),
                (true, Some(root)) => Some(root.to_json().to_string()),
                (true, None) => None,
            };
            Ok(MachineFile {
                machine,
                triggers,
                definition: definition.unwrap_or_default(),
            })
        }
        _ => Err(sorted(file, problems)),
    }
}

/// Problems in file order, each once; never none (a definition that failed says so).
fn sorted(file: &str, mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by_key(|p| (p.line, p.column));
    problems.dedup();
    if problems.is_empty() {
        problems.push(Problem::new(
            file,
            Pos::START,
            "the definition could not be read",
        ));
    }
    problems
}

/// The key of a machine file that holds its triggers.
pub const TRIGGERS_KEY: &str = "triggers";

/// Reads a definition; with `strip_triggers`, a top-level `triggers` member is taken out first.
/// Returns the checked machine (or its problems) and the tree it was read from.
fn read_definition(
    file: &str,
    text: &str,
    strip_triggers: bool,
) -> (Result<StateMachine, Vec<Problem>>, Option<tree::Node>) {
    let lower = file.to_ascii_lowercase();
    let yaml = lower.ends_with(".yaml")
        || lower.ends_with(".yml")
        || !(lower.ends_with(".json") || text.trim_start().starts_with('{'));
    let mut ctx = read::Ctx {
        file,
        problems: Vec::new(),
        unread: Vec::new(),
        distributed: 0,
    };
    let root = if yaml {
        let loaded = crate::pipeline::yaml::load(text);
        let mut found = Vec::new();
        let root = loaded.root.map(|r| tree::Node::from_yaml(&r, &mut found));
        for (pos, message) in loaded.problems.into_iter().chain(found) {
            ctx.problems.push(Problem::new(file, pos, message));
        }
        root
    } else {
        let (root, found) = json::read(text);
        for (pos, path, message) in found {
            ctx.problems
                .push(Problem::at_path(file, pos, path, message));
        }
        root
    };
    let Some(mut root) = root else {
        if ctx.problems.is_empty() {
            ctx.problems
                .push(Problem::new(file, Pos::START, "the definition is empty"));
        }
        return (Err(ctx.problems), None);
    };
    if strip_triggers && let tree::Value::Object(members) = &mut root.value {
        members.retain(|m| m.key != TRIGGERS_KEY);
    }
    let machine = read::machine(&mut ctx, &root);
    if let Some(m) = &machine {
        validate::check(&mut ctx, &root, &m.start_at, &m.states);
    }
    let result = match machine {
        Some(m) if ctx.problems.is_empty() => Ok(m),
        _ => Err(sorted(file, ctx.problems)),
    };
    (result, Some(root))
}

/// A definition written in YAML as JSON text (JSON text is returned as it is), for storing and
/// describing it the way Step Functions does. None when the YAML does not load.
pub fn definition_as_json(text: &str) -> Option<String> {
    if text.trim_start().starts_with('{') {
        return Some(text.to_string());
    }
    let root = crate::pipeline::yaml::load(text).root?;
    root.to_json().ok().map(|json| json.to_string())
}
