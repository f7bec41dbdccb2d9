//! The hub's configuration file (`hub.yaml`, written by `fleet-hub init`).
//!
//! Relative paths in the file are relative to the file's folder, so an init
//! directory can be moved as a whole.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use fleet_core::model::FleetDuration;
use serde::{Deserialize, Serialize};

/// Everything a hub node needs to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// This node.
    pub node: NodeConfig,
    /// Where Raft data and the Git mirror live.
    pub data_dir: PathBuf,
    /// Certificates.
    pub tls: TlsConfig,
    /// The fleet repository.
    pub git: GitConfig,
    /// Enrollment settings.
    #[serde(default)]
    pub enrollment: EnrollmentConfig,
    /// Raft tunables (all optional).
    #[serde(default)]
    pub raft: RaftConfig,
    /// Connection limits of the hub's ports (all optional).
    #[serde(default)]
    pub server: ServerConfig,
    /// Limits on reading and rendering fleet-repository revisions.
    #[serde(default)]
    pub render: RenderConfig,
    /// How much history the replicated state keeps (all optional).
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Operators' certificates and refusal auditing (`users:`).
    #[serde(default)]
    pub users: crate::users_config::UsersConfig,
    /// Delivery of notifications (all optional).
    #[serde(default)]
    pub notifications: crate::notifications::NotificationsConfig,
    /// Drift history, plans and watch streams for dashboards (all optional).
    #[serde(default)]
    pub dashboard: crate::dashboard_config::DashboardConfig,
    /// Metric gates' Prometheus server and query limits (`analysis:`;
    /// left out of hub.yaml while no Prometheus is configured).
    #[serde(
        default,
        skip_serializing_if = "crate::analysis::AnalysisConfig::is_unset"
    )]
    pub analysis: crate::analysis::AnalysisConfig,
    /// Sessions' heartbeats (`presence:`; all optional).
    #[serde(default)]
    pub presence: crate::presence::PresenceConfig,
}

/// Connection limits of the hub's gRPC and HTTP ports (`server:` in
/// hub.yaml). Every connection is held to them, so nobody who reaches a
/// port can keep connections open without speaking or open them without
/// bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerConfig {
    /// Longest a TLS handshake on the gRPC port may take (default 10 s).
    #[serde(default = "default_tls_handshake_timeout")]
    pub tls_handshake_timeout: FleetDuration,
    /// Longest a client may take to send a request's headers on the HTTP
    /// port, and longest an idle keep-alive connection stays (default 10 s).
    #[serde(default = "default_http_header_read_timeout")]
    pub http_header_read_timeout: FleetDuration,
    /// How often the hub pings each HTTP/2 (gRPC) connection (default 20 s).
    #[serde(default = "default_http2_keepalive_interval")]
    pub http2_keepalive_interval: FleetDuration,
    /// How long a ping may go unanswered before the connection is closed
    /// (default 10 s).
    #[serde(default = "default_http2_keepalive_timeout")]
    pub http2_keepalive_timeout: FleetDuration,
    /// Most concurrent gRPC streams on one connection (default 256; an
    /// agent uses one or two).
    #[serde(default = "default_max_concurrent_streams")]
    pub max_concurrent_streams: u32,
    /// Most open connections on each port; more are closed at once
    /// (default 16384, above the 10,000 agents a hub is sized for).
    #[serde(default = "default_max_connections_per_port")]
    pub max_connections_per_port: usize,
    /// Largest Git webhook request body (default 2 MiB); larger ones get
    /// 413 before the signature is checked.
    #[serde(default = "default_max_webhook_body_bytes")]
    pub max_webhook_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            tls_handshake_timeout: default_tls_handshake_timeout(),
            http_header_read_timeout: default_http_header_read_timeout(),
            http2_keepalive_interval: default_http2_keepalive_interval(),
            http2_keepalive_timeout: default_http2_keepalive_timeout(),
            max_concurrent_streams: default_max_concurrent_streams(),
            max_connections_per_port: default_max_connections_per_port(),
            max_webhook_body_bytes: default_max_webhook_body_bytes(),
        }
    }
}

