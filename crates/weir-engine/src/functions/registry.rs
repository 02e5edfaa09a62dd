//! Function definitions on disk: `PROJECT/functions/*.yaml` (and `.yml`), one function per file,
//! named by the file's stem. Loading never fails as a whole: each file yields a definition or
//! problems, and a file that stops parsing keeps its last good version in force (as pipelines do).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use weir_model::function::{FunctionSpec, parse_function};
use weir_model::{Pos, Problem};

use crate::project::display;

/// One function in force.
#[derive(Debug)]
pub struct Definition {
    pub spec: FunctionSpec,
    /// The file, relative to the project (as problems show it).
    pub file: String,
    /// The text it was parsed from (an unchanged file is not parsed again).
    pub source: String,
}

/// The functions in force and the problems of the files that are not.
#[derive(Debug, Default, Clone)]
pub struct FunctionCatalog {
    pub functions: BTreeMap<String, Arc<Definition>>,
    pub problems: Vec<Problem>,
}

/// What the definition files look like on disk (names, sizes, modification times): when it is
/// unchanged, so are the definitions, and nothing needs reading.
pub(crate) type Signature = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// The directory's definition files, sorted; an error when it exists but cannot be listed.
fn definition_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    files.sort();
    Ok(files)
}

/// The current signature of `PROJECT/functions`.
pub(crate) fn signature(project: &Path) -> Signature {
    definition_files(&project.join("functions"))
        .unwrap_or_default()
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let len = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (path, len, modified)
        })
        .collect()
}

/// Reads `PROJECT/functions/*.yaml`. `previous` supplies the last good version of a function
/// whose file is now invalid or unreadable.
pub fn load_functions(project: &Path, previous: Option<&FunctionCatalog>) -> FunctionCatalog {
    let dir = project.join("functions");
    let mut catalog = FunctionCatalog::default();
    let files = match definition_files(&dir) {
        Ok(files) => files,
        Err(e) => {
            catalog.problems.push(Problem::new(
                display(project, &dir),
                Pos::START,
                format!("cannot read the functions directory: {e}"),
            ));
            Vec::new()
        }
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for path in files {
        let file = display(project, &path);
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else {
            continue;
        };
        if let Some(first) = seen.get(&name) {
            catalog.problems.push(Problem::new(
                &file,
                Pos::START,
                format!("duplicate function name `{name}`: {first} defines it too"),
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
            .and_then(|p| p.functions.get(&name))
            .filter(|d| d.source == source && d.file == file)
        {
            catalog.functions.insert(name, old.clone());
            continue;
        }
        match parse_function(&file, &name, &source) {
            Ok(spec) => {
                let definition = Definition { spec, file, source };
                catalog.functions.insert(name, Arc::new(definition));
            }
            Err(problems) => {
                catalog.problems.extend(problems);
                keep_previous(&mut catalog, previous, &name);
            }
        }
    }
    catalog
}

fn keep_previous(catalog: &mut FunctionCatalog, previous: Option<&FunctionCatalog>, name: &str) {
    if let Some(old) = previous.and_then(|p| p.functions.get(name)) {
        catalog.functions.insert(name.to_string(), old.clone());
    }
}

/// Pipeline tasks whose `function:` names no function in force (a templated name is checked
/// when the task runs). Positions point at the task's `function:` line.
pub fn check_references(
    pipelines: &crate::project::Catalog,
    functions: &FunctionCatalog,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names: Vec<&String> = pipelines.pipelines.keys().collect();
    names.sort();
    for name in names {
        let pipeline = &pipelines.pipelines[name].pipeline;
        for task in pipeline.tasks.values() {
            if task.action.kind != "function" {
                continue;
            }
            let Some(target) = task.action.config.get("function").and_then(|v| v.as_str()) else {
                continue;
            };
            if weir_model::template::is_template(target) || functions.functions.contains_key(target)
            {
                continue;
            }
            let pos =
                find_line(&pipeline.source, &format!("function: {target}")).unwrap_or(Pos::START);
            let hint = weir_model::problem::did_you_mean(
                target,
                functions.functions.keys().map(String::as_str),
            );
            problems.push(Problem::new(
                &pipeline.file,
                pos,
                format!(
                    "task `{}` invokes function `{target}`, which functions/ does not define{hint}",
                    task.id
                ),
            ));
        }
    }
    problems
}

/// The position of the first `needle` not followed by more of a name (`function: scor` must not
/// find `function: score`), for problems found after parsing.
fn find_line(source: &str, needle: &str) -> Option<Pos> {
    source.lines().enumerate().find_map(|(i, line)| {
        let col = line.match_indices(needle).find_map(|(at, _)| {
            let next = line[at + needle.len()..].chars().next();
            let ends = next.is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')));
            ends.then_some(at)
        })?;
        Some(Pos::new(
            u32::try_from(i + 1).unwrap_or(u32::MAX),
            u32::try_from(line[..col].chars().count() + 1).unwrap_or(u32::MAX),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_files_reports_problems_and_keeps_the_last_good_version() {
        let project = tempfile::tempdir().unwrap();
        let dir = project.path().join("functions");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("echo.yaml"), "command: cat\n").unwrap();
        std::fs::write(dir.join("bad.yaml"), "comand: cat\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "not a definition").unwrap();
        let first = load_functions(project.path(), None);
        assert_eq!(first.functions.keys().collect::<Vec<_>>(), ["echo"]);
        let problems: Vec<String> = first.problems.iter().map(ToString::to_string).collect();
        assert!(
            problems.iter().any(
                |p| p.starts_with("functions/bad.yaml:1:1: unknown key `comand`")
                    && p.ends_with("did you mean `command`?")
            ),
            "{problems:?}"
        );

        // An edit that breaks the file keeps the version in force; the problem is reported.
        std::fs::write(dir.join("echo.yaml"), "command: [\n").unwrap();
        let second = load_functions(project.path(), Some(&first));
        assert_eq!(second.functions["echo"].spec.command, ["sh", "-c", "cat"]);
        assert!(
            second
                .problems
                .iter()
                .any(|p| p.file == "functions/echo.yaml")
        );
        // An unchanged file is not parsed again: the same definition is shared.
        std::fs::write(dir.join("echo.yaml"), "command: cat\n").unwrap();
        let third = load_functions(project.path(), Some(&first));
        assert!(Arc::ptr_eq(
            &third.functions["echo"],
            &first.functions["echo"]
        ));
    }

    #[test]
    fn pipelines_naming_missing_functions_are_problems() {
        let project = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = project.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("functions/score.yaml", "command: cat\n");
        write(
            "pipelines/p.yaml",
            "tasks:\n  a:\n    function: score\n  b:\n    function: scor\n  c:\n    function: \"{{ params.f }}\"\nparams: { f: x }\n",
        );
        let pipelines = crate::project::load_pipelines(project.path(), None);
        assert!(pipelines.problems.is_empty(), "{:?}", pipelines.problems);
        let functions = load_functions(project.path(), None);
        let problems: Vec<String> = check_references(&pipelines, &functions)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            vec![
                "pipelines/p.yaml:5:5: task `b` invokes function `scor`, which functions/ does not define; did you mean `score`?"
            ]
        );
    }

    #[test]
    fn signatures_change_with_the_files() {
        let project = tempfile::tempdir().unwrap();
        assert!(signature(project.path()).is_empty());
        let dir = project.path().join("functions");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.yaml"), "command: cat\n").unwrap();
        let one = signature(project.path());
        std::fs::write(dir.join("a.yaml"), "command: tac\ntimeout: 5s\n").unwrap();
        assert_ne!(one, signature(project.path()));
    }
}
