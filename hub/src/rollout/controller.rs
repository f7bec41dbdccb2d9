//! The rollout controller's decision: given the replicated state and the
//! time, the one next command to write (or none). Pure, so it is tested
//! without Raft or clocks, and any leader reaches the same decisions.

use fleet_core::rollout::{WindowState, wave_window_state};

use crate::state::rollout_transitions::CONTROLLER;
use crate::state::{
    Command, FailurePolicy, FleetState, GateOutcome, Rollout, RolloutCluster, RolloutState,
    RolloutWave, WaveGate, WaveState,
};

use super::convergence::{cluster_converged, cluster_failure};

/// Tunables of the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControllerSettings {
    /// How long a cluster may report Degraded before it counts as failed.
    pub degraded_grace_ms: u64,
}

impl Default for ControllerSettings {
    fn default() -> Self {
        Self {
            degraded_grace_ms: 5_000,
        }
    }
}

/// The next command the controller should write, if any.
///
/// Held clusters are skipped: never released, never failed, not waited
/// for. Sync windows are read at `now_ms`: a wave whose windows are closed
/// releases no new cluster (one in progress finishes those it released).
pub fn decide(state: &FleetState, now_ms: u64, settings: ControllerSettings) -> Option<Command> {
    let Some(rollout) = state.active_rollout() else {
        // Clusters held through the last rollout catch up once released.
        let last = state.rollouts.last()?;
        return (last.state == RolloutState::Succeeded)
            .then(|| catch_up(state, last, now_ms))
            .flatten();
    };
    if rollout.state == RolloutState::Paused {
        return None;
    }
    if let Some(command) = catch_up(state, rollout, now_ms) {
        return Some(command);
    }
    let id = rollout.id;
    let Some(index) = rollout.current_wave() else {
        return Some(Command::SetRolloutState {
            rollout: id,
            state: RolloutState::Succeeded,
            reason: "every wave converged".to_owned(),
            at_ms: now_ms,
        });
    };
    let wave = &rollout.waves[index];
    let set = |state: WaveState| Command::SetWaveState {
        rollout: id,
        wave: index,
        state,
        at_ms: now_ms,
    };
    // A wave with nothing to release (no clusters, or none whose desired
    // state changes) has nothing to approve, release or bake: it succeeds at
    // once, and the rollout view says why ("no clusters" / "no changes").
    if nothing_to_release(wave)
        && matches!(
            wave.state,
            WaveState::Pending
                | WaveState::WaitingApproval
                | WaveState::Progressing
                | WaveState::Baking
        )
    {
        return Some(set(WaveState::Succeeded));
    }
    match wave.state {
        WaveState::Pending if wave.manual && !wave.approved => {
            Some(set(WaveState::WaitingApproval))
        }
        WaveState::Pending | WaveState::WaitingApproval
            if !window_open(rollout, wave, now_ms) && (!wave.manual || wave.approved) =>
        {
            None
        }
        WaveState::Pending => Some(set(WaveState::Progressing)),
        WaveState::WaitingApproval if wave.approved => Some(set(WaveState::Progressing)),
        WaveState::WaitingApproval | WaveState::Succeeded => None,
        WaveState::Failed => {
            let mut failures: Vec<String> = wave
                .clusters
                .iter()
                .filter_map(|cluster| cluster.failure.clone())
                .collect();
            failures.extend(gate_failures(wave));
            let reason = format!("wave {} failed: {}", wave.name, failures.join("; "));
            Some(match rollout.on_failure {
                FailurePolicy::Rollback => Command::RollbackRollout {
                    rollout: id,
                    reason,
                    actor: CONTROLLER.to_owned(),
                    at_ms: now_ms,
                },
                FailurePolicy::Pause => Command::SetRolloutState {
                    rollout: id,
                    state: RolloutState::Paused,
                    reason,
                    at_ms: now_ms,
                },
            })
        }
        WaveState::Progressing | WaveState::Baking => {
            let held = |cluster: &RolloutCluster| state.is_held(&cluster.name);
            for cluster in wave.clusters.iter().filter(|cluster| !held(cluster)) {
                if let Some(reason) =
                    cluster_failure(state, rollout, cluster, now_ms, settings.degraded_grace_ms)
                {
                    return Some(Command::FailCluster {
                        rollout: id,
                        cluster: cluster.name.clone(),
                        reason,
                        at_ms: now_ms,
                    });
                }
            }
            let failed = wave
                .clusters
                .iter()
                .filter(|cluster| cluster.failure.is_some())
                .count();
            if failed > rollout.max_failures || wave.gates.iter().any(WaveGate::exceeded) {
                return Some(set(WaveState::Failed));
            }
            let healthy_or_failed = |cluster: &&RolloutCluster| {
                cluster.failure.is_some() || cluster_converged(state, cluster)
            };
            let in_flight = wave
                .clusters
                .iter()
                .filter(|cluster| !held(cluster))
                .filter(|cluster| cluster.released_at_ms.is_some() && !healthy_or_failed(cluster))
                .count();
            let waiting: Vec<String> = wave
                .clusters
                .iter()
                .filter(|cluster| cluster.released_at_ms.is_none() && !held(cluster))
                .map(|cluster| cluster.name.clone())
                .collect();
            if !waiting.is_empty() && !window_open(rollout, wave, now_ms) {
                // Closed window: finish what was released, release no more.
                return None;
            }
            if !waiting.is_empty() && in_flight < wave.max_parallel {
                let room = wave.max_parallel - in_flight;
                return Some(Command::ReleaseClusters {
                    rollout: id,
                    clusters: waiting.into_iter().take(room).collect(),
                    at_ms: now_ms,
                });
            }
            let all_converged = waiting.is_empty()
                && wave
                    .clusters
                    .iter()
                    .filter(|cluster| !held(cluster))
                    .all(|cluster| healthy_or_failed(&cluster));
            match (wave.state, all_converged) {
                (WaveState::Progressing, true) => Some(set(WaveState::Baking)),
                (WaveState::Baking, true) => {
                    let since = wave.baking_since_ms.unwrap_or(now_ms);
                    let baked = now_ms.saturating_sub(since);
                    let gates_passed = wave.gates.iter().all(|gate| gate.passed_since(since));
                    if baked >= wave.bake_ms && gates_passed {
                        Some(set(WaveState::Succeeded))
                    } else if !gates_passed
                        && baked >= wave.bake_ms.saturating_add(rollout.progress_deadline_ms)
                    {
                        // Gates without a verdict (Prometheus unreachable, an
                        // empty result) wait, but not past the progress deadline.
                        Some(set(WaveState::Failed))
                    } else {
                        None
                    }
                }
                (WaveState::Baking, false) => Some(set(WaveState::Progressing)),
                _ => None,
            }
        }
    }
}

