//! `weir server`: the store, the engine and the HTTP server, wired together.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use weir_engine::machines::{FunctionInvoker, Machines, MachinesOptions};
use weir_engine::{Engine, EngineOptions, actions::Registry};

use crate::args::ServerArgs;
use crate::settings;

pub async fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let project = args.project.clone();
    if !project.is_dir() {
        anyhow::bail!(
            "project directory {} does not exist (create one with `weir init {}`)",
            project.display(),
            project.display()
        );
    }
    let mut config = settings::load_or_fail(&project)?;
    if let Some(listen) = &args.listen {
        config.server.listen = listen.clone();
    }
    // First: a bad certificate or key stops the start at once, the file named.
    let tls = match settings::tls_files(&project, &config, &args) {
        Some((cert, key)) => Some(weir_server::tls::server_config(&cert, &key)?),
        None => None,
    };
    let data_dir = settings::data_dir(&project, &config, args.data.as_deref());
    // Before anything else touches the directory: one live server per data directory.
    let _data_lock = weir_engine::data_lock::lock_data_dir(&data_dir)?;
    let shutdown_grace = weir_model::duration::parse_duration(&config.executor.shutdown_grace)
        .map_err(|e| anyhow::anyhow!("executor.shutdown_grace: {e}"))?;
    let store_url = settings::store_url(&config, &data_dir)?;
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = if config.server.public_url.is_empty() {
        format!("{scheme}://{address}")
    } else {
        config.server.public_url.clone()
    };
    let metrics = weir_server::install_metrics();
    // One server per metadata database as well (the data directory's lock covers SQLite's).
    let _store_claim = if store_url.starts_with("postgres") {
        let holder = format!("pid {} on {}", std::process::id(), host_name());
        Some(weir_store::claim_postgres(&store_url, &holder).await?)
    } else {
        None
    };
    let store = weir_store::open(&store_url)
        .await
        .with_context(|| format!("cannot open the metadata store {}", redact(&store_url)))?;
    let lake = Arc::new(
        weir_lake::Lake::open(&config.lake, &data_dir, &config.aws.region)
            .context("cannot open the lake")?,
    );
    let catalog = weir_lake::Catalog::new(store.clone());
    let sql = Arc::new(
        weir_lake::sql::SqlEngine::for_lake_with(
            lake.clone(),
            Arc::new(catalog.clone()),
            settings::sql_options(&config.sql, &data_dir)?,
        )
        .map_err(|e| anyhow::anyhow!("cannot start the SQL engine: {e}"))?,
    );
    let mut registry = Registry::builtin();
    registry.register(
        "crawl",
        Arc::new(weir_lake::CrawlRunner::new(lake.clone(), catalog.clone())),
    );
    registry.register(
        "sql",
        Arc::new(weir_lake::sql::SqlRunner::new(sql.clone()).with_lake(lake.clone())),
    );
    registry.register(
        "wait_for",
        Arc::new(weir_lake::WaitForRunner::new(
            lake.clone(),
            catalog.clone(),
            sql.clone(),
        )),
    );
    registry.register(
        "copy",
        Arc::new(weir_lake::CopyRunner::new(
            lake.clone(),
            config.copy.clone(),
            &config.aws.region,
        )),
    );
    // Transforms: the action and the API share one runner (one run of a transform at a time);
    // mask salts come from the engine's secrets, set once the engine has started.
    let transforms =
        weir_lake::transform::Transforms::new(sql.clone(), catalog.clone(), lake.clone());
    let transform_salts: Arc<std::sync::OnceLock<Arc<weir_lake::transform::SaltLookup>>> =
        Arc::default();
    registry.register(
        "transform",
        Arc::new(weir_lake::transform::TransformAction::new(
            transforms.clone(),
            transform_salts.clone(),
        )),
    );
    let actions = registry.clone();
    let lake_for_items = lake.clone();
    let aws = config.aws.clone();
    let streams_config = config.streams.clone();
    let delivery_aws = config.aws.clone();
    let events_aws = config.aws.clone();
    let lake_url = config.lake.url.clone();
    let watch = config.server.watch;
    let max_machine_processes = config.executor.max_machine_processes as usize;
    let max_body_bytes = usize::try_from(config.server.max_body_bytes).unwrap_or(usize::MAX);
    let auth_config = config.auth.clone();
    let auth_region = config.aws.region.clone();
    // With credentials on, a rebinding page has none to send; with them off, only the names this
    // server is known by are answered.
    let allowed_hosts = if auth_config.enabled {
        weir_server::auth::hosts::AllowedHosts::any()
    } else {
        weir_server::auth::hosts::AllowedHosts::new(&public_url, &config.server.allowed_hosts)
    };
    let access = if auth_config.enabled {
        Some(
            weir_engine::access::Access::open(store.clone(), &data_dir)
                .await
                .context("cannot load the credentials")?,
        )
    } else {
        if !address.ip().is_loopback() {
            tracing::warn!(
                %address,
                "authentication is OFF ([auth] enabled = false) and the server listens beyond loopback: anyone who reaches {address} can run commands on this machine"
            );
        } else {
            tracing::warn!("authentication is OFF ([auth] enabled = false)");
        }
        None
    };
    let engine = Engine::start(EngineOptions {
        project_dir: project.clone(),
        data_dir: data_dir.clone(),
        watch,
        config,
        store,
        registry,
        public_url: public_url.clone(),
    })
    .await?;
    let functions: Arc<dyn FunctionInvoker> = engine.functions();
    let secrets = engine.secrets();
    let _ = transform_salts.set(Arc::new(move |name: &str| secrets.value(name)));
    // The streams' logs under DATA/streams, their metadata in the store (through a committer of
    // their own, so appends never wait behind the engine's turns).
    let streams = weir_stream::Streams::open(
        weir_stream::StreamsConfig {
            segment_bytes: weir_model::config::streams_segment_bytes(&streams_config)
                .map_err(|e| anyhow::anyhow!(e))?,
            throughput_quotas: streams_config.throughput_quotas,
            ..weir_stream::StreamsConfig::new(
                data_dir.join("streams"),
                &aws.region,
                &aws.account_id,
            )
        },
        engine.store().clone(),
        weir_store::Committer::start(engine.store().clone()),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot open the streams: {e}"))?;
    transforms.set_streams(streams.clone());
    // The queues (SQS), their messages in the store through a committer of their own.
    let queues = weir_engine::queues::Queues::open(
        engine.store().clone(),
        weir_store::Committer::start(engine.store().clone()),
        &aws.region,
        &aws.account_id,
        &public_url,
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot open the queues: {e}"))?;
    // The functions streams and queues trigger (event source mappings); the records of batches
    // they give up on may go to the lake.
    let failed_batches: Arc<dyn weir_engine::functions::event_sources::ObjectWriter> =
        Arc::new(crate::lake_service::LakeObjects(lake_for_items.clone()));
    engine
        .start_event_sources(streams.clone(), Some(queues.clone()), Some(failed_batches))
        .await?;
    let machines = Machines::start(MachinesOptions {
        store: engine.store().clone(),
        project_dir: project.clone(),
        data_dir: data_dir.clone(),
        region: aws.region,
        account_id: aws.account_id,
        engine: Some(engine.clone()),
        functions: Some(functions),
        actions,
        objects: Some(Arc::new(crate::lake_service::LakeObjects(lake_for_items))),
        secrets: engine.secrets(),
        watch,
        max_processes: max_machine_processes,
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the state machines: {e}"))?;
    let deliveries = start_deliveries(
        &engine,
        streams.clone(),
        lake.clone(),
        catalog.clone(),
        &project,
        &data_dir,
        &delivery_aws,
    )
    .await?;
    let events = start_events(
        &engine,
        &machines,
        &streams,
        &queues,
        &project,
        &events_aws,
        watch,
    )
    .await?;
    crate::builtin_events::BuiltinEvents {
        events: events.clone(),
        scope: weir_model::events::arn::Scope::new(&events_aws.region, &events_aws.account_id),
        bucket: lake_bucket(&lake_url),
    }
    .start(&engine, &machines, &streams, lake.clone(), catalog.clone());
    tracing::info!(project = %project.display(), data = %data_dir.display(), store = %redact(&store_url), "weir listening on {public_url}");
    outln!("weir listening on {public_url}");
    if access.is_some() {
        // As Jupyter does: a link that signs the browser in with the admin token, for the person
        // at the terminal. Output that goes elsewhere (a service's journal, a log file) may be
        // read by others than who may read the data directory, so it says where the token is.
        let token_file = data_dir.join(weir_engine::access::ADMIN_TOKEN_FILE);
        if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            outln!(
                "sign in: {public_url}/login with the admin token in {}",
                token_file.display()
            );
        } else if let Ok(token) = std::fs::read_to_string(&token_file) {
            outln!("sign in: {public_url}/login?token={}&next=/", token.trim());
        }
    }
    let lake_service = crate::lake_service::LakeAdapter {
        lake,
        catalog,
        sql,
        project_dir: project.clone(),
        secrets: engine.secrets(),
        transforms: Some(transforms),
    };
    let stopping_engine = engine.clone();
    let stopping_access = access.clone();
    let state = weir_server::AppState {
        engine,
        lake: Some(Arc::new(lake_service)),
        machines: Some(machines),
        streams: Some(streams),
        queues: Some(queues),
        deliveries: Some(Arc::new(crate::delivery_service::DeliveryAdapter(
            deliveries.clone(),
        ))),
        events: Some(events.clone()),
        metrics,
        started: Instant::now(),
        max_body_bytes,
        access,
        auth: weir_server::auth::AuthOptions {
            public_metrics: auth_config.public_metrics,
            session_lifetime: weir_model::duration::parse_duration(&auth_config.session_lifetime)
                .map_err(|e| anyhow::anyhow!("auth.session_lifetime: {e}"))?,
            secure_cookies: tls.is_some(),
            region: auth_region,
            hosts: allowed_hosts,
            public_url: public_url.clone(),
        },
        stopping: weir_server::Stopping::default(),
    };
    // On SIGTERM or Ctrl-C the engine drains first, while the API still answers (what is
    // running, how it ends; new triggers are refused with 503), then the HTTP server stops.
    let stopping = async move {
        shutdown_signal().await;
        tracing::info!(grace = ?shutdown_grace, "waiting for running attempts to finish");
        stopping_engine.shutdown(shutdown_grace).await;
    };
    match tls {
        Some(tls) => {
            let listener = weir_server::tls::TlsListener::new(listener, tls);
            weir_server::serve(listener, state, stopping).await?
        }
        None => weir_server::serve(listener, state, stopping).await?,
    }
    // Each delivery finishes the batch it is in, committed with its checkpoint; so does each
    // bus's dispatcher.
    deliveries.stop().await;
    events.stop().await;
    // The audit log's last entries linger for a batch: commit them before the process ends.
    if let Some(access) = stopping_access {
        access.flush_audit().await;
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The event bus: buses, rules and targets from the store, `rules/*.yaml` and the triggers of
/// pipeline and state machine files, delivering to what [`crate::event_targets::Targets`] reaches.
async fn start_events(
    engine: &Engine,
    machines: &Machines,
    streams: &weir_stream::Streams,
    queues: &weir_engine::queues::Queues,
    project: &std::path::Path,
    aws: &weir_model::config::AwsConfig,
    watch: bool,
) -> anyhow::Result<weir_engine::events::Events> {
    let targets = Arc::new(crate::event_targets::Targets {
        engine: engine.clone(),
        machines: machines.clone(),
        streams: streams.clone(),
        queues: queues.clone(),
    });
    let scope = weir_model::events::arn::Scope::new(&aws.region, &aws.account_id);
    let options = weir_engine::events::EventsOptions {
        managed: crate::triggers::initial(project, &scope),
        ..weir_engine::events::EventsOptions::new(
            engine.store().clone(),
            weir_store::Committer::start(engine.store().clone()),
            streams.clone(),
            project.to_path_buf(),
            targets,
        )
    };
    let events = weir_engine::events::Events::start(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the event bus: {e}"))?;
    if watch {
        crate::triggers::watch(&events, project, scope);
    }
    Ok(events)
}

/// The lake's bucket as S3 events name it: the bucket of an `s3://` lake, `weir-lake` for the
/// local one.
fn lake_bucket(url: &str) -> String {
    url.strip_prefix("s3://")
        .and_then(|rest| rest.split('/').next())
        .filter(|bucket| !bucket.is_empty())
        .unwrap_or("weir-lake")
        .to_string()
}

/// The deliveries (from `deliveries/*.yaml` and the Firehose API), each a consumer group of the
/// server's streams that commits its lake files with its checkpoint.
async fn start_deliveries(
    engine: &Engine,
    streams: weir_stream::Streams,
    lake: Arc<weir_lake::Lake>,
    catalog: weir_lake::Catalog,
    project: &std::path::Path,
    data_dir: &std::path::Path,
    aws: &weir_model::config::AwsConfig,
) -> anyhow::Result<weir_lake::delivery::Deliveries> {
    let store = engine.store().clone();
    let committer = weir_store::Committer::start(store.clone());
    let transformer = Arc::new(crate::delivery_service::FunctionTransformer(
        engine.functions(),
    ));
    let context = weir_lake::delivery::DeliveryContext {
        lake,
        catalog,
        transformer: Some(transformer),
        region: aws.region.clone(),
        account: aws.account_id.clone(),
    };
    // One server per data directory, so its name is this server's across restarts: after a
    // crash it takes its own leases back at once instead of waiting for them to expire.
    let owner = format!("weir@{}", data_dir.display());
    let (deliveries, problems) = weir_lake::delivery::Deliveries::start(
        context,
        streams,
        store,
        committer,
        Some(project),
        &owner,
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the deliveries: {e}"))?;
    for problem in problems {
        tracing::error!("{problem}");
    }
    Ok(deliveries)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WEIR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours for a person at a terminal, plain text for a log file or a pipe (and NO_COLOR).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}

/// This machine's name, to tell users which server holds a shared resource.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "this host".into())
}

/// Hides a password in a store URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://weir:secret@localhost/weir"),
            "postgres://weir:***@localhost/weir"
        );
        assert_eq!(super::redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
