//! The task graph: dependencies that name no task, self-dependencies, cycles, topological order
//! and upstream sets. Iterative throughout, so a long chain of tasks cannot exhaust the stack.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

use crate::problem::{Pos, did_you_mean};

/// One task as the graph sees it: its id, where it is defined, and its dependencies with positions.
pub(super) struct GraphTask<'a> {
    pub id: &'a str,
    pub pos: Pos,
    pub depends_on: Vec<(&'a str, Pos)>,
}

/// The checked graph: for each task (in file order), the indices of the tasks it depends on.
pub(super) struct Graph {
    pub upstream: Vec<Vec<usize>>,
}

/// Checks the graph; returns it with the problems found (positions and messages).
pub(super) fn check(tasks: &[GraphTask<'_>]) -> (Graph, Vec<(Pos, String)>) {
    let index: HashMap<&str, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let mut problems = Vec::new();
    let mut upstream = vec![Vec::new(); tasks.len()];
    for (i, task) in tasks.iter().enumerate() {
        for &(dep, pos) in &task.depends_on {
            match index.get(dep) {
                Some(&j) if j == i => {
                    problems.push((pos, format!("task `{}` depends on itself", task.id)))
                }
                Some(&j) => {
                    if !upstream[i].contains(&j) {
                        upstream[i].push(j);
                    }
                }
                None => {
                    let hint =
                        did_you_mean(dep, tasks.iter().map(|t| t.id).filter(|id| *id != task.id));
                    let message = format!(
                        "task `{}` depends on `{dep}`, which is not a task of this pipeline{hint}",
                        task.id
                    );
                    problems.push((pos, message));
                }
            }
        }
    }
    let graph = Graph { upstream };
    if graph.topological_order().is_none() {
        for cycle in graph.cycles() {
            let names: Vec<&str> = cycle.iter().map(|&i| tasks[i].id).collect();
            let message = format!(
                "cycle: {} -> {} (each task depends on the one before it)",
                names.join(" -> "),
                names[0]
            );
            problems.push((tasks[cycle[0]].pos, message));
        }
    }
    (graph, problems)
}

impl Graph {
    fn downstream(&self) -> Vec<Vec<usize>> {
        let mut down = vec![Vec::new(); self.upstream.len()];
        for (i, ups) in self.upstream.iter().enumerate() {
            for &u in ups {
                down[u].push(i);
            }
        }
        down
    }

    /// Task indices with every task after all of its dependencies; among tasks ready at the same
    /// time, file order. None when there is a cycle.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let down = self.downstream();
        let mut waiting: Vec<usize> = self.upstream.iter().map(Vec::len).collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..waiting.len())
            .filter(|&i| waiting[i] == 0)
            .map(Reverse)
            .collect();
        let mut order = Vec::with_capacity(waiting.len());
        while let Some(Reverse(i)) = ready.pop() {
            order.push(i);
            for &d in &down[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    ready.push(Reverse(d));
                }
            }
        }
        (order.len() == waiting.len()).then_some(order)
    }

    /// One cycle per group of tasks that depend on each other (strongly connected component),
    /// each in flow order (upstream first) and starting from the group's first task in file order.
    fn cycles(&self) -> Vec<Vec<usize>> {
        let down = self.downstream();
        let n = self.upstream.len();
        // Kosaraju: finish order of a depth-first walk downstream, then components upstream.
        let mut visited = vec![false; n];
        let mut finished = Vec::with_capacity(n);
        for root in 0..n {
            if visited[root] {
                continue;
            }
            visited[root] = true;
            let mut stack = vec![(root, 0usize)];
            while let Some((node, next)) = stack.last_mut() {
                let node = *node;
                if let Some(&child) = down[node].get(*next) {
                    *next += 1;
                    if !visited[child] {
                        visited[child] = true;
                        stack.push((child, 0));
                    }
                } else {
                    finished.push(node);
                    stack.pop();
                }
            }
        }
        let mut component = vec![usize::MAX; n];
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for &root in finished.iter().rev() {
            if component[root] != usize::MAX {
                continue;
            }
            let id = groups.len();
            component[root] = id;
            let mut members = vec![root];
            let mut todo = vec![root];
            while let Some(node) = todo.pop() {
                for &up in &self.upstream[node] {
                    if component[up] == usize::MAX {
                        component[up] = id;
                        members.push(up);
                        todo.push(up);
                    }
                }
            }
            groups.push(members);
        }
        let mut cycles: Vec<Vec<usize>> = groups
            .into_iter()
            .filter(|members| members.len() > 1)
            .filter_map(|members| {
                let start = members.iter().copied().min()?;
                shortest_cycle(&down, start, &members.into_iter().collect())
            })
            .collect();
        cycles.sort_by_key(|cycle| cycle.first().copied());
        cycles
    }

    /// Every task `task` depends on, directly or through other tasks.
    pub fn all_upstream(&self, task: usize) -> HashSet<usize> {
        reach(&self.upstream, task)
    }
}