/// Whether the sync windows let `wave` release clusters at `now_ms` (always,
/// once an operator promoted it with `--ignore-windows`).
pub fn window_open(rollout: &Rollout, wave: &RolloutWave, now_ms: u64) -> bool {
    wave.ignore_windows
        || wave_window_state(&rollout.windows, &wave.name, now_ms) == WindowState::Open
}

/// Releases clusters of `rollout`'s finished waves that were skipped while
/// held and are held no longer (they move to the rollout's revision through
/// the normal release), when their wave's windows allow it.
fn catch_up(state: &FleetState, rollout: &Rollout, now_ms: u64) -> Option<Command> {
    for wave in rollout
        .waves
        .iter()
        .filter(|wave| wave.state == WaveState::Succeeded)
    {
        let clusters: Vec<String> = wave
            .clusters
            .iter()
            .filter(|cluster| cluster.released_at_ms.is_none() && !state.is_held(&cluster.name))
            .map(|cluster| cluster.name.clone())
            .collect();
        if !clusters.is_empty() && window_open(rollout, wave, now_ms) {
            return Some(Command::ReleaseClusters {
                rollout: rollout.id,
                clusters,
                at_ms: now_ms,
            });
        }
    }
    None
}

/// Why `wave`'s gates failed it: each gate that failed more often than
/// tolerated (naming the value and the bound), and each gate that had no
/// passing verdict when the wave failed.
fn gate_failures(wave: &RolloutWave) -> Vec<String> {
    wave.gates
        .iter()
        .filter_map(|gate| {
            if gate.exceeded() {
                let why = gate.record.last_failure.as_deref().unwrap_or("failed");
                return Some(format!(
                    "gate {} failed: {why} ({} failed evaluations, failureLimit {})",
                    gate.name, gate.record.failures, gate.failure_limit
                ));
            }
            match &gate.record.last {
                Some(GateOutcome::Passed(_)) => None,
                Some(GateOutcome::Inconclusive(why)) => Some(format!(
                    "gate {} inconclusive past the progress deadline: {why}",
                    gate.name
                )),
                Some(GateOutcome::Failed(why)) => Some(format!(
                    "gate {} not passing past the progress deadline: {why}",
                    gate.name
                )),
                None => Some(format!(
                    "gate {} was not evaluated within the progress deadline (no Prometheus configured?)",
                    gate.name
                )),
            }
        })
        .collect()
}

/// Whether `wave` has nothing to release: no clusters, or none whose
/// desired state changes in this rollout.
pub fn nothing_to_release(wave: &RolloutWave) -> bool {
    !wave.clusters.iter().any(|cluster| cluster.changes)
}

#[cfg(test)]
#[path = "controller_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "policy_tests.rs"]
mod policy_tests;

#[cfg(test)]
#[path = "gate_tests.rs"]
mod gate_tests;
