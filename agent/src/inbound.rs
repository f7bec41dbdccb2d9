//! Hub → agent: a desired state from the hub is checked, cached in the state
//! directory, and handed to the reconciler (which always works on the latest
//! one; intermediate states it had no time for are skipped).

use std::sync::Arc;

use fleet_proto::DesiredState;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::cache::DesiredCache;

/// Why a desired state was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// The hub sent another cluster's state.
    #[error("the hub sent desired state for cluster {got:?}, this agent is {expected:?}")]
    WrongCluster {
        /// This agent's cluster.
        expected: String,
        /// What the message named.
        got: String,
    },
}

/// The inbound side.
#[derive(Clone)]
pub struct Inbound {
    cluster: String,
    cache: Option<DesiredCache>,
    desired: watch::Sender<Option<Arc<DesiredState>>>,
}

impl Inbound {
    /// Starts from `initial` (the cached state, if any).
    pub fn new(cluster: &str, cache: DesiredCache, initial: Option<DesiredState>) -> Self {
        Self {
            cluster: cluster.to_owned(),
            cache: Some(cache),
            desired: watch::Sender::new(initial.map(Arc::new)),
        }
    }

    /// An inbound side that keeps nothing on disk (simulated agents in
    /// `fleetctl bench`, which have no cluster to keep working offline).
    pub fn uncached(cluster: &str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            cache: None,
            desired: watch::Sender::new(None),
        }
    }

    /// Follows the desired state.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<DesiredState>>> {
        self.desired.subscribe()
    }

    /// Accepts a desired state from the hub.
    pub fn accept(&self, desired: DesiredState) -> Result<(), InboundError> {
        if desired.cluster != self.cluster {
            return Err(InboundError::WrongCluster {
                expected: self.cluster.clone(),
                got: desired.cluster,
            });
        }
        info!(revision = %desired.revision, digest = %desired.digest, apps = desired.apps.len(), "desired state received");
        if let Some(cache) = &self.cache
            && let Err(error) = cache.store(&desired)
        {
            // Keep going: the cache only matters if the hub is gone at the next start.
            warn!(%error, "cannot cache the desired state");
        }
        self.desired.send_replace(Some(Arc::new(desired)));
        Ok(())
    }
}
