//! `fleet-hub init --join`: a new node for an existing hub. It presents a
//! join token (from `fleetctl hub join-token`) to any node of the hub,
//! verifying that node against the hub CA certificate given on the command
//! line, and receives its node certificate, the CA (every node signs agents'
//! certificates) and the hub's shared settings; then it writes its folder
//! like `fleet-hub init` does, marked to wait for the leader to add it.
//! Finally it adds its endpoint to the fleetctl context it joined through
//! ([`add_to_fleetctl_context`]), so fleetctl knows every node.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fleet_core::model::FleetDuration;
use fleet_proto::JoinRequest;
use fleet_proto::membership_service_client::MembershipServiceClient;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use crate::config::{
    Config, EnrollmentConfig, GitConfig, NodeConfig, RaftConfig, RenderConfig, ServerConfig,
    TlsConfig,
};
use crate::private_files::{create_private_directory, write_file};
use fleet_client::ClientConfig;

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
    /// fleetctl configuration file whose context gets this node's endpoint
    /// (`None`: leave fleetctl's configuration alone).
    pub fleetconfig: Option<PathBuf>,
    /// That context's name (`None`: the context that lists `join`).
    pub context: Option<String>,
}

/// This node's endpoint (`https://host:port` as agents and fleetctl reach it).
pub fn node_endpoint(settings: &JoinSettings) -> String {
    let advertised = settings
        .advertise_address
        .clone()
        .unwrap_or_else(|| settings.address.to_string());
    format!("https://{advertised}")
}

/// Appends `endpoint` to the fleetctl context named `context`, or else to
/// the one whose endpoints include `join` (the node joined through). Returns
/// the context's name, or `None` when the file has no such context (the file
/// is then left untouched, and not created).
pub fn add_to_fleetctl_context(
    path: &Path,
    context: Option<&str>,
    join: &str,
    endpoint: &str,
) -> anyhow::Result<Option<String>> {
    if !path.exists() {
        return Ok(None);
    }
    let mut config = ClientConfig::load(path)?;
    let join = join.trim_end_matches('/');
    let found = config.contexts.iter_mut().find(|candidate| match context {
        Some(name) => candidate.name == name,
        None => candidate
            .endpoints
            .iter()
            .any(|known| known.trim_end_matches('/') == join),
    });
    let Some(found) = found else {
        return Ok(None);
    };
    let name = found.name.clone();
    if !found.endpoints.iter().any(|known| known == endpoint) {
        found.endpoints.push(endpoint.to_owned());
        config.save(path)?;
    }
    Ok(Some(name))
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

    create_private_directory(dir)?;
    write_file(&dir.join("ca.crt"), &response.ca_pem, false)?;
    write_file(&dir.join("ca.key"), &response.ca_key_pem, true)?;
    write_file(&dir.join("hub.crt"), &response.certificate_pem, false)?;
    write_file(&dir.join("hub.key"), &response.key_pem, true)?;
    write_file(&dir.join("webhook-secret"), &response.webhook_secret, true)?;
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
            shutdown_grace: crate::config::shutdown_grace_default(),
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
        server: ServerConfig::default(),
        render: RenderConfig::default(),
        retention: crate::config::RetentionConfig::default(),
        users: crate::users_config::UsersConfig::default(),
        dashboard: crate::dashboard_config::DashboardConfig::default(),
        notifications: crate::notifications::NotificationsConfig::default(),
        presence: crate::presence::PresenceConfig::default(),
        analysis: crate::analysis::AnalysisConfig::default(),
    };
    config.save(&config_path)?;
    Ok(config_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_client::Context;

    fn context(name: &str, endpoints: &[&str]) -> Context {
        Context {
            name: name.to_owned(),
            endpoints: endpoints.iter().map(|text| (*text).to_owned()).collect(),
            ca: PathBuf::from("ca.crt"),
            certificate: PathBuf::from("admin.crt"),
            key: PathBuf::from("admin.key"),
            ..Context::default()
        }
    }

    #[test]
    fn the_joined_node_is_added_to_the_context_it_joined_through() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.yaml");
        let mut config = ClientConfig::default();
        config.upsert(context("other", &["https://10.0.0.9:7443"]));
        config.upsert(context("prod", &["https://10.0.0.1:7443"]));
        config.save(&path).unwrap();

        let added = add_to_fleetctl_context(
            &path,
            None,
            "https://10.0.0.1:7443/",
            "https://10.0.0.2:7443",
        )
        .unwrap();
        assert_eq!(added.as_deref(), Some("prod"));
        // Twice is once.
        add_to_fleetctl_context(
            &path,
            None,
            "https://10.0.0.1:7443",
            "https://10.0.0.2:7443",
        )
        .unwrap();
        let saved = ClientConfig::load(&path).unwrap();
        assert_eq!(
            saved.context(Some("prod")).unwrap().endpoints,
            vec!["https://10.0.0.1:7443", "https://10.0.0.2:7443"]
        );
        assert_eq!(
            saved.context(Some("other")).unwrap().endpoints,
            vec!["https://10.0.0.9:7443"]
        );

        let missing = folder.path().join("absent.yaml");
        assert_eq!(
            add_to_fleetctl_context(&missing, None, "https://10.0.0.1:7443", "https://x:1")
                .unwrap(),
            None
        );
        assert!(!missing.exists(), "no file is created");
    }
}
