//! weir's configuration, layered as iggy does: defaults compiled in, then `weir.toml` in the
//! project, then `WEIR_*` environment variables (`WEIR_SERVER_LISTEN` sets `server.listen`,
//! `WEIR_POOLS_DB=4` sets pool `db`). Command-line flags, applied by the binary, come last.
//! Pure: the caller reads the file and the environment and hands them in.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::problem::{Pos, Problem, did_you_mean};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub executor: ExecutorConfig,
    pub aws: AwsConfig,
    pub lake: LakeConfig,
    pub sql: SqlConfig,
    pub auth: AuthConfig,
    pub secrets: SecretsConfig,
    pub streams: StreamsConfig,
    /// The `copy` action's stores outside the lake (see docs/preconditions.md).
    pub copy: CopyConfig,
    /// Named concurrency limits shared by every pipeline (`pool: NAME` on a task).
    pub pools: IndexMap<String, u32>,
}

/// Room for Lambda's 6 MB invocation payloads and any definition or statement.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    /// Data directory; relative paths are relative to the project. Empty: `PROJECT/.weir`.
    pub data_dir: String,
    /// Base URL used in links sent out (notifications). Empty: `http://LISTEN`.
    pub public_url: String,
    /// Watch the project for edits and reload definitions without a restart.
    pub watch: bool,
    /// Largest request body the REST API reads whole. Lake uploads are streamed to the store and
    /// not bounded by it; the AWS protocols keep AWS's own quotas.
    pub max_body_bytes: u64,
    /// PEM certificate chain for HTTPS (relative to the project); empty: plain HTTP. Goes with
    /// `tls_key`.
    pub tls_cert: String,
    /// PEM private key (PKCS#8, RSA or EC) of `tls_cert`.
    pub tls_key: String,
    /// With authentication off, the host names the server answers to besides localhost, IP
    /// addresses and `public_url`'s host (DNS rebinding); `*` answers any.
    /// `WEIR_SERVER_ALLOWED_HOSTS` takes them comma-separated.
    pub allowed_hosts: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            data_dir: String::new(),
            public_url: String::new(),
            watch: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            tls_cert: String::new(),
            tls_key: String::new(),
            allowed_hosts: Vec::new(),
        }
    }
}

/// Who may call the server (docs/security.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Every route but `/healthz` needs a credential. Turning it off lets anyone who reaches the
    /// port run commands on this machine; the server warns when it listens beyond loopback so.
    pub enabled: bool,
    /// `/metrics` without a credential, for a Prometheus that cannot send one.
    pub public_metrics: bool,
    /// How long a browser session lasts after sign-in.
    pub session_lifetime: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            enabled: true,
            public_metrics: false,
            session_lifetime: "12h".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`. Empty: SQLite in the data directory.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutorConfig {
    /// Task instances running at once across all runs.
    pub max_parallel_tasks: u32,
    /// Slots of the `default` pool, used by tasks that name no pool.
    pub default_pool_slots: u32,
    /// Bytes of a failed task's log sent in failure notifications.
    pub log_tail_bytes: u32,
    /// Grace between SIGTERM and SIGKILL when a command is timed out or cancelled.
    pub kill_grace: String,
    /// Largest JSON output a task may pass downstream.
    pub max_output_bytes: u32,
    /// Processes (functions and `action:` tasks) that state machine executions run at once.
    pub max_machine_processes: u32,
    /// How long a stopping server (SIGTERM, Ctrl-C) lets running attempts finish before it stops
    /// them; stopped attempts run again after the restart without using a retry.
    pub shutdown_grace: String,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            max_parallel_tasks: 64,
            default_pool_slots: 128,
            log_tail_bytes: 4096,
            kill_grace: "5s".into(),
            max_output_bytes: 1 << 20,
            max_machine_processes: 64,
            shutdown_grace: "30s".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    pub region: String,
    pub account_id: String,
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }
    }
}

/// Where the lake (object storage) lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LakeConfig {
    /// `file:///path` or `s3://bucket/prefix`. Empty: a directory `lake` in the data directory.
    pub url: String,
    /// S3-compatible endpoint (e.g. `http://127.0.0.1:9000`); empty for AWS itself.
    pub endpoint: String,
    /// S3 region; empty: `aws.region`.
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Allow plain-HTTP endpoints (local S3-compatible servers).
    pub allow_http: bool,
}

