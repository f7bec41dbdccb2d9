//! How a hub node runs Raft: its address, timeouts and snapshot policy.

use std::time::Duration;

use openraft::{Config, SnapshotPolicy};

use super::RaftError;

/// Raft settings of one hub node, resolved from the hub's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftSettings {
    /// The address other hub nodes reach this one at (`host:port` of the gRPC
    /// port); recorded in the cluster membership.
    pub address: String,
    /// Whether to bootstrap a new cluster made of this node alone when the
    /// store is fresh. A node that joins an existing cluster sets this to
    /// `false` and waits for the leader to add it.
    pub bootstrap: bool,
    /// Name of the Raft cluster (shows in logs).
    pub cluster_name: String,
    /// How often the leader sends heartbeats.
    pub heartbeat_interval: Duration,
    /// A follower that hears no leader for a random time in
    /// `[election_timeout_min, election_timeout_max)` starts an election.
    pub election_timeout_min: Duration,
    /// See [`Self::election_timeout_min`].
    pub election_timeout_max: Duration,
    /// Build a snapshot every this many applied log entries.
    pub snapshot_every: u64,
    /// How many log entries already in a snapshot to keep (for followers that
    /// lag a little); older ones are purged.
    pub logs_to_keep_after_snapshot: u64,
}

impl RaftSettings {
    /// Default settings for a node reachable at `address`: 100 ms heartbeats,
    /// 500–1000 ms election timeouts, a snapshot every 1000 entries.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            bootstrap: true,
            cluster_name: "fleet-hub".to_owned(),
            heartbeat_interval: Duration::from_millis(100),
            election_timeout_min: Duration::from_millis(500),
            election_timeout_max: Duration::from_millis(1000),
            snapshot_every: 1000,
            logs_to_keep_after_snapshot: 1000,
        }
    }

    /// The validated openraft configuration.
    pub fn openraft_config(&self) -> Result<Config, RaftError> {
        Config {
            cluster_name: self.cluster_name.clone(),
            heartbeat_interval: millis(self.heartbeat_interval),
            election_timeout_min: millis(self.election_timeout_min),
            election_timeout_max: millis(self.election_timeout_max),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_every),
            max_in_snapshot_log_to_keep: self.logs_to_keep_after_snapshot,
            ..Config::default()
        }
        .validate()
        .map_err(|source| RaftError::InvalidSettings {
            source: Box::new(source),
        })
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
