//! Where the binary's settings come from: compiled-in defaults, `PROJECT/weir.toml`, `WEIR_*`
//! environment variables, then command-line flags.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use weir_model::Problem;
use weir_model::config::{Config, load_config};

/// Loads the project's configuration; problems come back as `file:line:column: message`.
pub fn load(project: &Path) -> Result<Config, Vec<Problem>> {
    let path = project.join("weir.toml");
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("WEIR_"))
        .collect();
    match std::fs::read_to_string(&path) {
        Ok(text) => load_config(Some(("weir.toml", &text)), &env),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => load_config(None, &env),
        Err(e) => Err(vec![Problem::new(
            "weir.toml",
            weir_model::Pos::START,
            format!("cannot read: {e}"),
        )]),
    }
}

/// Like [`load`], failing with every problem listed.
pub fn load_or_fail(project: &Path) -> anyhow::Result<Config> {
    match load(project) {
        Ok(config) => Ok(config),
        Err(problems) => bail!(
            "invalid configuration:\n{}",
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// The data directory: the flag, else `server.data_dir` (relative to the project), else `PROJECT/.weir`.
pub fn data_dir(project: &Path, config: &Config, flag: Option<&Path>) -> PathBuf {
    match flag {
        Some(dir) => dir.to_path_buf(),
        None if !config.server.data_dir.is_empty() => project.join(&config.server.data_dir),
        None => project.join(".weir"),
    }
}

/// The metadata store URL: `store.url`, else SQLite in the data directory.
pub fn store_url(config: &Config, data_dir: &Path) -> anyhow::Result<String> {
    if !config.store.url.is_empty() {
        return Ok(config.store.url.clone());
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    Ok(format!("sqlite://{}", data_dir.join("weir.db").display()))
}
