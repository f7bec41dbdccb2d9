//! What `fleetctl rollout status` shows: waves in order with their state,
//! clusters converged/total, bake time left and failures with reasons.

use serde::{Deserialize, Serialize};

use super::controller::nothing_to_release;
use super::convergence::cluster_converged;
use crate::state::{FleetState, Rollout, WaveState};

/// The note on a wave whose selector matched no cluster.
pub const NO_CLUSTERS: &str = "no clusters";
/// The note on a wave none of whose clusters' desired state changes.
pub const NO_CHANGES: &str = "no changes";

/// One cluster of a wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// Cluster name.
    pub name: String,
    /// Whether its desired state changes in this rollout.
    pub changes: bool,
    /// Whether its target moved.
    pub released: bool,
    /// Whether it runs the new state, Healthy.
    pub converged: bool,
    /// Why it failed.
    pub failure: Option<String>,
    /// When its target moved (Unix milliseconds).
    #[serde(default)]
    pub released_at_ms: Option<u64>,
}

/// One wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveView {
    /// Wave name.
    pub name: String,
    /// Its state.
    pub state: String,
    /// Waits for a promote.
    pub manual: bool,
    /// Promoted.
    pub approved: bool,
    /// Converged clusters.
    pub converged: usize,
    /// All clusters.
    pub total: usize,
    /// Bake time left while baking (milliseconds).
    pub bake_left_ms: Option<u64>,
    /// Failures with reasons.
    pub failures: Vec<String>,
    /// Why the wave had nothing to release, if it had nothing: "no
    /// clusters" (its selector matched none) or "no changes" (none of its
    /// clusters' desired state changes). Such a wave succeeds at once.
    #[serde(default)]
    pub note: Option<String>,
    /// When it started releasing (Unix milliseconds).
    #[serde(default)]
    pub started_at_ms: Option<u64>,
    /// When it succeeded or failed (Unix milliseconds).
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
    /// Its clusters.
    pub clusters: Vec<ClusterView>,
}

/// A rollout as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutView {
    /// Rollout id.
    pub id: u64,
    /// Revision rolled out.
    pub revision: String,
    /// Commit summary.
    pub summary: String,
    /// Its state.
    pub state: String,
    /// Why it ended or paused.
    pub reason: String,
    /// Start (Unix milliseconds).
    pub started_at_ms: u64,
    /// End (Unix milliseconds).
    pub finished_at_ms: Option<u64>,
    /// Waves in order.
    pub waves: Vec<WaveView>,
}

impl RolloutView {
    /// The view of `rollout` at `now_ms`.
    pub fn of(state: &FleetState, rollout: &Rollout, now_ms: u64) -> Self {
        Self {
            id: rollout.id,
            revision: rollout.revision.clone(),
            summary: rollout.summary.clone(),
            state: format!("{:?}", rollout.state),
            reason: rollout.reason.clone(),
            started_at_ms: rollout.started_at_ms,
            finished_at_ms: rollout.finished_at_ms,
            waves: rollout
                .waves
                .iter()
                .map(|wave| {
                    let clusters: Vec<ClusterView> = wave
                        .clusters
                        .iter()
                        .map(|cluster| ClusterView {
                            name: cluster.name.clone(),
                            changes: cluster.changes,
                            released: cluster.released_at_ms.is_some(),
                            converged: cluster.released_at_ms.is_some()
                                && cluster_converged(state, cluster),
                            failure: cluster.failure.clone(),
                            released_at_ms: cluster.released_at_ms,
                        })
                        .collect();
                    WaveView {
                        name: wave.name.clone(),
                        state: format!("{:?}", wave.state),
                        manual: wave.manual,
                        approved: wave.approved,
                        converged: clusters.iter().filter(|cluster| cluster.converged).count(),
                        total: clusters.len(),
                        bake_left_ms: (wave.state == WaveState::Baking).then(|| {
                            let since = wave.baking_since_ms.unwrap_or(now_ms);
                            wave.bake_ms.saturating_sub(now_ms.saturating_sub(since))
                        }),
                        failures: wave
                            .clusters
                            .iter()
                            .filter_map(|cluster| cluster.failure.clone())
                            .collect(),
                        note: nothing_to_release(wave).then(|| {
                            if wave.clusters.is_empty() {
                                NO_CLUSTERS.to_owned()
                            } else {
                                NO_CHANGES.to_owned()
                            }
                        }),
                        started_at_ms: wave.started_at_ms,
                        finished_at_ms: wave.finished_at_ms,
                        clusters,
                    }
                })
                .collect(),
        }
    }
}

impl RolloutView {
    /// The wire form fleetctl and other admin clients receive.
    pub fn to_wire(&self) -> fleet_proto::RolloutView {
        fleet_proto::RolloutView {
            id: self.id,
            revision: self.revision.clone(),
            summary: self.summary.clone(),
            state: self.state.clone(),
            reason: self.reason.clone(),
            started_at_ms: self.started_at_ms,
            finished_at_ms: self.finished_at_ms,
            waves: self.waves.iter().map(WaveView::to_wire).collect(),
        }
    }
}

impl WaveView {
    /// The wire form of one wave.
    pub fn to_wire(&self) -> fleet_proto::WaveView {
        let count = |count: usize| u32::try_from(count).unwrap_or(u32::MAX);
        fleet_proto::WaveView {
            name: self.name.clone(),
            state: self.state.clone(),
            manual: self.manual,
            approved: self.approved,
            converged: count(self.converged),
            total: count(self.total),
            bake_left_ms: self.bake_left_ms,
            failures: self.failures.clone(),
            note: self.note.clone(),
            started_at_ms: self.started_at_ms,
            finished_at_ms: self.finished_at_ms,
            clusters: self.clusters.iter().map(ClusterView::to_wire).collect(),
        }
    }
}

impl ClusterView {
    /// The wire form of one cluster of a wave.
    pub fn to_wire(&self) -> fleet_proto::ClusterInWave {
        fleet_proto::ClusterInWave {
            name: self.name.clone(),
            changes: self.changes,
            released: self.released,
            converged: self.converged,
            failure: self.failure.clone(),
            released_at_ms: self.released_at_ms,
        }
    }
}
