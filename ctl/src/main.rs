//! `fleetctl`: the fleet operator's command-line tool.
//!
//! Render, validate and plan a fleet repository offline (for pull-request
//! checks), and benchmark the renderer. Data goes to stdout, diagnostics and
//! progress to stderr; `-o json|yaml` for machines.

mod cli;
mod clock;
mod commands;
mod error;
mod git_cli;
mod hub_client;
mod hub_http;
mod logging;
mod output;
mod repository;
mod user_cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.log_format);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(),
    }
}
