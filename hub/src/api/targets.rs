//! Per-cluster wake-ups for agent sessions.
//!
//! A session must learn when *its* cluster's target moves (or the cluster is
//! revoked). Subscribing every session to the global "an entry was applied"
//! signal would wake all N sessions on every Raft write — O(N) work per
//! status report, O(N²) across a rollout. Instead one task per node follows
//! the applied state, compares each watched cluster's target with what it
//! last published, and wakes only the sessions whose target changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use crate::state::FleetState;
use crate::store::FleetStore;

/// What a session needs to know about its cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterTarget {
    /// The revision the cluster should run (empty before any).
    pub revision: String,
    /// Digest of its desired state at that revision.
    pub digest: String,
    /// Whether its certificates were revoked.
    pub revoked: bool,
}

impl ClusterTarget {
    fn of(state: &FleetState, cluster: &str) -> Self {
        state
            .clusters
            .get(cluster)
            .map(|record| Self {
                revision: record.target_revision.clone(),
                digest: record.target_digest.clone(),
                revoked: record.revoked,
            })
            .unwrap_or_default()
    }
}

/// The clusters' targets as published to their sessions. Cheap to clone.
#[derive(Clone)]
pub struct TargetBoard {
    store: FleetStore,
    watched: Arc<Mutex<HashMap<String, watch::Sender<ClusterTarget>>>>,
}

impl TargetBoard {
    /// A board over `store`; call [`Self::run`] in a task to keep it current.
    pub fn new(store: FleetStore) -> Self {
        Self {
            store,
            watched: Arc::default(),
        }
    }

    /// Follows `cluster`'s target: the receiver holds the current value and
    /// is notified only when it changes.
    pub fn watch(&self, cluster: &str) -> watch::Receiver<ClusterTarget> {
        let mut watched = self.lock();
        if let Some(sender) = watched.get(cluster) {
            return sender.subscribe();
        }
        let current = self.store.read(|state| ClusterTarget::of(state, cluster));
        let (sender, receiver) = watch::channel(current);
        watched.insert(cluster.to_owned(), sender);
        receiver
    }

    /// Publishes target changes after every applied entry, until the node stops.
    pub async fn run(self) {
        let mut applied = self.store.subscribe();
        loop {
            self.publish();
            if applied.changed().await.is_err() {
                return;
            }
        }
    }

    /// Compares every watched cluster's target with the state (dropping
    /// clusters nobody watches any more) and wakes the changed ones.
    fn publish(&self) {
        let mut watched = self.lock();
        watched.retain(|_, sender| sender.receiver_count() > 0);
        self.store.read(|state| {
            for (cluster, sender) in watched.iter() {
                sender.send_if_modified(|published| {
                    let Some(record) = state.clusters.get(cluster) else {
                        return false;
                    };
                    if published.digest == record.target_digest
                        && published.revoked == record.revoked
                        && published.revision == record.target_revision
                    {
                        return false;
                    }
                    *published = ClusterTarget::of(state, cluster);
                    true
                });
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<ClusterTarget>>> {
        self.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
