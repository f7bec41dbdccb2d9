//! The leader's check for clusters disconnected too long.

use std::time::Duration;

use tracing::warn;

use super::settings::PresenceConfig;
use crate::clock::now_ms;
use crate::state::{Command, EventCategory};
use crate::store::FleetStore;

/// How often the leader looks.
const TICK: Duration = Duration::from_secs(1);

/// Reports clusters disconnected longer than the setting while this node
/// leads and a notification target wants cluster events.
pub struct DisconnectWatcher {
    store: FleetStore,
    presence: PresenceConfig,
    after: Duration,
}

impl DisconnectWatcher {
    /// A watcher over `store`; `after` is
    /// `notifications.clusterDisconnectedAfter`.
    pub fn new(store: FleetStore, presence: PresenceConfig, after: Duration) -> Self {
        Self {
            store,
            presence,
            after,
        }
    }

    /// Runs forever.
    pub async fn run(self) {
        let after_ms = u64::try_from(self.after.as_millis()).unwrap_or(u64::MAX);
        let stale_after_ms = self.presence.stale_after_ms();
        loop {
            tokio::time::sleep(TICK).await;
            if !self.store.is_leader() {
                continue;
            }
            let now = now_ms();
            let clusters = self.store.read(|state| {
                if state.notifications.wants(EventCategory::Cluster) {
                    state.disconnected_to_report(now, stale_after_ms, after_ms)
                } else {
                    Vec::new()
                }
            });
            if clusters.is_empty() {
                continue;
            }
            let command = Command::ReportDisconnected {
                clusters,
                after_ms,
                stale_after_ms,
                at_ms: now,
            };
            if let Err(error) = self.store.write(command).await {
                warn!(%error, "notifications: disconnected clusters could not be reported");
            }
        }
    }
}
