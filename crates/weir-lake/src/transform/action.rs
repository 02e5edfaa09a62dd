//! The `transform` pipeline action: `transform: NAME` (or `{ name: NAME }`). It reads
//! `transforms/NAME.yaml` (or `flows/NAME.yaml`) from the project at run time, runs it, and
//! passes `{rows_in, rows_out, rows_quarantined, files, bookmark}` downstream. A cancelled or
//! timed-out run stops before its commit, leaving nothing committed.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use weir_engine::actions::{ActionContext, ActionOutcome, ActionRunner, FailureKind};
use weir_model::transform::{Recipe, parse_flow, parse_transform};

use super::file::{RecipeError, read_recipe, valid_name};
use super::run::{SaltLookup, Transforms};

/// Runs `transform` tasks.
pub struct TransformAction {
    transforms: Transforms,
    /// The engine's secrets, set once the engine has started (after the registry is built).
    salts: Arc<OnceLock<Arc<SaltLookup>>>,
}

impl TransformAction {
    pub fn new(transforms: Transforms, salts: Arc<OnceLock<Arc<SaltLookup>>>) -> Self {
        TransformAction { transforms, salts }
    }
}

/// The task's transform name.
fn transform_name(config: &serde_json::Map<String, Value>) -> Result<String, String> {
    let name = match config.get("transform") {
        Some(Value::String(name)) => name.clone(),
        Some(Value::Object(fields)) => fields
            .get("name")
            .and_then(Value::as_str)
            .ok_or("transform needs a `name`")?
            .to_string(),
        _ => return Err("transform must be a transform's name or { name: NAME }".into()),
    };
    check_name(&name)?;
    Ok(name)
}

/// A transform's name: letters, digits, `_` and `-` (it names a file of the project).
pub fn check_name(name: &str) -> Result<(), String> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(RecipeError::InvalidName(name.to_string()).to_string())
    }
}

/// Reads `transforms/NAME.yaml`, else `flows/NAME.yaml`, from the project.
pub fn load_recipe(project_dir: &Path, name: &str) -> Result<Recipe, String> {
    read_recipe(project_dir, name).map_err(|e| e.to_string())
}

/// The transforms of a project (`transforms/*.yaml` and `flows/*.yaml`), by name, with their
/// file and description (or the file's problems).
pub fn list_recipes(project_dir: &Path) -> Vec<Value> {
    let mut found = Vec::new();
    for folder in ["transforms", "flows"] {
        let Ok(entries) = std::fs::read_dir(project_dir.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".yaml"))
            else {
                continue;
            };
            if check_name(name).is_err() {
                continue;
            }
            let file = format!("{folder}/{name}.yaml");
            let mut item = serde_json::json!({"name": name, "file": file});
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let parsed = if folder == "flows" {
                        parse_flow(&file, name, &text).map(|f| f.recipe)
                    } else {
                        parse_transform(&file, name, &text)
                    };
                    match parsed {
                        Ok(recipe) => {
                            item["description"] = recipe.description.into();
                            item["bookmark"] = recipe.bookmark.is_some().into();
                        }
                        Err(problems) => {
                            item["problems"] = problems
                                .iter()
                                .map(|p| p.to_string())
                                .collect::<Vec<_>>()
                                .into();
                        }
                    }
                }
                Err(e) => item["problems"] = vec![e.to_string()].into(),
            }
            found.push(item);
        }
    }
    found.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    found
}

#[async_trait::async_trait]
impl ActionRunner for TransformAction {
    async fn run(&self, mut ctx: ActionContext) -> ActionOutcome {
        let name = match transform_name(&ctx.config) {
            Ok(name) => name,
            Err(message) => return ActionOutcome::failure(FailureKind::Failed, message),
        };
        let recipe = match load_recipe(&ctx.project_dir, &name) {
            Ok(recipe) => recipe,
            Err(message) => return ActionOutcome::failure(FailureKind::Failed, message),
        };
        let no_secrets: Arc<SaltLookup> = Arc::new(|name: &str| Err(format!("no secret `{name}`")));
        let salts = self.salts.get().cloned().unwrap_or(no_secrets);
        let run = ctx.attempt.to_string();
        let deadline_at = ctx.deadline;
        let deadline = async {
            match deadline_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let mut cancel = ctx.cancel.clone();
        let cancelled = async move {
            if cancel.wait_for(|c| *c).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        // Dropping the run's future stops DataFusion's work before the commit: nothing is
        // committed, the write-id folders it began are left for no manifest to name.
        let result = {
            let work = self
                .transforms
                .run(&recipe, &run, salts.as_ref(), &mut ctx.log);
            tokio::select! {
                r = work => r,
                _ = deadline => return ActionOutcome::failure(FailureKind::TimedOut, "timed out"),
                _ = cancelled => return ActionOutcome::failure(FailureKind::Cancelled, "cancelled"),
            }
        };
        match result {
            Ok(report) => ActionOutcome::success(Some(report.to_json())),
            Err(e) => ActionOutcome::failure(FailureKind::Failed, e.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_name_in_both_shapes_and_refuses_paths() {
        let config = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            transform_name(&config(json!({"transform": "clean"}))),
            Ok("clean".to_string())
        );
        assert_eq!(
            transform_name(&config(json!({"transform": {"name": "a-b_1"}}))),
            Ok("a-b_1".to_string())
        );
        for bad in ["../etc/passwd", "a/b", "", "a.b"] {
            assert!(
                transform_name(&config(json!({ "transform": bad }))).is_err(),
                "{bad}"
            );
        }
        assert!(transform_name(&config(json!({"transform": 3}))).is_err());
    }
}
