//! A hub node for the benchmarks: initialised in a temporary directory and
//! run as its own `fleet-hub serve` process, so its memory and CPU can be
//! read from `/proc` apart from the simulated agents'.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fleet_hub::config::Config;
use fleet_hub::init::InitSettings;
use fleet_proto::admin_service_client::AdminServiceClient;
use tonic::transport::Channel;

use super::proc_stats::{self, ProcReading};
use super::swarm::HubAccess;
use crate::hub_client::admin_client_of;

/// A running benchmark hub (killed when dropped).
pub struct BenchHub {
    child: Child,
    grpc: SocketAddr,
    http: SocketAddr,
    fleetconfig: PathBuf,
    ca_pem: String,
    webhook_secret: Vec<u8>,
    /// Its log file.
    pub log: PathBuf,
    /// Its data directory (Raft's redb file is `raft/raft.redb` in it).
    pub data_dir: PathBuf,
}

impl Drop for BenchHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// `fleet-hub` next to this fleetctl, else on `PATH`.
pub fn hub_binary(explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_owned();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("fleet-hub")))
        .filter(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("fleet-hub"))
}

impl BenchHub {
    /// Initialises a hub in `directory` tracking the Git repository at
    /// `repository` (branch main, polled hourly: the webhook drives it) and
    /// starts it.
    pub async fn start(directory: &Path, repository: &Path, binary: &Path) -> anyhow::Result<Self> {
        Self::start_configured(directory, repository, binary, |_| {}).await
    }

    /// Like [`Self::start`], with `configure` changing hub.yaml's settings
    /// before the hub starts.
    pub async fn start_configured(
        directory: &Path,
        repository: &Path,
        binary: &Path,
        configure: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let grpc = free_address()?;
        let http = free_address()?;
        let fleetconfig = directory.join("fleetconfig.yaml");
        let hub_dir = directory.join("hub");
        fleet_hub::init::run(&InitSettings {
            dir: hub_dir.clone(),
            name: "bench-hub".to_owned(),
            node_id: 1,
            address: grpc,
            http_address: http,
            subject_alt_names: Vec::new(),
            repository: text(repository)?.to_owned(),
            branch: "main".to_owned(),
            poll_interval: fleet_core::model::FleetDuration(Duration::from_secs(3600)),
            admin: "bench".to_owned(),
            fleetconfig: Some(fleetconfig.clone()),
            context: "bench".to_owned(),
            prometheus_url: None,
        })?;
        let config_path = hub_dir.join("hub.yaml");
        let mut config = Config::load(&config_path)?;
        configure(&mut config);
        config.save(&config_path)?;
        let data_dir = config.data_dir.clone();
        let webhook_secret = std::fs::read_to_string(&config.git.webhook_secret_file)?
            .trim()
            .as_bytes()
            .to_vec();
        let ca_pem = std::fs::read_to_string(hub_dir.join("ca.crt"))
            .context("reading the bench hub's CA")?;
        let log = directory.join("hub.log");
        let mut command = Command::new(binary);
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // As deploy/hub runs it (systemd unit and StatefulSet).
            command.env("MALLOC_ARENA_MAX", "2");
        }
        let child = command
            .args(["serve", "--config", text(&config_path)?])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (build it with `cargo build --release -p fleet-hub`, or pass --hub-binary)",
                    binary.display()
                )
            })?;
        let hub = Self {
            child,
            grpc,
            http,
            fleetconfig,
            ca_pem,
            webhook_secret,
            log,
            data_dir,
        };
        hub.wait_ready().await?;
        Ok(hub)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        for _ in 0..300 {
            let ready = crate::hub_http::request(self.http, "GET", "/readyz", &[], b"").await;
            if matches!(ready, Ok((200, _))) && self.admin().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "the bench hub did not become ready within 30 s; see {}",
            self.log.display()
        )
    }

    /// The hub process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its memory and CPU now.
    pub fn reading(&self) -> anyhow::Result<ProcReading> {
        proc_stats::read(self.pid())
    }

    /// Where agents reach it.
    pub fn access(&self) -> HubAccess {
        HubAccess {
            endpoints: vec![format!("https://{}", self.grpc)],
            ca_pem: self.ca_pem.clone(),
        }
    }

    /// An admin client.
    pub async fn admin(&self) -> anyhow::Result<AdminServiceClient<Channel>> {
        admin_client_of(&self.fleetconfig).await
    }

    /// Calls the Git webhook.
    pub async fn webhook(&self) -> anyhow::Result<()> {
        let code = crate::hub_http::webhook(self.http, &self.webhook_secret).await?;
        if !(200..300).contains(&code) {
            bail!("the hub answered the webhook with HTTP {code}");
        }
        Ok(())
    }

    /// The Raft commit index, from `/metrics`.
    pub async fn commit_index(&self) -> anyhow::Result<u64> {
        self.metric("fleet_hub_raft_commit_index").await
    }

    /// A whole-number gauge or counter from `/metrics`, by its full name.
    pub async fn metric(&self, name: &str) -> anyhow::Result<u64> {
        let (_, body) = crate::hub_http::request(self.http, "GET", "/metrics", &[], b"").await?;
        body.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
            .with_context(|| format!("the hub's /metrics has no {name}"))
    }
}

fn text(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .context("the temporary directory's path is not UTF-8")
}
