//! Command-line arguments. Every command's help ends with an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "weir",
    version,
    about = "Pipelines, state machines, functions, streams, a lake and SQL in one binary.",
    propagate_version = true
)]
#[command(
    after_help = "Examples:\n  weir init demo && weir server --project demo\n  weir pipelines trigger example --wait"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a new project directory with a weir.toml and an example pipeline.
    #[command(after_help = "Example:\n  weir init my-project")]
    Init {
        /// Directory to create (or fill, if empty).
        dir: PathBuf,
    },
    /// Check every definition; prints file:line:column: message for each problem (exit 1 if any).
    #[command(after_help = "Example:\n  weir validate my-project")]
    Validate {
        /// Project directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Run everything in one process: scheduler, executor, REST API, metrics and dashboard.
    #[command(
        after_help = "Examples:\n  weir server --project my-project --listen 127.0.0.1:8080\n  weir server --tls-cert cert.pem --tls-key key.pem"
    )]
    Server(ServerArgs),
    /// Pipelines: list, show, trigger, backfill, runs, pause, unpause, reload.
    #[command(
        after_help = "Example:\n  weir pipelines trigger daily_sales --param region=us --wait"
    )]
    Pipelines {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: PipelinesCommand,
    },
    /// Runs: list, show (the audit trail), logs, retry from failure, cancel, mark tasks, wait.
    #[command(
        after_help = "Example:\n  weir runs retry daily_sales__scheduled__20260101T020000 --wait"
    )]
    Runs {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// The lake (object storage): ls, put, get, rm.
    #[command(
        after_help = "Example:\n  weir lake put sales.csv raw/sales/2026-01-01.csv && weir lake ls raw/"
    )]
    Lake {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: LakeCommand,
    },
    /// Transforms (`transforms/*.yaml`, `flows/*.yaml`): list, check a recipe against the
    /// catalog, preview each step's output on a sample, run on the server, bookmark show|reset.
    #[command(
        after_help = "Example:\n  weir transforms check clean_orders && weir transforms preview clean_orders --rows 5\n  weir transforms run clean_orders"
    )]
    Transforms {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: TransformsCommand,
    },
    /// The catalog: databases and tables with schemas, partitions and statistics.
    #[command(after_help = "Example:\n  weir catalog list && weir catalog show raw.sales")]
    Catalog {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Infer tables from the files under a prefix (each folder becomes a table).
    #[command(after_help = "Example:\n  weir crawl raw/ --database raw")]
    Crawl {
        #[command(flatten)]
        client: ClientArgs,
        /// Prefix in the lake to crawl.
        prefix: String,
        /// Database to put the tables in (default: `default`).
        #[arg(long)]
        database: Option<String>,
        /// One table for the whole prefix, with this name.
        #[arg(long)]
        table: Option<String>,
    },
    /// Run SQL over catalog tables (`db.table`); CREATE TABLE … AS SELECT writes Parquet.
    #[command(
        after_help = "Example:\n  weir sql \"SELECT country, count(*) FROM raw.clicks GROUP BY country\" --format csv"
    )]
    Sql {
        #[command(flatten)]
        client: ClientArgs,
        /// The statement.
        query: String,
        /// Output format: a table, the API's JSON answer, or an export streamed as it is
        /// computed (csv, jsonl: JSON lines, arrow: Arrow IPC stream).
        #[arg(long, value_parser = ["table", "json", "csv", "jsonl", "arrow"], default_value = "table")]
        format: String,
        /// Most rows to print, 0 for all [default: 10000 for table and json; all for csv, jsonl
        /// and arrow]. A result cut short says so on stderr.
        #[arg(long)]
        max_rows: Option<usize>,
    },
    /// Functions (functions/*.yaml): list, show, invoke with a JSON payload, read invocation logs.
    #[command(
        after_help = "Example:\n  weir functions invoke score_order --payload '{\"order_id\": 7}'"
    )]
    Functions {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: FunctionsCommand,
    },
    /// Secrets for templates (`{{ secrets.NAME }}`) and environments: set (value from standard
    /// input), list (never values), rm.
    #[command(after_help = "Example:\n  printf %s \"$TOKEN\" | weir secrets set api_token")]
    Secrets {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// State machines (machines/*.asl.json, and those created through the Step Functions API):
    /// list, show, start, executions, describe, history, stop, validate, task tokens.
    #[command(
        after_help = "Example:\n  weir machines start orders --input '{\"order_id\": 7}' --wait"
    )]
    Machines {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: MachinesCommand,
    },
    /// Streams (Kinesis-compatible durable logs): create, list, describe, put, read, tail,
    /// delete.
    #[command(
        after_help = "Example:\n  weir streams create clicks --shards 2\n  echo '{\"user\": 7}' | weir streams put clicks --partition-key user-7\n  weir streams tail clicks"
    )]
    Streams {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: StreamsCommand,
    },
    /// Event rules (EventBridge-compatible): list, show, and test a pattern against an event.
    #[command(
        after_help = "Example:\n  weir rules list\n  weir rules test '{\"source\": [\"shop\"]}' '{\"source\": \"shop\", \"detail\": {}}'"
    )]
    Rules {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Events on a bus: put one, or follow a bus as events arrive.
    #[command(
        after_help = "Example:\n  weir events put --source shop --detail-type 'Order Placed' '{\"id\": 7}'\n  weir events tail"
    )]
    Events {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Queues (SQS-compatible): list, describe, send, receive.
    #[command(
        after_help = "Example:\n  weir queues list\n  weir queues send orders '{\"id\": 7}'\n  weir queues receive orders --delete"
    )]
    Queues {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: QueuesCommand,
    },
    /// Credentials: create (printed once), list, revoke. Each is a bearer token and an AWS key
    /// pair with a role (viewer, operator, admin) and optional grants.
    #[command(
        after_help = "Example:\n  weir tokens create --role operator --name ci --pipelines 'etl_*' --expires 30d"
    )]
    Tokens {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// The audit log: every call that changed something and every refused call.
    #[command(after_help = "Example:\n  weir audit --since 1h")]
    Audit {
        #[command(flatten)]
        client: ClientArgs,
        /// Only entries since this time: RFC 3339, or a duration back from now (`1h`, `7d`).
        #[arg(long)]
        since: Option<String>,
        /// At most this many entries (the oldest first).
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// Measure weir: task-to-task gaps, fan-out throughput, idle memory.
    #[command(after_help = "Example:\n  weir bench pipelines")]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create a credential and print its token and AWS key pair (shown this once).
    Create {
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// Its name (default: token-XXXXXXXX).
        #[arg(long)]
        name: Option<String>,
        /// Only these pipelines and state machines (glob on names; repeat for more).
        #[arg(long = "pipelines", value_name = "GLOB")]
        pipelines: Vec<String>,
        /// Only these tables (DATABASE.TABLE globs; repeat for more).
        #[arg(long = "tables", value_name = "DB.GLOB")]
        tables: Vec<String>,
        /// Only lake keys under these prefixes (repeat for more).
        #[arg(long = "prefixes", value_name = "PREFIX")]
        prefixes: Vec<String>,
        /// How long it lasts (`30d`, `12h`); default: until revoked.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List credentials (never their secrets).
    List,
    /// Revoke a credential: its token, key pair and sessions stop working at once.
    Revoke { name: String },
}

#[derive(Args, Clone)]
pub struct ServerArgs {
    /// Project directory (weir.toml and definitions).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Data directory (metadata database, logs). Default: PROJECT/.weir
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on. Default: 127.0.0.1:8080
    #[arg(long)]
    pub listen: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (server certificate first); needs --tls-key.
    /// Default: server.tls_cert
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, RSA or EC). Default: server.tls_key
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct ClientArgs {
    /// URL of the weir server.
    #[arg(
        long,
        global = true,
        env = "WEIR_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// Credential to send (`Authorization: Bearer`). Default: the admin token of the project in
    /// the current directory (`.weir/admin-token`).
    // Its own id: `machines send-success TOKEN` has a `token` of its own (a task token).
    #[arg(
        id = "auth_token",
        long = "token",
        global = true,
        env = "WEIR_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Trust the PEM certificates in FILE (a self-signed server certificate, a private CA) for an
    /// https:// server, besides the system's trusted roots.
    #[arg(long, global = true, env = "WEIR_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum PipelinesCommand {
    /// List pipelines in force (and definition problems).
    #[command(after_help = "Example:\n  weir pipelines list --json")]
    List,
    /// Show one pipeline: schedule, params, tasks.
    #[command(after_help = "Example:\n  weir pipelines show daily_sales")]
    Show { name: String },
    /// Start a run now. With --wait, exit 0 only if the run succeeded.
    #[command(
        after_help = "Example:\n  weir pipelines trigger daily_sales --param region=us --wait"
    )]
    Trigger {
        name: String,
        /// Override a declared param (repeatable): --param region=us
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Logical date of the run (YYYY-MM-DD or RFC 3339). Default: now.
        #[arg(long)]
        logical_date: Option<String>,
        /// Wait for the run to end; exit 0 only if it succeeded.
        #[arg(long)]
        wait: bool,
    },
    /// One run per schedule interval from --from to --to, at most max_active_runs at a time.
    #[command(
        after_help = "Example:\n  weir pipelines backfill daily_sales --from 2026-01-01 --to 2026-01-31 --wait"
    )]
    Backfill {
        name: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Wait for every created run to end; exit 0 only if all succeeded.
        #[arg(long)]
        wait: bool,
    },
    /// Runs of a pipeline, newest first.
    #[command(after_help = "Example:\n  weir pipelines runs daily_sales --limit 10")]
    Runs {
        name: String,
        #[arg(long, default_value_t = 25)]
        limit: u32,
    },
    /// Stop creating scheduled runs.
    #[command(after_help = "Example:\n  weir pipelines pause daily_sales")]
    Pause { name: String },
    /// Resume scheduled runs (missed intervals follow the catchup rule).
    #[command(after_help = "Example:\n  weir pipelines unpause daily_sales")]
    Unpause { name: String },
    /// Re-read the definitions now (the server also watches the project).
    #[command(after_help = "Example:\n  weir pipelines reload")]
    Reload,
}