/// The nodes reachable from `from` in one or more steps.
fn reach(edges: &[Vec<usize>], from: usize) -> HashSet<usize> {
    let mut seen = HashSet::new();
    let mut todo: Vec<usize> = edges.get(from).cloned().unwrap_or_default();
    while let Some(n) = todo.pop() {
        if seen.insert(n) {
            todo.extend(edges[n].iter().copied().filter(|m| !seen.contains(m)));
        }
    }
    seen
}

/// The shortest path from `start` back to itself within `group`, without repeating `start`.
fn shortest_cycle(
    edges: &[Vec<usize>],
    start: usize,
    group: &HashSet<usize>,
) -> Option<Vec<usize>> {
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for &m in &edges[n] {
            if !group.contains(&m) {
                continue;
            }
            if m == start {
                let mut path = vec![n];
                let mut at = n;
                while at != start {
                    at = *previous.get(&at)?;
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            if m != start && !previous.contains_key(&m) {
                previous.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks<'a>(spec: &[(&'a str, &[&'a str])]) -> Vec<GraphTask<'a>> {
        spec.iter()
            .enumerate()
            .map(|(i, (id, deps))| GraphTask {
                id,
                pos: Pos::new(i as u32 + 1, 1),
                depends_on: deps
                    .iter()
                    .map(|d| (*d, Pos::new(i as u32 + 1, 10)))
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn orders_topologically_with_ties_in_file_order() {
        let t = tasks(&[
            ("load", &["transform"]),
            ("extract", &[]),
            ("transform", &["extract"]),
            ("report", &[]),
        ]);
        let (graph, problems) = check(&t);
        assert!(problems.is_empty());
        let order: Vec<&str> = graph
            .topological_order()
            .unwrap()
            .iter()
            .map(|&i| t[i].id)
            .collect();
        assert_eq!(order, vec!["extract", "transform", "load", "report"]);
        let up: HashSet<&str> = graph.all_upstream(0).iter().map(|&i| t[i].id).collect();
        assert_eq!(up, HashSet::from(["transform", "extract"]));
    }

    #[test]
    fn reports_missing_and_self_dependencies() {
        let t = tasks(&[("extract", &[]), ("load", &["extarct", "load"])]);
        let (_, problems) = check(&t);
        assert_eq!(
            problems,
            vec![
                (Pos::new(2, 10), "task `load` depends on `extarct`, which is not a task of this pipeline; did you mean `extract`?".into()),
                (Pos::new(2, 10), "task `load` depends on itself".into()),
            ]
        );
    }

    #[test]
    fn names_each_cycle_once_in_flow_order() {
        let t = tasks(&[
            ("a", &["c"]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("d", &["c"]),
            ("x", &["y"]),
            ("y", &["x"]),
        ]);
        let (graph, problems) = check(&t);
        assert!(graph.topological_order().is_none());
        assert_eq!(
            problems,
            vec![
                (
                    Pos::new(1, 1),
                    "cycle: a -> b -> c -> a (each task depends on the one before it)".into()
                ),
                (
                    Pos::new(5, 1),
                    "cycle: x -> y -> x (each task depends on the one before it)".into()
                ),
            ]
        );
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("t{i}")).collect();
        let t: Vec<GraphTask<'_>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| GraphTask {
                id,
                pos: Pos::START,
                depends_on: if i == 0 {
                    vec![]
                } else {
                    vec![(ids[i - 1].as_str(), Pos::START)]
                },
            })
            .collect();
        let (graph, problems) = check(&t);
        assert!(problems.is_empty());
        assert_eq!(graph.topological_order().unwrap().len(), 20_000);
        // The same chain closed into one big cycle: found once, quickly, without recursion.
        let mut t = t;
        t[0].depends_on.push((ids[19_999].as_str(), Pos::START));
        let (_, problems) = check(&t);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].1.starts_with("cycle: t0 -> t1 -> t2 -> "),
            "{}",
            &problems[0].1[..40]
        );
        assert!(
            problems[0]
                .1
                .ends_with("t19999 -> t0 (each task depends on the one before it)")
        );
    }
}
