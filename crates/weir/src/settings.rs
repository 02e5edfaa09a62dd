//! Where the binary's settings come from: compiled-in defaults, `PROJECT/weir.toml`, `WEIR_*`
//! environment variables, then command-line flags.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use weir_model::Problem;
use weir_model::config::{Config, load_config};

use crate::args::ServerArgs;

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

/// The HTTPS certificate and key: the flags, else `server.tls_cert` and `server.tls_key`
/// (relative to the project); none for plain HTTP. Clap and the configuration's checks make sure
/// each comes with the other.
pub fn tls_files(
    project: &Path,
    config: &Config,
    flags: &ServerArgs,
) -> Option<(PathBuf, PathBuf)> {
    match (&flags.tls_cert, &flags.tls_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ if !config.server.tls_cert.trim().is_empty() => Some((
            project.join(config.server.tls_cert.trim()),
            project.join(config.server.tls_key.trim()),
        )),
        _ => None,
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

/// The SQL engine's limits from `[sql]`: a memory pool (a percentage is of the machine's
/// memory), spilling under `DATA/tmp/sql`, and the statement time limit.
pub fn sql_options(
    config: &weir_model::config::SqlConfig,
    data_dir: &Path,
) -> anyhow::Result<weir_lake::sql::SessionOptions> {
    let memory_limit = match config.memory_limit.trim() {
        "" => None,
        text => {
            let size = weir_model::size::parse_size(text)
                .map_err(|e| anyhow::anyhow!("sql.memory_limit: {e}"))?;
            Some(usize::try_from(size.resolve(total_memory())).unwrap_or(usize::MAX))
        }
    };
    let timeout = match config.timeout.trim() {
        "" => None,
        text => Some(
            weir_model::duration::parse_duration(text)
                .map_err(|e| anyhow::anyhow!("sql.timeout: {e}"))?,
        ),
    };
    Ok(weir_lake::sql::SessionOptions {
        memory_limit,
        spill_dir: Some(data_dir.join("tmp").join("sql")),
        timeout,
        ..Default::default()
    })
}

/// The machine's physical memory in bytes.
fn total_memory() -> u64 {
    // SAFETY: sysconf reads a system constant; no memory is passed.
    let (pages, page_size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    u64::try_from(pages)
        .unwrap_or(0)
        .saturating_mul(u64::try_from(page_size).unwrap_or(0))
}
