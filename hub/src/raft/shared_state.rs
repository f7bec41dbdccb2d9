//! The applied fleet state as the hub's services see it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};

use tokio::sync::watch;

use crate::state::FleetState;

/// The fleet state as applied on this node, shared between the state machine
/// (the only writer) and the hub's services (readers). Cloning is cheap.
///
/// Reads are local: on a follower they may lag the leader by a few entries.
#[derive(Debug, Clone)]
pub struct SharedState {
    state: Arc<RwLock<FleetState>>,
    applied_index: watch::Sender<u64>,
    sizes: Arc<SizeCounters>,
}

/// How big the state was when this node last built or installed a
/// snapshot (0 before any).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotSizes {
    /// The fleet state serialized as JSON (what `FleetState` weighs on the
    /// wire and on disk before any encoding choice).
    pub state_bytes: u64,
    /// The snapshot's bytes as stored in redb and sent to followers.
    pub snapshot_bytes: u64,
}

#[derive(Debug, Default)]
struct SizeCounters {
    state_bytes: AtomicU64,
    snapshot_bytes: AtomicU64,
}

impl SharedState {
    /// Shared state starting from `state`, applied up to log index
    /// `applied_index`.
    pub(crate) fn new(state: FleetState, applied_index: u64) -> Self {
        Self {
            state: Arc::new(RwLock::new(state)),
            applied_index: watch::Sender::new(applied_index),
            sizes: Arc::default(),
        }
    }

    /// Runs `reader` on the current state. Keep it short: the state machine
    /// waits for it before applying the next entries.
    pub fn read<T>(&self, reader: impl FnOnce(&FleetState) -> T) -> T {
        // A poisoned lock means a reader panicked; the state itself is only
        // changed by `FleetState::apply`, so it is still whole.
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        reader(&state)
    }

    /// A copy of the current state.
    pub fn clone_state(&self) -> FleetState {
        self.read(FleetState::clone)
    }

    /// The index of the last log entry applied to the state (0 before any).
    pub fn applied_index(&self) -> u64 {
        *self.applied_index.borrow()
    }

    /// A receiver that is notified with the new applied index each time
    /// entries are applied or a snapshot is installed; read the state with
    /// [`Self::read`] when it changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.applied_index.subscribe()
    }

    /// Write access for the state machine.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, FleetState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The sizes recorded with the last snapshot built or installed here.
    pub fn snapshot_sizes(&self) -> SnapshotSizes {
        SnapshotSizes {
            state_bytes: self.sizes.state_bytes.load(Ordering::Relaxed),
            snapshot_bytes: self.sizes.snapshot_bytes.load(Ordering::Relaxed),
        }
    }

    /// Records the sizes of a snapshot just built or installed.
    pub(crate) fn record_snapshot_sizes(&self, sizes: SnapshotSizes) {
        self.sizes
            .state_bytes
            .store(sizes.state_bytes, Ordering::Relaxed);
        self.sizes
            .snapshot_bytes
            .store(sizes.snapshot_bytes, Ordering::Relaxed);
    }

    /// Replaces the whole state (a snapshot was installed).
    pub(crate) fn replace(&self, state: FleetState, applied_index: u64) {
        *self.write() = state;
        self.publish(applied_index);
    }

    /// Tells subscribers that entries up to `applied_index` are applied.
    pub(crate) fn publish(&self, applied_index: u64) {
        self.applied_index.send_replace(applied_index);
    }
}
