//! A layered layout of a directed graph, rendered as inline SVG: pipeline graphs (tasks and
//! their dependencies) and state machine graphs (states and transitions, cycles included).
//!
//! The steps are the classic Sugiyama ones, each kept linear or close to it so 500 nodes and
//! 1,000 edges render in a few milliseconds:
//! 1. cycles are broken by reversing the back edges a depth-first search finds (they are still
//!    drawn from their real source to their real target, dashed, as `edge back`);
//! 2. every node gets the longest path from a source as its layer;
//! 3. an edge spanning several layers gets a dummy node in each layer it crosses, so it is
//!    routed between the nodes instead of through them;
//! 4. a few down and up sweeps sort each layer by the barycentre of its neighbours, keeping
//!    the order with the fewest crossings;
//! 5. coordinates: the cross axis is cut into bands, one per expanded group and one for the
//!    ungrouped nodes between two groups, so a group's rectangle never holds a node that is
//!    not its member; inside its band a node moves toward its neighbours to straighten edges.
//!
//! CSS classes for the stylesheet: `dag`, `dag-lr`/`dag-tb` on the `<svg>`; `node`,
//! `node-box`, `node-glyph`, `node-label`, `node-kind`, `node-link`, `node-group` (a collapsed
//! group); state classes as `html::state_glyph` names them (`st-success`, `st-failed`,
//! `st-running`, `st-queued`, `st-retry`, `st-upstream`, `st-skipped`, `st-cancelled`, `st-timeout`,
//! `st-none` (see [`state_glyph`]); `edge`, `edge back`, `edge self`, `edge-label`,
//! `arrowhead`; `group`, `group-box`, `group-label`, `group-link`. Lines and boxes are drawn in
//! `currentColor` with no fill, so the SVG is legible with no stylesheet; the stylesheet fills
//! `.st-… .node-box` per state (CSS overrides these presentation attributes).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// One node: a task or a state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub id: String,
    pub label: String,
    /// A task's or state's status as its API spells it ("success", "failed", "SUCCEEDED", …).
    pub state: Option<String>,
    /// Where the node links to (a task's page, a state's events).
    pub href: Option<String>,
    /// Shown small under the label: "Map", "Parallel", "Choice", a task's action.
    pub kind: Option<String>,
    /// The group the node belongs to, e.g. "extract" for the task "extract.orders".
    pub group: Option<String>,
}

impl Node {
    /// A node labelled with its id, with no state, link, kind or group.
    #[cfg(test)]
    pub(crate) fn new(id: impl Into<String>) -> Node {
        let id = id.into();
        Node {
            label: id.clone(),
            id,
            ..Node::default()
        }
    }
}

/// A dependency or a transition, between node ids. Edges naming an unknown id are left out.
// Until the graph pages (pipelines, state machines) build graphs.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub from: String,
    pub to: String,
    /// Drawn beside the edge (a Choice rule, "Catch", "Default").
    pub label: Option<String>,
}

// Until the graph pages (pipelines, state machines) build graphs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// Which way the layers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Direction {
    /// Layers are columns, edges go right: pipelines.
    #[default]
    LeftToRight,
    /// Layers are rows, edges go down: state machines.
    TopToBottom,
}

/// Builds the URL that expands (`true`) or collapses (`false`) the named group.
pub(crate) type GroupHref = Box<dyn Fn(&str, bool) -> String>;

// Until the graph pages (pipelines, state machines) build graphs.
#[derive(Default)]
pub(crate) struct LayoutOptions {
    /// Groups drawn as one node with their member count and their worst state.
    pub collapsed_groups: HashSet<String>,
    /// Links to expand or collapse a group; without it groups have no links.
    pub group_href: Option<GroupHref>,
    pub direction: Direction,
    /// The SVG's accessible name ("Graph" when empty).
    pub aria_label: String,
    /// Prefixes the SVG's internal ids (its arrowhead marker), so several graphs can share a
    /// page; letters, digits, `-` and `_` are kept ("dag" when empty).
    pub id_prefix: String,
}

/// The glyph, CSS class and words of a task's or state's status: Airflow's task states and
/// Step Functions' execution and state statuses. Colour (the class) is never the only signal.
pub(crate) fn state_glyph(state: Option<&str>) -> (&'static str, &'static str, &'static str) {
    let (glyph, class) = super::html::state_glyph(state.unwrap_or(""));
    let words = match class {
        "st-success" => "success",
        "st-failed" => "failed",
        "st-running" => "running",
        "st-queued" => "queued",
        "st-retry" => "up for retry",
        "st-upstream" => "upstream failed",
        "st-skipped" => "skipped",
        "st-cancelled" => "cancelled",
        "st-timeout" => "timed out",
        "st-paused" => "paused",
        _ => "no status",
    };
    (glyph, class, words)
}

/// How bad a state is, for the state a collapsed group shows: any failure first, then what is
/// still moving, then what has not started, and success (or skipped) only when all are done.
fn state_severity(state: Option<&str>) -> u8 {
    match state_glyph(state).1 {
        "st-failed" => 10,
        "st-timeout" => 9,
        "st-upstream" => 8,
        "st-retry" => 7,
        "st-cancelled" => 6,
        "st-running" => 5,
        "st-queued" => 4,
        "st-none" | "st-paused" => 2,
        "st-success" => 1,
        _ => 0,
    }
}

/// Escapes text for XML character data and quoted attribute values, and replaces characters
/// XML 1.0 cannot hold (control characters) so the SVG stays well-formed whatever a name holds.
pub(super) fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '\t' | '\n' | '\r' => escaped.push(' '),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The text cut to at most `max_chars` characters, ending with an ellipsis when cut.
pub(super) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

// Sizes in SVG user units (pixels at scale 1).
const NODE_WIDTH: f64 = 176.0;
const NODE_HEIGHT: f64 = 44.0;
const LABEL_CHARS: usize = 21;
const KIND_CHARS: usize = 26;
const EDGE_LABEL_CHARS: usize = 18;
/// Between two nodes of a layer.
const NODE_GAP: f64 = 16.0;
/// What a dummy node (a long edge passing a layer) takes across the layer.
const DUMMY_SIZE: f64 = 6.0;
/// Between two layers, along the edges: room for the curves and their labels.
const LAYER_GAP_LR: f64 = 80.0;
const LAYER_GAP_TB: f64 = 64.0;
const MARGIN: f64 = 16.0;
/// Around a group's members, and the room its label takes above them.
const GROUP_PAD: f64 = 10.0;
const GROUP_LABEL: f64 = 20.0;
/// Sweeps of the crossing reduction: each one goes down then up.
const ORDER_SWEEPS: usize = 6;
/// Passes that pull nodes toward their neighbours inside their band.
const STRAIGHTEN_PASSES: usize = 4;

/// A node as laid out: a visible node (an input node or a collapsed group) or a dummy.
#[derive(Debug, Clone)]
struct Visible {
    label: String,
    title: String,
    state: Option<String>,
    href: Option<String>,
    kind: Option<String>,
    /// The expanded group this node is drawn inside.
    group: Option<usize>,
    /// The name of the group when this node stands for a collapsed group.
    collapsed_group: Option<String>,
}

/// An edge between visible nodes after grouping.
#[derive(Debug, Clone)]
struct VisibleEdge {
    from: usize,
    to: usize,
    label: Option<String>,
}