/// Where the `copy` action may read and write besides the lake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CopyConfig {
    /// Absolute directories `file:///…` URLs may name (a path outside every one is refused, so a
    /// pipeline cannot read or write arbitrary files of the server). Empty: no local paths.
    pub local_roots: Vec<String>,
    /// S3-compatible stores by name: an `s3://BUCKET/…` URL uses the store whose `url`
    /// (`s3://BUCKET[/PREFIX]`) holds it (its endpoint and credentials); a bucket or key no store
    /// holds is refused.
    pub stores: IndexMap<String, LakeConfig>,
}

/// Where secrets come from besides the metadata store (see docs/secrets.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// The file holding the key that seals stored secrets, relative to the project directory.
    /// Empty: `secrets.key` in the data directory, created at first start. `WEIR_SECRETS_KEY`
    /// (the key itself) takes precedence over any file.
    pub key_file: String,
    /// A directory of one file per secret (the file name is the secret's name), as Docker and
    /// Kubernetes mount them, relative to the project directory. Empty: none.
    pub dir: String,
}

/// Streams (see docs/streams.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamsConfig {
    /// Refuse records past Kinesis's per-shard write quotas (1 MiB/s and 1,000 records/s) with
    /// `ProvisionedThroughputExceededException`, as Kinesis does: for testing producers' retries.
    /// Off: a shard takes what the disk takes.
    pub throughput_quotas: bool,
    /// A shard's segment file is rolled past this size (`128MiB`); retention drops whole
    /// segments, so smaller segments free space sooner.
    pub segment_size: String,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        StreamsConfig {
            throughput_quotas: false,
            segment_size: "128MiB".into(),
        }
    }
}

/// Bounds on SQL statements (the REST API, `weir sql` and the `sql` action share them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqlConfig {
    /// Memory all running statements together may hold in DataFusion's pool (sorts, joins,
    /// aggregations): `8GiB`, or a share of the machine's memory such as `50%`. Past it,
    /// operators that can spill to disk (under the data directory) do, and the others fail the
    /// statement. Empty: no limit.
    pub memory_limit: String,
    /// Longest a statement may run, its result's delivery included. Empty: no limit.
    pub timeout: String,
}

impl Default for SqlConfig {
    fn default() -> Self {
        SqlConfig {
            memory_limit: "50%".into(),
            timeout: "30m".into(),
        }
    }
}

