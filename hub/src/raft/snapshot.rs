//! What a snapshot holds and where it is kept.
//!
//! A snapshot's bytes are the JSON of a [`FleetSnapshot`]; the current
//! snapshot (metadata and bytes) is kept in redb so that a restarted node
//! loads it and replays only the log after it.

use openraft::{BasicNode, LogId, SnapshotMeta, StoredMembership};
use redb::{Database, ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};

use super::database::{SNAPSHOT_DATA_KEY, SNAPSHOT_META_KEY, SNAPSHOT_TABLE, decode, encode};
use super::{NodeId, StoreError};
use crate::state::FleetState;

/// A snapshot's metadata.
type Meta = SnapshotMeta<NodeId, BasicNode>;

/// The content of a snapshot: the fleet state and how far into the log it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FleetSnapshot {
    /// The last log entry the state includes.
    pub(crate) last_applied: Option<LogId<NodeId>>,
    /// The last membership the state includes.
    pub(crate) last_membership: StoredMembership<NodeId, BasicNode>,
    /// The fleet state.
    pub(crate) state: FleetState,
}

impl FleetSnapshot {
    /// Decodes snapshot bytes and checks them against their metadata.
    pub(crate) fn decode(
        meta: &SnapshotMeta<NodeId, BasicNode>,
        bytes: &[u8],
    ) -> Result<Self, StoreError> {
        let snapshot: Self = decode(bytes, "snapshot")?;
        if snapshot.last_applied != meta.last_log_id
            || snapshot.last_membership != meta.last_membership
        {
            return Err(StoreError::InconsistentSnapshot {
                snapshot_id: meta.snapshot_id.clone(),
                reason: format!(
                    "it holds the state up to {:?} with membership {:?}, its metadata says {:?} with {:?}",
                    snapshot.last_applied,
                    snapshot.last_membership,
                    meta.last_log_id,
                    meta.last_membership
                ),
            });
        }
        Ok(snapshot)
    }
}

/// Which snapshots [`save`] may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replace {
    /// Any (installing a snapshot from the leader replaces the state).
    Always,
    /// Unless the current one covers more log entries (a snapshot built here runs
    /// concurrently with installs and must not overwrite a newer one).
    IfOlder,
}

/// Durably makes (`meta`, `bytes`) the current snapshot; returns whether it
/// did (see [`Replace`]).
pub(crate) fn save(
    database: &Database,
    meta: &SnapshotMeta<NodeId, BasicNode>,
    bytes: &[u8],
    replace: Replace,
) -> Result<bool, StoreError> {
    let transaction = database.begin_write()?;
    {
        let mut table = transaction.open_table(SNAPSHOT_TABLE)?;
        if replace == Replace::IfOlder {
            let current = match table.get(SNAPSHOT_META_KEY)? {
                Some(value) => Some(decode::<SnapshotMeta<NodeId, BasicNode>>(
                    value.value(),
                    "snapshot metadata",
                )?),
                None => None,
            };
            if current.is_some_and(|current| current.last_log_id > meta.last_log_id) {
                return Ok(false);
            }
        }
        table.insert(
            SNAPSHOT_META_KEY,
            encode(meta, "snapshot metadata")?.as_slice(),
        )?;
        table.insert(SNAPSHOT_DATA_KEY, bytes)?;
    }
    transaction.commit()?;
    Ok(true)
}

/// The current snapshot's metadata and bytes, if there is one.
pub(crate) fn load(database: &Database) -> Result<Option<(Meta, Vec<u8>)>, StoreError> {
    let transaction = database.begin_read()?;
    let table = transaction.open_table(SNAPSHOT_TABLE)?;
    let (Some(meta), Some(bytes)) = (table.get(SNAPSHOT_META_KEY)?, table.get(SNAPSHOT_DATA_KEY)?)
    else {
        return Ok(None);
    };
    let meta = decode(meta.value(), "snapshot metadata")?;
    Ok(Some((meta, bytes.value().to_vec())))
}
