//! A weir project on disk: `weir.toml` and the definitions under it. Loading never fails as a
//! whole: each file either yields a definition or problems, and a file that fails to parse keeps
//! the last good version of its definition in force.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir_model::pipeline::{Pipeline, parse_pipeline};
use weir_model::transform::{flow_pipeline, parse_transform};
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

/// Reads `DIR/pipelines/*.yaml` (and `.yml`), and `DIR/flows/*.yaml`, each flow a pipeline of
/// its name with one task running its transform. `previous` supplies the last good version of a
/// pipeline whose file is now invalid.
pub fn load_pipelines(project: &Path, previous: Option<&Catalog>) -> Catalog {
    let mut catalog = Catalog::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    let pipelines = definitions(
        project,
        "pipelines",
        &mut catalog,
        previous,
        &mut seen,
        |name, first| format!("duplicate pipeline name `{name}`: {first} defines it too"),
    );
    for (file, name, source) in pipelines {
        if let Some(old) = previous
            .and_then(|p| p.pipelines.get(&name))
            .filter(|v| v.pipeline.source == source && v.pipeline.file == file)
        {
            catalog.pipelines.insert(name, old.clone());
            continue;
        }
        let parsed = parse_pipeline(&file, &name, &source);
        add_parsed(&mut catalog, previous, name, parsed);
    }
    let flows = definitions(
        project,
        "flows",
        &mut catalog,
        previous,
        &mut seen,
        |name, first| {
            if first.starts_with("flows/") {
                format!("duplicate flow name `{name}`: {first} defines it too")
            } else {
                format!(
                    "flow `{name}` has the name of {first}: a flow is a pipeline of its name, so rename one of them"
                )
            }
        },
    );
    for (file, name, source) in flows {
        // The flow's pipeline names the flow file's hash: the same version is the same flow.
        let parsed = flow_pipeline(&file, &name, &source);
        if let Ok(pipeline) = &parsed
            && let Some(old) = previous
                .and_then(|p| p.pipelines.get(&name))
                .filter(|v| v.pipeline.version == pipeline.version && v.pipeline.file == file)
        {
            catalog.pipelines.insert(name, old.clone());
            continue;
        }
        add_parsed(&mut catalog, previous, name, parsed);
    }
    catalog
}

/// The definition files of `project/dir` as `(file as shown, name, text)`. A name already in
/// `seen` is reported with `duplicate(name, first file)` and left out; a file that cannot be
/// read is reported and its pipeline's last good version kept.
fn definitions(
    project: &Path,
    dir: &str,
    catalog: &mut Catalog,
    previous: Option<&Catalog>,
    seen: &mut HashMap<String, String>,
    duplicate: impl Fn(&str, &str) -> String,
) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for path in definition_files(project, dir, &mut catalog.problems) {
        let file = display(project, &path);
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
            continue;
        };
        if let Some(first) = seen.get(&name) {
            let message = duplicate(&name, first);
            catalog
                .problems
                .push(Problem::new(&file, Pos::START, message));
            continue;
        }
        seen.insert(name.clone(), file.clone());
        match std::fs::read_to_string(&path) {
            Ok(source) => found.push((file, name, source)),
            Err(e) => {
                catalog
                    .problems
                    .push(Problem::new(&file, Pos::START, format!("cannot read: {e}")));
                keep_previous(catalog, previous, &name);
            }
        }
    }
    found
}

/// The `.yaml` and `.yml` files of `project/dir`, sorted; none when the folder is missing.
fn definition_files(project: &Path, dir: &str, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let folder = project.join(dir);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&folder) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            problems.push(Problem::new(
                display(project, &folder),
                Pos::START,
                format!("cannot read the {dir} directory: {e}"),
            ));
            Vec::new()
        }
    };
    files.sort();
    files
}

fn add_parsed(
    catalog: &mut Catalog,
    previous: Option<&Catalog>,
    name: String,
    parsed: Result<Pipeline, Vec<Problem>>,
) {
    match parsed {
        Ok(pipeline) => {
            catalog
                .pipelines
                .insert(name, Arc::new(PipelineVersion::new(pipeline)));
        }
        Err(problems) => {
            catalog.problems.extend(problems);
            keep_previous(catalog, previous, &name);
        }
    }
}

