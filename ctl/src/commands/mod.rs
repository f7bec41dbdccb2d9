//! One module per command; each takes its resolved arguments and runs.

mod agent;
mod audit;
mod bench;
mod cluster;
mod cluster_hold;
pub mod dashboard;
mod demo;
mod hub;
pub mod notifications;
mod plan;
mod refresh;
mod render;
mod revisions;
mod rollout;
mod sops_files;
mod status;
mod token;
mod user;
mod validate;

use crate::cli::{
    AgentCommand, BenchCommand, Cli, Command, HubCommand, RolloutCommand, TokenCommand,
};
use crate::error::CliError;
use crate::user_cli::ClusterCommand;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Render(args) => render::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Bench(BenchCommand::GenFleet(args)) => bench::gen_fleet::run(&args),
        Command::Bench(BenchCommand::Render(args)) => bench::render::run(&args),
        Command::Bench(BenchCommand::Agents(args)) => block_on_threads(bench::agents::run(&args)),
        Command::Bench(BenchCommand::Rollout(args)) => block_on_threads(bench::rollout::run(&args)),
        Command::Bench(BenchCommand::Retention(args)) => {
            block_on_threads(bench::retention::run(&args))
        }
        Command::Token(TokenCommand::Create(args)) => block_on(token::create::run(&args)),
        Command::Status(args) => block_on(status::status(&args)),
        Command::Clusters(args) => block_on(status::clusters(&args)),
        Command::Revisions(args) => block_on(revisions::run(&args)),
        Command::Refresh(args) => block_on(refresh::run(&args)),
        Command::Audit(args) => block_on(audit::run(&args)),
        Command::Rollout(RolloutCommand::Status(args)) => block_on(rollout::status::run(&args)),
        Command::Rollout(RolloutCommand::Promote(args)) => block_on(rollout::action::run(
            &args.hub,
            "promote",
            args.wave.as_deref(),
            args.all,
            args.ignore_windows,
        )),
        Command::Rollout(RolloutCommand::Pause(args)) => {
            block_on(rollout::action::run(&args, "pause", None, false, false))
        }
        Command::Rollout(RolloutCommand::Resume(args)) => {
            block_on(rollout::action::run(&args, "resume", None, false, false))
        }
        Command::Rollout(RolloutCommand::Rollback(args)) => {
            block_on(rollout::action::run(&args, "rollback", None, false, false))
        }
        Command::Rollout(RolloutCommand::History(args)) => block_on(rollout::history::run(&args)),
        Command::Hub(HubCommand::JoinToken(args)) => block_on(hub::join_token(&args)),
        Command::Hub(HubCommand::Members(args)) => block_on(hub::members(&args)),
        Command::Hub(HubCommand::Add(args)) => block_on(hub::add(&args)),
        Command::Hub(HubCommand::Remove(args)) => block_on(hub::remove(&args)),
        Command::Hub(HubCommand::StepDown(args)) => block_on(hub::step_down(&args)),
        Command::Demo(args) => demo::run(&args),
        Command::Agent(AgentCommand::Install(args)) => block_on(agent::install::run(&args)),
        Command::User(command) => block_on(user::run(command)),
        Command::Cluster(ClusterCommand::Revoke(args)) => block_on(cluster::revoke(&args)),
        Command::Cluster(ClusterCommand::Hold(args)) => block_on(cluster_hold::hold(&args)),
        Command::Cluster(ClusterCommand::Release(args)) => block_on(cluster_hold::release(&args)),
        Command::Notifications(command) => block_on(run_notifications(command)),
        Command::Dashboard(args) => block_on_threads(dashboard::run(&args)),
    }
}

async fn run_notifications(
    command: notifications::args::NotificationsCommand,
) -> Result<(), CliError> {
    use notifications::args::NotificationsCommand;
    match command {
        NotificationsCommand::Add(args) => notifications::add::run(&args).await,
        NotificationsCommand::List(args) => notifications::list::run(&args).await,
        NotificationsCommand::Remove(args) => notifications::remove::run(&args).await,
    }
}

/// Runs a hub command on a small runtime of its own.
fn block_on(
    command: impl std::future::Future<Output = Result<(), CliError>>,
) -> Result<(), CliError> {
    run_on(tokio::runtime::Builder::new_current_thread(), command)
}

/// Runs a command that drives many connections on a multi-threaded runtime.
fn block_on_threads(
    command: impl std::future::Future<Output = Result<(), CliError>>,
) -> Result<(), CliError> {
    run_on(tokio::runtime::Builder::new_multi_thread(), command)
}

fn run_on(
    mut builder: tokio::runtime::Builder,
    command: impl std::future::Future<Output = Result<(), CliError>>,
) -> Result<(), CliError> {
    let runtime = builder.enable_all().build().map_err(|error| {
        CliError::Failure(anyhow::anyhow!("starting the async runtime: {error}"))
    })?;
    runtime.block_on(command)
}