/// What the replicated state keeps (`retention:` in hub.yaml). The leader
/// trims the rest after each Git sync (see docs/architecture.md,
/// "Retention").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionConfig {
    /// Newest revisions kept (at least 1), besides every revision a cluster
    /// targets or targeted before, or a kept rollout rolls out or would roll
    /// back to.
    #[serde(default = "default_retained_revisions")]
    pub revisions: usize,
    /// Newest rollouts kept (at least 1); the active one always stays.
    #[serde(default = "default_retained_rollouts")]
    pub rollouts: usize,
    /// Newest audit entries kept.
    #[serde(default = "default_retained_audit_entries")]
    pub audit_entries: usize,
    /// Audit entries older than this go (default 8760h, 365 days).
    #[serde(default = "default_audit_max_age")]
    pub audit_max_age: FleetDuration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            revisions: default_retained_revisions(),
            rollouts: default_retained_rollouts(),
            audit_entries: default_retained_audit_entries(),
            audit_max_age: default_audit_max_age(),
        }
    }
}

/// `render:` — limits on reading and rendering a revision (docs/security.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenderConfig {
    /// Wall-clock limit of one Kustomize build (default 60s).
    #[serde(default = "default_kustomize_timeout")]
    pub kustomize_timeout: FleetDuration,
    /// Largest file of a revision, in bytes (default 4 MiB).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// Most bytes of files read for one revision (default 256 MiB).
    #[serde(default = "default_max_revision_bytes")]
    pub max_revision_bytes: u64,
    /// The Helm binary for Helm apps (default: `FLEET_HELM`, else `helm` on PATH).
    #[serde(default)]
    pub helm: Option<std::path::PathBuf>,
    /// Wall-clock limit of one `helm template` run (default 60s).
    #[serde(default = "default_helm_timeout")]
    pub helm_timeout: FleetDuration,
    /// `--kube-version` for `helm template` (default: Helm's own).
    #[serde(default)]
    pub kube_version: Option<String>,
    /// Wall-clock limit of fetching one remote chart (default 60s).
    #[serde(default = "default_chart_fetch_timeout")]
    pub chart_fetch_timeout: FleetDuration,
    /// Largest remote chart archive, in bytes (default 20 MiB).
    #[serde(default = "default_max_chart_bytes")]
    pub max_chart_bytes: u64,
    /// Largest Helm repository index.yaml, in bytes (default 64 MiB).
    #[serde(default = "default_max_chart_index_bytes")]
    pub max_chart_index_bytes: u64,
    /// Credentials for chart repositories and registries, by URL prefix
    /// (`repository`, `username`, `passwordFile`); never read from Git.
    #[serde(default)]
    pub chart_repositories: Vec<fleet_core::render::RepositoryCredential>,
    /// PEM CA certificates trusted for `https://` chart repositories and
    /// registries besides the system's roots (default: none).
    #[serde(default)]
    pub chart_ca_file: Option<std::path::PathBuf>,
}

impl Default for RenderConfig {
    fn default() -> Self {
        Self {
            kustomize_timeout: default_kustomize_timeout(),
            max_file_bytes: default_max_file_bytes(),
            max_revision_bytes: default_max_revision_bytes(),
            helm: None,
            helm_timeout: default_helm_timeout(),
            kube_version: None,
            chart_fetch_timeout: default_chart_fetch_timeout(),
            max_chart_bytes: default_max_chart_bytes(),
            max_chart_index_bytes: default_max_chart_index_bytes(),
            chart_repositories: Vec::new(),
            chart_ca_file: None,
        }
    }
}

impl RetentionConfig {
    /// The limits the state's trim works with (counts of 0 count as 1: the
    /// newest revision and rollout are always kept).
    pub fn limits(&self) -> crate::state::RetentionLimits {
        crate::state::RetentionLimits {
            revisions: self.revisions.max(1),
            rollouts: self.rollouts.max(1),
            audit_entries: self.audit_entries,
            audit_max_age_ms: u64::try_from(self.audit_max_age.0.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

fn default_tls_handshake_timeout() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(10))
}

fn default_http_header_read_timeout() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(10))
}

fn default_http2_keepalive_interval() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(20))
}

fn default_http2_keepalive_timeout() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(10))
}

fn default_max_concurrent_streams() -> u32 {
    256
}

fn default_max_connections_per_port() -> usize {
    16384
}

fn default_max_webhook_body_bytes() -> usize {
    2 * 1024 * 1024
}

