//! `presence:` in hub.yaml: how often a node writes its heartbeat and when
//! a silent node's sessions count as gone.

use std::time::Duration;

use fleet_core::model::FleetDuration;
use serde::{Deserialize, Serialize};

/// Heartbeat settings (`presence:` in hub.yaml; every field optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresenceConfig {
    /// How often a node writes its sessions' changes, and a heartbeat when
    /// there are none (default 10s).
    #[serde(default = "default_node_heartbeat")]
    pub node_heartbeat: FleetDuration,
    /// A node silent this long has lost its sessions, as of its last
    /// heartbeat (default 30s; more than `nodeHeartbeat`).
    #[serde(default = "default_node_stale_after")]
    pub node_stale_after: FleetDuration,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            node_heartbeat: default_node_heartbeat(),
            node_stale_after: default_node_stale_after(),
        }
    }
}

impl PresenceConfig {
    /// Why the settings cannot work, if they cannot.
    pub fn problem(&self) -> Option<String> {
        if self.node_heartbeat.0.is_zero() {
            return Some("presence.nodeHeartbeat must be more than 0".to_owned());
        }
        (self.node_stale_after.0 <= self.node_heartbeat.0).then(|| {
            format!(
                "presence.nodeStaleAfter ({}) must be longer than presence.nodeHeartbeat ({})",
                self.node_stale_after, self.node_heartbeat
            )
        })
    }

    /// `nodeStaleAfter` in milliseconds.
    pub fn stale_after_ms(&self) -> u64 {
        u64::try_from(self.node_stale_after.0.as_millis()).unwrap_or(u64::MAX)
    }
}

fn default_node_heartbeat() -> FleetDuration {
    FleetDuration(Duration::from_secs(10))
}

fn default_node_stale_after() -> FleetDuration {
    FleetDuration(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_must_be_stale_only_after_more_than_one_heartbeat() {
        assert_eq!(PresenceConfig::default().problem(), None);
        let config: PresenceConfig =
            serde_saphyr::from_str("nodeHeartbeat: 10s\nnodeStaleAfter: 5s\n").unwrap();
        assert_eq!(
            config.problem().unwrap(),
            "presence.nodeStaleAfter (5s) must be longer than presence.nodeHeartbeat (10s)"
        );
    }
}
