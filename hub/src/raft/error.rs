//! Errors of the hub's Raft layer.

use std::path::PathBuf;

use openraft::BasicNode;
use openraft::error::{ClientWriteError, Fatal, ForwardToLeader, InitializeError};

use super::NodeId;

/// Something went wrong starting, using or stopping the hub's Raft.
#[derive(Debug, thiserror::Error)]
pub enum RaftError {
    /// The data directory could not be created.
    #[error("cannot create the Raft data directory {path}")]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The redb file could not be opened (or created).
    #[error("cannot open the Raft store {path}")]
    OpenDatabase {
        /// The redb file.
        path: PathBuf,
        /// Why.
        #[source]
        source: redb::DatabaseError,
    },
    /// Reading or preparing the store failed (tables, the last snapshot).
    #[error("cannot load the Raft store {path}")]
    LoadStore {
        /// The redb file.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The Raft settings are inconsistent (e.g. election timeouts).
    #[error("invalid Raft settings")]
    InvalidSettings {
        /// What openraft refused.
        #[source]
        source: Box<openraft::ConfigError>,
    },
    /// Raft could not start, or stopped with a fatal error.
    #[error("Raft node {node_id} stopped")]
    Fatal {
        /// This node.
        node_id: NodeId,
        /// Why.
        #[source]
        source: Box<Fatal<NodeId>>,
    },
    /// Bootstrapping the cluster on a fresh store failed.
    #[error("cannot initialize the Raft cluster with node {node_id} at {address}")]
    Initialize {
        /// This node.
        node_id: NodeId,
        /// This node's advertised address.
        address: String,
        /// Why.
        #[source]
        source: Box<openraft::error::RaftError<NodeId, InitializeError<NodeId, BasicNode>>>,
    },
    /// A command was not committed; when this node is not the leader the
    /// leader to forward to is in [`RaftError::forward_to_leader`].
    #[error("cannot commit the command")]
    Write {
        /// Why.
        #[source]
        source: Box<openraft::error::RaftError<NodeId, ClientWriteError<NodeId, BasicNode>>>,
    },
    /// The certificates for dialing peers are unusable.
    #[error("cannot set up hub-to-hub TLS")]
    PeerTls {
        /// Why.
        #[source]
        source: Box<super::PeerError>,
    },
    /// No leader was known, or none could be reached, for the whole wait:
    /// a majority of the hub's nodes is down or cut off.
    #[error(
        "no hub leader could be reached within {waited_ms} ms: the hub has no quorum (a majority of its nodes is down or unreachable)"
    )]
    NoLeader {
        /// How long we waited.
        waited_ms: u64,
    },
    /// This node leads but a majority did not acknowledge the write in time.
    #[error(
        "the write was not committed within {waited_ms} ms: this hub node leads but a majority of nodes does not answer (no quorum); the write may still be applied if the cluster recovers"
    )]
    NotCommitted {
        /// How long we waited.
        waited_ms: u64,
    },
    /// The write was forwarded to the leader and the call failed after it was
    /// sent: its outcome is unknown.
    #[error("forwarding the write to the leader (node {leader}) failed; its outcome is unknown")]
    Forward {
        /// The leader's node id.
        leader: NodeId,
        /// Why.
        #[source]
        source: Box<super::PeerCallError>,
    },
    /// The leader refused or failed a forwarded request.
    #[error("the leader (node {leader}) could not do it: {message}")]
    Leader {
        /// The leader's node id.
        leader: NodeId,
        /// What it said.
        message: String,
    },
    /// Handing leadership over failed.
    #[error("cannot step down: {reason}")]
    StepDown {
        /// Why.
        reason: String,
    },
    /// Changing the Raft membership failed.
    #[error("cannot change the hub membership")]
    Membership {
        /// Why.
        #[source]
        source: Box<openraft::error::RaftError<NodeId, ClientWriteError<NodeId, BasicNode>>>,
    },
    /// Raft's tasks did not stop cleanly.
    #[error("Raft node {node_id} did not shut down cleanly")]
    Shutdown {
        /// This node.
        node_id: NodeId,
        /// Why.
        #[source]
        source: tokio::task::JoinError,
    },
    /// After shutdown a Raft task still held the store open.
    #[error("the Raft store {path} was still in use {waited_ms} ms after shutdown")]
    StoreStillOpen {
        /// The redb file.
        path: PathBuf,
        /// How long we waited.
        waited_ms: u64,
    },
}

impl RaftError {
    /// When a write failed because this node is not the leader: the leader to
    /// forward it to, as far as this node knows.
    pub fn forward_to_leader(&self) -> Option<&ForwardToLeader<NodeId, BasicNode>> {
        match self {
            Self::Write { source } => source.forward_to_leader(),
            _ => None,
        }
    }
}

/// A failure inside the redb stores, before openraft wraps it in its own
/// [`openraft::StorageError`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb failed (transaction, table, commit or I/O).
    #[error("redb failed")]
    Database(#[source] redb::Error),
    /// A value could not be serialized.
    #[error("cannot encode {what}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A stored value could not be read back (corrupt or from another version).
    #[error("cannot decode {what}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A snapshot's content disagrees with its metadata.
    #[error("snapshot {snapshot_id} is inconsistent: {reason}")]
    InconsistentSnapshot {
        /// The snapshot.
        snapshot_id: String,
        /// What disagrees.
        reason: String,
    },
    /// The blocking task doing the I/O panicked or was cancelled.
    #[error("the storage task did not finish")]
    Task(#[source] tokio::task::JoinError),
}

impl From<redb::TransactionError> for StoreError {
    fn from(error: redb::TransactionError) -> Self {
        Self::Database(error.into())
    }
}

impl From<redb::TableError> for StoreError {
    fn from(error: redb::TableError) -> Self {
        Self::Database(error.into())
    }
}

impl From<redb::StorageError> for StoreError {
    fn from(error: redb::StorageError) -> Self {
        Self::Database(error.into())
    }
}

impl From<redb::CommitError> for StoreError {
    fn from(error: redb::CommitError) -> Self {
        Self::Database(error.into())
    }
}
