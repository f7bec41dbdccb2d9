//! Command-line types of the `fleet-sim` binary (clap only; behaviour lives
//! in `main.rs` and [`crate::bench`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::parse_duration;

/// fleet-sim: a Kubernetes API simulator for tests and demos (not a real cluster).
#[derive(Debug, Parser)]
#[command(name = "fleet-sim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the simulated Kubernetes API until interrupted.
    Serve(ServeArgs),
    /// Measure server-side apply and watch fan-out throughput.
    Bench(BenchArgs),
}

/// `fleet-sim serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: std::net::IpAddr,
    /// Write a kubeconfig for this simulator here.
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// Keep objects in this directory across restarts.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Serve HTTPS with a generated certificate (the default).
    #[arg(long, overrides_with = "no_tls")]
    pub tls: bool,
    /// Serve plain HTTP.
    #[arg(long)]
    pub no_tls: bool,
    /// Bearer token to require (random if omitted).
    #[arg(long, env = "FLEET_SIM_TOKEN")]
    pub token: Option<String>,
    /// Cluster name in the kubeconfig.
    #[arg(long, default_value = "fleet-sim")]
    pub name: String,
    /// How long workloads take to become available.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub rollout_delay: Duration,
    /// How long a workload with a `fail` image takes to report ProgressDeadlineExceeded.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub progress_deadline: Duration,
    /// How long a deleted namespace stays Terminating (content deleted,
    /// creates in it refused with 403) before it is removed, like a real
    /// API server's namespace controller; 0 removes it at once.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub namespace_finalize_delay: Duration,
    /// Log format on stderr: text or json.
    #[arg(long, default_value = "text")]
    pub log_format: String,
}

/// `fleet-sim bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Objects to apply in the server-side apply benchmark.
    #[arg(long, default_value_t = 2000)]
    pub objects: usize,
    /// Concurrent clients applying.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Watchers in the fan-out benchmark.
    #[arg(long, default_value_t = 50)]
    pub watchers: usize,
    /// Events written in the fan-out benchmark.
    #[arg(long, default_value_t = 500)]
    pub events: usize,
    /// Use HTTPS (as the agent and kubectl do).
    #[arg(long)]
    pub tls: bool,
}
