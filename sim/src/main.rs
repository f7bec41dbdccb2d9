//! The `fleet-sim` binary: `serve` runs a Kubernetes API simulator (a test
//! and demo tool) until Ctrl-C; `bench` measures its throughput.

use anyhow::Context;
use clap::Parser;
use fleet_sim::cli::{Cli, Command, ServeArgs};
use fleet_sim::{SimConfig, Simulator};

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: a file or pipe gets no escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(!json && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = SimConfig {
        name: args.name.clone(),
        listen: std::net::SocketAddr::new(args.address, args.port),
        tls: !args.no_tls || args.tls,
        token: args.token.clone(),
        rollout_delay: args.rollout_delay,
        progress_deadline: args.progress_deadline,
        data_dir: args.data_dir.clone(),
        namespace_finalize_delay: args.namespace_finalize_delay,
        ..SimConfig::default()
    };
    let simulator = Simulator::start(config)
        .await
        .context("starting the simulator")?;
    if let Some(path) = &args.kubeconfig_out {
        simulator
            .write_kubeconfig(path)
            .with_context(|| format!("writing the kubeconfig to {}", path.display()))?;
        eprintln!("fleet-sim: kubeconfig written to {}", path.display());
    }
    // The URL on stdout lets scripts pick up an ephemeral port.
    println!("{}", simulator.url());
    eprintln!(
        "fleet-sim: Kubernetes API simulator (test/demo tool) serving at {}; Ctrl-C to stop",
        simulator.url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    simulator.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            init_logging(args.log_format == "json");
            serve(args).await
        }
        Command::Bench(args) => {
            init_logging(false);
            fleet_sim::bench::run(args).await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("Caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
