//! `notifications:` in hub.yaml: how the leader delivers events.

use std::time::Duration;

use fleet_core::model::FleetDuration;
use serde::{Deserialize, Serialize};

/// Delivery settings (`notifications:` in hub.yaml; every field optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationsConfig {
    /// The `fleet` field of every event (default `fleet`).
    #[serde(default = "default_fleet_name")]
    pub fleet_name: String,
    /// How long an event is retried before it is given up (default 24h);
    /// events older than this also leave the outbox.
    #[serde(default = "default_retry_for")]
    pub retry_for: FleetDuration,
    /// Most undelivered events kept (default 10000); the oldest go first.
    #[serde(default = "default_max_outbox_events")]
    pub max_outbox_events: usize,
    /// Longest one request may take, connect included (default 10s).
    #[serde(default = "default_request_timeout")]
    pub request_timeout: FleetDuration,
    /// Wait after the first failure; doubled after each (default 1s).
    #[serde(default = "default_first_backoff")]
    pub first_backoff: FleetDuration,
    /// Longest wait between attempts (default 5m).
    #[serde(default = "default_max_backoff")]
    pub max_backoff: FleetDuration,
    /// Most requests the leader sends at once (default 8).
    #[serde(default = "default_max_concurrent_requests")]
    pub max_concurrent_requests: usize,
    /// A cluster whose agent has had no session for this long raises one
    /// `cluster.disconnected` event (default 5m).
    #[serde(default = "default_cluster_disconnected_after")]
    pub cluster_disconnected_after: FleetDuration,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            fleet_name: default_fleet_name(),
            retry_for: default_retry_for(),
            max_outbox_events: default_max_outbox_events(),
            request_timeout: default_request_timeout(),
            first_backoff: default_first_backoff(),
            max_backoff: default_max_backoff(),
            max_concurrent_requests: default_max_concurrent_requests(),
            cluster_disconnected_after: default_cluster_disconnected_after(),
        }
    }
}

impl NotificationsConfig {
    /// The wait before the attempt after `failures` failed ones.
    pub fn backoff(&self, failures: u32) -> Duration {
        let doubled = self
            .first_backoff
            .0
            .saturating_mul(2_u32.saturating_pow(failures.saturating_sub(1).min(20)));
        doubled.min(self.max_backoff.0)
    }
}

fn default_fleet_name() -> String {
    "fleet".to_owned()
}

fn default_retry_for() -> FleetDuration {
    FleetDuration(Duration::from_secs(24 * 3600))
}

fn default_max_outbox_events() -> usize {
    10_000
}

fn default_request_timeout() -> FleetDuration {
    FleetDuration(Duration::from_secs(10))
}

fn default_first_backoff() -> FleetDuration {
    FleetDuration(Duration::from_secs(1))
}

fn default_max_backoff() -> FleetDuration {
    FleetDuration(Duration::from_secs(300))
}

fn default_max_concurrent_requests() -> usize {
    8
}

fn default_cluster_disconnected_after() -> FleetDuration {
    FleetDuration(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_limit() {
        let config = NotificationsConfig::default();
        assert_eq!(config.backoff(1), Duration::from_secs(1));
        assert_eq!(config.backoff(2), Duration::from_secs(2));
        assert_eq!(config.backoff(4), Duration::from_secs(8));
        assert_eq!(config.backoff(40), Duration::from_secs(300));
    }
}
