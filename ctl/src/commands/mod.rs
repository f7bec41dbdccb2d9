//! One module per command; each takes its resolved arguments and runs.

mod bench;
mod plan;
mod render;
mod validate;

use crate::cli::{BenchCommand, Cli, Command};
use crate::error::CliError;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Render(args) => render::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Bench(BenchCommand::GenFleet(args)) => bench::gen_fleet::run(&args),
        Command::Bench(BenchCommand::Render(args)) => bench::render::run(&args),
    }
}