impl RenderConfig {
    /// The settings the renderer and the Git reader run under.
    pub fn settings(&self) -> fleet_core::render::RenderSettings {
        fleet_core::render::RenderSettings {
            kustomize_timeout: self.kustomize_timeout.0,
            limits: fleet_core::source::ReadLimits {
                max_file_bytes: self.max_file_bytes,
                max_revision_bytes: self.max_revision_bytes,
            },
            helm: self.helm.clone(),
            helm_timeout: self.helm_timeout.0,
            kube_version: self.kube_version.clone(),
            chart_fetch: fleet_core::render::ChartFetchSettings {
                cache_directory: None,
                timeout: self.chart_fetch_timeout.0,
                max_chart_bytes: self.max_chart_bytes,
                max_index_bytes: self.max_chart_index_bytes,
                credentials: self.chart_repositories.clone(),
                ca_file: self.chart_ca_file.clone(),
                recorded: Vec::new(),
            },
        }
    }

    /// [`Self::settings`] with remote charts cached in `<data_dir>/charts`.
    pub fn settings_in(&self, data_dir: &std::path::Path) -> fleet_core::render::RenderSettings {
        let mut settings = self.settings();
        settings.chart_fetch.cache_directory = Some(data_dir.join("charts"));
        settings
    }
}

fn default_chart_fetch_timeout() -> FleetDuration {
    FleetDuration(fleet_core::render::DEFAULT_CHART_FETCH_TIMEOUT)
}

fn default_max_chart_bytes() -> u64 {
    fleet_core::render::DEFAULT_MAX_CHART_BYTES
}

fn default_max_chart_index_bytes() -> u64 {
    fleet_core::render::DEFAULT_MAX_INDEX_BYTES
}

fn default_helm_timeout() -> FleetDuration {
    FleetDuration(fleet_core::render::DEFAULT_HELM_TIMEOUT)
}

fn default_kustomize_timeout() -> FleetDuration {
    FleetDuration(fleet_core::render::DEFAULT_KUSTOMIZE_TIMEOUT)
}

fn default_max_file_bytes() -> u64 {
    fleet_core::source::DEFAULT_MAX_FILE_BYTES
}

fn default_max_revision_bytes() -> u64 {
    fleet_core::source::DEFAULT_MAX_REVISION_BYTES
}

fn default_retained_revisions() -> usize {
    100
}

fn default_retained_rollouts() -> usize {
    100
}

fn default_retained_audit_entries() -> usize {
    100_000
}

fn default_audit_max_age() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(365 * 24 * 3600))
}

/// Raft tunables of a hub node (`raft:` in hub.yaml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RaftConfig {
    /// Build a snapshot (and compact the log) every this many entries.
    #[serde(default = "default_snapshot_every")]
    pub snapshot_every: u64,
    /// Log entries kept behind a snapshot for followers that lag a little.
    #[serde(default = "default_logs_to_keep")]
    pub logs_to_keep: u64,
    /// How often the leader sends heartbeats.
    #[serde(default = "default_heartbeat_interval")]
    pub heartbeat_interval: FleetDuration,
    /// Shortest election timeout.
    #[serde(default = "default_election_timeout_min")]
    pub election_timeout_min: FleetDuration,
    /// Longest election timeout (also the followers' leader lease).
    #[serde(default = "default_election_timeout_max")]
    pub election_timeout_max: FleetDuration,
    /// How long a write waits for a leader and a majority before failing.
    #[serde(default = "default_write_timeout")]
    pub write_timeout: FleetDuration,
}

impl Default for RaftConfig {
    fn default() -> Self {
        Self {
            snapshot_every: default_snapshot_every(),
            logs_to_keep: default_logs_to_keep(),
            heartbeat_interval: default_heartbeat_interval(),
            election_timeout_min: default_election_timeout_min(),
            election_timeout_max: default_election_timeout_max(),
            write_timeout: default_write_timeout(),
        }
    }
}

fn default_snapshot_every() -> u64 {
    1000
}

fn default_logs_to_keep() -> u64 {
    1000
}

fn default_heartbeat_interval() -> FleetDuration {
    FleetDuration(std::time::Duration::from_millis(50))
}

// Failover time is set by openraft 0.9's timers, measured by
// `tests/examples/bench_failover.rs` (README):
// - a follower refuses votes for one leader lease (= the longest election
//   timeout) after it last heard from the leader, and starts an election of
//   its own after lease + its election timeout (drawn once per process in
//   [min, max), checked on a tick of 1.5 heartbeats);
// - when the first candidate has the shorter log it is refused, and the
//   survivor with the longer log needs a second round (its vote for the
//   same term conflicts with the candidate's), i.e. lease + 2 timeouts.
// With 50 ms heartbeats and 200–400 ms timeouts that is 0.6–1.3 s; a leader
// must stall for 0.6 s before the followers move on.
fn default_election_timeout_min() -> FleetDuration {
    FleetDuration(std::time::Duration::from_millis(200))
}