#[derive(Subcommand)]
pub enum RunsCommand {
    /// Recent runs of every pipeline.
    #[command(after_help = "Example:\n  weir runs list --pipeline daily_sales")]
    List {
        #[arg(long)]
        pipeline: Option<String>,
        #[arg(long, default_value_t = 25)]
        limit: u32,
    },
    /// A run: its tasks and every state change with timestamps (the audit trail).
    #[command(after_help = "Example:\n  weir runs show daily_sales__manual__20260101T000000_ab12")]
    Show { run_id: String },
    /// Logs of every attempt of a run, or of one task; --follow tails a running attempt.
    #[command(
        after_help = "Examples:\n  weir runs logs daily_sales__manual__20260101T000000_ab12 extract\n  weir runs logs daily_sales__manual__20260101T000000_ab12 extract --follow"
    )]
    Logs {
        run_id: String,
        task: Option<String>,
        /// Only this attempt.
        #[arg(long = "try")]
        try_number: Option<i32>,
        /// Only this mapped instance.
        #[arg(long)]
        map_index: Option<i32>,
        /// Print the task's latest attempt (or --try) as it is written, until the attempt ends;
        /// waits for the first attempt to start.
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Retry from failure: rerun only failed, upstream-failed, skipped and cancelled tasks and
    /// what depends on them. Succeeded tasks keep their outputs.
    #[command(
        after_help = "Example:\n  weir runs retry daily_sales__manual__20260101T000000_ab12 --wait"
    )]
    Retry {
        run_id: String,
        #[arg(long)]
        wait: bool,
    },
    /// Cancel a queued or running run (running commands are stopped).
    #[command(
        after_help = "Example:\n  weir runs cancel daily_sales__manual__20260101T000000_ab12"
    )]
    Cancel { run_id: String },
    /// Mark a task success or failed by hand.
    #[command(
        after_help = "Example:\n  weir runs mark daily_sales__manual__20260101T000000_ab12 extract success"
    )]
    Mark {
        run_id: String,
        task: String,
        #[arg(value_parser = ["success", "failed"])]
        state: String,
        #[arg(long)]
        map_index: Option<i32>,
    },
    /// Wait for a run to end; exit 0 only if it succeeded.
    #[command(after_help = "Example:\n  weir runs wait daily_sales__manual__20260101T000000_ab12")]
    Wait { run_id: String },
}

