//! A weir project on disk: `weir.toml` and the definitions under it. Loading never fails as a
//! whole: each file either yields a definition or problems, and a file that fails to parse keeps
//! the last good version of its definition in force.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir_model::pipeline::{Pipeline, parse_pipeline};
use weir_model::{Pos, Problem};

/// A pipeline version with the graph the executor walks.
#[derive(Debug)]
pub struct PipelineVersion {
    pub pipeline: Pipeline,
    /// For each task (by index in `pipeline.tasks`), the tasks that depend on it.
    pub downstream: Vec<Vec<usize>>,
    /// For each task, the tasks it depends on.
    pub upstream: Vec<Vec<usize>>,
    /// For each task, whether its action configuration contains templates to render.
    pub templated: Vec<bool>,
}

impl PipelineVersion {
    pub fn new(pipeline: Pipeline) -> Self {
        let index: HashMap<&str, usize> = pipeline
            .tasks
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let mut downstream = vec![Vec::new(); pipeline.tasks.len()];
        let mut upstream = vec![Vec::new(); pipeline.tasks.len()];
        for (i, task) in pipeline.tasks.values().enumerate() {
            for dep in &task.depends_on {
                if let Some(&d) = index.get(dep.as_str()) {
                    downstream[d].push(i);
                    upstream[i].push(d);
                }
            }
        }
        let templated = pipeline
            .tasks
            .values()
            .map(|t| {
                t.map_over.is_some()
                    || has_template(&serde_json::Value::Object(t.action.config.clone()))
            })
            .collect();
        PipelineVersion {
            pipeline,
            downstream,
            upstream,
            templated,
        }
    }

    pub fn task_index(&self, task_id: &str) -> Option<usize> {
        self.pipeline.tasks.get_index_of(task_id)
    }

    /// Every task downstream of `roots` (transitively), roots excluded.
    pub fn descendants(&self, roots: &[usize]) -> Vec<usize> {
        let mut seen = vec![false; self.downstream.len()];
        let mut stack: Vec<usize> = roots.to_vec();
        let mut out = Vec::new();
        while let Some(i) = stack.pop() {
            for &d in &self.downstream[i] {
                if !seen[d] {
                    seen[d] = true;
                    out.push(d);
                    stack.push(d);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

fn has_template(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => weir_model::template::is_template(s),
        serde_json::Value::Array(items) => items.iter().any(has_template),
        serde_json::Value::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

/// The definitions currently in force and the problems of the files that are not.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub pipelines: HashMap<String, Arc<PipelineVersion>>,
    pub problems: Vec<Problem>,
}

/// Reads `DIR/pipelines/*.yaml` (and `.yml`). `previous` supplies the last good version of a
/// pipeline whose file is now invalid.
pub fn load_pipelines(project: &Path, previous: Option<&Catalog>) -> Catalog {
    let dir = project.join("pipelines");
    let mut catalog = Catalog::default();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            catalog.problems.push(Problem::new(
                display(project, &dir),
                Pos::START,
                format!("cannot read the pipelines directory: {e}"),
            ));
            Vec::new()
        }
    };
    files.sort();
    let mut seen: HashMap<String, String> = HashMap::new();
    for path in files {
        let file = display(project, &path);
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
            continue;
        };
        if let Some(first) = seen.get(&name) {
            catalog.problems.push(Problem::new(
                &file,
                Pos::START,
                format!("duplicate pipeline name `{name}`: {first} defines it too"),
            ));
            continue;
        }
        seen.insert(name.clone(), file.clone());
        let source = match std::fs::read_to_string(&path) {
            Ok(source) => source,
            Err(e) => {
                catalog
                    .problems
                    .push(Problem::new(&file, Pos::START, format!("cannot read: {e}")));
                keep_previous(&mut catalog, previous, &name);
                continue;
            }
        };
        if let Some(old) = previous
            .and_then(|p| p.pipelines.get(&name))
            .filter(|v| v.pipeline.source == source && v.pipeline.file == file)
        {
            catalog.pipelines.insert(name, old.clone());
            continue;
        }
        match parse_pipeline(&file, &name, &source) {
            Ok(pipeline) => {
                catalog
                    .pipelines
                    .insert(name, Arc::new(PipelineVersion::new(pipeline)));
            }
            Err(problems) => {
                catalog.problems.extend(problems);
                keep_previous(&mut catalog, previous, &name);
            }
        }
    }
    catalog
}

fn keep_previous(catalog: &mut Catalog, previous: Option<&Catalog>, name: &str) {
    if let Some(old) = previous.and_then(|p| p.pipelines.get(name)) {
        catalog.pipelines.insert(name.to_string(), old.clone());
    }
}

/// A path as users see it: relative to the project when inside it.
pub fn display(project: &Path, path: &Path) -> String {
    path.strip_prefix(project)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Tasks that name a pool weir.toml does not define (such a pool runs one task at a time).
pub fn check_pools(catalog: &Catalog, config: &weir_model::config::Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names: Vec<&String> = catalog.pipelines.keys().collect();
    names.sort();
    for name in names {
        let pipeline = &catalog.pipelines[name].pipeline;
        for task in pipeline.tasks.values() {
            let Some(pool) = &task.pool else { continue };
            if pool == "default" || config.pools.contains_key(pool) {
                continue;
            }
            let pos = find_line(&pipeline.source, &format!("pool: {pool}")).unwrap_or(Pos::START);
            let hint =
                weir_model::problem::did_you_mean(pool, config.pools.keys().map(String::as_str));
            problems.push(Problem::new(&pipeline.file, pos, format!("task `{}` uses pool `{pool}`, which weir.toml does not define under [pools] (an undefined pool runs one task at a time){hint}", task.id)));
        }
    }
    problems
}

/// The position of the first occurrence of `needle` (for problems found after parsing).
fn find_line(source: &str, needle: &str) -> Option<Pos> {
    source.lines().enumerate().find_map(|(i, line)| {
        line.find(needle)
            .map(|col| Pos::new(i as u32 + 1, line[..col].chars().count() as u32 + 1))
    })
}