fn default_election_timeout_max() -> FleetDuration {
    FleetDuration(std::time::Duration::from_millis(400))
}

fn default_write_timeout() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(5))
}

/// Identity and addresses of this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeConfig {
    /// Node name (its identity is `spiffe://fleet/hub/<name>`).
    pub name: String,
    /// Raft node id.
    pub id: u64,
    /// gRPC (agents, fleetctl, peers) listen address.
    pub grpc_listen: SocketAddr,
    /// HTTP (health, metrics, webhook) listen address.
    pub http_listen: SocketAddr,
    /// Endpoints agents are given (`https://host:port`), this node's first.
    /// The first one's `host:port` is also the address other hub nodes reach
    /// this one at (recorded in the Raft membership).
    pub endpoints: Vec<String>,
    /// Set on a node made by `fleet-hub init --join`: it waits to be added
    /// to the existing cluster instead of starting a new one.
    #[serde(default)]
    pub joined: bool,
    /// How long a SIGTERM/SIGINT may take: sessions told to reconnect
    /// elsewhere, status reports flushed, leadership handed over, servers
    /// stopped. When it runs out the node exits anyway (default 5 s).
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace: FleetDuration,
}

fn default_shutdown_grace() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(5))
}

/// The default shutdown grace, for configs built in code.
pub fn shutdown_grace_default() -> FleetDuration {
    default_shutdown_grace()
}

impl NodeConfig {
    /// `host:port` other hub nodes reach this one at.
    pub fn advertised_address(&self) -> String {
        self.endpoints
            .first()
            .map(|endpoint| {
                endpoint
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_owned()
            })
            .unwrap_or_else(|| self.grpc_listen.to_string())
    }
}

/// Certificate files (PEM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsConfig {
    /// The CA certificate.
    pub ca_certificate: PathBuf,
    /// The CA key (signs agents' certificates).
    pub ca_key: PathBuf,
    /// This node's certificate.
    pub certificate: PathBuf,
    /// This node's key.
    pub key: PathBuf,
}

/// The fleet repository and how to follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitConfig {
    /// Remote URL: `https://`, `ssh://` or `user@host:path`, `git://`, `file://` or a local path.
    pub url: String,
    /// The tracked branch.
    #[serde(default = "default_branch")]
    pub branch: String,
    /// How often to fetch.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: FleetDuration,
    /// File holding the webhook's HMAC secret.
    pub webhook_secret_file: PathBuf,
    /// File holding an HTTPS access token, if the remote needs one.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// SSH private key file, if the remote is SSH.
    #[serde(default)]
    pub ssh_key_file: Option<PathBuf>,
}

/// Enrollment settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnrollmentConfig {
    /// Validity of the agent certificates signed at enrollment and renewal
    /// (`certificateValidity`, default 30 days; agents renew once a third
    /// of it is left).
    #[serde(default = "default_certificate_validity")]
    pub certificate_validity: FleetDuration,
    /// Default lifetime of bootstrap tokens.
    #[serde(default = "default_token_ttl")]
    pub token_ttl: FleetDuration,
    /// The share of a certificate's lifetime that must have passed before
    /// it may be renewed (`renewAfterFraction`, default 0.5: a renewal is
    /// refused while more than half of the lifetime remains; 0 allows
    /// renewing at once, for tests). Between 0 and 1.
    #[serde(default = "default_renew_after_fraction")]
    pub renew_after_fraction: f64,
}

impl Default for EnrollmentConfig {
    fn default() -> Self {
        Self {
            certificate_validity: default_certificate_validity(),
            token_ttl: default_token_ttl(),
            renew_after_fraction: default_renew_after_fraction(),
        }
    }
}

fn default_branch() -> String {
    "main".to_owned()
}

fn default_poll_interval() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(30))
}

fn default_certificate_validity() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(30 * 24 * 3600))
}

fn default_renew_after_fraction() -> f64 {
    0.5
}

fn default_token_ttl() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(3600))
}