#[derive(Subcommand)]
pub enum LakeCommand {
    /// Objects under a prefix.
    #[command(after_help = "Example:\n  weir lake ls raw/sales/")]
    Ls { prefix: Option<String> },
    /// Upload a local file to KEY.
    #[command(after_help = "Example:\n  weir lake put ./sales.csv raw/sales/2026-01-01.csv")]
    Put {
        file: std::path::PathBuf,
        key: String,
    },
    /// Download KEY (to FILE, or to standard output).
    #[command(after_help = "Example:\n  weir lake get raw/sales/2026-01-01.csv ./copy.csv")]
    Get {
        key: String,
        file: Option<std::path::PathBuf>,
    },
    /// Delete KEY.
    #[command(after_help = "Example:\n  weir lake rm raw/sales/2026-01-01.csv")]
    Rm { key: String },
    /// A data-quality profile of a table: per column nulls, approximate distinct values, min,
    /// max and the most frequent values.
    #[command(after_help = "Example:\n  weir lake profile raw.orders")]
    Profile {
        /// The table, `database.table`.
        table: String,
    },
}

#[derive(Subcommand)]
pub enum TransformsCommand {
    /// Check a recipe against the catalog without running it: prints file:line:column: message
    /// for each problem (exit 1 if any).
    #[command(after_help = "Example:\n  weir transforms check clean_orders")]
    Check { name: String },
    /// The first rows of the source and of each step's output over them.
    #[command(after_help = "Example:\n  weir transforms preview clean_orders --rows 5")]
    Preview {
        name: String,
        /// Rows of the source's sample and of each stage shown.
        #[arg(long, default_value_t = 10)]
        rows: usize,
    },
    /// The project's transforms and flows: name, file, bookmarked, description (or problems).
    #[command(after_help = "Example:\n  weir transforms list")]
    List,
    /// Run a transform now on the server; prints rows read, written and quarantined, files
    /// written and the bookmark after, once its output has committed.
    #[command(after_help = "Example:\n  weir transforms run clean_orders")]
    Run { name: String },
    /// A transform's bookmark: show where it stands, or reset it (the next run reads everything).
    #[command(
        after_help = "Examples:\n  weir transforms bookmark show clean_orders\n  \
                            weir transforms bookmark reset clean_orders"
    )]
    Bookmark {
        #[command(subcommand)]
        command: BookmarkCommand,
    },
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Tables (of one database with --database), or databases with --databases.
    #[command(after_help = "Example:\n  weir catalog list --database raw")]
    List {
        #[arg(long)]
        database: Option<String>,
        /// List databases instead of tables.
        #[arg(long)]
        databases: bool,
    },
    /// A table: location, format, schema, partitions, statistics, files.
    #[command(after_help = "Example:\n  weir catalog show raw.sales")]
    Show { table: String },
    /// Create a database, or register a table over files already in the lake.
    #[command(
        after_help = "Example:\n  weir catalog create raw.sales --location raw/sales --format csv --column id:Int64 --column amount:Float64 --partition day:Utf8"
    )]
    Create {
        /// `DB` for a database, `DB.TABLE` for a table.
        name: String,
        /// The table's prefix in the lake.
        #[arg(long)]
        location: Option<String>,
        #[arg(long, value_parser = ["parquet", "csv", "json"])]
        format: Option<String>,
        /// A data column, NAME:TYPE (Arrow type names: Int64, Float64, Utf8, Boolean, Date32, …).
        #[arg(long = "column", value_name = "NAME:TYPE")]
        columns: Vec<String>,
        /// A Hive partition column, NAME:TYPE (in directory order).
        #[arg(long = "partition", value_name = "NAME:TYPE")]
        partitions: Vec<String>,
        /// A date layout instead of Hive partitions, e.g. yyyy/MM/dd/HH.
        #[arg(long)]
        pattern: Option<String>,
    },
    /// Drop a table (`DB.TABLE`) or a database (`DB`, with --cascade to drop its tables).
    #[command(after_help = "Example:\n  weir catalog drop raw.sales")]
    Drop {
        name: String,
        #[arg(long)]
        cascade: bool,
    },
}

