//! Rules the project's files define: `rules/*.yaml`, and the `triggers:` of pipeline and state
//! machine files (and the event triggers of flows, which are pipelines), each trigger a managed rule `OWNER.trigger-N` on its bus whose one target is
//! its owner. Read at start (before the bus reads its logs, so no event already there misses
//! them) and again whenever a file of the folder changes.

use std::path::{Path, PathBuf};

use weir_engine::events::Events;
use weir_model::events::arn::Scope;
use weir_model::events::rule_file::RuleSpec;
use weir_model::events::trigger::TriggerOwner;

/// The managed rules of the pipelines' and state machines' triggers, by origin, for the bus to
/// have in place before it reads its logs (`rules/*.yaml` the bus reads itself).
pub fn initial(project: &Path, scope: &Scope) -> Vec<(String, Vec<(String, RuleSpec)>)> {
    vec![
        ("pipelines".to_string(), pipeline_rules(project, scope)),
        ("machines".to_string(), machine_rules(project, scope)),
    ]
}

/// Keeps the file-defined rules in step with the files: each folder re-read when it changes.
pub fn watch(events: &Events, project: &Path, scope: Scope) {
    for folder in ["rules", "pipelines", "flows", "machines"] {
        let Some(mut changes) = weir_engine::watch::watch_dir(project, folder) else {
            continue;
        };
        let events = events.clone();
        let project = project.to_path_buf();
        let scope = scope.clone();
        tokio::spawn(async move {
            while changes.recv().await.is_some() {
                let problems = match folder {
                    "rules" => events.reload(),
                    // A flow is a pipeline: its trigger is among the pipelines' rules.
                    "pipelines" | "flows" => {
                        events.set_managed_rules("pipelines", pipeline_rules(&project, &scope))
                    }
                    _ => events.set_managed_rules("machines", machine_rules(&project, &scope)),
                };
                for problem in problems {
                    tracing::warn!("{problem}");
                }
            }
        });
    }
}

/// The triggers of the pipelines that load (a file with problems keeps no triggers until it is
/// fixed; the engine reports its problems).
fn pipeline_rules(project: &Path, scope: &Scope) -> Vec<(String, RuleSpec)> {
    let catalog = weir_engine::project::load_pipelines(project, None);
    let mut names: Vec<&String> = catalog.pipelines.keys().collect();
    names.sort();
    names
        .into_iter()
        .flat_map(|name| {
            let pipeline = &catalog.pipelines[name].pipeline;
            let file = pipeline.file.clone();
            pipeline
                .triggers
                .iter()
                .enumerate()
                .map(move |(index, trigger)| {
                    (
                        file.clone(),
                        trigger.to_rule(TriggerOwner::Pipeline, name, index, scope),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The triggers of `machines/*.asl.json|yaml|yml` that parse.
fn machine_rules(project: &Path, scope: &Scope) -> Vec<(String, RuleSpec)> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(project.join("machines")) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => return Vec::new(),
    };
    paths.sort();
    let mut rules = Vec::new();
    for path in paths {
        let (Some(file_name), Some(name)) = (
            path.file_name().and_then(|n| n.to_str()),
            weir_engine::machines::machine_file_name(&path),
        ) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let file = format!("machines/{file_name}");
        let Ok(machine) = weir_model::asl::parse_machine_file(&file, &name, &text) else {
            continue;
        };
        for (index, trigger) in machine.triggers.iter().enumerate() {
            rules.push((
                file.clone(),
                trigger.to_rule(TriggerOwner::Machine, &name, index, scope),
            ));
        }
    }
    rules
}
