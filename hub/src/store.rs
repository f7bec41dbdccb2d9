//! The hub services' view of the replicated state: read the local state
//! machine, subscribe to changes, write commands through Raft.

use tokio::sync::watch;

use crate::raft::{RaftError, RaftHandle};
use crate::state::{Command, CommandResult, FleetState};

/// Figures about this node's Raft, for metrics and readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftFigures {
    /// Current term.
    pub term: u64,
    /// Last applied log index.
    pub commit_index: u64,
    /// Whether this node leads.
    pub is_leader: bool,
    /// Whether any leader is known.
    pub has_leader: bool,
}

/// A cheap, cloneable handle on the replicated fleet state.
#[derive(Clone)]
pub struct FleetStore {
    handle: RaftHandle,
}

impl FleetStore {
    /// Wraps a started Raft node.
    pub fn new(handle: RaftHandle) -> Self {
        Self { handle }
    }

    /// The underlying Raft node.
    pub fn raft(&self) -> &RaftHandle {
        &self.handle
    }

    /// Reads the state as applied on this node.
    pub fn read<T>(&self, reader: impl FnOnce(&FleetState) -> T) -> T {
        self.handle.state().read(reader)
    }

    /// Changes whenever a log entry is applied on this node.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.handle.state().subscribe()
    }

    /// Reads like [`Self::read`]; when the answer may only be a lagging
    /// follower's (`maybe_stale` says so: "unknown token", "undeclared
    /// cluster"), waits until this node has applied every write the leader
    /// had applied, then reads again. So a token minted through one node a
    /// moment ago is known on every node. On the leader it reads once.
    pub async fn read_caught_up<T>(
        &self,
        reader: impl Fn(&FleetState) -> T,
        maybe_stale: impl Fn(&T) -> bool,
    ) -> T {
        let found = self.read(&reader);
        if !maybe_stale(&found) || self.is_leader() {
            return found;
        }
        if let Err(error) = self.handle.catch_up_with_leader().await {
            tracing::warn!(%error, "could not catch up with the leader before reading");
        }
        self.read(reader)
    }

    /// Appends a command and waits until it is applied.
    pub async fn write(&self, command: Command) -> Result<CommandResult, RaftError> {
        self.handle.write(command).await
    }

    /// Raft figures of this node.
    pub fn raft_figures(&self) -> RaftFigures {
        let metrics = self.handle.raft().metrics().borrow().clone();
        RaftFigures {
            term: metrics.current_term,
            commit_index: metrics.last_applied.map_or(0, |log_id| log_id.index),
            is_leader: metrics.current_leader == Some(self.handle.node_id()),
            has_leader: metrics.current_leader.is_some(),
        }
    }

    /// Whether this node is the leader.
    pub fn is_leader(&self) -> bool {
        self.raft_figures().is_leader
    }

    /// Whether a leader is known.
    pub fn has_leader(&self) -> bool {
        self.raft_figures().has_leader
    }
}
