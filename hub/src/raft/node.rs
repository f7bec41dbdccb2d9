//! Starting and stopping a hub node's Raft: config → stores → network →
//! `Raft::new` → bootstrap, in that order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::step_down::ElectionHold;
use super::takeover::LeaderContact;
use std::time::Duration;

use openraft::BasicNode;
use tokio::sync::watch;

use super::database::{self, DATABASE_FILE};
use super::{
    LogStore, NodeId, PeerConnector, PeerNetwork, Raft, RaftError, RaftSettings, SharedState,
    StateMachineStore, StoreError,
};

/// How long [`RaftHandle::shutdown`] waits for Raft's tasks to release the store.
const STORE_RELEASE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running hub node's Raft.
#[derive(Clone)]
pub struct RaftHandle {
    pub(super) node_id: NodeId,
    pub(super) raft: Raft,
    state: SharedState,
    database_path: PathBuf,
    /// Fails `changed()` once Raft's tasks have closed the store file.
    store_closed: watch::Receiver<()>,
    /// Dials the other hub nodes (forwarded writes, leader transfer).
    pub(super) connector: PeerConnector,
    /// How long a write waits for a leader and a majority.
    pub(super) write_timeout: Duration,
    /// The longest election timeout (also the followers' leader lease).
    pub(super) election_timeout_max: Duration,
    /// Set while this leader hands over leadership: writes wait.
    pub(super) stepping_down: Arc<AtomicBool>,
    /// When the leader last reached this node (see [`super::takeover`]).
    pub(super) leader_contact: Arc<LeaderContact>,
    /// Set while this node takes an election over.
    pub(super) taking_over: Arc<AtomicBool>,
    /// Set while another voter takes over from a leader stepping down.
    pub(super) election_hold: Arc<ElectionHold>,
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

    let connector = PeerConnector::new(settings.peer_tls.clone(), settings.peer_source_address)
        .map_err(|source| RaftError::PeerTls {
            source: Box::new(source),
        })?;
    let network = PeerNetwork::new(connector.clone());
    let raft = Raft::new(node_id, config, network, log_store, state_machine)
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
        connector,
        write_timeout: settings.write_timeout,
        election_timeout_max: settings.election_timeout_max,
        stepping_down: Arc::default(),
        leader_contact: Arc::default(),
        taking_over: Arc::default(),
        election_hold: Arc::default(),
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
