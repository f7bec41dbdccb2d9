//! The demo's world: a Git remote, a hub, simulated clusters and agents —
//! all on loopback, all in temporary directories, all stopped at the end.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fleet_hub::config::Config;
use fleet_hub::init::InitSettings;
use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_sim::{RunningSimulator, SimConfig, Simulator};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::hub_client::admin_client_of;

include!(concat!(env!("OUT_DIR"), "/example_fleet.rs"));

/// How fast the simulated world moves.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Bake time of the canary and staging waves.
    pub bake: &'static str,
    /// How long a simulated Deployment takes to become available.
    pub rollout_delay: Duration,
    /// When a failing Deployment reports ProgressDeadlineExceeded.
    pub progress_deadline: Duration,
}

/// One simulated cluster and its agent.
pub struct Cluster {
    /// Its kubeconfig file.
    pub kubeconfig: PathBuf,
    simulator: RunningSimulator,
    agent: JoinHandle<()>,
}

/// Everything the demo runs.
pub struct World {
    /// Temporary root of every file.
    pub root: tempfile::TempDir,
    /// The working clone the story commits in.
    pub work: PathBuf,
    /// fleetctl's configuration for the demo hub.
    pub fleetconfig: PathBuf,
    /// The hub's HTTP address (webhook, metrics).
    pub hub_http: SocketAddr,
    /// Clusters by name.
    pub clusters: BTreeMap<String, Cluster>,
    webhook_secret: Vec<u8>,
    hub_stop: tokio::sync::oneshot::Sender<()>,
    hub: JoinHandle<anyhow::Result<()>>,
}

fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

pub use crate::git_cli::git;

/// The TEST age key of `fleet-examples/` (it decrypts the example database
/// password); every simulated cluster's agent gets it.
const DEMO_SOPS_KEY: &str = "sops-demo-key/TEST-KEY.agekey";
/// Where the demo writes that key for its agents (outside the repository).
const DEMO_SOPS_KEY_FILE: &str = "sops-demo.agekey";

