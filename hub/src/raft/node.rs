//! Starting and stopping a hub node's Raft: config → stores → network →
//! `Raft::new` → bootstrap, in that order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use openraft::BasicNode;
use tokio::sync::watch;

use super::database::{self, DATABASE_FILE};
use super::{
    LogStore, NodeId, PeerNetwork, Raft, RaftError, RaftSettings, SharedState, StateMachineStore,
    StoreError,
};
use crate::state::{Command, CommandResult};

/// How long [`RaftHandle::shutdown`] waits for Raft's tasks to release the store.
const STORE_RELEASE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running hub node's Raft.
#[derive(Clone)]
pub struct RaftHandle {
    node_id: NodeId,
    raft: Raft,
    state: SharedState,
    database_path: PathBuf,
    /// Fails `changed()` once Raft's tasks have closed the store file.
    store_closed: watch::Receiver<()>,
}

/// Starts this node's Raft on the data directory `directory` (created if
/// missing; the store is `raft.redb` in it).
///
/// On a fresh store and with [`RaftSettings::bootstrap`], the node
/// initializes a cluster whose only voter is itself at
/// [`RaftSettings::address`]; on a store that already holds a cluster it
/// resumes: loads the last snapshot and re-applies the committed log after
/// it, never initializing again.
#[tracing::instrument(skip(settings), fields(directory = %directory.display(), address = %settings.address))]
pub async fn start(
    directory: &Path,
    node_id: NodeId,
    settings: RaftSettings,
) -> Result<RaftHandle, RaftError> {
    let config = Arc::new(settings.openraft_config()?);

    let database_path = directory.join(DATABASE_FILE);
    // Creating the directory and opening redb (which may repair the file
    // after a crash) is blocking I/O.
    let database = {
        let directory = directory.to_owned();
        let path = database_path.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&directory).map_err(|source| RaftError::CreateDirectory {
                path: directory.clone(),
                source,
            })?;
            database::open(&path)
        })
        .await
        .map_err(|source| RaftError::LoadStore {
            path: database_path.clone(),
            source: StoreError::Task(source),
        })??
    };
    let log_store = LogStore::new(Arc::clone(&database));
    let state_machine = StateMachineStore::open(Arc::clone(&database))
        .await
        .map_err(|source| RaftError::LoadStore {
            path: database_path.clone(),
            source,
        })?;
    let state = state_machine.shared_state();
    let store_closed = database.closed();
    // Raft's tasks own the store from here on; the handle only watches it.
    drop(database);

    let raft = Raft::new(node_id, config, PeerNetwork, log_store, state_machine)
        .await
        .map_err(|source| RaftError::Fatal {
            node_id,
            source: Box::new(source),
        })?;
    let handle = RaftHandle {
        node_id,
        raft,
        state,
        database_path,
        store_closed,
    };

    let initialized = handle
        .raft
        .is_initialized()
        .await
        .map_err(|source| RaftError::Fatal {
            node_id,
            source: Box::new(source),
        })?;
    if initialized {
        tracing::info!(
            applied_index = handle.state.applied_index(),
            "resumed an existing Raft cluster"
        );
    } else if settings.bootstrap {
        let members = BTreeMap::from([(node_id, BasicNode::new(&settings.address))]);
        handle
            .raft
            .initialize(members)
            .await
            .map_err(|source| RaftError::Initialize {
                node_id,
                address: settings.address.clone(),
                source: Box::new(source),
            })?;
        tracing::info!("initialized a new Raft cluster with this node as its only voter");
    } else {
        tracing::info!("waiting to be added to an existing Raft cluster");
    }
    Ok(handle)
}

impl RaftHandle {
    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The openraft handle: metrics, membership changes, linearizable reads.
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// The fleet state as applied on this node.
    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// Appends `command` to the log and waits until it is committed and
    /// applied here; returns what applying it produced. Fails with
    /// [`RaftError::Write`] when this node is not the leader (the error names
    /// the leader to forward to).
    #[tracing::instrument(level = "debug", skip_all, fields(node_id = self.node_id))]
    pub async fn write(&self, command: Command) -> Result<CommandResult, RaftError> {
        let response =
            self.raft
                .client_write(command)
                .await
                .map_err(|source| RaftError::Write {
                    source: Box::new(source),
                })?;
        Ok(response.data)
    }

    /// Stops Raft and waits until its tasks have closed the store, so the
    /// same directory can be opened again at once.
    #[tracing::instrument(skip_all, fields(node_id = self.node_id))]
    pub async fn shutdown(self) -> Result<(), RaftError> {
        let node_id = self.node_id;
        self.raft
            .shutdown()
            .await
            .map_err(|source| RaftError::Shutdown { node_id, source })?;
        // The state machine worker ends on its own once the Raft core is
        // gone; wait for it (and any snapshot build) to close the file.
        let mut store_closed = self.store_closed;
        let closed = async { while store_closed.changed().await.is_ok() {} };
        if tokio::time::timeout(STORE_RELEASE_TIMEOUT, closed)
            .await
            .is_err()
        {
            return Err(RaftError::StoreStillOpen {
                path: self.database_path,
                waited_ms: u64::try_from(STORE_RELEASE_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
            });
        }
        tracing::info!("Raft stopped");
        Ok(())
    }
}

impl std::fmt::Debug for RaftHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RaftHandle")
            .field("node_id", &self.node_id)
            .field("database_path", &self.database_path)
            .finish_non_exhaustive()
    }
}
