//! `fleet-hub init --join`: a new node for an existing hub. It presents a
//! join token (from `fleetctl hub join-token`) to any node of the hub,
//! verifying that node against the hub CA certificate given on the command
//! line, and receives its node certificate, the CA (every node signs agents'
//! certificates) and the hub's shared settings; then it writes its folder
//! like `fleet-hub init` does, marked to wait for the leader to add it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fleet_core::model::FleetDuration;
use fleet_proto::JoinRequest;
use fleet_proto::membership_service_client::MembershipServiceClient;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use crate::config::{
    Config, EnrollmentConfig, GitConfig, NodeConfig, RaftConfig, RenderConfig, TlsConfig,
};

/// Resolved arguments of `fleet-hub init --join`.
#[derive(Debug, Clone)]
pub struct JoinSettings {
    /// Directory to create the files in.
    pub dir: PathBuf,
    /// Node name.
    pub name: String,
    /// Raft node id (unique in the hub).
    pub node_id: u64,
    /// gRPC address: listened on, given to agents and peers.
    pub address: SocketAddr,
    /// HTTP address.
    pub http_address: SocketAddr,
    /// `host:port` agents and peers reach this node at (`None`: `address`).
    pub advertise_address: Option<String>,
    /// Extra DNS names / IPs for the node certificate.
    pub subject_alt_names: Vec<String>,
    /// `https://host:port` of any node of the existing hub.
    pub join: String,
    /// The join token.
    pub token: String,
    /// The hub CA certificate (PEM file) to verify that node with.
    pub ca_file: PathBuf,
}

/// Runs `fleet-hub init --join`; returns the path of the written `hub.yaml`.
pub async fn run(settings: &JoinSettings) -> anyhow::Result<PathBuf> {
    let dir = &settings.dir;
    let config_path = dir.join("hub.yaml");
    if config_path.exists() {
        bail!(
            "{} already exists: refusing to overwrite a hub node's configuration",
            config_path.display()
        );
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let advertised = settings
        .advertise_address
        .clone()
        .unwrap_or_else(|| settings.address.to_string());
    let ca_pem = std::fs::read_to_string(&settings.ca_file).with_context(|| {
        format!(
            "reading the hub CA certificate {}",
            settings.ca_file.display()
        )
    })?;
    let channel = Endpoint::from_shared(settings.join.clone())
        .with_context(|| format!("invalid --join endpoint {}", settings.join))?
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca_pem)))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("connecting to the hub at {}", settings.join))?;
    let response = MembershipServiceClient::new(channel)
        .join(JoinRequest {
            token: settings.token.trim().to_owned(),
            name: settings.name.clone(),
            node_id: settings.node_id,
            address: advertised.clone(),
            subject_alt_names: settings.subject_alt_names.clone(),
        })
        .await
        .map_err(|status| {
            anyhow::anyhow!(
                "the hub refused to let {} join: {}",
                settings.name,
                status.message()
            )
        })?
        .into_inner();

    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write(&dir.join("ca.crt"), &response.ca_pem, false)?;
    write(&dir.join("ca.key"), &response.ca_key_pem, true)?;
    write(&dir.join("hub.crt"), &response.certificate_pem, false)?;
    write(&dir.join("hub.key"), &response.key_pem, true)?;
    write(&dir.join("webhook-secret"), &response.webhook_secret, true)?;
    let poll_interval = FleetDuration::parse(&response.poll_interval)
        .map_err(|error| anyhow::anyhow!("the hub sent a bad poll interval: {error}"))?;
    let config = Config {
        node: NodeConfig {
            name: settings.name.clone(),
            id: settings.node_id,
            grpc_listen: settings.address,
            http_listen: settings.http_address,
            endpoints: vec![format!("https://{advertised}")],
            joined: true,
        },
        data_dir: PathBuf::from("data"),
        tls: TlsConfig {
            ca_certificate: PathBuf::from("ca.crt"),
            ca_key: PathBuf::from("ca.key"),
            certificate: PathBuf::from("hub.crt"),
            key: PathBuf::from("hub.key"),
        },
        git: GitConfig {
            url: response.git_url,
            branch: response.git_branch,
            poll_interval,
            webhook_secret_file: PathBuf::from("webhook-secret"),
            token_file: None,
            ssh_key_file: None,
        },
        enrollment: EnrollmentConfig::default(),
        raft: RaftConfig::default(),
        render: RenderConfig::default(),
    };
    config.save(&config_path)?;
    Ok(config_path)
}

fn write(path: &Path, text: &str, private: bool) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}
