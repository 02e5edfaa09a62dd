//! A flow as the pipeline it stands for: `flows/NAME.yaml` is a pipeline `NAME` with one task,
//! [`FLOW_TASK`], running `transform: NAME`, scheduled or triggered as the flow says.
//!
//! The pipeline is written out as pipeline text and read by the pipeline parser, so that it is
//! exactly what a pipeline file saying the same would be, and a run's stored version (that text)
//! reads back as any pipeline's does. The text names the flow file's SHA-256, so the version
//! changes whenever the flow's file does.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::{Flow, FlowTrigger, parse_flow};
use crate::pipeline::{Pipeline, parse_pipeline};
use crate::problem::{Pos, Problem};

/// The id of a flow's one task.
pub const FLOW_TASK: &str = "run";

/// Reads `flows/NAME.yaml` into the pipeline it stands for; the flow's problems otherwise.
pub fn flow_pipeline(file: &str, name: &str, source: &str) -> Result<Pipeline, Vec<Problem>> {
    let flow = parse_flow(file, name, source)?;
    let text = pipeline_text(file, &flow, source);
    parse_pipeline(file, name, &text).map_err(|problems| {
        // The text is built from a checked flow, so this is weir's mistake, not the user's;
        // the flow file is still where to look.
        problems
            .into_iter()
            .map(|p| {
                Problem::new(
                    file,
                    Pos::START,
                    format!("the flow's pipeline does not read: {}", p.message),
                )
            })
            .collect()
    })
}

fn pipeline_text(file: &str, flow: &Flow, source: &str) -> String {
    let hash = format!("{:x}", Sha256::digest(source.as_bytes()));
    let mut text = format!(
        "# The pipeline of flow {} ({}, sha256 {hash}): one task running its transform.\n",
        flow.recipe.name,
        file.escape_debug()
    );
    if let Some(description) = &flow.recipe.description {
        text.push_str(&format!("description: {}\n", quoted(description)));
    }
    match &flow.trigger {
        FlowTrigger::OnDemand => {}
        FlowTrigger::Schedule { cron, timezone } => {
            text.push_str(&format!("schedule: {}\n", quoted(&cron.value)));
            if let Some(timezone) = timezone {
                text.push_str(&format!("timezone: {}\n", quoted(timezone)));
            }
        }
        FlowTrigger::Event { pattern } => {
            text.push_str(&format!(
                "triggers:\n  - event: {}\n",
                flow_json(&pattern.value)
            ));
        }
    }
    text.push_str(&format!(
        "tasks:\n  {FLOW_TASK}:\n    transform: {}\n",
        quoted(&flow.recipe.name)
    ));
    text
}

/// A string as a YAML double-quoted scalar (JSON's escapes are YAML's).
fn quoted(text: &str) -> String {
    flow_json(&Json::String(text.to_string()))
}

/// JSON written as a one-line YAML flow collection (`{"a": [1, "b"]}`: a space after each colon,
/// as YAML wants in a block document).
fn flow_json(value: &Json) -> String {
    match value {
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(flow_json).collect::<Vec<_>>().join(", ")
        ),
        Json::Object(members) => format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("{}: {}", quoted(k), flow_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}