/// Builds the configuration from the defaults, an optional `weir.toml` (path for messages, text)
/// and environment variables. Problems point into the file or name the variable.
pub fn load_config(
    file: Option<(&str, &str)>,
    env: &[(String, String)],
) -> Result<Config, Vec<Problem>> {
    let mut tree = toml::Table::try_from(Config::default())
        .map_err(|e| vec![Problem::new("(defaults)", Pos::START, e.to_string())])?;
    if let Some((path, text)) = file {
        let from_file: Config =
            toml::from_str(text).map_err(|e| vec![toml_problem(path, text, &e)])?;
        let file_tree = toml::Table::try_from(from_file)
            .map_err(|e| vec![Problem::new(path, Pos::START, e.to_string())])?;
        tree = file_tree;
    }
    let mut problems = Vec::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("WEIR_") else {
            continue;
        };
        if let Err(message) = apply_env(&mut tree, &rest.to_ascii_lowercase(), value) {
            problems.push(Problem::new(format!("${name}"), Pos::START, message));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let config: Config = tree.try_into().map_err(|e: toml::de::Error| {
        vec![Problem::new("(environment)", Pos::START, e.to_string())]
    })?;
    validate(&config).map_err(|message| {
        vec![Problem::new(
            file.map(|f| f.0).unwrap_or("(config)"),
            Pos::START,
            message,
        )]
    })?;
    Ok(config)
}

/// Sets the leaf that `path` (`server_listen`, `pools_db`) names; variables naming no key are left
/// alone, since `WEIR_SERVER` and friends belong to the client.
fn apply_env(tree: &mut toml::Table, path: &str, value: &str) -> Result<(), String> {
    if let Some(pool) = path.strip_prefix("pools_") {
        let slots: i64 = value
            .parse()
            .map_err(|_| format!("pool `{pool}` needs a whole number of slots, got `{value}`"))?;
        let pools = tree
            .entry("pools")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(pools) = pools {
            pools.insert(pool.to_string(), toml::Value::Integer(slots));
        }
        return Ok(());
    }
    for (section, table) in tree.iter_mut() {
        let Some(key) = path
            .strip_prefix(section.as_str())
            .and_then(|r| r.strip_prefix('_'))
        else {
            continue;
        };
        let toml::Value::Table(table) = table else {
            continue;
        };
        let Some(current) = table.get_mut(key) else {
            continue;
        };
        *current = match current {
            toml::Value::Integer(_) => toml::Value::Integer(
                value
                    .parse()
                    .map_err(|_| format!("{section}.{key} needs a whole number, got `{value}`"))?,
            ),
            toml::Value::Boolean(_) => toml::Value::Boolean(match value {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(format!(
                        "{section}.{key} needs true or false, got `{value}`"
                    ));
                }
            }),
            toml::Value::Array(_) => toml::Value::Array(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| toml::Value::String(item.to_string()))
                    .collect(),
            ),
            _ => toml::Value::String(value.to_string()),
        };
        return Ok(());
    }
    Ok(())
}

/// `streams.segment_size` in bytes: at least 1 MiB (a record is up to 1 MiB), not a share of
/// memory (it sizes files).
pub fn streams_segment_bytes(streams: &StreamsConfig) -> Result<u64, String> {
    match crate::size::parse_size(&streams.segment_size) {
        Ok(crate::size::ByteSize::Bytes(bytes)) if bytes >= 1 << 20 => Ok(bytes),
        Ok(_) => Err(format!(
            "streams.segment_size must be at least 1MiB (a size, not a share of memory), got `{}`",
            streams.segment_size
        )),
        Err(e) => Err(format!("streams.segment_size: {e}")),
    }
}

/// `copy.local_roots` are absolute paths; each of `copy.stores` names an `s3://` bucket.
fn check_copy(copy: &CopyConfig) -> Result<(), String> {
    for root in &copy.local_roots {
        if !root.starts_with('/') {
            return Err(format!(
                "copy.local_roots: `{root}` is not an absolute directory"
            ));
        }
    }
    for (name, store) in &copy.stores {
        let bucket = store.url.strip_prefix("s3://").unwrap_or("");
        if bucket.split('/').next().unwrap_or("").is_empty() {
            return Err(format!(
                "copy.stores.{name}.url must be s3://BUCKET or s3://BUCKET/PREFIX, got `{}`",
                store.url
            ));
        }
    }
    Ok(())
}

