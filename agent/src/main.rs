//! `fleet-agent`: the agent's thin binary — arguments → [`Config`] → run.

use std::process::ExitCode;

use clap::Parser;
use fleet_agent::cli::{AgentAction, AgentCommand, InstallArgs, LogFormat};
use fleet_agent::install::{InstallSpec, manifests};
use fleet_agent::{Config, env};
use tracing_subscriber::EnvFilter;

/// Exit code for a usage or configuration mistake (EX_USAGE).
const EXIT_USAGE: u8 = 64;

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env(env::LOG).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Colour only on a terminal: a file or pipe gets no escape codes.
    match format {
        LogFormat::Json => builder.with_ansi(false).json().init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

fn install_manifests(command: &AgentCommand, args: &InstallArgs) -> ExitCode {
    let ca_pem = match std::fs::read_to_string(&args.ca_file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", args.ca_file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let spec = InstallSpec {
        cluster: command.run.cluster.clone().unwrap_or_default(),
        hub_endpoints: command.run.hub.clone(),
        ca_pem,
        token: args.bootstrap_token.clone(),
        image: args.image.clone(),
        namespace: command.run.namespace.clone(),
    };
    match manifests(&spec) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn main() -> ExitCode {
    let command = AgentCommand::parse();
    if let Some(AgentAction::InstallManifests(args)) = &command.action {
        return install_manifests(&command, args);
    }
    let log_format = command.run.log_format;
    let config = match Config::build(command.run) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    init_logging(log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(fleet_agent::run(config));
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("Caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
