//! How a hub node runs Raft: its address, timeouts and snapshot policy.

use std::time::Duration;

use openraft::{Config, SnapshotPolicy};

use super::{PeerTls, RaftError};

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
    /// Most log entries sent in one AppendEntries call (keeps calls well
    /// under the gRPC message limit).
    pub max_payload_entries: u64,
    /// Size of one InstallSnapshot chunk.
    pub snapshot_chunk_bytes: u64,
    /// How long a write may wait for a leader and a majority before it
    /// fails with a clear "no quorum" error.
    pub write_timeout: Duration,
    /// Certificates for dialing the other hub nodes (`None`: this node can
    /// only run alone).
    pub peer_tls: Option<PeerTls>,
    /// The local address peer connections leave from (`None`: the system
    /// picks). A node listening on one address of a multi-homed host dials
    /// from it too, so peers and firewalls see one address per node.
    pub peer_source_address: Option<std::net::IpAddr>,
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
            max_payload_entries: 64,
            snapshot_chunk_bytes: 1024 * 1024,
            write_timeout: Duration::from_secs(5),
            peer_tls: None,
            peer_source_address: None,
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
            max_payload_entries: self.max_payload_entries,
            snapshot_max_chunk_size: self.snapshot_chunk_bytes,
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