fn keep_previous(catalog: &mut Catalog, previous: Option<&Catalog>, name: &str) {
    if let Some(old) = previous.and_then(|p| p.pipelines.get(name)) {
        catalog.pipelines.insert(name.to_string(), old.clone());
    }
}

/// The transforms of `DIR/transforms/*.yaml` that read, and the problems of those that do not;
/// with the names of `DIR/flows/*.yaml` (a flow is a transform too: its pipeline runs it).
#[derive(Debug, Default, Clone)]
pub struct Transforms {
    pub transforms: Vec<String>,
    pub flows: Vec<String>,
    pub problems: Vec<Problem>,
}

/// Reads every transform file (flows are read as pipelines, by [`load_pipelines`]).
pub fn load_transforms(project: &Path) -> Transforms {
    let mut found = Transforms::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    for path in definition_files(project, "transforms", &mut found.problems) {
        let file = display(project, &path);
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
            continue;
        };
        if let Some(first) = seen.get(&name) {
            found.problems.push(Problem::new(
                &file,
                Pos::START,
                format!("duplicate transform name `{name}`: {first} defines it too"),
            ));
            continue;
        }
        seen.insert(name.clone(), file.clone());
        match std::fs::read_to_string(&path) {
            Ok(source) => match parse_transform(&file, &name, &source) {
                Ok(_) => found.transforms.push(name),
                Err(problems) => found.problems.extend(problems),
            },
            Err(e) => {
                found
                    .problems
                    .push(Problem::new(&file, Pos::START, format!("cannot read: {e}")))
            }
        }
    }
    for path in definition_files(project, "flows", &mut Vec::new()) {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
            continue;
        };
        if project
            .join("transforms")
            .join(format!("{name}.yaml"))
            .exists()
            || project
                .join("transforms")
                .join(format!("{name}.yml"))
                .exists()
        {
            found.problems.push(Problem::new(
                display(project, &path),
                Pos::START,
                format!("flow `{name}` has the name of transform `{name}` (transforms/): a `transform: {name}` task could mean either, so rename one of them"),
            ));
        }
        found.flows.push(name);
    }
    found
}

