//! Finding and reading a transform by name: `transforms/NAME.yaml` (or `.yml`), else the recipe
//! of the flow `flows/NAME.yaml`. The binary's commands and the pipeline action read recipes the
//! same way.

use std::path::Path;

use weir_model::problem::Problem;
use weir_model::transform::{MAX_NAME_LEN, Recipe, parse_flow, parse_transform};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecipeError {
    #[error("no transform `{0}` (looked for transforms/{0}.yaml and flows/{0}.yaml)")]
    NotFound(String),
    #[error("`{0}` is not a transform name (letters, digits, `_` and `-`, at most {MAX_NAME_LEN})")]
    InvalidName(String),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
    #[error("reading {file}: {message}")]
    Io { file: String, message: String },
}

/// Whether `name` can name a transform (and so cannot leave its folder).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The recipe of transform (or flow) `name` in the project at `project_dir`.
pub fn read_recipe(project_dir: &Path, name: &str) -> Result<Recipe, RecipeError> {
    if !valid_name(name) {
        return Err(RecipeError::InvalidName(name.to_string()));
    }
    for (folder, is_flow) in [("transforms", false), ("flows", true)] {
        for extension in ["yaml", "yml"] {
            let file = format!("{folder}/{name}.{extension}");
            let text = match std::fs::read_to_string(project_dir.join(&file)) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(RecipeError::Io {
                        file,
                        message: e.to_string(),
                    });
                }
            };
            let parsed = if is_flow {
                parse_flow(&file, name, &text).map(|flow| flow.recipe)
            } else {
                parse_transform(&file, name, &text)
            };
            return parsed.map_err(RecipeError::Invalid);
        }
    }
    Err(RecipeError::NotFound(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_in_their_folder() {
        let dir = tempfile::tempdir().expect("dir");
        for bad in ["", "../x", "a/b", "a.b", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert_eq!(
                read_recipe(dir.path(), bad),
                Err(RecipeError::InvalidName(bad.to_string()))
            );
        }
        assert_eq!(
            read_recipe(dir.path(), "missing"),
            Err(RecipeError::NotFound("missing".into()))
        );
        std::fs::create_dir_all(dir.path().join("transforms")).expect("mkdir");
        std::fs::write(dir.path().join("transforms/t.yaml"), ": :").expect("write");
        assert!(matches!(
            read_recipe(dir.path(), "t"),
            Err(RecipeError::Invalid(problems)) if problems[0].file == "transforms/t.yaml"
        ));
    }
}
