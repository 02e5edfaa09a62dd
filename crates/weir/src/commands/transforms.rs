//! `weir transforms check|preview NAME`: a recipe checked against the catalog, and each step's
//! output on a sample, from the server (which reads the project's `transforms/`).

use std::process::ExitCode;

use crate::args::{ClientArgs, TransformsCommand};
use crate::client::{Client, segment};
use crate::output::{print_json, text};

pub async fn run(args: &ClientArgs, command: TransformsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::new(args)?;
    let body = match &command {
        TransformsCommand::Check { name } => {
            client
                .post(
                    &format!("/api/v1/transforms/{}/check", segment(name)),
                    &serde_json::json!({}),
                )
                .await?
        }
        TransformsCommand::Preview { name, rows } => {
            client
                .post(
                    &format!("/api/v1/transforms/{}/preview?rows={rows}", segment(name)),
                    &serde_json::json!({}),
                )
                .await?
        }
    };
    let problems = body["problems"].as_array().cloned().unwrap_or_default();
    if args.json {
        print_json(&body);
    } else {
        for problem in &problems {
            outln!(
                "{}:{}:{}: {}",
                text(problem, "file"),
                text(problem, "line"),
                text(problem, "column"),
                text(problem, "message")
            );
        }
        if let TransformsCommand::Check { name } = &command
            && problems.is_empty()
        {
            outln!("{name}: ok");
        }
        for stage in body["stages"].as_array().into_iter().flatten() {
            let step = match stage["step"].as_u64() {
                Some(0) | None => "source".to_string(),
                Some(n) => format!("step {n}: {}", text(stage, "name")),
            };
            outln!("── {step} (line {}) ──", text(stage, "line"));
            super::lake::print_rows(stage);
            outln!();
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
