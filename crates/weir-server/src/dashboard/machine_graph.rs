//! A state machine's definition as a graph (`layout::render_svg`, top to bottom), its states
//! coloured by their status in an execution when one is given.

use super::html::url;
use super::layout::{self, Direction, Edge, Graph, LayoutOptions, Node};
use super::sfn_history::{Shape, Summary};

/// The graph as inline SVG; `execution`: the history's summary and the execution's status
/// (then each state shows its status and how often it ran, and links to its events).
pub(crate) fn svg(shape: &Shape, execution: Option<(&Summary, &str)>, id_prefix: &str) -> String {
    if shape.states.is_empty() {
        return String::new();
    }
    let nodes = shape
        .states
        .iter()
        .enumerate()
        .map(|(index, state)| {
            let (status, kind, href) = match execution {
                Some((summary, status)) => {
                    let record = &summary.states[index];
                    let mut kind = state.kind.to_string();
                    if record.entered > 1 {
                        kind.push_str(&format!(" · {}×", record.entered));
                    }
                    if record.failures > 0 {
                        kind.push_str(&format!(" · {} failed", record.failures));
                    }
                    (
                        summary
                            .status(shape, index, status)
                            .graph_state()
                            .map(str::to_string),
                        kind,
                        Some(format!("?state={}#history", url(&state.name))),
                    )
                }
                None => (None, state.kind.to_string(), None),
            };
            Node {
                id: state.id.clone(),
                label: state.name.clone(),
                state: status,
                href,
                kind: Some(kind),
                group: state.group.clone(),
            }
        })
        .collect();
    let edges = shape
        .edges
        .iter()
        .map(|(from, to, label)| Edge {
            from: shape.states[*from].id.clone(),
            to: shape.states[*to].id.clone(),
            label: label.clone(),
        })
        .collect();
    let options = LayoutOptions {
        direction: Direction::TopToBottom,
        aria_label: if execution.is_some() {
            "The execution's states and their status".into()
        } else {
            "The state machine's states".into()
        },
        id_prefix: id_prefix.to_string(),
        ..LayoutOptions::default()
    };
    format!(
        "<div class=\"scroll graph\">{}</div>",
        layout::render_svg(&Graph { nodes, edges }, &options)
    )
}
