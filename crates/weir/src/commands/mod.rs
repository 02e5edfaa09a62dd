//! One module per command group.

mod access;
mod events;
mod functions;
mod init;
mod lake;
mod logs;
mod machines;
mod pipelines;
mod queues;
mod rules;
mod runs;
mod secrets;
mod server;
mod streams;
mod transforms;
mod validate;

use std::process::ExitCode;

use crate::args::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { dir } => init::run(&dir),
        Command::Validate { dir, json } => validate::run(&dir, json),
        Command::Server(args) => server::run(args).await,
        Command::Pipelines { client, command } => pipelines::run(&client, command).await,
        Command::Runs { client, command } => runs::run(&client, command).await,
        Command::Tokens { client, command } => access::tokens(&client, command).await,
        Command::Audit {
            client,
            since,
            limit,
        } => access::audit(&client, since, limit).await,
        Command::Bench { command } => crate::bench::run(command).await,
        Command::Functions { client, command } => functions::run(&client, command).await,
        Command::Secrets { client, command } => secrets::run(&client, command).await,
        Command::Transforms { client, command } => transforms::run(&client, command).await,
        Command::Streams { client, command } => streams::run(&client, command).await,
        Command::Rules { client, command } => rules::run(&client, command).await,
        Command::Events { client, command } => events::run(&client, command).await,
        Command::Queues { client, command } => queues::run(&client, command).await,
        Command::Machines { client, command } => machines::run(&client, command).await,
        Command::Lake { client, command } => lake::lake(&client, command).await,
        Command::Catalog { client, command } => lake::catalog(&client, command).await,
        Command::Crawl {
            client,
            prefix,
            database,
            table,
        } => lake::crawl(&client, &prefix, database, table).await,
        Command::Sql {
            client,
            query,
            format,
            max_rows,
        } => lake::sql(&client, &query, &format, max_rows).await,
    }
}
