//! `fleet-hub init`: a new hub's CA, node certificate, admin certificate,
//! webhook secret and configuration file — and a fleetctl context for it.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fleet_core::model::FleetDuration;

use crate::config::{
    Config, EnrollmentConfig, GitConfig, NodeConfig, RaftConfig, RenderConfig, ServerConfig,
    TlsConfig,
};
use crate::pki::{CertificateAuthority, Identity, SecretToken};
use crate::private_files::{create_private_directory, write_file};
use fleet_client::{ClientConfig, Context};

/// Validity of node and admin certificates.
const NODE_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Resolved arguments of `fleet-hub init`.
#[derive(Debug, Clone)]
pub struct InitSettings {
    /// Directory to create the files in.
    pub dir: PathBuf,
    /// Node name.
    pub name: String,
    /// Raft node id.
    pub node_id: u64,
    /// gRPC address: listened on and given to agents.
    pub address: SocketAddr,
    /// HTTP address.
    pub http_address: SocketAddr,
    /// Extra DNS names / IPs for the node certificate.
    pub subject_alt_names: Vec<String>,
    /// Git remote of the fleet repository.
    pub repository: String,
    /// Tracked branch.
    pub branch: String,
    /// Fetch interval.
    pub poll_interval: FleetDuration,
    /// Admin user named in the admin certificate.
    pub admin: String,
    /// fleetctl configuration file to add a context to (`None`: don't).
    pub fleetconfig: Option<PathBuf>,
    /// Name of that context.
    pub context: String,
    /// Prometheus server metric gates query (hub.yaml `analysis.prometheus.url`).
    pub prometheus_url: Option<String>,
}

/// Runs `fleet-hub init`; returns the path of the written `hub.yaml`.
pub fn run(settings: &InitSettings) -> anyhow::Result<PathBuf> {
    let dir = &settings.dir;
    let config_path = dir.join("hub.yaml");
    if config_path.exists() {
        bail!(
            "{} already exists: refusing to overwrite a hub's CA and configuration",
            config_path.display()
        );
    }
    create_private_directory(dir)?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;

    let (authority, ca_key) = CertificateAuthority::generate("fleet hub CA")?;
    write_file(&dir.join("ca.crt"), authority.certificate_pem(), false)?;
    write_file(&dir.join("ca.key"), &ca_key, true)?;

    let mut dns_names = vec!["localhost".to_owned()];
    let mut addresses: Vec<IpAddr> = vec![settings.address.ip()];
    for name in &settings.subject_alt_names {
        match name.parse::<IpAddr>() {
            Ok(address) => addresses.push(address),
            Err(_) => dns_names.push(name.clone()),
        }
    }
    addresses.dedup();
    let node = authority.issue_with_key(
        &Identity::Hub(settings.name.clone()),
        &dns_names,
        &addresses,
        NODE_CERTIFICATE_VALIDITY,
    )?;
    write_file(&dir.join("hub.crt"), &node.certificate_pem, false)?;
    write_file(
        &dir.join("hub.key"),
        node.key_pem.as_deref().unwrap_or_default(),
        true,
    )?;

    let admin = authority.issue_with_key(
        &Identity::Admin(settings.admin.clone()),
        &[],
        &[],
        NODE_CERTIFICATE_VALIDITY,
    )?;
    write_file(&dir.join("admin.crt"), &admin.certificate_pem, false)?;
    write_file(
        &dir.join("admin.key"),
        admin.key_pem.as_deref().unwrap_or_default(),
        true,
    )?;

    let secret =
        SecretToken::bootstrap().map_err(|_| anyhow::anyhow!("the system random source failed"))?;
    write_file(&dir.join("webhook-secret"), &secret.hash, true)?;

    let endpoint = format!("https://{}", settings.address);
    let config = Config {
        node: NodeConfig {
            name: settings.name.clone(),
            id: settings.node_id,
            grpc_listen: settings.address,
            http_listen: settings.http_address,
            endpoints: vec![endpoint.clone()],
            joined: false,
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
            url: settings.repository.clone(),
            branch: settings.branch.clone(),
            poll_interval: settings.poll_interval,
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
        analysis: crate::analysis::AnalysisConfig {
            prometheus: settings
                .prometheus_url
                .as_deref()
                .map(crate::analysis::PrometheusConfig::at),
        },
    };
    config.save(&config_path)?;

    if let Some(path) = &settings.fleetconfig {
        let mut client = ClientConfig::load(path)?;
        client.upsert(Context {
            name: settings.context.clone(),
            endpoints: vec![endpoint],
            ca: dir.join("ca.crt"),
            certificate: dir.join("admin.crt"),
            key: dir.join("admin.key"),
            ..Context::default()
        });
        client.save(path)?;
    }
    Ok(config_path)
}

/// Makes `host:port` the address agents, fleetctl and peer hub nodes reach
/// the node of `config_path` at (its first endpoint, also in the fleetctl
/// context at `fleetconfig`), for a node that listens on another address.
pub fn advertise(
    config_path: &Path,
    address: &str,
    fleetconfig: Option<(&Path, &str)>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let mut config: Config = serde_saphyr::from_str(&text)
        .map_err(|error| anyhow::anyhow!("{}: {error}", config_path.display()))?;
    let endpoint = format!("https://{address}");
    config.node.endpoints = vec![endpoint.clone()];
    config.save(config_path)?;
    if let Some((path, context_name)) = fleetconfig {
        let mut client = ClientConfig::load(path)?;
        if let Some(context) = client
            .contexts
            .iter_mut()
            .find(|context| context.name == context_name)
        {
            context.endpoints = vec![endpoint];
        }
        client.save(path)?;
    }
    Ok(())
}