/// Reading the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Reads `path` and resolves relative paths against its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut config: Config =
            serde_saphyr::from_str(&text).map_err(|error| ConfigError::Invalid {
                path: path.to_owned(),
                message: error
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve(base);
        if config.node.endpoints.is_empty() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: "node.endpoints must list at least this node's endpoint".to_owned(),
            });
        }
        let fraction = config.enrollment.renew_after_fraction;
        if !(0.0..=1.0).contains(&fraction) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: format!(
                    "enrollment.renewAfterFraction is {fraction}; it must be between 0 and 1"
                ),
            });
        }
        if let Some(message) = config.presence.problem() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message,
            });
        }
        Ok(config)
    }

    fn resolve(&mut self, base: &Path) {
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        resolve(&mut self.data_dir);
        resolve(&mut self.tls.ca_certificate);
        resolve(&mut self.tls.ca_key);
        resolve(&mut self.tls.certificate);
        resolve(&mut self.tls.key);
        resolve(&mut self.git.webhook_secret_file);
        if let Some(path) = &mut self.git.token_file {
            resolve(path);
        }
        if let Some(path) = &mut self.git.ssh_key_file {
            resolve(path);
        }
        if let Some(path) = &mut self.render.helm {
            resolve(path);
        }
        for credential in &mut self.render.chart_repositories {
            resolve(&mut credential.password_file);
        }
        self.analysis.resolve(base);
    }

    /// Writes the configuration (paths as they are).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = serde_saphyr::to_string(self).map_err(|error| ConfigError::Invalid {
            path: path.to_owned(),
            message: error.to_string(),
        })?;
        std::fs::write(path, text).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod render_config_tests {
    use super::*;

    #[test]
    fn render_limits_have_safe_defaults_and_can_be_set() {
        let settings: RenderConfig = serde_saphyr::from_str("{}").unwrap();
        let settings = settings.settings();
        assert_eq!(settings.kustomize_timeout.as_secs(), 60);
        assert_eq!(settings.limits.max_file_bytes, 4 * 1024 * 1024);
        assert_eq!(settings.limits.max_revision_bytes, 256 * 1024 * 1024);
        let text = "kustomizeTimeout: 5s\nmaxFileBytes: 10\nmaxRevisionBytes: 20\n";
        let settings = serde_saphyr::from_str::<RenderConfig>(text)
            .unwrap()
            .settings();
        assert_eq!(settings.kustomize_timeout.as_secs(), 5);
        assert_eq!(settings.limits.max_file_bytes, 10);
        assert_eq!(settings.limits.max_revision_bytes, 20);
        assert!(serde_saphyr::from_str::<RenderConfig>("maxFileByte: 1\n").is_err());
    }

    #[test]
    fn helm_settings_have_safe_defaults_and_can_be_set() {
        let defaults = serde_saphyr::from_str::<RenderConfig>("{}")
            .unwrap()
            .settings_in(Path::new("/var/lib/fleet"));
        assert_eq!(defaults.helm, None);
        assert_eq!(defaults.helm_timeout.as_secs(), 60);
        assert_eq!(defaults.chart_fetch.timeout.as_secs(), 60);
        assert_eq!(defaults.chart_fetch.max_chart_bytes, 20 * 1024 * 1024);
        assert_eq!(
            defaults.chart_fetch.cache_directory.as_deref(),
            Some(Path::new("/var/lib/fleet/charts"))
        );
        let text = "helm: /usr/local/bin/helm\nhelmTimeout: 5s\nkubeVersion: v1.31.0\n\
                    chartFetchTimeout: 3s\nmaxChartBytes: 100\nchartRepositories:\n  \
                    - repository: https://charts.example.com\n    username: fleet\n    \
                    passwordFile: /etc/fleet/charts-password\n\
                    chartCaFile: /etc/fleet/charts-ca.pem\n";
        let settings = serde_saphyr::from_str::<RenderConfig>(text)
            .unwrap()
            .settings();
        assert_eq!(
            settings.helm.as_deref(),
            Some(Path::new("/usr/local/bin/helm"))
        );
        assert_eq!(settings.helm_timeout.as_secs(), 5);
        assert_eq!(settings.kube_version.as_deref(), Some("v1.31.0"));
        assert_eq!(settings.chart_fetch.timeout.as_secs(), 3);
        assert_eq!(settings.chart_fetch.max_chart_bytes, 100);
        assert_eq!(settings.chart_fetch.credentials[0].username, "fleet");
        assert_eq!(
            settings.chart_fetch.ca_file.as_deref(),
            Some(Path::new("/etc/fleet/charts-ca.pem"))
        );
        assert_eq!(defaults.chart_fetch.ca_file, None);
        assert!(
            serde_saphyr::from_str::<RenderConfig>(
                "chartRepositories:\n  - repository: x\n    username: u\n    password: inline\n"
            )
            .is_err()
        );
    }
}