fn validate(config: &Config) -> Result<(), String> {
    if config
        .server
        .listen
        .parse::<std::net::SocketAddr>()
        .is_err()
    {
        return Err(format!(
            "server.listen must be an address such as 127.0.0.1:8080, got `{}`",
            config.server.listen
        ));
    }
    if config.server.max_body_bytes == 0 {
        return Err("server.max_body_bytes must be at least 1".into());
    }
    crate::duration::parse_duration(&config.auth.session_lifetime)
        .map_err(|e| format!("auth.session_lifetime: {e}"))?;
    if config.server.tls_cert.trim().is_empty() != config.server.tls_key.trim().is_empty() {
        return Err(
            "server.tls_cert and server.tls_key go together: set both for HTTPS, or neither".into(),
        );
    }
    streams_segment_bytes(&config.streams)?;
    check_copy(&config.copy)?;
    if config.executor.max_parallel_tasks == 0 {
        return Err("executor.max_parallel_tasks must be at least 1".into());
    }
    crate::duration::parse_duration(&config.executor.kill_grace)
        .map_err(|e| format!("executor.kill_grace: {e}"))?;
    crate::duration::parse_duration(&config.executor.shutdown_grace)
        .map_err(|e| format!("executor.shutdown_grace: {e}"))?;
    if config.executor.max_machine_processes == 0 {
        return Err("executor.max_machine_processes must be at least 1".into());
    }
    if !config.sql.memory_limit.trim().is_empty() {
        crate::size::parse_size(&config.sql.memory_limit)
            .map_err(|e| format!("sql.memory_limit: {e}"))?;
    }
    if !config.sql.timeout.trim().is_empty() {
        crate::duration::parse_duration(&config.sql.timeout)
            .map_err(|e| format!("sql.timeout: {e}"))?;
    }
    if let Some((name, _)) = config.pools.iter().find(|(_, slots)| **slots == 0) {
        return Err(format!("pool `{name}` must have at least 1 slot"));
    }
    Ok(())
}

fn toml_problem(path: &str, text: &str, error: &toml::de::Error) -> Problem {
    let offset = error.span().map(|s| s.start).unwrap_or(0);
    Problem::new(
        path,
        pos_of_offset(text, offset),
        suggest_known_key(error.message()),
    )
}

