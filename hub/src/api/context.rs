//! What every service handler can reach.

use std::sync::Arc;

use crate::config::Config;
use crate::git::GitSync;
use crate::http::metrics::HubMetrics;
use crate::pki::CertificateAuthority;
use crate::store::FleetStore;

use super::desired_state::DesiredStateCache;
use super::sessions::Sessions;
use super::status_batcher::StatusBatcher;
use super::targets::TargetBoard;

/// Shared by the gRPC services of one node.
#[derive(Clone)]
pub struct ApiContext {
    /// The node's configuration.
    pub config: Arc<Config>,
    /// The replicated state.
    pub store: FleetStore,
    /// The CA that signs agents' certificates.
    pub authority: Arc<CertificateAuthority>,
    /// Rendered desired state, cached by revision and cluster.
    pub desired: Arc<DesiredStateCache>,
    /// Bounds how many sessions render at once (one per core).
    pub renders: Arc<tokio::sync::Semaphore>,
    /// Open agent sessions on this node.
    pub sessions: Arc<Sessions>,
    /// Wakes a session when its cluster's target changes.
    pub targets: TargetBoard,
    /// Writes the sessions' status reports to Raft in batches.
    pub statuses: StatusBatcher,
    /// Writes the sessions' opening and closing (and the node's heartbeat)
    /// to Raft in batches.
    pub presence: crate::presence::PresenceRecorder,
    /// The Git sync (for `refresh`).
    pub sync: Arc<GitSync>,
    /// Metrics.
    pub metrics: Arc<HubMetrics>,
    /// Audits refused admin calls, at most `users.refusalAuditsPerMinute`.
    pub refusals: Arc<super::refusal_audit::RefusalAudit>,
}

impl ApiContext {
    /// Runs `work` on the desired-state cache off the async threads, a few
    /// at a time (`renders`: one per core): renders are CPU work, and after
    /// a commit thousands of sessions may miss the cache at once. `what`
    /// names the work in the error when it panics.
    pub async fn render_blocking<T: Send + 'static>(
        &self,
        what: &str,
        work: impl FnOnce(&DesiredStateCache) -> T + Send + 'static,
    ) -> Result<T, tonic::Status> {
        let _permit = self
            .renders
            .acquire()
            .await
            .map_err(|_| tonic::Status::unavailable("the hub is shutting down"))?;
        let cache = self.desired.clone();
        tokio::task::spawn_blocking(move || work(&cache))
            .await
            .map_err(|error| tonic::Status::internal(format!("{what} failed: {error}")))
    }

    /// The gRPC endpoints agents are given: this node's first, then every
    /// other member of the Raft group (voters and learners), so an agent
    /// whose node dies moves to another.
    pub fn hub_endpoints(&self) -> Vec<String> {
        let mut endpoints = self.config.node.endpoints.clone();
        let own_address = self.config.node.advertised_address();
        let metrics = self.store.raft().raft().metrics().borrow().clone();
        for (_, node) in metrics.membership_config.membership().nodes() {
            let endpoint = format!("https://{}", node.addr);
            if node.addr != own_address && !endpoints.contains(&endpoint) {
                endpoints.push(endpoint);
            }
        }
        endpoints
    }
}