impl World {
    /// Builds the world: repository, hub (rendering Helm apps with
    /// `helm`), clusters and agents.
    pub async fn start(pace: Pace, helm: PathBuf) -> anyhow::Result<Self> {
        let root = tempfile::Builder::new().prefix("fleet-demo-").tempdir()?;
        let work = root.path().join("fleet");
        for (path, text) in EXAMPLE_FLEET {
            if *path == DEMO_SOPS_KEY {
                // The demo clusters' age key stays out of the repository
                // the hub reads: only the agents get it.
                std::fs::write(root.path().join(DEMO_SOPS_KEY_FILE), text)?;
                continue;
            }
            let target = work.join(path);
            if let Some(folder) = target.parent() {
                std::fs::create_dir_all(folder)?;
            }
            let text = if *path == "fleet.yaml" {
                text.replace("bake: 2m", &format!("bake: {}", pace.bake))
            } else {
                (*text).to_owned()
            };
            std::fs::write(target, text)?;
        }
        git(&work, &["init", "--quiet", "--initial-branch=main"])?;
        git(&work, &["add", "--all"])?;
        git(
            &work,
            &["commit", "--quiet", "--message", "The example fleet"],
        )?;
        let remote = root.path().join("fleet.git");
        git(
            root.path(),
            &[
                "clone",
                "--quiet",
                "--bare",
                path_text(&work)?,
                path_text(&remote)?,
            ],
        )?;
        git(&work, &["remote", "add", "origin", path_text(&remote)?])?;

        let grpc = free_address()?;
        let http = free_address()?;
        let fleetconfig = root.path().join("fleetconfig.yaml");
        let hub_dir = root.path().join("hub");
        fleet_hub::init::run(&InitSettings {
            dir: hub_dir.clone(),
            name: "hub-1".to_owned(),
            node_id: 1,
            address: grpc,
            http_address: http,
            subject_alt_names: Vec::new(),
            repository: path_text(&remote)?.to_owned(),
            branch: "main".to_owned(),
            poll_interval: fleet_core::model::FleetDuration(Duration::from_secs(3600)),
            admin: "demo".to_owned(),
            fleetconfig: Some(fleetconfig.clone()),
            context: "demo".to_owned(),
            prometheus_url: None,
        })?;
        let mut config = Config::load(&hub_dir.join("hub.yaml"))?;
        config.render.helm = Some(helm);
        let webhook_secret = std::fs::read_to_string(&config.git.webhook_secret_file)?
            .trim()
            .as_bytes()
            .to_vec();
        let (hub_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let hub = tokio::spawn(fleet_hub::app::serve_until(config, async {
            let _ = stopped.await;
        }));
        let mut world = Self {
            root,
            work,
            fleetconfig,
            hub_http: http,
            clusters: BTreeMap::new(),
            webhook_secret,
            hub_stop,
            hub,
        };
        world.wait_for_hub().await?;
        let names: Vec<&str> = EXAMPLE_FLEET
            .iter()
            .filter_map(|(path, _)| path.strip_prefix("clusters/")?.strip_suffix(".yaml"))
            .collect();
        for name in names {
            world
                .add_cluster(name, grpc, &hub_dir.join("ca.crt"), pace)
                .await?;
        }
        Ok(world)
    }

    async fn wait_for_hub(&self) -> anyhow::Result<()> {
        for _ in 0..200 {
            if self.admin().await.is_ok() {
                let ready = crate::hub_http::request(self.hub_http, "GET", "/readyz", &[], b"")
                    .await
                    .map(|(code, _)| code);
                if matches!(ready, Ok(200)) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the demo hub did not become ready")
    }

    async fn add_cluster(
        &mut self,
        name: &str,
        hub: SocketAddr,
        ca: &Path,
        pace: Pace,
    ) -> anyhow::Result<()> {
        let simulator = Simulator::start(SimConfig {
            rollout_delay: pace.rollout_delay,
            progress_deadline: pace.progress_deadline,
            ..SimConfig::named(name)
        })
        .await
        .with_context(|| format!("starting the simulator of {name}"))?;
        let kubeconfig = self.root.path().join(format!("{name}.kubeconfig"));
        simulator.write_kubeconfig(&kubeconfig)?;
        let token = self
            .admin()
            .await?
            .create_token(fleet_proto::CreateTokenRequest {
                cluster: name.to_owned(),
                ttl_seconds: 600,
            })
            .await?
            .into_inner()
            .token;
        let agent = super::agents::start(super::agents::AgentSpec {
            cluster: name.to_owned(),
            hub: format!("https://{hub}"),
            ca: ca.to_owned(),
            token,
            state_dir: self.root.path().join("agents").join(name),
            kubeconfig: kubeconfig.clone(),
            sops_age_key_file: Some(self.root.path().join(DEMO_SOPS_KEY_FILE)),
        })?;
        self.clusters.insert(
            name.to_owned(),
            Cluster {
                kubeconfig,
                simulator,
                agent,
            },
        );
        Ok(())
    }

    /// An admin client of the demo hub.
    pub async fn admin(&self) -> anyhow::Result<AdminServiceClient<Channel>> {
        admin_client_of(&self.fleetconfig).await
    }

    /// Commits everything in the working clone and pushes it; returns the commit id.
    pub fn commit(&self, message: &str) -> anyhow::Result<String> {
        git(&self.work, &["add", "--all"])?;
        git(&self.work, &["commit", "--quiet", "--message", message])?;
        git(&self.work, &["push", "--quiet", "origin", "main"])?;
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// Replaces `from` with `to` in a file of the working clone.
    pub fn edit(&self, path: &str, from: &str, to: &str) -> anyhow::Result<()> {
        let file = self.work.join(path);
        let text = std::fs::read_to_string(&file)?;
        if !text.contains(from) {
            bail!("{path} does not contain {from:?}");
        }
        std::fs::write(file, text.replacen(from, to, 1))?;
        Ok(())
    }

    /// Calls the hub's Git webhook, signed like GitHub does.
    pub async fn webhook(&self) -> anyhow::Result<u16> {
        crate::hub_http::webhook(self.hub_http, &self.webhook_secret).await
    }

    /// Stops agents, simulators and the hub.
    pub async fn stop(self) {
        for cluster in self.clusters.into_values() {
            cluster.agent.abort();
            cluster.simulator.shutdown().await;
        }
        let _ = self.hub_stop.send(());
        // Agents' own tasks outlive their handles; the runtime ends them when
        // the demo returns, so the hub gets a short grace, not a long drain.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.hub).await;
    }
}

fn path_text(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .context("the temporary directory's path is not UTF-8")
}
