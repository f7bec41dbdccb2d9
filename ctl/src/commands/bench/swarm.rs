//! Many simulated agents in one process: enrolled with bounded concurrency
//! (a bootstrap token minted through the admin API, then the real `Enroll`
//! call, per cluster), each with its own certificate and its own mTLS
//! session, started, killed and restarted by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use fleet_agent::metrics::Metrics;
use fleet_proto::CreateTokenRequest;
use fleet_proto::admin_service_client::AdminServiceClient;
use futures::{StreamExt, TryStreamExt};
use tonic::transport::Channel;

use super::receipts::Receipts;
use super::simulated_agent::{Behaviour, RunningAgent, SimulatedAgent};

/// Where the swarm's agents find the hub.
#[derive(Debug, Clone)]
pub struct HubAccess {
    /// gRPC endpoints (`https://host:port`).
    pub endpoints: Vec<String>,
    /// The hub CA (PEM).
    pub ca_pem: String,
}

/// The simulated agents of one benchmark.
pub struct Swarm {
    agents: BTreeMap<String, (SimulatedAgent, Option<RunningAgent>)>,
    behaviour: Behaviour,
    receipts: Arc<Receipts>,
    metrics: Metrics,
}

impl Swarm {
    /// Enrolls one agent per cluster, `concurrency` at a time.
    pub async fn enroll(
        admin: &AdminServiceClient<Channel>,
        hub: &HubAccess,
        clusters: &[String],
        concurrency: usize,
        behaviour: Behaviour,
    ) -> anyhow::Result<Self> {
        let enrolled: Vec<SimulatedAgent> = futures::stream::iter(clusters.iter().cloned())
            .map(|cluster| {
                let mut admin = admin.clone();
                async move {
                    let token = admin
                        .create_token(CreateTokenRequest {
                            cluster: cluster.clone(),
                            ttl_seconds: 3600,
                        })
                        .await
                        .with_context(|| format!("minting a bootstrap token for {cluster}"))?
                        .into_inner()
                        .token;
                    SimulatedAgent::enroll(&hub.endpoints, &hub.ca_pem, &cluster, &token).await
                }
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
        Ok(Self {
            agents: enrolled
                .into_iter()
                .map(|agent| (agent.cluster().to_owned(), (agent, None)))
                .collect(),
            behaviour,
            receipts: Arc::default(),
            metrics: Metrics::new(),
        })
    }

    /// The clusters, in name order.
    pub fn clusters(&self) -> Vec<String> {
        self.agents.keys().cloned().collect()
    }

    /// What the agents received.
    pub fn receipts(&self) -> &Receipts {
        &self.receipts
    }

    /// Starts every agent that is not running.
    pub fn start_all(&mut self) {
        let names = self.clusters();
        self.start(&names);
    }

    /// Starts the named agents (those not running).
    pub fn start(&mut self, clusters: &[String]) {
        for cluster in clusters {
            if let Some((agent, running)) = self.agents.get_mut(cluster)
                && running.is_none()
            {
                *running = Some(agent.start(self.behaviour, self.receipts.clone(), &self.metrics));
            }
        }
    }

    /// Kills the named agents: their sessions drop, they report nothing.
    pub fn kill(&mut self, clusters: &[String]) {
        for cluster in clusters {
            if let Some((_, running)) = self.agents.get_mut(cluster) {
                running.take();
            }
        }
    }

    /// Kills every agent.
    pub fn kill_all(&mut self) {
        let names = self.clusters();
        self.kill(&names);
    }
}