/// Tasks whose `transform:` names no transform or flow of the project. A templated name is
/// known only when the task runs.
pub fn check_transform_references(catalog: &Catalog, transforms: &Transforms) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names: Vec<&String> = catalog.pipelines.keys().collect();
    names.sort();
    let known = transforms.transforms.iter().chain(&transforms.flows);
    let known: Vec<&str> = known.map(String::as_str).collect();
    for name in names {
        let pipeline = &catalog.pipelines[name].pipeline;
        for task in pipeline.tasks.values() {
            if task.action.kind != "transform" {
                continue;
            }
            let target = match task.action.config.get("transform") {
                Some(serde_json::Value::String(target)) => target,
                Some(serde_json::Value::Object(config)) => match config.get("name") {
                    Some(serde_json::Value::String(target)) => target,
                    _ => continue,
                },
                _ => continue,
            };
            if weir_model::template::is_template(target) || known.contains(&target.as_str()) {
                continue;
            }
            let pos = find_line(&pipeline.source, &format!("transform: {target}"))
                .or_else(|| find_line(&pipeline.source, target))
                .unwrap_or(Pos::START);
            let hint = weir_model::problem::did_you_mean(target, known.iter().copied());
            problems.push(Problem::new(
                &pipeline.file,
                pos,
                format!(
                    "task `{}` runs transform `{target}`, which neither transforms/ nor flows/ defines{hint}",
                    task.id
                ),
            ));
        }
    }
    problems
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

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let project = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = project.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        project
    }

    const FLOW: &str = "source: { table: raw.orders }\ndestination: { table: curated.orders }\ntrigger: { schedule: \"0 * * * *\" }\n";

    fn messages(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn transform_flows_load_as_one_task_pipelines() {
        let dir = project(&[
            ("flows/orders.yaml", FLOW),
            ("pipelines/p.yaml", "tasks:\n  a:\n    noop:\n"),
        ]);
        let catalog = load_pipelines(dir.path(), None);
        assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
        let flow = &catalog.pipelines["orders"];
        assert_eq!(flow.pipeline.file, "flows/orders.yaml");
        assert!(flow.pipeline.schedule.is_some());
        let task = &flow.pipeline.tasks[weir_model::transform::FLOW_TASK];
        assert_eq!(task.action.kind, "transform");
        assert!(catalog.pipelines.contains_key("p"));

        // Reloading an unchanged flow keeps its version; an edit makes a new one.
        let again = load_pipelines(dir.path(), Some(&catalog));
        assert!(Arc::ptr_eq(&again.pipelines["orders"], flow));
        std::fs::write(
            dir.path().join("flows/orders.yaml"),
            FLOW.replace("0 * * * *", "@daily"),
        )
        .unwrap();
        let edited = load_pipelines(dir.path(), Some(&again));
        assert_ne!(
            edited.pipelines["orders"].pipeline.version,
            flow.pipeline.version
        );

        // A broken flow is reported and keeps its last good version.
        std::fs::write(dir.path().join("flows/orders.yaml"), "source: {}\n").unwrap();
        let broken = load_pipelines(dir.path(), Some(&edited));
        assert!(!broken.problems.is_empty());
        assert!(
            broken
                .problems
                .iter()
                .all(|p| p.file == "flows/orders.yaml")
        );
        assert!(Arc::ptr_eq(
            &broken.pipelines["orders"],
            &edited.pipelines["orders"]
        ));
    }

    #[test]
    fn transform_flow_named_as_a_pipeline_is_a_problem() {
        let dir = project(&[
            ("flows/p.yaml", FLOW),
            ("pipelines/p.yaml", "tasks:\n  a:\n    noop:\n"),
        ]);
        let catalog = load_pipelines(dir.path(), None);
        assert_eq!(
            messages(&catalog.problems),
            [
                "flows/p.yaml:1:1: flow `p` has the name of pipelines/p.yaml: a flow is a pipeline of its name, so rename one of them"
            ]
        );
        assert_eq!(catalog.pipelines["p"].pipeline.file, "pipelines/p.yaml");

        let dir = project(&[
            ("flows/f.yaml", FLOW),
            ("flows/f.yml", FLOW),
            (
                "transforms/t.yaml",
                "source: { table: a.b }\nsink: { table: c.d }\n",
            ),
            (
                "transforms/t.yml",
                "source: { table: a.b }\nsink: { table: c.d }\n",
            ),
        ]);
        assert_eq!(
            messages(&load_pipelines(dir.path(), None).problems),
            ["flows/f.yml:1:1: duplicate flow name `f`: flows/f.yaml defines it too"]
        );
        assert_eq!(
            messages(&load_transforms(dir.path()).problems),
            [
                "transforms/t.yml:1:1: duplicate transform name `t`: transforms/t.yaml defines it too"
            ]
        );
    }

    #[test]
    fn transform_files_and_references_are_checked() {
        let dir = project(&[
            (
                "transforms/clean.yaml",
                "source: { table: raw.orders }\nsink: { table: curated.orders }\n",
            ),
            (
                "transforms/bad.yaml",
                "source: { table: orders }\nsink: { table: curated.orders }\n",
            ),
            ("flows/hourly.yaml", FLOW),
            ("flows/clean.yaml", FLOW),
            (
                "pipelines/p.yaml",
                "tasks:\n  a:\n    transform: clean\n  b:\n    transform: { name: hourly }\n  c:\n    transform: claen\n",
            ),
        ]);
        let transforms = load_transforms(dir.path());
        assert_eq!(transforms.transforms, ["clean"]);
        assert_eq!(transforms.flows, ["clean", "hourly"]);
        assert_eq!(
            messages(&transforms.problems),
            [
                "transforms/bad.yaml:1:18: `source.table` must be `database.table` (letters, digits and `_`), not `orders`",
                "flows/clean.yaml:1:1: flow `clean` has the name of transform `clean` (transforms/): a `transform: clean` task could mean either, so rename one of them",
            ]
        );
        let catalog = load_pipelines(dir.path(), None);
        assert_eq!(
            messages(&check_transform_references(&catalog, &transforms)),
            [
                "pipelines/p.yaml:7:5: task `c` runs transform `claen`, which neither transforms/ nor flows/ defines; did you mean `clean`?"
            ]
        );
    }
}
