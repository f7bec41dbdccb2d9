//! The Raft state machine: applies committed [`Command`]s to the fleet state
//! and builds, installs and serves snapshots of it.
//!
//! [`Command`]: crate::state::Command

use std::io::Cursor;
use std::sync::Arc;

use openraft::storage::RaftStateMachine;
use openraft::{
    BasicNode, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, Snapshot, SnapshotMeta,
    StorageError, StorageIOError, StoredMembership,
};

use super::database::{StoreFile, run_blocking};
use super::shared_state::{SharedState, SnapshotSizes};
use super::snapshot::{self, FleetSnapshot, Replace};
use super::{LogEntry, NodeId, StoreError, TypeConfig};
use crate::state::{CommandResult, FleetState};

/// The hub's Raft state machine: the applied [`FleetState`] (in memory,
/// shared through [`SharedState`]) and its snapshots (in redb).
///
/// Applying does not write to disk: after a restart the state is the last
/// snapshot plus the committed log entries after it, which openraft
/// re-applies.
#[derive(Debug)]
pub struct StateMachineStore {
    database: Arc<StoreFile>,
    shared: SharedState,
    last_applied: Option<LogId<NodeId>>,
    last_membership: StoredMembership<NodeId, BasicNode>,
    /// Tells apart snapshots built at the same log id by this process.
    snapshot_sequence: u64,
}

impl StateMachineStore {
    /// The state machine over an opened hub Raft database, starting from its
    /// current snapshot (or from an empty fleet state).
    pub(crate) async fn open(database: Arc<StoreFile>) -> Result<Self, StoreError> {
        let stored = run_blocking(&database, snapshot::load).await?;
        let (last_applied, last_membership, state) = match stored {
            Some((meta, bytes)) => {
                let snapshot = FleetSnapshot::decode(&meta, &bytes)?;
                tracing::info!(snapshot = %meta.snapshot_id, "loaded the fleet state from the last snapshot");
                (
                    snapshot.last_applied,
                    snapshot.last_membership,
                    snapshot.state,
                )
            }
            None => (None, StoredMembership::default(), FleetState::default()),
        };
        let applied_index = last_applied.map_or(0, |log_id| log_id.index);
        Ok(Self {
            database,
            shared: SharedState::new(state, applied_index),
            last_applied,
            last_membership,
            snapshot_sequence: 0,
        })
    }

    /// The applied state, for the hub's services.
    pub fn shared_state(&self) -> SharedState {
        self.shared.clone()
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = FleetSnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>>
    {
        Ok((self.last_applied, self.last_membership.clone()))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn apply<I>(&mut self, entries: I) -> Result<Vec<CommandResult>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = LogEntry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut results = Vec::new();
        {
            let mut state = self.shared.write();
            for entry in entries {
                let result = match entry.payload {
                    EntryPayload::Blank => CommandResult::Unchanged,
                    EntryPayload::Normal(command) => {
                        let result = state.apply(&command);
                        tracing::debug!(index = entry.log_id.index, ?result, "applied a command");
                        result
                    }
                    EntryPayload::Membership(membership) => {
                        self.last_membership =
                            StoredMembership::new(Some(entry.log_id), membership);
                        CommandResult::Applied
                    }
                };
                self.last_applied = Some(entry.log_id);
                results.push(result);
            }
        }
        if let Some(log_id) = self.last_applied {
            self.shared.publish(log_id.index);
        }
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.snapshot_sequence += 1;
        FleetSnapshotBuilder {
            database: Arc::clone(&self.database),
            shared: self.shared.clone(),
            snapshot: FleetSnapshot {
                last_applied: self.last_applied,
                last_membership: self.last_membership.clone(),
                state: self.shared.clone_state(),
            },
            sequence: self.snapshot_sequence,
        }
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    #[tracing::instrument(level = "info", skip_all, fields(snapshot = %meta.snapshot_id))]
    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let bytes = snapshot.into_inner();
        let snapshot_bytes = bytes.len() as u64;
        let decoded = FleetSnapshot::decode(meta, &bytes)
            .map_err(|error| StorageIOError::read_snapshot(Some(meta.signature()), &error))?;
        let owned_meta = meta.clone();
        run_blocking(&self.database, move |database| {
            snapshot::save(database, &owned_meta, &bytes, Replace::Always).map(|_| ())
        })
        .await
        .map_err(|error| StorageIOError::write_snapshot(Some(meta.signature()), &error))?;
        self.last_applied = meta.last_log_id;
        self.last_membership = meta.last_membership.clone();
        self.shared.record_snapshot_sizes(SnapshotSizes {
            state_bytes: json_size(&decoded.state),
            snapshot_bytes,
        });
        self.shared.replace(
            decoded.state,
            meta.last_log_id.map_or(0, |log_id| log_id.index),
        );
        tracing::info!("installed a snapshot");
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let stored = run_blocking(&self.database, snapshot::load)
            .await
            .map_err(|error| StorageIOError::read_snapshot(None, &error))?;
        Ok(stored.map(|(meta, bytes)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        }))
    }
}

/// Builds a snapshot from a copy of the state taken when openraft asked for
/// it, so applying goes on while the snapshot is written.
#[derive(Debug)]
pub struct FleetSnapshotBuilder {
    database: Arc<StoreFile>,
    shared: SharedState,
    snapshot: FleetSnapshot,
    sequence: u64,
}

impl RaftSnapshotBuilder<TypeConfig> for FleetSnapshotBuilder {
    #[tracing::instrument(level = "info", skip_all, fields(last_applied = ?self.snapshot.last_applied))]
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let snapshot_id = match self.snapshot.last_applied {
            Some(log_id) => format!("{}-{}-{}", log_id.leader_id, log_id.index, self.sequence),
            None => format!("empty-{}", self.sequence),
        };
        let meta = SnapshotMeta {
            last_log_id: self.snapshot.last_applied,
            last_membership: self.snapshot.last_membership.clone(),
            snapshot_id,
        };
        let bytes = super::database::encode(&self.snapshot, "snapshot")
            .map_err(|error| StorageIOError::write_snapshot(Some(meta.signature()), &error))?;
        self.shared.record_snapshot_sizes(SnapshotSizes {
            state_bytes: json_size(&self.snapshot.state),
            snapshot_bytes: bytes.len() as u64,
        });
        let (owned_meta, owned_bytes) = (meta.clone(), bytes.clone());
        let saved = run_blocking(&self.database, move |database| {
            snapshot::save(database, &owned_meta, &owned_bytes, Replace::IfOlder)
        })
        .await
        .map_err(|error| StorageIOError::write_snapshot(Some(meta.signature()), &error))?;
        if saved {
            tracing::info!(snapshot = %meta.snapshot_id, bytes = bytes.len(), "built a snapshot");
        } else {
            tracing::info!(snapshot = %meta.snapshot_id, "built a snapshot older than the current one; not kept");
        }
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        })
    }
}

/// The length of `value`'s JSON, counted without keeping the bytes.
fn json_size<T: serde::Serialize>(value: &T) -> u64 {
    struct Counter(u64);
    impl std::io::Write for Counter {
        fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
            self.0 += buffer.len() as u64;
            Ok(buffer.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to the counter cannot fail and the state always serializes
    // (it is written as the snapshot just before); a failure counts as 0.
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => 0,
    }
}