#[derive(Subcommand)]
pub enum MachinesCommand {
    /// State machines in force.
    #[command(after_help = "Example:\n  weir machines list")]
    List,
    /// One state machine: ARN, type, role, definition.
    #[command(after_help = "Example:\n  weir machines show orders")]
    Show {
        /// Name or ARN.
        machine: String,
    },
    /// Start an execution; prints its ARN, or with --wait its status and output (exit 1 unless
    /// it succeeded).
    #[command(
        after_help = "Example:\n  weir machines start orders --input '{\"order_id\": 7}' --wait"
    )]
    Start {
        /// Name or ARN.
        machine: String,
        /// The execution's input (JSON).
        #[arg(long, default_value = "{}")]
        input: String,
        /// The execution's name (default: a UUID). Starting the same name with the same input
        /// again returns the running execution.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        wait: bool,
    },
    /// Executions, newest first (of one machine, optionally in one status).
    #[command(after_help = "Example:\n  weir machines executions orders --status FAILED")]
    Executions {
        machine: Option<String>,
        /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
        #[arg(long)]
        status: Option<String>,
    },
    /// One execution: status, input, output, error.
    #[command(after_help = "Example:\n  weir machines describe orders:run-7")]
    Describe {
        /// Execution ARN, or MACHINE:NAME.
        execution: String,
    },
    /// An execution's history (Step Functions' event types).
    #[command(after_help = "Example:\n  weir machines history orders:run-7")]
    History {
        /// Execution ARN, or MACHINE:NAME.
        execution: String,
    },
    /// Stop a running execution.
    #[command(after_help = "Example:\n  weir machines stop orders:run-7 --cause 'wrong input'")]
    Stop {
        execution: String,
        #[arg(long)]
        error: Option<String>,
        #[arg(long)]
        cause: Option<String>,
    },
    /// Run a failed, timed-out or aborted execution again from where it stopped (states that
    /// succeeded are not run again).
    #[command(after_help = "Example:\n  weir machines redrive orders:run-7")]
    Redrive {
        execution: String,
        /// Makes retrying the command safe: a token used for one of the last ten redrives of
        /// the execution answers that redrive again.
        #[arg(long)]
        client_token: Option<String>,
    },
    /// Check a definition file; prints file:line:column: $.json.path: message per problem.
    #[command(after_help = "Example:\n  weir machines validate machines/orders.asl.json")]
    Validate { file: PathBuf },
    /// Complete a `.waitForTaskToken` task with its output (JSON).
    #[command(
        after_help = "Example:\n  weir machines send-success TOKEN --output '{\"ok\": true}'"
    )]
    SendSuccess {
        token: String,
        #[arg(long, default_value = "{}")]
        output: String,
    },
    /// Fail a `.waitForTaskToken` task.
    #[command(after_help = "Example:\n  weir machines send-failure TOKEN --error Rejected")]
    SendFailure {
        token: String,
        #[arg(long)]
        error: Option<String>,
        #[arg(long)]
        cause: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum FunctionsCommand {
    /// Functions in force (and definition problems).
    #[command(after_help = "Example:\n  weir functions list --json")]
    List,
    /// One function: command, environment variable names, timeout, concurrency, ARN.
    #[command(after_help = "Example:\n  weir functions show score_order")]
    Show { name: String },
    /// Invoke a function and print its result (JSON). On a function error, prints
    /// `error: ERROR: cause` to stderr and exits 1.
    #[command(
        after_help = "Example:\n  weir functions invoke score_order --payload '{\"order_id\": 7}'"
    )]
    Invoke {
        name: String,
        /// The event, as JSON (`-` reads it from standard input). Default: {}
        #[arg(long, default_value = "{}")]
        payload: String,
    },
    /// An invocation's log: the payload, the command's stderr, the result or error. Without an
    /// invocation id, the most recent invocation's.
    #[command(
        after_help = "Example:\n  weir functions logs score_order 20260115T020000123456Z-9f1c2a3b"
    )]
    Logs {
        name: String,
        invocation_id: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum StreamsCommand {
    /// Create a stream: provisioned with `--shards` (default 1), or `--on-demand` (4 shards).
    #[command(after_help = "Example:\n  weir streams create clicks --shards 4")]
    Create {
        name: String,
        #[arg(long, conflicts_with = "on_demand")]
        shards: Option<u32>,
        #[arg(long)]
        on_demand: bool,
    },
    /// Streams: name, status, mode.
    List,
    /// A stream: status, retention, and its shards with their hash-key ranges and parents.
    #[command(after_help = "Example:\n  weir streams describe clicks")]
    Describe { name: String },
    /// Put records: each DATA argument is one record, or, with none, each line of standard
    /// input. Prints each record's shard and sequence number.
    #[command(
        after_help = "Example:\n  weir streams put clicks --partition-key user-7 '{\"page\": \"/\"}'"
    )]
    Put {
        name: String,
        /// The partition key of every record (it picks the shard). Default: a key per record,
        /// spreading records over the shards.
        #[arg(long)]
        partition_key: Option<String>,
        data: Vec<String>,
    },
    /// Read records of every shard (or one) from a position, oldest first within a shard.
    #[command(after_help = "Example:\n  weir streams read clicks --from trim_horizon --limit 10")]
    Read {
        name: String,
        /// One shard (`shardId-000000000001` or `1`). Default: every shard.
        #[arg(long)]
        shard: Option<String>,
        /// trim_horizon, latest, at:SEQUENCE, after:SEQUENCE or at_timestamp:MS.
        #[arg(long, default_value = "trim_horizon")]
        from: String,
        /// At most this many records per shard.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Follow a stream: print new records as they arrive, across every shard and the shards
    /// that replace them, until interrupted.
    #[command(after_help = "Example:\n  weir streams tail clicks --from trim_horizon")]
    Tail {
        name: String,
        /// Where to start: latest (default), trim_horizon, at:SEQUENCE, at_timestamp:MS.
        #[arg(long, default_value = "latest")]
        from: String,
        /// Stop after this many records (default: follow until interrupted).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Delete a stream and its records.
    Delete { name: String },
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Rules of every bus: bus, name, state, what they match or when they fire, targets.
    List {
        /// Only this bus's rules.
        #[arg(long)]
        bus: Option<String>,
    },
    /// A rule: its pattern or schedule, its targets, and its recent matches and failures.
    #[command(after_help = "Example:\n  weir rules show new-clicks --bus default")]
    Show {
        name: String,
        #[arg(long, default_value = "default")]
        bus: String,
    },
    /// Whether an event matches a pattern, as the bus decides it (no server needed). Each
    /// argument is JSON text or `@FILE`. Exits 0 when it matches, 1 when it does not.
    #[command(
        after_help = "Example:\n  weir rules test '{\"detail\": {\"n\": [{\"numeric\": [\">\", 5]}]}}' @event.json"
    )]
    Test { pattern: String, event: String },
}

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Put an event on a bus (durable before the answer); prints its id.
    #[command(
        after_help = "Example:\n  weir events put --source shop --detail-type 'Order Placed' '{\"id\": 7}'"
    )]
    Put {
        #[arg(long)]
        source: String,
        #[arg(long)]
        detail_type: String,
        /// The detail: a JSON object (default `{}`).
        detail: Option<String>,
        #[arg(long, default_value = "default")]
        bus: String,
        /// A resource ARN the event is about (repeatable).
        #[arg(long = "resource")]
        resources: Vec<String>,
    },
    /// Print events as the bus takes them, until interrupted.
    #[command(after_help = "Example:\n  weir events tail --bus default --count 1")]
    Tail {
        #[arg(long, default_value = "default")]
        bus: String,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<usize>,
    },
}

