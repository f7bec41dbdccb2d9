//! Command-line types of `fleet-agent` (clap only; resolved into a
//! [`Config`](crate::config::Config) before anything runs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::env;

/// The pull-only fleet agent: enrolls with the hub, applies its cluster's
/// desired state, prunes, reports health and repairs drift.
#[derive(Debug, Parser)]
#[command(name = "fleet-agent", version, about)]
pub struct AgentCommand {
    /// What to do (default: run the agent).
    #[command(subcommand)]
    pub action: Option<AgentAction>,
    /// How the agent runs.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Other things the binary can do.
#[derive(Debug, Subcommand)]
pub enum AgentAction {
    /// Print the manifests that install the agent in a cluster.
    InstallManifests(InstallArgs),
}

/// Flags of the agent itself.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The name of the cluster this agent runs in.
    #[arg(long, env = env::CLUSTER, global = true)]
    pub cluster: Option<String>,
    /// Hub endpoints, comma separated (https://host:port).
    #[arg(long, env = env::HUB, value_delimiter = ',', global = true)]
    pub hub: Vec<String>,
    /// The hub CA certificate (PEM file).
    #[arg(long, env = env::CA)]
    pub ca: Option<PathBuf>,
    /// The single-use bootstrap token; only needed until the agent has enrolled.
    #[arg(long, env = env::TOKEN, hide_env_values = true)]
    pub token: Option<String>,
    /// Where the certificate, key and desired-state cache are kept.
    #[arg(long, env = env::STATE_DIR)]
    pub state_dir: Option<PathBuf>,
    /// A kubeconfig file (default: the in-cluster configuration).
    #[arg(long, env = env::KUBECONFIG)]
    pub kubeconfig: Option<PathBuf>,
    /// The agent's namespace: its inventory and identity live there.
    #[arg(long, env = env::NAMESPACE, default_value = "fleet-system")]
    pub namespace: String,
    /// Address of the local /healthz and /metrics server.
    #[arg(long, env = env::LISTEN)]
    pub listen: Option<SocketAddr>,
    /// Log format.
    #[arg(long, env = env::LOG_FORMAT, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// On SIGTERM/SIGINT, how long the apply in flight may take to finish
    /// before the agent exits anyway (`500ms`, `5s`, `1m`).
    #[arg(long, env = env::SHUTDOWN_GRACE, default_value = "5s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// An age key file (`age-keygen` output) whose identities decrypt the
    /// SOPS-encrypted objects of the desired state; read again on use, and
    /// a missing file means no keys.
    #[arg(long, env = env::SOPS_AGE_KEY_FILE)]
    pub sops_age_key_file: Option<PathBuf>,
}

/// How logs are written (always to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `fleet-agent install-manifests`: what `fleetctl agent install` prints.
#[derive(Debug, Clone, clap::Args)]
pub struct InstallArgs {
    /// The bootstrap token to embed.
    #[arg(long = "bootstrap-token")]
    pub bootstrap_token: String,
    /// The hub CA certificate to embed (PEM file).
    #[arg(long = "ca-file")]
    pub ca_file: PathBuf,
    /// The agent's container image.
    #[arg(long, default_value = crate::install::DEFAULT_IMAGE)]
    pub image: String,
}

/// Parses `500ms`, `5s` or `1m` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|character: char| character.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: use for example 500ms, 5s or 1m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "" | "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        _ => Err(format!(
            "invalid duration {text:?}: use for example 500ms, 5s or 1m"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
    }
}
