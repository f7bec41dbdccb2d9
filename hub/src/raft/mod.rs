//! The hub's Raft: openraft over a redb file.
//!
//! The fleet state ([`crate::state::FleetState`]) is replicated by openraft:
//! every change is a [`crate::state::Command`] appended to the Raft log and
//! applied, in log order, by the state machine on every hub node. This module
//! holds the pieces openraft needs and the constructor the hub calls:
//!
//! - [`LogStore`] — the log, the vote and the committed log id, in redb;
//! - [`StateMachineStore`] — the applied state in memory (shared with the hub's
//!   services through [`SharedState`]) and its snapshots, in redb;
//! - [`PeerNetwork`] — how nodes reach each other: openraft's RPCs over the
//!   hub's mTLS gRPC port, dialed by [`PeerConnector`] with hub identities;
//! - `forward` — writes a follower forwards to the leader;
//! - `step_down` — leader transfer for maintenance;
//! - [`start`] — opens the stores in a data directory, starts Raft and, on a
//!   fresh store, bootstraps the cluster; returns a [`RaftHandle`].
//!
//! Restart = load the last snapshot, then openraft re-applies the committed
//! log entries after it, so nothing in here writes the state on every apply.

mod database;
mod error;
mod forward;
mod log_store;
mod network;
mod node;
mod peers;
mod settings;
mod shared_state;
mod snapshot;
mod state_machine;
mod step_down;
mod takeover;

#[cfg(test)]
mod tests;

pub use error::{RaftError, StoreError};
pub use forward::{ForwardOutcome, ForwardedRequest};
pub use log_store::LogStore;
pub use network::{PayloadError, PeerClient, PeerNetwork};
pub use node::{RaftHandle, start};
pub use peers::{HubServerVerifier, PeerCallError, PeerConnector, PeerError, PeerTls, RaftRpc};
pub use settings::RaftSettings;
pub use shared_state::{SharedState, SnapshotSizes};
pub use state_machine::{FleetSnapshotBuilder, StateMachineStore};
pub use step_down::Handover;

use std::io::Cursor;

use crate::state::{Command, CommandResult};

/// A hub node's id in the Raft cluster.
pub type NodeId = u64;

/// One entry of the hub's Raft log.
pub type LogEntry = openraft::Entry<TypeConfig>;

/// The hub's Raft handle: the API to write commands, change membership and
/// read metrics.
pub type Raft = openraft::Raft<TypeConfig>;

openraft::declare_raft_types!(
    /// The openraft type configuration of the hub: log entries are fleet
    /// [`Command`]s, responses [`CommandResult`]s, nodes are addressed by a
    /// plain address string.
    pub TypeConfig:
        D = Command,
        R = CommandResult,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);
