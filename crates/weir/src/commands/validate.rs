//! `weir validate [DIR]`: every problem as `file:line:column: message`; exit 1 when any.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::output::count;

pub fn run(dir: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let mut problems = Vec::new();
    let config = match crate::settings::load(dir) {
        Ok(config) => Some(config),
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    let catalog = weir_engine::project::load_pipelines(dir, None);
    problems.extend(catalog.problems.iter().cloned());
    if let Some(config) = &config {
        problems.extend(weir_engine::project::check_pools(&catalog, config));
    }
    let functions = weir_engine::functions::load_functions(dir, None);
    problems.extend(functions.problems.iter().cloned());
    problems.extend(weir_engine::functions::check_references(
        &catalog, &functions,
    ));
    let transforms = weir_engine::project::load_transforms(dir);
    problems.extend(transforms.problems.iter().cloned());
    problems.extend(weir_engine::project::check_transform_references(
        &catalog,
        &transforms,
    ));
    if as_json {
        crate::output::print_json(&json!({
            "pipelines": catalog.pipelines.len(),
            "functions": functions.functions.len(),
            "transforms": transforms.transforms.len(),
            "flows": transforms.flows.len(),
            "problems": problems,
        }));
    } else {
        for problem in &problems {
            outln!("{problem}");
        }
        if problems.is_empty() {
            let functions = match functions.functions.len() {
                0 => String::new(),
                n => format!(", {}", count(n, "function", "functions")),
            };
            // Flows are counted among the pipelines they are.
            let transforms = match transforms.transforms.len() {
                0 => String::new(),
                n => format!(", {}", count(n, "transform", "transforms")),
            };
            eprintln!(
                "ok: {}{functions}{transforms}, no problems",
                count(catalog.pipelines.len(), "pipeline", "pipelines")
            );
        } else {
            eprintln!("{}", count(problems.len(), "problem", "problems"));
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