#[derive(Subcommand)]
pub enum QueuesCommand {
    /// Create a queue (a FIFO queue when its name ends in `.fifo`); prints its URL. Attributes
    /// as SQS names them: `--attribute VisibilityTimeout=60` (repeatable).
    #[command(
        after_help = "Example:\n  weir queues create orders --attribute VisibilityTimeout=60\n  weir queues create orders.fifo"
    )]
    Create {
        name: String,
        #[arg(long = "attribute", value_name = "NAME=VALUE")]
        attributes: Vec<String>,
    },
    /// Queues: name, kind, messages visible, in flight and delayed.
    List,
    /// A queue: its URL, ARN, attributes and depth.
    Describe { name: String },
    /// Send messages: each BODY argument is one, or, with none, each line of standard input.
    #[command(after_help = "Example:\n  weir queues send orders '{\"id\": 7}'")]
    Send {
        name: String,
        /// A FIFO queue's message group.
        #[arg(long)]
        group: Option<String>,
        bodies: Vec<String>,
    },
    /// Receive up to `--max` messages (waiting up to `--wait` seconds for the first); with
    /// `--delete`, delete them once printed.
    #[command(after_help = "Example:\n  weir queues receive orders --max 10 --delete")]
    Receive {
        name: String,
        #[arg(long, default_value_t = 1)]
        max: u32,
        #[arg(long, default_value_t = 0)]
        wait: u32,
        #[arg(long)]
        delete: bool,
    },
}

