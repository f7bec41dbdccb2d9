//! Rollouts in the replicated state (DESIGN §4): each wave's clusters and
//! state, each cluster's previous and new target, timestamps. The leader's
//! rollout controller decides; these records and their transitions are what
//! every node agrees on.

use fleet_core::rollout::SyncWindow;
use serde::{Deserialize, Serialize};

use super::gates::WaveGate;

/// What a failed wave does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailurePolicy {
    /// Put every released cluster back on its previous revision.
    #[default]
    Rollback,
    /// Hold everything until an operator acts.
    Pause,
}

/// Where a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RolloutState {
    /// Waves are being released.
    Progressing,
    /// Held: by an operator or by a failure with `onFailure: pause`.
    Paused,
    /// Every wave succeeded.
    Succeeded,
    /// Rolled back (automatically or by an operator).
    RolledBack,
    /// A newer revision took over.
    Superseded,
}

impl RolloutState {
    /// Whether the rollout is still running (progressing or paused).
    pub fn is_active(self) -> bool {
        matches!(self, RolloutState::Progressing | RolloutState::Paused)
    }
}

/// Where a wave is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaveState {
    /// Not started.
    Pending,
    /// Waiting for `fleetctl rollout promote`.
    WaitingApproval,
    /// Releasing clusters and waiting for them to converge.
    Progressing,
    /// Every cluster converged; staying so for the bake time.
    Baking,
    /// Done.
    Succeeded,
    /// More clusters failed than tolerated.
    Failed,
}

/// One cluster's part in a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutCluster {
    /// Cluster name.
    pub name: String,
    /// Digest of its desired state at the rollout's revision.
    pub digest: String,
    /// Whether its desired state changes (unchanged clusters converge at once).
    pub changes: bool,
    /// When it was released (its target moved), if it was.
    pub released_at_ms: Option<u64>,
    /// Its target before the release (for rollback).
    pub previous_revision: String,
    /// Digest of that previous target.
    pub previous_digest: String,
    /// Why it failed, if it did.
    pub failure: Option<String>,
}

/// One wave of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutWave {
    /// Wave name.
    pub name: String,
    /// Whether the wave waits for a promote.
    pub manual: bool,
    /// Whether an operator promoted it.
    pub approved: bool,
    /// How long it must stay converged.
    pub bake_ms: u64,
    /// Clusters released at once.
    pub max_parallel: usize,
    /// Its clusters.
    pub clusters: Vec<RolloutCluster>,
    /// Where it is.
    pub state: WaveState,
    /// When it started progressing.
    pub started_at_ms: Option<u64>,
    /// When it started baking.
    pub baking_since_ms: Option<u64>,
    /// When it finished.
    pub finished_at_ms: Option<u64>,
    /// An operator promoted it with `--ignore-windows`: sync windows no
    /// longer hold it.
    #[serde(default)]
    pub ignore_windows: bool,
    /// Metric gates and what they found.
    #[serde(default)]
    pub gates: Vec<WaveGate>,
}

/// A rollout of one revision across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// Sequence number (1, 2, …).
    pub id: u64,
    /// The revision rolled out.
    pub revision: String,
    /// Its commit summary.
    pub summary: String,
    /// Where it is.
    pub state: RolloutState,
    /// Waves in release order.
    pub waves: Vec<RolloutWave>,
    /// Failed clusters tolerated per wave.
    pub max_failures: usize,
    /// How long a released cluster may take to converge.
    pub progress_deadline_ms: u64,
    /// What a failed wave does.
    pub on_failure: FailurePolicy,
    /// When it started.
    pub started_at_ms: u64,
    /// When it ended.
    pub finished_at_ms: Option<u64>,
    /// Why it ended or paused, in words.
    pub reason: String,
    /// Sync windows of the revision's `fleet.yaml`.
    #[serde(default)]
    pub windows: Vec<SyncWindow>,
}

impl Rollout {
    /// The wave being worked on: the first that has not succeeded.
    pub fn current_wave(&self) -> Option<usize> {
        self.waves
            .iter()
            .position(|wave| wave.state != WaveState::Succeeded)
    }

    /// The cluster entry `name`, wherever it is.
    pub fn cluster_mut(&mut self, name: &str) -> Option<&mut RolloutCluster> {
        self.waves
            .iter_mut()
            .flat_map(|wave| wave.clusters.iter_mut())
            .find(|cluster| cluster.name == name)
    }
}

/// The waves of a new revision as the leader planned them (in the command
/// that records the revision, so every node builds the same rollout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutPlan {
    /// Waves with their clusters (names) and settings.
    pub waves: Vec<PlannedWave>,
    /// Failed clusters tolerated per wave.
    pub max_failures: usize,
    /// How long a released cluster may take to converge.
    pub progress_deadline_ms: u64,
    /// What a failed wave does.
    pub on_failure: FailurePolicy,
    /// Sync windows of the revision's `fleet.yaml`.
    #[serde(default)]
    pub windows: Vec<SyncWindow>,
}

/// One planned wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedWave {
    /// Wave name.
    pub name: String,
    /// Clusters in it.
    pub clusters: Vec<String>,
    /// Waits for a promote.
    pub manual: bool,
    /// Bake time.
    pub bake_ms: u64,
    /// `maxParallel` as a count (computed from the wave's size), if set.
    pub max_parallel: Option<usize>,
    /// Metric gates.
    #[serde(default)]
    pub gates: Vec<WaveGate>,
}

/// An operator's action on a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperatorAction {
    /// Approve the named manual wave (or the current one), or every wave.
    Promote {
        /// The wave, or `None` for the current one.
        wave: Option<String>,
        /// Approve every remaining wave.
        all: bool,
        /// Release the promoted waves whatever their sync windows say.
        #[serde(default)]
        ignore_windows: bool,
    },
    /// Hold the rollout.
    Pause,
    /// Continue a paused rollout (a failed wave is retried).
    Resume,
}