/// An axis-aligned box in SVG coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

impl Rect {
    #[cfg(test)]
    fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.width
            && other.x < self.x + self.width
            && self.y < other.y + other.height
            && other.y < self.y + self.height
    }
}

#[derive(Debug)]
struct RoutedEdge {
    /// From the real source to the real target, through the dummies.
    points: Vec<(f64, f64)>,
    label: Option<String>,
    back: bool,
    self_loop: bool,
}

#[derive(Debug)]
struct GroupBox {
    name: String,
    rect: Rect,
    members: usize,
}

/// The result of laying a graph out, before it becomes SVG.
#[derive(Debug)]
struct Layout {
    nodes: Vec<Visible>,
    boxes: Vec<Rect>,
    edges: Vec<RoutedEdge>,
    groups: Vec<GroupBox>,
    width: f64,
    height: f64,
}

/// Renders the graph as an `<svg>` element sized to its content, with a `viewBox` so CSS can
/// scale it down. The SVG is `role="group"` (its nodes are links) with an `aria-label`.
// Until the graph pages (pipelines, state machines) build graphs.
pub(crate) fn render_svg(graph: &Graph, options: &LayoutOptions) -> String {
    let layout = compute_layout(graph, options);
    draw(&layout, options)
}

/// Replaces the members of collapsed groups by one node per group, drops edges naming unknown
/// ids, and numbers the expanded groups.
fn visible_graph(
    graph: &Graph,
    options: &LayoutOptions,
) -> (Vec<Visible>, Vec<VisibleEdge>, Vec<String>) {
    let mut nodes: Vec<Visible> = Vec::with_capacity(graph.nodes.len());
    let mut index_of_id: HashMap<&str, usize> = HashMap::with_capacity(graph.nodes.len());
    let mut collapsed_index: HashMap<&str, usize> = HashMap::new();
    let mut collapsed_states: HashMap<usize, Vec<Option<&str>>> = HashMap::new();
    let mut expanded_index: HashMap<&str, usize> = HashMap::new();
    let mut expanded_names: Vec<String> = Vec::new();
    for node in &graph.nodes {
        if index_of_id.contains_key(node.id.as_str()) {
            continue; // a repeated id: the first one is drawn
        }
        let group = node.group.as_deref().filter(|group| !group.is_empty());
        let index = match group {
            Some(group) if options.collapsed_groups.contains(group) => {
                let index = *collapsed_index.entry(group).or_insert_with(|| {
                    nodes.push(Visible {
                        label: group.to_string(),
                        title: String::new(),
                        state: None,
                        href: options.group_href.as_ref().map(|href| href(group, true)),
                        kind: None,
                        group: None,
                        collapsed_group: Some(group.to_string()),
                    });
                    nodes.len() - 1
                });
                collapsed_states
                    .entry(index)
                    .or_default()
                    .push(node.state.as_deref());
                index
            }
            _ => {
                let group_index = group.map(|group| {
                    *expanded_index.entry(group).or_insert_with(|| {
                        expanded_names.push(group.to_string());
                        expanded_names.len() - 1
                    })
                });
                let (_, _, words) = state_glyph(node.state.as_deref());
                let mut title = node.label.clone();
                if let Some(kind) = node.kind.as_deref().filter(|kind| !kind.is_empty()) {
                    let _ = write!(title, " ({kind})");
                }
                let _ = write!(title, ": {words}");
                nodes.push(Visible {
                    label: node.label.clone(),
                    title,
                    state: node.state.clone(),
                    href: node.href.clone(),
                    kind: node.kind.clone(),
                    group: group_index,
                    collapsed_group: None,
                });
                nodes.len() - 1
            }
        };
        index_of_id.insert(node.id.as_str(), index);
    }
    for (index, states) in collapsed_states {
        let worst = states
            .iter()
            .copied()
            .max_by_key(|state| state_severity(*state))
            .flatten();
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for state in &states {
            let words = state_glyph(*state).2;
            match counts.iter_mut().find(|(known, _)| *known == words) {
                Some((_, count)) => *count += 1,
                None => counts.push((words, 1)),
            }
        }
        let noun = if states.len() == 1 { "task" } else { "tasks" };
        let breakdown: Vec<String> = counts
            .iter()
            .map(|(words, count)| format!("{count} {words}"))
            .collect();
        if let Some(node) = nodes.get_mut(index) {
            node.title = format!(
                "group {} ({} {noun}): {}",
                node.label,
                states.len(),
                breakdown.join(", ")
            );
            node.kind = Some(format!("group · {} {noun}", states.len()));
            node.state = worst.map(str::to_string);
        }
    }
    let mut seen_pairs: HashSet<(usize, usize)> = HashSet::new();
    let mut edges = Vec::with_capacity(graph.edges.len());
    for edge in &graph.edges {
        let (Some(&from), Some(&to)) = (
            index_of_id.get(edge.from.as_str()),
            index_of_id.get(edge.to.as_str()),
        ) else {
            continue;
        };
        let touches_collapsed =
            nodes[from].collapsed_group.is_some() || nodes[to].collapsed_group.is_some();
        if touches_collapsed {
            // Edges inside a collapsed group vanish; edges into or out of it are drawn once.
            if from == to || !seen_pairs.insert((from, to)) {
                continue;
            }
        }
        edges.push(VisibleEdge {
            from,
            to,
            label: if touches_collapsed {
                None
            } else {
                edge.label.clone().filter(|label| !label.is_empty())
            },
        });
    }
    (nodes, edges, expanded_names)
}