/// serde's "unknown field `listn`, expected one of `listen`, `data_dir`" with the likely key
/// first: "unknown key `listn`; did you mean `listen`? (expected one of …)". Other messages are
/// kept as they are.
fn suggest_known_key(message: &str) -> String {
    let Some((field, expected)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, expected "))
    else {
        return message.to_string();
    };
    // The expected names are the quoted words: "one of `a`, `b`" or "`a`".
    let known = expected.split('`').skip(1).step_by(2);
    let hint = did_you_mean(field, known);
    format!("unknown key `{field}`{hint} (expected {expected})")
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn pos_of_offset(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() as u32 + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0) as u32
        + 1;
    Pos::new(line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_defaults_file_then_environment() {
        let file = "[server]\nlisten = \"127.0.0.1:9000\"\n[pools]\ndb = 2\n";
        let config = load_config(
            Some(("weir.toml", file)),
            &env(&[
                ("WEIR_SERVER_LISTEN", "0.0.0.0:7000"),
                ("WEIR_POOLS_API", "3"),
                ("WEIR_SERVER", "http://x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.listen, "0.0.0.0:7000");
        assert_eq!(config.pools.get("db"), Some(&2));
        assert_eq!(config.pools.get("api"), Some(&3));
        assert_eq!(config.aws.region, "us-east-1");
        assert_eq!(config.executor.max_parallel_tasks, 64);
    }

    #[test]
    fn lists_come_from_the_file_or_comma_separated_from_the_environment() {
        let file = "[server]\nallowed_hosts = [\"weir.lan\"]\n";
        let config = load_config(Some(("weir.toml", file)), &[]).unwrap();
        assert_eq!(config.server.allowed_hosts, ["weir.lan"]);
        let config = load_config(
            Some(("weir.toml", file)),
            &env(&[("WEIR_SERVER_ALLOWED_HOSTS", "a.lan, b.lan,")]),
        )
        .unwrap();
        assert_eq!(config.server.allowed_hosts, ["a.lan", "b.lan"]);
    }

    #[test]
    fn unknown_keys_point_into_the_file() {
        let problems =
            load_config(Some(("weir.toml", "[server]\nlisen = \"x\"\n")), &[]).unwrap_err();
        assert_eq!(problems[0].line, 2, "{}", problems[0]);
        assert!(problems[0].message.contains("lisen"), "{}", problems[0]);
    }

    #[test]
    fn unknown_keys_suggest_the_nearest_known_key() {
        let problems =
            load_config(Some(("weir.toml", "[server]\nlistn = \"x\"\n")), &[]).unwrap_err();
        assert_eq!(problems[0].line, 2, "{problems:?}");
        assert!(
            problems[0].message.starts_with(
                "unknown key `listn`; did you mean `listen`? (expected one of `listen`"
            ),
            "{problems:?}"
        );
        let sections = load_config(Some(("weir.toml", "[sever]\n")), &[]).unwrap_err();
        assert!(
            sections[0].message.contains("did you mean `server`?"),
            "{sections:?}"
        );
        let far = load_config(Some(("weir.toml", "[executor]\nzzz = 1\n")), &[]).unwrap_err();
        assert!(
            far[0]
                .message
                .starts_with("unknown key `zzz` (expected one of"),
            "{far:?}"
        );
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let problems =
            load_config(None, &env(&[("WEIR_EXECUTOR_MAX_PARALLEL_TASKS", "many")])).unwrap_err();
        assert!(
            problems[0]
                .to_string()
                .starts_with("$WEIR_EXECUTOR_MAX_PARALLEL_TASKS"),
            "{}",
            problems[0]
        );
        assert!(load_config(None, &env(&[("WEIR_SERVER_LISTEN", "nowhere")])).is_err());
    }

    #[test]
    fn tls_certificate_and_key_go_together() {
        let https = load_config(
            Some((
                "weir.toml",
                "[server]\ntls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n",
            )),
            &[],
        )
        .unwrap();
        assert_eq!(
            (
                https.server.tls_cert.as_str(),
                https.server.tls_key.as_str()
            ),
            ("cert.pem", "key.pem")
        );
        let from_env = load_config(
            None,
            &env(&[
                ("WEIR_SERVER_TLS_CERT", "/etc/weir/cert.pem"),
                ("WEIR_SERVER_TLS_KEY", "/etc/weir/key.pem"),
            ]),
        )
        .unwrap();
        assert_eq!(from_env.server.tls_key, "/etc/weir/key.pem");
        let problems = load_config(
            Some(("weir.toml", "[server]\ntls_cert = \"cert.pem\"\n")),
            &[],
        )
        .unwrap_err();
        assert!(
            problems[0]
                .to_string()
                .contains("server.tls_cert and server.tls_key go together"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn copy_stores_and_roots() {
        let file = "[copy]\nlocal_roots = [\"/srv/exchange\"]\n[copy.stores.backup]\nurl = \"s3://backups/weir\"\nendpoint = \"http://127.0.0.1:9000\"\n";
        let config = load_config(Some(("weir.toml", file)), &[]).unwrap();
        assert_eq!(config.copy.local_roots, ["/srv/exchange"]);
        assert_eq!(
            config.copy.stores["backup"].endpoint,
            "http://127.0.0.1:9000"
        );
        let relative = load_config(
            Some(("weir.toml", "[copy]\nlocal_roots = [\"exchange\"]\n")),
            &[],
        )
        .unwrap_err();
        assert!(
            relative[0]
                .to_string()
                .contains("not an absolute directory"),
            "{}",
            relative[0]
        );
        let no_bucket = load_config(
            Some(("weir.toml", "[copy.stores.x]\nurl = \"/tmp\"\n")),
            &[],
        )
        .unwrap_err();
        assert!(
            no_bucket[0].to_string().contains("copy.stores.x.url"),
            "{}",
            no_bucket[0]
        );
    }

    #[test]
    fn offsets_become_positions() {
        assert_eq!(pos_of_offset("ab\ncd", 4), Pos::new(2, 2));
        assert_eq!(pos_of_offset("ab", 99), Pos::new(1, 3));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(file in "\\PC{0,200}", key in "WEIR_[A-Z_]{0,30}", value in "\\PC{0,20}") {
            let _ = load_config(Some(("weir.toml", &file)), &[(key, value)]);
        }

        #[test]
        fn problems_point_inside_the_file(file in "(\\[server\\]\n)?[a-z_]{1,10} = [0-9a-z\"]{0,10}\n") {
            if let Err(problems) = load_config(Some(("weir.toml", &file)), &[]) {
                for problem in problems {
                    proptest::prop_assert!(problem.line as usize <= file.lines().count() + 1, "{}", problem);
                }
            }
        }
    }
}