#[derive(Subcommand)]
pub enum BookmarkCommand {
    /// Where the bookmark stands (state, run, updated_at, objects read).
    Show { name: String },
    /// Forget the bookmark: the next run reads all of its source.
    Reset { name: String },
}

#[derive(Subcommand)]
pub enum SecretsCommand {
    /// Set a secret in the server's store, sealed with its key. The value is read from standard
    /// input (so it stays out of shell history and process lists); one trailing newline is
    /// removed.
    #[command(
        after_help = "Examples:\n  weir secrets set db_password < password.txt\n  \
                            printf %s \"$TOKEN\" | weir secrets set api_token"
    )]
    Set { name: String },
    /// Secrets in force: name, where the value comes from, when it changed. Never values.
    #[command(after_help = "Example:\n  weir secrets list --json")]
    List,
    /// Remove a secret from the store (one from the environment or [secrets] dir is removed
    /// there).
    #[command(after_help = "Example:\n  weir secrets rm db_password")]
    Rm { name: String },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Pipelines: task-to-task gap on chains, fan-out completions per second, idle server memory.
    #[command(
        after_help = "Example:\n  weir bench pipelines --chain 1000 --commands 100 --fanout 10000 --idle-pipelines 100"
    )]
    Pipelines {
        /// Tasks in the no-op chain.
        #[arg(long, default_value_t = 1000)]
        chain: usize,
        /// Tasks in the `command: true` chain.
        #[arg(long, default_value_t = 100)]
        commands: usize,
        /// Independent no-op tasks in the fan-out.
        #[arg(long, default_value_t = 10_000)]
        fanout: usize,
        /// Pipelines loaded by the idle server whose memory is measured.
        #[arg(long, default_value_t = 100)]
        idle_pipelines: usize,
        /// Metadata store (default: SQLite in a temporary directory).
        #[arg(long)]
        store: Option<String>,
    },
    /// State machines: transitions per second with the history persisted (a chain of Pass
    /// states, a Map), and StartExecution to the first state entered.
    #[command(after_help = "Example:\n  weir bench machines --chain 1000 --map 10000 --starts 200")]
    Machines {
        /// Pass states in the chain.
        #[arg(long, default_value_t = 1000)]
        chain: usize,
        /// Items of the Map (each a Pass state).
        #[arg(long, default_value_t = 10_000)]
        map: usize,
        /// Executions started one after another for the latency figure.
        #[arg(long, default_value_t = 200)]
        starts: usize,
        /// Runs of each throughput figure (the median is printed).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Metadata store (default: SQLite in a temporary directory).
        #[arg(long)]
        store: Option<String>,
    },
    /// The cost of authentication: the same REST and Step Functions calls to two real servers,
    /// one with authentication on (bearer token, SigV4) and one with it off, in alternation.
    #[command(after_help = "Example:\n  weir bench auth --calls 500 --rounds 5 --chain 200")]
    Auth {
        /// Sequential calls per figure, server and round.
        #[arg(long, default_value_t = 500)]
        calls: usize,
        /// Rounds, each measuring both servers (the medians of the rounds are printed).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Tasks in the no-op chain whose gap is measured through each server (0: none).
        #[arg(long, default_value_t = 200)]
        chain: usize,
    },
    /// Streams: durable appends per second in process and over HTTP PutRecords (100 B and 1 KiB
    /// records), and put-to-get latency for a tailing reader and SubscribeToShard.
    #[command(
        after_help = "Example:\n  weir bench streams --records 2000000 --http-seconds 5 --latency-records 1000"
    )]
    Streams {
        /// Records of 100 B appended in process (a quarter as many of 1 KiB).
        #[arg(long, default_value_t = 2_000_000)]
        records: u64,
        /// Concurrent in-process writers (each with one put of 500 in flight).
        #[arg(long, default_value_t = 32)]
        writers: usize,
        /// Seconds of HTTP PutRecords per record size.
        #[arg(long, default_value_t = 5.0)]
        http_seconds: f64,
        /// Keep-alive connections sending PutRecords at once.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Shards of the streams the HTTP load goes to.
        #[arg(long, default_value_t = 4)]
        shards: u32,
        /// Records put one at a time for each latency figure.
        #[arg(long, default_value_t = 1000)]
        latency_records: usize,
    },
    /// Events and queues: patterns matched per second against 1,000 mixed rules on one core,
    /// PutEvents to a queue target's receive, and durable queue sends and receive-deletes.
    #[command(
        after_help = "Example:\n  weir bench events --match-seconds 5 --latency-events 500 --queue-seconds 5"
    )]
    Events {
        /// Rules compiled into the matcher.
        #[arg(long, default_value_t = 1000)]
        rules: usize,
        /// Seconds of matching per figure.
        #[arg(long, default_value_t = 3.0)]
        match_seconds: f64,
        /// Events put one at a time for the latency figure.
        #[arg(long, default_value_t = 300)]
        latency_events: usize,
        /// Seconds of SendMessageBatch load.
        #[arg(long, default_value_t = 5.0)]
        queue_seconds: f64,
        /// Keep-alive connections sending (then receiving) at once.
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// The dashboard: server time to render the grid of a pipeline of 50 tasks with 1,000 runs,
    /// the time from a task's end to the grid showing it (live events and a re-fetch), and the
    /// page of a Map execution of 10,000 items.
    #[command(
        after_help = "Example:\n  weir bench dashboard --tasks 50 --runs 1000 --requests 20 --latency-runs 20 --map-items 10000"
    )]
    Dashboard {
        /// Tasks of the pipeline whose grid is rendered.
        #[arg(long, default_value_t = 50)]
        tasks: usize,
        /// Finished runs of it, written into the store before the server starts.
        #[arg(long, default_value_t = 1000)]
        runs: usize,
        /// Requests of each grid size, one after another.
        #[arg(long, default_value_t = 20)]
        requests: usize,
        /// Runs of the short pipeline whose task-end-to-grid time is measured.
        #[arg(long, default_value_t = 20)]
        latency_runs: usize,
        /// Items of the Map execution whose page is timed (0: none).
        #[arg(long, default_value_t = 10_000)]
        map_items: usize,
    },
    /// Transforms: the representative recipe (filter, derive, validate with a quarantine,
    /// dedupe, a day-partitioned Parquet sink) over generated orders, and DuckDB (the `duckdb`
    /// Python package) running the equivalent SQL on the same files: rows/s and the ratio.
    #[command(after_help = "Example:\n  weir bench transforms --rows 10000000")]
    Transforms {
        /// Orders generated (once per directory and count).
        #[arg(long, default_value_t = 10_000_000)]
        rows: usize,
        /// Where the data goes (default: a directory under the system's temp dir).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
}