/// Which edges a depth-first search finds going back to a node still on its stack: reversing
/// them leaves the graph acyclic. Iterative, so a long chain cannot overflow the stack.
fn back_edges(node_count: usize, edges: &[VisibleEdge]) -> Vec<bool> {
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); node_count];
    for (index, edge) in edges.iter().enumerate() {
        if edge.from != edge.to {
            outgoing[edge.from].push(index);
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let mut marks = vec![Mark::New; node_count];
    let mut back = vec![false; edges.len()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..node_count {
        if marks[root] != Mark::New {
            continue;
        }
        marks[root] = Mark::OnStack;
        stack.push((root, 0));
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            if let Some(&edge_index) = outgoing[node].get(*next) {
                *next += 1;
                let target = edges[edge_index].to;
                match marks[target] {
                    Mark::New => {
                        marks[target] = Mark::OnStack;
                        stack.push((target, 0));
                    }
                    Mark::OnStack => back[edge_index] = true,
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    back
}

/// The longest path from a source to each node, over the acyclic edges `(upper, lower)`.
fn longest_path_layers(node_count: usize, acyclic: &[(usize, usize)]) -> Vec<usize> {
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); node_count];
    let mut indegree = vec![0usize; node_count];
    for &(from, to) in acyclic {
        outgoing[from].push(to);
        indegree[to] += 1;
    }
    let mut layer = vec![0usize; node_count];
    let mut ready: Vec<usize> = (0..node_count).filter(|&n| indegree[n] == 0).collect();
    while let Some(node) = ready.pop() {
        for &next in &outgoing[node] {
            layer[next] = layer[next].max(layer[node] + 1);
            indegree[next] -= 1;
            if indegree[next] == 0 {
                ready.push(next);
            }
        }
    }
    layer
}

/// Sorts a layer by the mean position of each node's neighbours in the layer just swept
/// (a node without neighbours keeps its place); an expanded group's members sort by their
/// group's mean, so they stay together.
fn reorder_layer(
    layer: &mut [usize],
    neighbours: &[Vec<usize>],
    group_of: &[Option<usize>],
    position: &mut [usize],
) {
    let own: Vec<f64> = layer
        .iter()
        .map(|&node| {
            let near = &neighbours[node];
            if near.is_empty() {
                position[node] as f64
            } else {
                near.iter().map(|&n| position[n] as f64).sum::<f64>() / near.len() as f64
            }
        })
        .collect();
    let mut group_sums: HashMap<usize, (f64, usize)> = HashMap::new();
    for (&node, &value) in layer.iter().zip(&own) {
        if let Some(group) = group_of[node] {
            let entry = group_sums.entry(group).or_insert((0.0, 0));
            entry.0 += value;
            entry.1 += 1;
        }
    }
    let mut keyed: Vec<(f64, Option<usize>, f64, usize)> = layer
        .iter()
        .zip(&own)
        .map(|(&node, &value)| {
            let group = group_of[node];
            let key = group
                .and_then(|group| group_sums.get(&group))
                .map_or(value, |&(sum, count)| sum / count.max(1) as f64);
            (key, group, value, node)
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.total_cmp(&b.2))
    });
    for (index, (slot, &(_, _, _, node))) in layer.iter_mut().zip(&keyed).enumerate() {
        *slot = node;
        position[node] = index;
    }
}

/// Crossings between two adjacent layers, counted pairwise over the edges between them.
fn crossings_between(
    upper_positions: &[usize],
    lower_of: &[Vec<usize>],
    upper: &[usize],
    position: &[usize],
) -> usize {
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for &node in upper {
        for &lower in &lower_of[node] {
            segments.push((upper_positions[node], position[lower]));
        }
    }
    segments.sort_unstable();
    // Inversions of the lower ends once sorted by the upper ends: a merge sort count.
    let mut lower_ends: Vec<usize> = segments.iter().map(|&(_, lower)| lower).collect();
    count_inversions(&mut lower_ends)
}

fn count_inversions(values: &mut [usize]) -> usize {
    let length = values.len();
    if length < 2 {
        return 0;
    }
    let middle = length / 2;
    let mut count =
        count_inversions(&mut values[..middle]) + count_inversions(&mut values[middle..]);
    let mut merged = Vec::with_capacity(length);
    let (mut left, mut right) = (0, middle);
    while left < middle && right < length {
        if values[right] < values[left] {
            count += middle - left;
            merged.push(values[right]);
            right += 1;
        } else {
            merged.push(values[left]);
            left += 1;
        }
    }
    merged.extend_from_slice(&values[left..middle]);
    merged.extend_from_slice(&values[right..length]);
    values.copy_from_slice(&merged);
    count
}

/// What a layout node takes across its layer.
fn cross_size(is_dummy: &[bool], node_cross: f64, node: usize) -> f64 {
    if is_dummy[node] {
        DUMMY_SIZE
    } else {
        node_cross
    }
}

/// The space between two neighbours in a layer: dummies (edges) may pass closer.
fn gap_between(is_dummy: &[bool], node: usize, next: usize) -> f64 {
    if is_dummy[node] || is_dummy[next] {
        NODE_GAP / 2.0
    } else {
        NODE_GAP
    }
}

/// Where each band lies across the layers, and which band each layout node is in.
struct Bands<'a> {
    of_node: &'a [usize],
    start: &'a [f64],
    need: &'a [f64],
    is_dummy: &'a [bool],
    node_cross: f64,
}

impl Bands<'_> {
    /// Sets the centres of a layer's nodes, keeping their order, their gaps and their bands:
    /// centred in the band without `desired`, else as near `desired` as those allow (a push
    /// right, then a push left, which keeps every node inside its band because the band is
    /// as wide as the most any layer puts in it).
    fn place(&self, layer: &[usize], desired: Option<&[f64]>, centre: &mut [f64]) {
        let mut start = 0;
        while start < layer.len() {
            let band = self.of_node[layer[start]];
            let mut end = start + 1;
            while end < layer.len() && self.of_node[layer[end]] == band {
                end += 1;
            }
            let members = &layer[start..end];
            let low = self.start[band];
            let high = low + self.need[band];
            let size = |node: usize| cross_size(self.is_dummy, self.node_cross, node);
            let gap = |a: usize, b: usize| gap_between(self.is_dummy, a, b);
            match desired {
                None => {
                    let used: f64 = members.iter().map(|&n| size(n)).sum::<f64>()
                        + members.windows(2).map(|p| gap(p[0], p[1])).sum::<f64>();
                    let mut at = low + (self.need[band] - used) / 2.0;
                    for (index, &node) in members.iter().enumerate() {
                        if index > 0 {
                            at += gap(members[index - 1], node);
                        }
                        centre[node] = at + size(node) / 2.0;
                        at += size(node);
                    }
                }
                Some(desired) => {
                    let mut previous: Option<usize> = None;
                    for (offset, &node) in members.iter().enumerate() {
                        let mut at = desired[start + offset].max(low + size(node) / 2.0);
                        if let Some(before) = previous {
                            at = at.max(
                                centre[before]
                                    + (size(before) + size(node)) / 2.0
                                    + gap(before, node),
                            );
                        }
                        centre[node] = at;
                        previous = Some(node);
                    }
                    let mut next: Option<usize> = None;
                    for &node in members.iter().rev() {
                        let mut at = centre[node].min(high - size(node) / 2.0);
                        if let Some(after) = next {
                            at = at.min(
                                centre[after] - (size(after) + size(node)) / 2.0 - gap(node, after),
                            );
                        }
                        centre[node] = at;
                        next = Some(node);
                    }
                }
            }
            start = end;
        }
    }
}

