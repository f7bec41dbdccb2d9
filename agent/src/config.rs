//! [`Config`]: the agent's settings, resolved and checked from the command
//! line and `FLEET_AGENT_*` variables before anything starts.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cli::{LogFormat, RunArgs};

/// Configuration that cannot work; the binary prints it on one line and
/// exits 64.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--cluster` is missing.
    #[error("--cluster (or FLEET_AGENT_CLUSTER) is required")]
    MissingCluster,
    /// The cluster name is not a DNS label.
    #[error(
        "cluster name {0:?} is not a DNS label (lowercase letters, digits and '-', at most 63)"
    )]
    InvalidCluster(String),
    /// `--hub` is missing.
    #[error("--hub (or FLEET_AGENT_HUB) is required: one or more https://host:port endpoints")]
    MissingHub,
    /// A hub endpoint is not an https URL.
    #[error("hub endpoint {0:?} must start with https://")]
    InvalidHub(String),
    /// `--state-dir` is missing.
    #[error("--state-dir (or FLEET_AGENT_STATE_DIR) is required")]
    MissingStateDir,
    /// The state directory cannot be created.
    #[error("cannot create state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CA file cannot be read.
    #[error("cannot read the hub CA {path}: {source}")]
    Ca {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CA file holds no certificate.
    #[error("the hub CA {0} holds no PEM certificate")]
    CaNotPem(PathBuf),
    /// The agent's namespace is not a DNS label.
    #[error("namespace {0:?} is not a DNS label")]
    InvalidNamespace(String),
}

/// Everything the agent needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cluster this agent runs in (its identity at the hub).
    pub cluster: String,
    /// Hub endpoints, tried in turn.
    pub hub_endpoints: Vec<String>,
    /// The hub CA (PEM) given on the command line, if any (once enrolled the
    /// copy in the state directory is used).
    pub ca_pem: Option<String>,
    /// Bootstrap token, if given.
    pub token: Option<String>,
    /// The state directory.
    pub state_dir: PathBuf,
    /// Kubeconfig file; `None` means in-cluster configuration.
    pub kubeconfig: Option<PathBuf>,
    /// The agent's own namespace.
    pub namespace: String,
    /// Where `/healthz` and `/metrics` are served.
    pub listen: Option<SocketAddr>,
    /// Log format.
    pub log_format: LogFormat,
    /// On SIGTERM, how long the apply in flight may take to finish.
    pub shutdown_grace: std::time::Duration,
    /// The age key file for SOPS-encrypted objects, if any.
    pub sops_age_key_file: Option<PathBuf>,
}

/// Whether `name` is a DNS label (RFC 1123), as Kubernetes and the hub require.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Config {
    /// Checks and resolves the arguments (reads the CA file, creates the
    /// state directory).
    pub fn build(args: RunArgs) -> Result<Self, ConfigError> {
        let cluster = args.cluster.ok_or(ConfigError::MissingCluster)?;
        if !is_dns_label(&cluster) {
            return Err(ConfigError::InvalidCluster(cluster));
        }
        let hub_endpoints: Vec<String> = args
            .hub
            .iter()
            .map(|endpoint| endpoint.trim().trim_end_matches('/').to_owned())
            .filter(|endpoint| !endpoint.is_empty())
            .collect();
        if hub_endpoints.is_empty() {
            return Err(ConfigError::MissingHub);
        }
        if let Some(bad) = hub_endpoints
            .iter()
            .find(|endpoint| !endpoint.starts_with("https://"))
        {
            return Err(ConfigError::InvalidHub(bad.clone()));
        }
        if !is_dns_label(&args.namespace) {
            return Err(ConfigError::InvalidNamespace(args.namespace));
        }
        let state_dir = args.state_dir.ok_or(ConfigError::MissingStateDir)?;
        std::fs::create_dir_all(&state_dir).map_err(|source| ConfigError::StateDir {
            path: state_dir.clone(),
            source,
        })?;
        // The state folder holds the agent's private key: owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&state_dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| ConfigError::StateDir {
                    path: state_dir.clone(),
                    source,
                },
            )?;
        }
        let ca_pem = match args.ca {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Ca {
                    path: path.clone(),
                    source,
                })?;
                if !text.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(ConfigError::CaNotPem(path));
                }
                Some(text)
            }
            None => None,
        };
        Ok(Self {
            cluster,
            hub_endpoints,
            ca_pem,
            token: args.token.filter(|token| !token.trim().is_empty()),
            state_dir,
            kubeconfig: args.kubeconfig,
            namespace: args.namespace,
            listen: args.listen,
            log_format: args.log_format,
            shutdown_grace: args.shutdown_grace,
            sops_age_key_file: args.sops_age_key_file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> RunArgs {
        RunArgs {
            cluster: Some("edge-1".into()),
            hub: vec!["https://127.0.0.1:7443".into()],
            ca: None,
            token: None,
            state_dir: Some(std::env::temp_dir().join("fleet-agent-config-test")),
            kubeconfig: None,
            namespace: "fleet-system".into(),
            listen: None,
            log_format: LogFormat::Text,
            shutdown_grace: std::time::Duration::from_secs(5),
            sops_age_key_file: None,
        }
    }

    #[test]
    fn accepts_good_arguments_and_names_the_bad_one() {
        assert!(Config::build(args()).is_ok());
        let mut bad = args();
        bad.cluster = Some("Edge_1".into());
        assert_eq!(
            Config::build(bad).unwrap_err().to_string(),
            "cluster name \"Edge_1\" is not a DNS label (lowercase letters, digits and '-', at most 63)"
        );
        let mut bad = args();
        bad.hub = vec!["http://hub:1".into()];
        assert!(matches!(
            Config::build(bad),
            Err(ConfigError::InvalidHub(_))
        ));
        let mut bad = args();
        bad.hub = Vec::new();
        assert!(matches!(Config::build(bad), Err(ConfigError::MissingHub)));
    }
}
