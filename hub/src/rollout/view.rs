//! What `fleetctl rollout status` shows: waves in order with their state,
//! clusters converged/total, bake time left and failures with reasons.

use serde::{Deserialize, Serialize};

use super::controller::nothing_to_release;
use super::convergence::cluster_converged;
use fleet_core::rollout::{WindowState, wave_window_state};

use crate::state::{
    ClusterHold, FleetState, GateOutcome, Rollout, RolloutState, RolloutWave, WaveGate, WaveState,
};

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
    /// Held: "REASON (held by WHO)".
    #[serde(default)]
    pub hold: Option<String>,
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
    /// Held clusters it skips: "NAME: REASON (held by WHO)".
    #[serde(default)]
    pub held: Vec<String>,
    /// It would release clusters but its sync windows are closed.
    #[serde(default)]
    pub waiting_for_window: bool,
    /// When its windows next open, if known (Unix milliseconds).
    #[serde(default)]
    pub window_opens_at_ms: Option<u64>,
    /// Promoted with `--ignore-windows`.
    #[serde(default)]
    pub ignore_windows: bool,
    /// Its metric gates, one line each (see [`gate_line`]).
    #[serde(default)]
    pub gates: Vec<String>,
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
                            hold: state.hold_of(&cluster.name).map(ClusterHold::describe),
                        })
                        .collect();
                    let held = clusters
                        .iter()
                        .filter_map(|cluster| {
                            cluster
                                .hold
                                .as_ref()
                                .map(|hold| format!("{}: {hold}", cluster.name))
                        })
                        .collect();
                    let window = waiting_for_window(state, rollout, wave, now_ms);
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
                        held,
                        waiting_for_window: window.is_some(),
                        window_opens_at_ms: window.flatten(),
                        ignore_windows: wave.ignore_windows,
                        gates: wave.gates.iter().map(gate_line).collect(),
                    }
                })
                .collect(),
        }
    }
}

/// `Some(opens_at)` when `wave` is the one the rollout works on, would
/// release clusters, and its sync windows are closed.
fn waiting_for_window(
    state: &FleetState,
    rollout: &Rollout,
    wave: &RolloutWave,
    now_ms: u64,
) -> Option<Option<u64>> {
    if rollout.state != RolloutState::Progressing || wave.ignore_windows {
        return None;
    }
    let would_release = match wave.state {
        WaveState::Pending => !wave.manual || wave.approved,
        WaveState::WaitingApproval => wave.approved,
        WaveState::Progressing => wave
            .clusters
            .iter()
            .any(|cluster| cluster.released_at_ms.is_none() && !state.is_held(&cluster.name)),
        _ => false,
    };
    let current = rollout
        .current_wave()
        .is_some_and(|index| std::ptr::eq(&rollout.waves[index], wave));
    if !current || !would_release || nothing_to_release(wave) {
        return None;
    }
    match wave_window_state(&rollout.windows, &wave.name, now_ms) {
        WindowState::Open => None,
        WindowState::Closed { opens_at_ms } => Some(opens_at_ms),
    }
}

/// One gate as operators see it: "NAME: passed (value 0.001)", "NAME:
/// failed 2/1 (value 0.2 above max 0.01)", "NAME: inconclusive, waiting
/// (…)", "NAME: not evaluated yet".
pub fn gate_line(gate: &WaveGate) -> String {
    let failures = gate.record.failures;
    let limit = gate.failure_limit;
    match &gate.record.last {
        None => format!("{}: not evaluated yet", gate.name),
        Some(GateOutcome::Passed(value)) if failures == 0 => {
            format!("{}: passed ({value})", gate.name)
        }
        Some(GateOutcome::Passed(value)) => format!(
            "{}: passed ({value}), {failures} failed evaluation(s) of {limit} tolerated",
            gate.name
        ),
        Some(GateOutcome::Failed(why)) => {
            format!("{}: failed {failures}/{limit} ({why})", gate.name)
        }
        Some(GateOutcome::Inconclusive(why)) => {
            format!("{}: inconclusive, waiting ({why})", gate.name)
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
            held: self.held.clone(),
            waiting_for_window: self.waiting_for_window,
            window_opens_at_ms: self.window_opens_at_ms,
            ignore_windows: self.ignore_windows,
            gates: self.gates.clone(),
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
            hold: self.hold.clone(),
        }
    }
}
