//! The `weir` binary: command-line parsing, configuration loading and wiring. Thin by design:
//! the domain lives in the library crates; client commands talk to a running server's REST API.

#[macro_use]
mod output;

mod args;
mod bench;
mod bench_auth;
mod bench_dashboard;
mod bench_dashboard_map;
mod bench_events;
mod bench_machines;
mod bench_streams;
mod builtin_events;
mod client;
mod commands;
mod delivery_service;
mod event_targets;
mod lake_service;
mod settings;
mod triggers;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
