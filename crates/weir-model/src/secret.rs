//! Secrets as definitions see them: their names, and which of them a template reads
//! (`{{ secrets.NAME }}`). Their values never pass through this crate.

use crate::template::{context_paths, root_of};

/// The root name templates read secrets under.
pub const ROOT: &str = "secrets";

/// Longest secret name.
pub const MAX_NAME_LEN: usize = 128;

/// `[A-Za-z_][A-Za-z0-9_]*`, at most [`MAX_NAME_LEN`]: a name that is an attribute in a template
/// (`secrets.NAME`), part of an environment variable (`WEIR_SECRET_NAME`) and a file name.
pub fn is_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_NAME_LEN
}

/// What a name that is not a secret name is told.
pub fn name_rule() -> String {
    format!(
        "a secret name is letters, digits and `_`, not starting with a digit, at most {MAX_NAME_LEN} characters"
    )
}

/// The secrets a set of templates reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Reads {
    #[default]
    None,
    /// These names, each as `secrets.NAME`.
    Names(Vec<String>),
    /// `secrets` as a whole (`secrets[name]`, a loop over it): every secret.
    All,
}

/// The secrets the templates among `texts` read.
pub fn reads<'a>(texts: impl IntoIterator<Item = &'a str>) -> Reads {
    let mut names: Vec<String> = Vec::new();
    for text in texts {
        for path in context_paths(text) {
            if root_of(&path) != ROOT {
                continue;
            }
            match path.split('.').nth(1) {
                Some(name) => {
                    if !names.iter().any(|n| n == name) {
                        names.push(name.to_string());
                    }
                }
                None => return Reads::All,
            }
        }
    }
    if names.is_empty() {
        Reads::None
    } else {
        Reads::Names(names)
    }
}

/// Every string inside a JSON value (the templates of an action's configuration).
pub fn strings(value: &serde_json::Value) -> Vec<&str> {
    let mut out = Vec::new();
    collect(value, &mut out);
    out
}

fn collect<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers() {
        for good in ["API_TOKEN", "db_password", "_x", "a1"] {
            assert!(is_secret_name(good), "{good}");
        }
        for bad in ["", "1a", "a-b", "a.b", "a b", "é", &"x".repeat(129)] {
            assert!(!is_secret_name(bad), "{bad}");
        }
    }

    #[test]
    fn validation_knows_the_secrets_name_space() {
        let good = "tasks:\n  t:\n    command: echo {{ secrets.api_token }}\n    env: { A: \"{{ secrets['b'] }}\" }\non_failure:\n  - command: echo {{ secrets.pager_key }}\n";
        assert!(crate::pipeline::parse_pipeline("p.yaml", "p", good).is_ok());
        let bad = "tasks:\n  t:\n    command: echo {{ secret.api_token }} {{ secrets.x }}\n";
        let problems = crate::pipeline::parse_pipeline("p.yaml", "p", bad).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            text.iter()
                .any(|p| p.contains("`secret` is not defined")
                    && p.contains("did you mean `secrets`?")),
            "{text:?}"
        );
        assert_eq!(problems.len(), 1, "{text:?}");
        let odd = "tasks:\n  t:\n    command: echo {{ secrets['bad-name'] }}\n";
        let problems = crate::pipeline::parse_pipeline("p.yaml", "p", odd).unwrap_err();
        assert!(
            problems[0]
                .to_string()
                .contains("`secrets.bad-name`: a secret name is"),
            "{problems:?}"
        );
    }

    #[test]
    fn finds_the_secrets_templates_read() {
        assert_eq!(reads(["echo {{ ds }}", "plain"]), Reads::None);
        assert_eq!(
            reads([
                "curl -u {{ secrets.user }}:{{ secrets.PASSWORD }}",
                "{{ secrets.user | upper }}"
            ]),
            Reads::Names(vec!["PASSWORD".into(), "user".into()])
        );
        assert_eq!(reads(["{{ secrets[params.which] }}"]), Reads::All);
        assert_eq!(
            strings(&serde_json::json!({"a": ["x", {"b": "y"}], "c": 1})),
            ["x", "y"]
        );
    }
}