fn compute_layout(graph: &Graph, options: &LayoutOptions) -> Layout {
    let (nodes, edges, group_names) = visible_graph(graph, options);
    let visible_count = nodes.len();
    let back = back_edges(visible_count, &edges);

    // Acyclic orientation: a back edge is laid out from its target to its source.
    let oriented: Vec<(usize, usize)> = edges
        .iter()
        .zip(&back)
        .filter(|(edge, _)| edge.from != edge.to)
        .map(|(edge, &is_back)| {
            if is_back {
                (edge.to, edge.from)
            } else {
                (edge.from, edge.to)
            }
        })
        .collect();
    let mut layer_of = longest_path_layers(visible_count, &oriented);

    // Layout nodes: the visible ones, then the dummies of long edges. Each edge gets its chain
    // of layout nodes from the upper end to the lower end.
    let mut group_of: Vec<Option<usize>> = nodes.iter().map(|node| node.group).collect();
    let mut is_dummy = vec![false; visible_count];
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(edges.len());
    for (edge, &is_back) in edges.iter().zip(&back) {
        if edge.from == edge.to {
            chains.push(vec![edge.from]);
            continue;
        }
        let (upper, lower) = if is_back {
            (edge.to, edge.from)
        } else {
            (edge.from, edge.to)
        };
        let mut chain = vec![upper];
        let shared_group = group_of[upper].filter(|group| group_of[lower] == Some(*group));
        for layer in layer_of[upper] + 1..layer_of[lower] {
            layer_of.push(layer);
            group_of.push(shared_group);
            is_dummy.push(true);
            chain.push(layer_of.len() - 1);
        }
        chain.push(lower);
        chains.push(chain);
    }
    let total = layer_of.len();
    let mut upper_of: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut lower_of: Vec<Vec<usize>> = vec![Vec::new(); total];
    for chain in &chains {
        for pair in chain.windows(2) {
            lower_of[pair[0]].push(pair[1]);
            upper_of[pair[1]].push(pair[0]);
        }
    }

    // Initial order: input order (dummies after, in the order their edges come).
    let layer_count = layer_of.iter().copied().max().map_or(0, |max| max + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    for (node, &layer) in layer_of.iter().enumerate() {
        layers[layer].push(node);
    }
    let mut position = vec![0usize; total];
    let set_positions = |layers: &[Vec<usize>], position: &mut [usize]| {
        for layer in layers {
            for (index, &node) in layer.iter().enumerate() {
                position[node] = index;
            }
        }
    };
    set_positions(&layers, &mut position);
    let count_crossings = |layers: &[Vec<usize>], position: &[usize]| -> usize {
        layers
            .windows(2)
            .map(|pair| crossings_between(position, &lower_of, &pair[0], position))
            .sum()
    };
    let mut best_layers = layers.clone();
    let mut best_crossings = count_crossings(&layers, &position);
    for _ in 0..ORDER_SWEEPS {
        if best_crossings == 0 {
            break;
        }
        for layer in layers.iter_mut().skip(1) {
            reorder_layer(layer, &upper_of, &group_of, &mut position);
        }
        for layer in layers.iter_mut().rev().skip(1) {
            reorder_layer(layer, &lower_of, &group_of, &mut position);
        }
        let crossings = count_crossings(&layers, &position);
        if crossings < best_crossings {
            best_crossings = crossings;
            best_layers = layers.clone();
        }
    }
    let mut layers = best_layers;
    set_positions(&layers, &mut position);

    // Bands: order the groups by where their members are on average, then sort every layer by
    // (its item's key), so each group's members and each run of ungrouped nodes between two
    // groups keep one place across all layers.
    let normalized: Vec<f64> = (0..total)
        .map(|node| (position[node] as f64 + 0.5) / layers[layer_of[node]].len().max(1) as f64)
        .collect();
    let mut group_sum = vec![(0.0f64, 0usize); group_names.len()];
    for node in 0..total {
        if let Some(group) = group_of[node] {
            group_sum[group].0 += normalized[node];
            group_sum[group].1 += 1;
        }
    }
    let group_key: Vec<f64> = group_sum
        .iter()
        .map(|&(sum, count)| if count == 0 { 0.0 } else { sum / count as f64 })
        .collect();
    let mut group_rank: Vec<usize> = (0..group_names.len()).collect();
    group_rank.sort_by(|&a, &b| group_key[a].total_cmp(&group_key[b]).then(a.cmp(&b)));
    let mut rank_of_group = vec![0usize; group_names.len()];
    for (rank, &group) in group_rank.iter().enumerate() {
        rank_of_group[group] = rank;
    }
    // Band numbers: 2k is the run of ungrouped nodes before the group of rank k, 2k+1 that group.
    let band_of = |node: usize| -> usize {
        match group_of[node] {
            Some(group) => 2 * rank_of_group[group] + 1,
            None => {
                2 * group_key
                    .iter()
                    .filter(|&&key| key < normalized[node])
                    .count()
            }
        }
    };
    let bands: Vec<usize> = (0..total).map(band_of).collect();
    for layer in &mut layers {
        layer.sort_by(|&a, &b| {
            bands[a]
                .cmp(&bands[b])
                .then(normalized[a].total_cmp(&normalized[b]))
        });
    }
    set_positions(&layers, &mut position);

    let vertical = options.direction == Direction::TopToBottom;
    let (node_main, node_cross) = if vertical {
        (NODE_HEIGHT, NODE_WIDTH)
    } else {
        (NODE_WIDTH, NODE_HEIGHT)
    };
    let size_of = |node: usize| cross_size(&is_dummy, node_cross, node);
    let gap_of = |node: usize, next: usize| gap_between(&is_dummy, node, next);

    // Each band's extent across the layers: the most any layer puts in it.
    let band_count = 2 * group_names.len() + 1;
    let mut band_need = vec![0.0f64; band_count];
    for layer in &layers {
        let mut start = 0;
        while start < layer.len() {
            let band = bands[layer[start]];
            let mut end = start;
            let mut need = 0.0;
            while end < layer.len() && bands[layer[end]] == band {
                need += size_of(layer[end]);
                if end > start {
                    need += gap_of(layer[end - 1], layer[end]);
                }
                end += 1;
            }
            band_need[band] = band_need[band].max(need);
            start = end;
        }
    }
    // Group bands hold their padding (and, left to right, their label) as well.
    let group_lead = if vertical {
        GROUP_PAD
    } else {
        GROUP_PAD + GROUP_LABEL
    };
    let mut band_start = vec![0.0f64; band_count];
    let mut cursor = MARGIN;
    for band in 0..band_count {
        let is_group = band % 2 == 1;
        if is_group {
            cursor += NODE_GAP;
            band_start[band] = cursor + group_lead;
            cursor += group_lead + band_need[band] + GROUP_PAD + NODE_GAP;
        } else {
            band_start[band] = cursor;
            cursor += band_need[band];
        }
    }
    let cross_extent = cursor + MARGIN;

    // Centres across the layers: first centred in their band, then pulled toward neighbours.
    let band_geometry = Bands {
        of_node: &bands,
        start: &band_start,
        need: &band_need,
        is_dummy: &is_dummy,
        node_cross,
    };
    let mut centre = vec![0.0f64; total];
    for layer in &layers {
        band_geometry.place(layer, None, &mut centre);
    }
    for pass in 0..STRAIGHTEN_PASSES {
        let downward = pass % 2 == 0;
        let order: Vec<usize> = if downward {
            (1..layer_count).collect()
        } else {
            (0..layer_count.saturating_sub(1)).rev().collect()
        };
        let neighbours = if downward { &upper_of } else { &lower_of };
        for layer in order {
            let desired: Vec<f64> = layers[layer]
                .iter()
                .map(|&node| {
                    let near = &neighbours[node];
                    if near.is_empty() {
                        centre[node]
                    } else {
                        near.iter().map(|&n| centre[n]).sum::<f64>() / near.len() as f64
                    }
                })
                .collect();
            band_geometry.place(&layers[layer], Some(&desired), &mut centre);
        }
    }

    // Along the layers.
    let layer_gap = if vertical { LAYER_GAP_TB } else { LAYER_GAP_LR };
    let main_lead = if vertical && !group_names.is_empty() {
        GROUP_LABEL + GROUP_PAD
    } else {
        0.0
    };
    let main_of_layer = |layer: usize| MARGIN + main_lead + layer as f64 * (node_main + layer_gap);
    let main_extent = main_of_layer(layer_count.max(1)) - layer_gap + MARGIN + GROUP_PAD;

    let to_xy = |main: f64, cross: f64| {
        if vertical {
            (cross, main)
        } else {
            (main, cross)
        }
    };
    let boxes: Vec<Rect> = (0..visible_count)
        .map(|node| {
            let (x, y) = to_xy(
                main_of_layer(layer_of[node]),
                centre[node] - node_cross / 2.0,
            );
            Rect {
                x,
                y,
                width: NODE_WIDTH,
                height: NODE_HEIGHT,
            }
        })
        .collect();

    // Edges: from the lower side of the upper end, through the dummies' centres, to the upper
    // side of the lower end; back edges are then turned round to end at their real target.
    let mut routed = Vec::with_capacity(edges.len());
    for ((edge, chain), &is_back) in edges.iter().zip(&chains).zip(&back) {
        if edge.from == edge.to {
            let node_box = boxes[edge.from];
            routed.push(RoutedEdge {
                points: vec![(node_box.x, node_box.y)],
                label: edge.label.clone(),
                back: false,
                self_loop: true,
            });
            continue;
        }
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(chain.len());
        let last = chain.len() - 1;
        for (step, &node) in chain.iter().enumerate() {
            let main = main_of_layer(layer_of[node]);
            if is_dummy[node] {
                points.push(to_xy(main + node_main / 2.0, centre[node]));
            } else if step == 0 {
                points.push(to_xy(main + node_main, centre[node]));
            } else if step == last {
                points.push(to_xy(main, centre[node]));
            } else {
                points.push(to_xy(main + node_main / 2.0, centre[node]));
            }
        }
        if is_back {
            points.reverse();
        }
        routed.push(RoutedEdge {
            points,
            label: edge.label.clone(),
            back: is_back,
            self_loop: false,
        });
    }

    // Expanded groups: around their members, with the padding their band reserved.
    let mut groups = Vec::with_capacity(group_names.len());
    for (group, name) in group_names.iter().enumerate() {
        let members: Vec<&Rect> = (0..visible_count)
            .filter(|&node| nodes[node].group == Some(group))
            .map(|node| &boxes[node])
            .collect();
        let Some(first) = members.first() else {
            continue;
        };
        let (mut x0, mut y0, mut x1, mut y1) = (
            first.x,
            first.y,
            first.x + first.width,
            first.y + first.height,
        );
        for member in &members {
            x0 = x0.min(member.x);
            y0 = y0.min(member.y);
            x1 = x1.max(member.x + member.width);
            y1 = y1.max(member.y + member.height);
        }
        let rect = Rect {
            x: x0 - GROUP_PAD,
            y: y0 - GROUP_PAD - GROUP_LABEL,
            width: x1 - x0 + 2.0 * GROUP_PAD,
            height: y1 - y0 + 2.0 * GROUP_PAD + GROUP_LABEL,
        };
        groups.push(GroupBox {
            name: name.clone(),
            rect,
            members: members.len(),
        });
    }

    let (width, height) = to_xy(main_extent, cross_extent);
    Layout {
        nodes,
        boxes,
        edges: routed,
        groups,
        width,
        height,
    }
}

/// A number for SVG: one decimal, no trailing ".0"; 0 for what is not finite.
pub(super) fn num(value: f64) -> String {
    let rounded = if value.is_finite() {
        (value * 10.0).round() / 10.0
    } else {
        0.0
    };
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// Keeps letters, digits, `-` and `_`, so the prefix is a valid id.
fn id_prefix(options: &LayoutOptions) -> String {
    let cleaned: String = options
        .id_prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if cleaned.is_empty() || !cleaned.starts_with(|c: char| c.is_ascii_alphabetic()) {
        format!("dag{cleaned}")
    } else {
        cleaned
    }
}

/// A smooth path through the points: each step is a cubic curve leaving and entering along
/// the layer direction, so edges read as flowing from layer to layer.
fn edge_path(points: &[(f64, f64)], vertical: bool) -> String {
    let mut path = String::new();
    let Some(&(x0, y0)) = points.first() else {
        return path;
    };
    let _ = write!(path, "M{},{}", num(x0), num(y0));
    for pair in points.windows(2) {
        let ((ax, ay), (bx, by)) = (pair[0], pair[1]);
        if vertical {
            let middle = (ay + by) / 2.0;
            let _ = write!(
                path,
                " C{},{} {},{} {},{}",
                num(ax),
                num(middle),
                num(bx),
                num(middle),
                num(bx),
                num(by)
            );
        } else {
            let middle = (ax + bx) / 2.0;
            let _ = write!(
                path,
                " C{},{} {},{} {},{}",
                num(middle),
                num(ay),
                num(middle),
                num(by),
                num(bx),
                num(by)
            );
        }
    }
    path
}

fn draw(layout: &Layout, options: &LayoutOptions) -> String {
    let vertical = options.direction == Direction::TopToBottom;
    let prefix = id_prefix(options);
    let label = if options.aria_label.is_empty() {
        "Graph"
    } else {
        options.aria_label.as_str()
    };
    let (width, height) = (num(layout.width.ceil()), num(layout.height.ceil()));
    let mut svg = String::with_capacity(400 + layout.nodes.len() * 600 + layout.edges.len() * 160);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="dag {}" role="group" aria-label="{}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">"#,
        if vertical { "dag-tb" } else { "dag-lr" },
        xml_escape(label),
    );
    let _ = write!(
        svg,
        r#"<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path class="arrowhead" fill="currentColor" d="M0,0 L10,5 L0,10 z"/></marker></defs>"#
    );

    svg.push_str(r#"<g class="groups">"#);
    for group in &layout.groups {
        let rect = group.rect;
        let name = xml_escape(&group.name);
        let _ = write!(
            svg,
            r#"<g class="group"><title>group {name} ({} {})</title><rect class="group-box" fill="none" stroke="currentColor" stroke-opacity="0.4" x="{}" y="{}" width="{}" height="{}" rx="8"/>"#,
            group.members,
            if group.members == 1 { "node" } else { "nodes" },
            num(rect.x),
            num(rect.y),
            num(rect.width),
            num(rect.height)
        );
        let text = format!(
            r#"<text class="group-label" x="{}" y="{}">{}{}</text>"#,
            num(rect.x + GROUP_PAD),
            num(rect.y + GROUP_LABEL - 4.0),
            xml_escape(&truncate(&group.name, 40)),
            // The collapse mark only where there is a link to collapse.
            if options.group_href.is_some() {
                " ▾"
            } else {
                ""
            }
        );
        match options.group_href.as_ref() {
            Some(href) => {
                let _ = write!(
                    svg,
                    r#"<a class="group-link" href="{}" aria-label="collapse group {name}">{text}</a>"#,
                    xml_escape(&href(&group.name, false))
                );
            }
            None => svg.push_str(&text),
        }
        svg.push_str("</g>");
    }
    svg.push_str("</g>");

    svg.push_str(r#"<g class="edges">"#);
    for edge in &layout.edges {
        let path = if edge.self_loop {
            // A loop over the node's top right corner, back into its top.
            let Some(&(x, y)) = edge.points.first() else {
                continue;
            };
            let (start_x, end_x) = (x + NODE_WIDTH - 24.0, x + NODE_WIDTH - 48.0);
            format!(
                "M{},{} C{},{} {},{} {},{}",
                num(start_x),
                num(y),
                num(start_x + 6.0),
                num(y - 26.0),
                num(end_x - 6.0),
                num(y - 26.0),
                num(end_x),
                num(y)
            )
        } else {
            edge_path(&edge.points, vertical)
        };
        let class = if edge.self_loop {
            "edge self"
        } else if edge.back {
            "edge back"
        } else {
            "edge"
        };
        // Back edges are dashed by structure, not by the stylesheet alone.
        let dashes = if edge.back {
            r#" stroke-dasharray="5 4""#
        } else {
            ""
        };
        let _ = write!(
            svg,
            r#"<path class="{class}" fill="none" stroke="currentColor"{dashes} d="{path}" marker-end="url(#{prefix}-arrow)"/>"#
        );
        if let Some(text) = edge.label.as_deref() {
            // Beside the first step of the edge, where it leaves its source.
            let (x, y) = match edge.points.as_slice() {
                [single] => (single.0 + NODE_WIDTH - 36.0, single.1 - 22.0),
                [first, second, ..] => {
                    ((first.0 + second.0) / 2.0, (first.1 + second.1) / 2.0 - 4.0)
                }
                [] => continue,
            };
            let _ = write!(
                svg,
                r#"<text class="edge-label" x="{}" y="{}" text-anchor="middle"><title>{}</title>{}</text>"#,
                num(x),
                num(y),
                xml_escape(text),
                xml_escape(&truncate(text, EDGE_LABEL_CHARS))
            );
        }
    }
    svg.push_str("</g>");

    svg.push_str(r#"<g class="nodes">"#);
    for (node, rect) in layout.nodes.iter().zip(&layout.boxes) {
        let (glyph, state_class, _) = state_glyph(node.state.as_deref());
        let kind_class = if node.collapsed_group.is_some() {
            " node-group"
        } else {
            ""
        };
        let mut body = format!(
            r#"<g class="node {state_class}{kind_class}" transform="translate({},{})"><title>{}</title><rect class="node-box" fill="none" stroke="currentColor" width="{}" height="{}" rx="6"/><text class="node-glyph" x="10" y="{}" aria-hidden="true">{glyph}</text>"#,
            num(rect.x),
            num(rect.y),
            xml_escape(&node.title),
            num(NODE_WIDTH),
            num(NODE_HEIGHT),
            if node.kind.is_some() { 20 } else { 27 },
        );
        let label_y = if node.kind.is_some() { 19 } else { 27 };
        let label = match &node.collapsed_group {
            Some(_) => format!("{} ▸", truncate(&node.label, LABEL_CHARS - 2)),
            None => truncate(&node.label, LABEL_CHARS),
        };
        let _ = write!(
            body,
            r#"<text class="node-label" x="28" y="{label_y}">{}</text>"#,
            xml_escape(&label)
        );
        if let Some(kind) = node.kind.as_deref().filter(|kind| !kind.is_empty()) {
            let _ = write!(
                body,
                r#"<text class="node-kind" x="28" y="34">{}</text>"#,
                xml_escape(&truncate(kind, KIND_CHARS))
            );
        }
        body.push_str("</g>");
        match node.href.as_deref() {
            Some(href) => {
                let _ = write!(
                    svg,
                    r#"<a class="node-link" href="{}">{body}</a>"#,
                    xml_escape(href)
                );
            }
            None => svg.push_str(&body),
        }
    }
    svg.push_str("</g></svg>");
    svg
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Instant;

    /// Checks the SVG is well-formed XML: one root, tags balanced and named alike, attributes
    /// quoted, no raw `<` in text or values, and `&` only starting a known entity.
    pub(in crate::dashboard) fn assert_well_formed(xml: &str) {
        fn check_text(text: &str) -> Result<(), String> {
            let mut rest = text;
            while let Some(at) = rest.find('&') {
                rest = &rest[at + 1..];
                let end = rest.find(';').ok_or("an & without ;")?;
                let entity = &rest[..end];
                let numeric = entity.strip_prefix('#').is_some_and(|digits| {
                    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
                });
                if !numeric && !["amp", "lt", "gt", "quot", "apos"].contains(&entity) {
                    return Err(format!("unknown entity &{entity};"));
                }
            }
            if text.contains('<') {
                return Err("a raw <".into());
            }
            if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            {
                return Err("a control character".into());
            }
            Ok(())
        }
        fn check(xml: &str) -> Result<(), String> {
            let mut stack: Vec<&str> = Vec::new();
            let mut roots = 0;
            let mut rest = xml;
            while !rest.is_empty() {
                let Some(open) = rest.find('<') else {
                    if !stack.is_empty() || !rest.trim().is_empty() {
                        return Err(format!("text after the root: {rest:.40}"));
                    }
                    break;
                };
                let text = &rest[..open];
                if stack.is_empty() && !text.trim().is_empty() {
                    return Err("text outside the root".into());
                }
                check_text(text)?;
                rest = &rest[open..];
                let close = rest.find('>').ok_or("an unclosed tag")?;
                let tag = &rest[1..close];
                rest = &rest[close + 1..];
                if let Some(name) = tag.strip_prefix('/') {
                    match stack.pop() {
                        Some(open_name) if open_name == name.trim() => {}
                        other => return Err(format!("</{name}> closes {other:?}")),
                    }
                    continue;
                }
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
                let name = &tag[..name_end];
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == ':')
                {
                    return Err(format!("bad tag name {name:?}"));
                }
                // Attributes: name="value" pairs, each name once.
                let mut attributes = tag[name_end..].trim();
                let mut seen = HashSet::new();
                while !attributes.is_empty() {
                    let equals = attributes
                        .find('=')
                        .ok_or(format!("attribute without value in <{name}>"))?;
                    let attribute = attributes[..equals].trim();
                    if !seen.insert(attribute) {
                        return Err(format!("attribute {attribute} twice in <{name}>"));
                    }
                    let after = &attributes[equals + 1..];
                    let quote = after.chars().next().ok_or("no value")?;
                    if quote != '"' && quote != '\'' {
                        return Err(format!("unquoted attribute {attribute}"));
                    }
                    let end = after[1..].find(quote).ok_or("unterminated value")?;
                    check_text(&after[1..1 + end])?;
                    attributes = after[end + 2..].trim_start();
                }
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name);
                }
            }
            if !stack.is_empty() {
                return Err(format!("unclosed {stack:?}"));
            }
            if roots != 1 {
                return Err(format!("{roots} roots"));
            }
            Ok(())
        }
        if let Err(problem) = check(xml) {
            panic!("not well-formed XML ({problem}): {xml:.2000}");
        }
    }

    fn node(id: &str) -> Node {
        Node::new(id)
    }

    fn edge(from: &str, to: &str) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            label: None,
        }
    }

    fn graph(ids: &[&str], edges: &[(&str, &str)]) -> Graph {
        Graph {
            nodes: ids.iter().map(|id| node(id)).collect(),
            edges: edges.iter().map(|(from, to)| edge(from, to)).collect(),
        }
    }

    fn box_of<'a>(layout: &'a Layout, label: &str) -> &'a Rect {
        let index = layout.nodes.iter().position(|node| node.label == label);
        &layout.boxes[index.unwrap_or_else(|| panic!("no node {label}"))]
    }

    fn assert_no_overlaps(layout: &Layout) {
        for (a, first) in layout.boxes.iter().enumerate() {
            for second in &layout.boxes[a + 1..] {
                assert!(!first.overlaps(second), "{first:?} overlaps {second:?}");
            }
        }
    }

    /// A deterministic pseudo-random DAG: `count` nodes in groups of ten, edges forward only.
    fn random_dag(count: usize, edges_per_node: usize, seed: u64) -> Graph {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let nodes = (0..count)
            .map(|index| Node {
                id: format!("n{index}"),
                label: format!("group{}.task_{index}", index / 10),
                state: Some(["success", "failed", "running", "queued"][index % 4].into()),
                href: Some(format!("/ui/task?id=n{index}")),
                kind: Some("BashOperator".into()),
                group: (index % 3 == 0).then(|| format!("group{}", index / 30)),
            })
            .collect();
        let mut edges = Vec::new();
        for to in 1..count {
            for _ in 0..edges_per_node {
                let from = next() % to;
                edges.push(edge(&format!("n{from}"), &format!("n{to}")));
            }
        }
        Graph { nodes, edges }
    }

    #[test]
    fn layers_are_longest_paths_from_a_source() {
        // a→b→c and a→c: c goes below b, not beside it.
        let layers = longest_path_layers(4, &[(0, 1), (1, 2), (0, 2), (3, 2)]);
        assert_eq!(layers, vec![0, 1, 2, 0]);
        let layout = compute_layout(
            &graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("a", "c")]),
            &LayoutOptions::default(),
        );
        let (a, b, c) = (
            box_of(&layout, "a"),
            box_of(&layout, "b"),
            box_of(&layout, "c"),
        );
        assert!(a.x < b.x && b.x < c.x, "left to right: {a:?} {b:?} {c:?}");
        // The long edge a→c passes layer 1 through a dummy: three points.
        assert!(layout.edges.iter().any(|edge| edge.points.len() == 3));
    }

    #[test]
    fn top_to_bottom_puts_layers_in_rows() {
        let options = LayoutOptions {
            direction: Direction::TopToBottom,
            ..LayoutOptions::default()
        };
        let layout = compute_layout(&graph(&["a", "b"], &[("a", "b")]), &options);
        let (a, b) = (box_of(&layout, "a"), box_of(&layout, "b"));
        assert!(a.y + a.height < b.y && a.x == b.x, "{a:?} {b:?}");
        assert!(render_svg(&graph(&["a"], &[]), &options).contains("dag-tb"));
    }

    #[test]
    fn cycles_are_broken_and_drawn_as_back_edges() {
        // A Choice looping back to an earlier state, and a Retry-style loop on itself.
        let cyclic = graph(
            &["start", "check", "wait", "done"],
            &[
                ("start", "check"),
                ("check", "wait"),
                ("wait", "check"),
                ("check", "done"),
                ("wait", "wait"),
            ],
        );
        let (nodes, edges, _) = visible_graph(&cyclic, &LayoutOptions::default());
        let back = back_edges(nodes.len(), &edges);
        assert_eq!(back, vec![false, false, true, false, false]);
        let layout = compute_layout(&cyclic, &LayoutOptions::default());
        let (check, wait) = (box_of(&layout, "check"), box_of(&layout, "wait"));
        assert!(check.x < wait.x);
        // The back edge ends at its real target (check), on its right side.
        let back_edge = layout
            .edges
            .iter()
            .find(|edge| edge.back)
            .map(|edge| edge.points.clone());
        let end = back_edge.and_then(|points| points.last().copied());
        assert_eq!(end.map(|(x, _)| x), Some(check.x + check.width));
        let svg = render_svg(&cyclic, &LayoutOptions::default());
        assert!(svg.contains(r#"class="edge back""#) && svg.contains(r#"class="edge self""#));
        assert_well_formed(&svg);
        // A cycle through every node still lays out and renders.
        let ring = graph(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "a")]);
        assert_well_formed(&render_svg(&ring, &LayoutOptions::default()));
    }

    #[test]
    fn ordering_removes_an_avoidable_crossing() {
        // In input order a→d and b→c cross; swapping c and d removes the crossing.
        let crossed = graph(&["a", "b", "c", "d"], &[("a", "d"), ("b", "c")]);
        let layout = compute_layout(&crossed, &LayoutOptions::default());
        let (a, b) = (box_of(&layout, "a"), box_of(&layout, "b"));
        let (c, d) = (box_of(&layout, "c"), box_of(&layout, "d"));
        assert_eq!(a.y < b.y, d.y < c.y, "a {a:?} b {b:?} c {c:?} d {d:?}");
        assert_eq!(count_inversions(&mut [3, 1, 2]), 2);
        assert_eq!(count_inversions(&mut []), 0);
    }

    #[test]
    fn states_have_a_glyph_a_class_and_words() {
        assert_eq!(state_glyph(Some("success")), ("✓", "st-success", "success"));
        assert_eq!(state_glyph(Some("SUCCEEDED")).1, "st-success");
        assert_eq!(state_glyph(Some("FAILED")).0, "✗");
        assert_eq!(state_glyph(Some("up_for_retry")).1, "st-retry");
        assert_eq!(state_glyph(Some("TIMED_OUT")).0, "⏱");
        assert_eq!(state_glyph(Some("ABORTED")).1, "st-cancelled");
        assert_eq!(state_glyph(Some("nonsense")).1, "st-none");
        assert_eq!(state_glyph(None).0, "•");
        let mut one = graph(&["t"], &[]);
        one.nodes[0].state = Some("running".into());
        let svg = render_svg(&one, &LayoutOptions::default());
        assert!(svg.contains("node st-running") && svg.contains('▶') && svg.contains("t: running"));
    }

    #[test]
    fn labels_and_links_are_escaped_and_long_labels_cut() {
        let mut hostile = graph(&["x", "y"], &[]);
        hostile.nodes[0].label = "<script>alert('x')</script> & \"more\"\u{1}".into();
        hostile.nodes[0].href = Some("/ui/task?a=1&b=\"2\"".into());
        hostile.nodes[1].label = "a_really_long_task_name_that_goes_on_and_on".into();
        hostile.edges.push(Edge {
            from: "x".into(),
            to: "y".into(),
            label: Some("$.status == \"<ok>\"".into()),
        });
        let options = LayoutOptions {
            aria_label: "Graph of <pipeline>".into(),
            id_prefix: "g\"1".into(),
            ..LayoutOptions::default()
        };
        let svg = render_svg(&hostile, &options);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)"));
        assert!(svg.contains(r#"<a class="node-link" href="/ui/task?a=1&amp;b=&quot;2&quot;">"#));
        assert!(svg.contains("a_really_long_task_n…"));
        assert!(
            svg.contains("<title>a_really_long_task_name_that_goes_on_and_on: no status</title>")
        );
        assert!(svg.contains(r#"aria-label="Graph of &lt;pipeline&gt;""#));
        assert!(svg.contains(r#"id="g1-arrow""#));
        assert_well_formed(&svg);
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
    }

    #[test]
    fn expanded_groups_enclose_their_members_only() {
        let mut grouped = graph(
            &[
                "start",
                "extract.a",
                "extract.b",
                "extract.c",
                "load.a",
                "load.b",
                "end",
            ],
            &[
                ("start", "extract.a"),
                ("start", "extract.b"),
                ("extract.a", "extract.c"),
                ("extract.b", "load.a"),
                ("extract.c", "load.b"),
                ("load.a", "end"),
                ("load.b", "end"),
                ("start", "end"),
            ],
        );
        for node in &mut grouped.nodes {
            node.group = node.id.split_once('.').map(|(group, _)| group.to_string());
        }
        let options = LayoutOptions {
            group_href: Some(Box::new(|group, expand| {
                format!("?expand={group}&open={expand}")
            })),
            ..LayoutOptions::default()
        };
        let layout = compute_layout(&grouped, &options);
        assert_eq!(layout.groups.len(), 2);
        assert_no_overlaps(&layout);
        for group in &layout.groups {
            for (node, rect) in layout.nodes.iter().zip(&layout.boxes) {
                let member = node.label.starts_with(&format!("{}.", group.name));
                let inside = rect.x >= group.rect.x
                    && rect.y >= group.rect.y
                    && rect.x + rect.width <= group.rect.x + group.rect.width
                    && rect.y + rect.height <= group.rect.y + group.rect.height;
                assert_eq!(member, inside, "{} in group {}", node.label, group.name);
                if !member {
                    assert!(
                        !rect.overlaps(&group.rect),
                        "{} overlaps group {}",
                        node.label,
                        group.name
                    );
                }
            }
        }
        let [first, second] = [&layout.groups[0].rect, &layout.groups[1].rect];
        assert!(!first.overlaps(second));
        let svg = render_svg(&grouped, &options);
        assert!(svg.contains(r#"<a class="group-link" href="?expand=extract&amp;open=false""#));
        assert!(svg.contains("group-box"));
        assert_well_formed(&svg);
    }

    #[test]
    fn a_collapsed_group_is_one_node_with_its_worst_state() {
        let mut grouped = graph(
            &["start", "extract.a", "extract.b", "extract.c", "end"],
            &[
                ("start", "extract.a"),
                ("start", "extract.b"),
                ("extract.a", "extract.c"),
                ("extract.b", "end"),
                ("extract.c", "end"),
            ],
        );
        for (node, state) in grouped
            .nodes
            .iter_mut()
            .zip(["success", "success", "failed", "running", "queued"])
        {
            node.group = node.id.split_once('.').map(|(group, _)| group.to_string());
            node.state = Some(state.into());
        }
        let options = LayoutOptions {
            collapsed_groups: HashSet::from(["extract".to_string()]),
            group_href: Some(Box::new(|group, expand| {
                format!("?expand={group}&open={expand}")
            })),
            ..LayoutOptions::default()
        };
        let layout = compute_layout(&grouped, &options);
        assert_eq!(layout.nodes.len(), 3);
        // Edges into and out of the group are drawn once; those inside it vanish.
        assert_eq!(layout.edges.len(), 2);
        let svg = render_svg(&grouped, &options);
        assert!(svg.contains("node st-failed node-group"), "{svg}");
        assert!(svg.contains("group extract (3 tasks): 1 success, 1 failed, 1 running"));
        assert!(svg.contains(r#"<a class="node-link" href="?expand=extract&amp;open=true">"#));
        assert!(!svg.contains("extract.a"));
        assert_well_formed(&svg);
        // Nothing failed or running: queued beats success (the group is not done).
        assert_eq!(
            [Some("success"), Some("queued")]
                .into_iter()
                .max_by_key(|s| state_severity(*s)),
            Some(Some("queued"))
        );
    }

    #[test]
    fn unknown_and_repeated_ids_and_empty_graphs_are_harmless() {
        let odd = graph(
            &["a", "a", "b"],
            &[("a", "ghost"), ("ghost", "b"), ("a", "b"), ("a", "b")],
        );
        let layout = compute_layout(&odd, &LayoutOptions::default());
        assert_eq!(layout.nodes.len(), 2);
        assert_eq!(layout.edges.len(), 2);
        assert_well_formed(&render_svg(&odd, &LayoutOptions::default()));
        let empty = render_svg(&Graph::default(), &LayoutOptions::default());
        assert!(empty.contains(r#"role="group""#) && empty.contains("viewBox"));
        assert_well_formed(&empty);
    }

    #[test]
    fn three_hundred_nodes_lay_out_without_overlaps() {
        let big = random_dag(300, 2, 7);
        let started = Instant::now();
        let layout = compute_layout(&big, &LayoutOptions::default());
        let svg = draw(&layout, &LayoutOptions::default());
        let took = started.elapsed();
        eprintln!(
            "300 nodes / {} edges: {took:?} ({} bytes)",
            big.edges.len(),
            svg.len()
        );
        assert_eq!(layout.nodes.len(), 300);
        assert_no_overlaps(&layout);
        for group in &layout.groups {
            for other in &layout.groups {
                assert!(std::ptr::eq(group, other) || !group.rect.overlaps(&other.rect));
            }
        }
        assert_well_formed(&svg);
    }

    #[test]
    fn five_hundred_nodes_and_a_thousand_edges_render_quickly() {
        let big = random_dag(500, 2, 11);
        assert_eq!(big.edges.len(), 998);
        for direction in [Direction::LeftToRight, Direction::TopToBottom] {
            let options = LayoutOptions {
                direction,
                ..LayoutOptions::default()
            };
            let started = Instant::now();
            let svg = render_svg(&big, &options);
            let took = started.elapsed();
            eprintln!(
                "500 nodes / 998 edges {direction:?}: {took:?} ({} bytes)",
                svg.len()
            );
            // Generous: a debug build on a busy machine; release is far below 20 ms.
            assert!(took.as_secs() < 5, "{took:?}");
        }
    }

    fn arbitrary_graph() -> impl Strategy<Value = (Graph, Vec<String>, bool)> {
        let ids = prop::sample::select(vec!["a", "b", "c", "d", "e", "f", "g", "h", "zz"]);
        let state = prop::option::of(prop::sample::select(vec![
            "success",
            "failed",
            "running",
            "SUCCEEDED",
            "up_for_retry",
            "weird",
        ]));
        let group = prop::option::of(prop::sample::select(vec!["g1", "g2", ""]));
        let node = (
            ids.clone(),
            ".{0,30}",
            state,
            prop::option::of(".{0,10}"),
            prop::option::of(".{0,10}"),
            group,
        )
            .prop_map(|(id, label, state, href, kind, group)| Node {
                id: id.into(),
                label,
                state: state.map(str::to_string),
                href,
                kind,
                group: group.map(str::to_string),
            });
        let edge =
            (ids.clone(), ids, prop::option::of(".{0,12}")).prop_map(|(from, to, label)| Edge {
                from: from.into(),
                to: to.into(),
                label,
            });
        (
            prop::collection::vec(node, 0..12),
            prop::collection::vec(edge, 0..30),
            prop::collection::vec(
                prop::sample::select(vec!["g1".to_string(), "g2".to_string()]),
                0..2,
            ),
            any::<bool>(),
        )
            .prop_map(|(nodes, edges, collapsed, vertical)| {
                (Graph { nodes, edges }, collapsed, vertical)
            })
    }

    proptest! {
        #[test]
        fn any_graph_renders_well_formed_svg_without_overlaps((graph, collapsed, vertical) in arbitrary_graph()) {
            let options = LayoutOptions {
                collapsed_groups: collapsed.into_iter().collect(),
                group_href: Some(Box::new(|group, expand| format!("?g={group}&e={expand}"))),
                direction: if vertical { Direction::TopToBottom } else { Direction::LeftToRight },
                aria_label: "graph".into(),
                id_prefix: String::new(),
            };
            let layout = compute_layout(&graph, &options);
            assert_no_overlaps(&layout);
            assert_well_formed(&draw(&layout, &options));
        }
    }
}
