//! Environment variables the agent reads, all with one prefix. Each names the
//! same setting as the command-line flag in its comment.

/// `--cluster`: the cluster this agent runs in.
pub const CLUSTER: &str = "FLEET_AGENT_CLUSTER";
/// `--hub`: hub endpoints, comma separated (`https://host:port`).
pub const HUB: &str = "FLEET_AGENT_HUB";
/// `--ca`: the hub CA certificate (PEM file).
pub const CA: &str = "FLEET_AGENT_CA";
/// `--token`: the single-use bootstrap token (only needed to enroll).
pub const TOKEN: &str = "FLEET_AGENT_TOKEN";
/// `--state-dir`: where the certificate, key and desired-state cache live.
pub const STATE_DIR: &str = "FLEET_AGENT_STATE_DIR";
/// `--kubeconfig`: a kubeconfig file (default: in-cluster configuration).
pub const KUBECONFIG: &str = "FLEET_AGENT_KUBECONFIG";
/// `--namespace`: the agent's own namespace (inventory, identity Secret).
pub const NAMESPACE: &str = "FLEET_AGENT_NAMESPACE";
/// `--listen`: address of the local `/healthz` and `/metrics` server.
pub const LISTEN: &str = "FLEET_AGENT_LISTEN";
/// `--log-format`: `text` (default) or `json`.
pub const LOG_FORMAT: &str = "FLEET_AGENT_LOG_FORMAT";
/// How long the agent may take to stop on SIGTERM (`--shutdown-grace`).
pub const SHUTDOWN_GRACE: &str = "FLEET_AGENT_SHUTDOWN_GRACE";
/// Log filter in `tracing_subscriber::EnvFilter` syntax (default `info`).
pub const LOG: &str = "FLEET_AGENT_LOG";
/// `--sops-age-key-file`: age identities for SOPS-encrypted objects.
pub const SOPS_AGE_KEY_FILE: &str = "FLEET_AGENT_SOPS_AGE_KEY_FILE";
