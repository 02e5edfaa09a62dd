//! `weir init DIR`: a project to start from.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

const WEIR_TOML: &str = r#"# weir configuration. Every key is optional: these are the defaults.
# Environment variables override this file: WEIR_SERVER_LISTEN, WEIR_STORE_URL, WEIR_POOLS_<NAME>, …

[server]
listen = "127.0.0.1:8080"
# data_dir = ".weir"            # metadata database and task logs
# tls_cert = "cert.pem"         # serve HTTPS with this certificate and key (docs/security.md)
# tls_key = "key.pem"

[store]
# url = "postgres://weir:weir@127.0.0.1:5432/weir"   # default: SQLite in the data directory

[executor]
max_parallel_tasks = 64

[pools]
# A pool is a concurrency limit shared by every task that names it (`pool: db`).
db = 2
"#;

const EXAMPLE: &str = r#"# pipelines/example.yaml — the pipeline's name is the file's stem: `example`.
# Format reference: docs/pipelines.md in weir's repository.
description: Extract a list, process each item in parallel, report.
schedule: "@daily"
timezone: UTC
start_date: 2026-01-01
catchup: false
params:
  greeting: hello
tasks:
  extract:
    # A shell line. A task passes a small JSON output downstream by writing it to $WEIR_OUTPUT.
    command: echo "{{ params.greeting }} for {{ ds }}" && echo '["a", "b", "c"]' > "$WEIR_OUTPUT"
    retries: 2
    retry_delay: 10s
  process:
    depends_on: [extract]
    # One task instance per element of the upstream output (dynamic task mapping).
    map_over: tasks.extract.output
    command: [echo, "processing {{ item }}"]
    pool: db
  report:
    depends_on: [process]
    command: [echo, "processed {{ tasks.process.output | length }} items on {{ ds }}"]
"#;

pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    if dir.join("weir.toml").exists() {
        bail!(
            "{} already has a weir.toml; not overwriting it",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir.join("pipelines"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("weir.toml"), WEIR_TOML)?;
    let example = dir.join("pipelines/example.yaml");
    if !example.exists() {
        std::fs::write(&example, EXAMPLE)?;
    }
    let gitignore = dir.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, ".weir/\n")?;
    }
    outln!("created a weir project in {}", dir.display());
    outln!(
        "next: weir validate {0} && weir server --project {0}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
