//! Running a real agent for each simulated cluster, in this process: the same
//! `fleet_agent::run` the `fleet-agent` binary runs, talking to its
//! simulator through the kube crate and to the hub over mTLS gRPC.

use std::path::PathBuf;

use anyhow::Context as _;
use tokio::task::JoinHandle;
use tracing::warn;

/// What an agent of the demo needs.
pub struct AgentSpec {
    /// Cluster name.
    pub cluster: String,
    /// Hub endpoint.
    pub hub: String,
    /// Hub CA certificate file.
    pub ca: PathBuf,
    /// Bootstrap token.
    pub token: String,
    /// The agent's state directory.
    pub state_dir: PathBuf,
    /// Kubeconfig of the simulated cluster.
    pub kubeconfig: PathBuf,
    /// The age key file for the cluster's SOPS-encrypted objects.
    pub sops_age_key_file: Option<PathBuf>,
}

/// Starts an agent; it runs until the task is aborted.
pub fn start(spec: AgentSpec) -> anyhow::Result<JoinHandle<()>> {
    std::fs::create_dir_all(&spec.state_dir)
        .with_context(|| format!("creating {}", spec.state_dir.display()))?;
    let ca_pem = std::fs::read_to_string(&spec.ca)
        .with_context(|| format!("reading {}", spec.ca.display()))?;
    let config = fleet_agent::Config {
        cluster: spec.cluster.clone(),
        hub_endpoints: vec![spec.hub],
        ca_pem: Some(ca_pem),
        token: Some(spec.token),
        state_dir: spec.state_dir,
        kubeconfig: Some(spec.kubeconfig),
        namespace: fleet_agent::install::DEFAULT_NAMESPACE.to_owned(),
        listen: None,
        log_format: fleet_agent::cli::LogFormat::Text,
        shutdown_grace: std::time::Duration::from_secs(5),
        sops_age_key_file: spec.sops_age_key_file,
    };
    let cluster = spec.cluster;
    Ok(tokio::spawn(async move {
        if let Err(error) = fleet_agent::run(config).await {
            warn!(cluster = %cluster, error = %error, "the demo agent stopped");
        }
    }))
}
