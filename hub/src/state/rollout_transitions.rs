//! How rollout commands change the fleet state. Deterministic: every value
//! comes from the command or the state.

use std::collections::BTreeMap;

use super::command::CommandResult;
use super::fleet_state::FleetState;
use super::rollout::{
    OperatorAction, Rollout, RolloutCluster, RolloutPlan, RolloutState, RolloutWave, WaveState,
};

/// The actor recorded for the controller's own decisions.
pub const CONTROLLER: &str = "rollout-controller";

impl FleetState {
    /// The active rollout (progressing or paused), if any.
    pub fn active_rollout(&self) -> Option<&Rollout> {
        self.rollouts
            .iter()
            .rev()
            .find(|rollout| rollout.state.is_active())
    }

    fn rollout_mut(&mut self, id: u64) -> Result<&mut Rollout, CommandResult> {
        self.rollouts
            .iter_mut()
            .find(|rollout| rollout.id == id)
            .ok_or_else(|| CommandResult::Rejected(format!("unknown rollout {id}")))
    }

    pub(super) fn start_rollout(
        &mut self,
        revision: &str,
        summary: &str,
        digests: &BTreeMap<String, String>,
        plan: &RolloutPlan,
        at_ms: u64,
    ) {
        for rollout in self
            .rollouts
            .iter_mut()
            .filter(|rollout| rollout.state.is_active())
        {
            rollout.state = RolloutState::Superseded;
            rollout.finished_at_ms = Some(at_ms);
            rollout.reason = format!("superseded by revision {revision}");
        }
        let mut waves = Vec::with_capacity(plan.waves.len());
        for planned in &plan.waves {
            let mut clusters = Vec::new();
            for name in &planned.clusters {
                let Some(digest) = digests.get(name) else {
                    continue;
                };
                let current = self.clusters.get(name).cloned().unwrap_or_default();
                // Nothing to protect (a new cluster) or nothing changes: at
                // once — unless the cluster is held (it keeps its target).
                let held = self.holds.contains_key(name) && !current.target_revision.is_empty();
                let at_once = !held
                    && (current.target_revision.is_empty() || current.target_digest == *digest);
                if at_once {
                    self.set_target(name, revision, digest);
                }
                clusters.push(RolloutCluster {
                    name: name.clone(),
                    digest: digest.clone(),
                    changes: !at_once && current.target_digest != *digest,
                    released_at_ms: at_once.then_some(at_ms),
                    previous_revision: current.target_revision,
                    previous_digest: current.target_digest,
                    failure: None,
                });
            }
            let changing = clusters.iter().filter(|cluster| cluster.changes).count();
            waves.push(RolloutWave {
                name: planned.name.clone(),
                manual: planned.manual,
                approved: false,
                bake_ms: planned.bake_ms,
                max_parallel: planned.max_parallel.unwrap_or(changing).max(1),
                clusters,
                state: WaveState::Pending,
                started_at_ms: None,
                baking_since_ms: None,
                finished_at_ms: None,
                ignore_windows: false,
                gates: planned.gates.clone(),
            });
        }
        let id = self.rollouts.last().map_or(1, |rollout| rollout.id + 1);
        self.rollouts.push(Rollout {
            id,
            revision: revision.to_owned(),
            summary: summary.to_owned(),
            state: RolloutState::Progressing,
            waves,
            max_failures: plan.max_failures,
            progress_deadline_ms: plan.progress_deadline_ms,
            on_failure: plan.on_failure,
            started_at_ms: at_ms,
            finished_at_ms: None,
            reason: String::new(),
            windows: plan.windows.clone(),
        });
    }

    pub(super) fn release(&mut self, id: u64, clusters: &[String], at_ms: u64) -> CommandResult {
        let rollout = match self.rollout_mut(id) {
            Ok(rollout) => rollout,
            Err(refusal) => return refusal,
        };
        // A succeeded rollout still releases clusters that were held while
        // it ran (they catch up when their hold is released).
        if !rollout.state.is_active() && rollout.state != RolloutState::Succeeded {
            return CommandResult::Rejected(format!("rollout {id} is not active"));
        }
        let revision = rollout.revision.clone();
        let mut targets = Vec::new();
        for name in clusters {
            // A hold written after the controller decided wins.
            if self.holds.contains_key(name) {
                continue;
            }
            let Ok(rollout) = self.rollout_mut(id) else {
                continue;
            };
            let Some(cluster) = rollout.cluster_mut(name) else {
                return CommandResult::Rejected(format!(
                    "cluster '{name}' is not part of rollout {id}"
                ));
            };
            if cluster.released_at_ms.is_none() {
                cluster.released_at_ms = Some(at_ms);
                targets.push((name.clone(), cluster.digest.clone()));
            }
        }
        for (name, digest) in targets {
            // Remember what the cluster ran at release time, for rollback.
            let current = self.clusters.get(&name).cloned().unwrap_or_default();
            if let Ok(rollout) = self.rollout_mut(id)
                && let Some(cluster) = rollout.cluster_mut(&name)
            {
                cluster.previous_revision = current.target_revision.clone();
                cluster.previous_digest = current.target_digest.clone();
            }
            self.set_target(&name, &revision, &digest);
        }
        CommandResult::Applied
    }

    pub(super) fn set_wave_state(
        &mut self,
        id: u64,
        index: usize,
        state: WaveState,
        at_ms: u64,
    ) -> CommandResult {
        let rollout = match self.rollout_mut(id) {
            Ok(rollout) => rollout,
            Err(refusal) => return refusal,
        };
        let Some(wave) = rollout.waves.get_mut(index) else {
            return CommandResult::Rejected(format!("rollout {id} has no wave {index}"));
        };
        if wave.state == state {
            return CommandResult::Unchanged;
        }
        match state {
            WaveState::Progressing if wave.started_at_ms.is_none() => {
                wave.started_at_ms = Some(at_ms)
            }
            WaveState::Baking => wave.baking_since_ms = Some(at_ms),
            WaveState::Succeeded | WaveState::Failed => wave.finished_at_ms = Some(at_ms),
            _ => {}
        }
        if state == WaveState::Progressing {
            wave.baking_since_ms = None;
        }
        wave.state = state;
        CommandResult::Applied
    }

    pub(super) fn fail_cluster(
        &mut self,
        id: u64,
        name: &str,
        reason: &str,
        _at_ms: u64,
    ) -> CommandResult {
        let rollout = match self.rollout_mut(id) {
            Ok(rollout) => rollout,
            Err(refusal) => return refusal,
        };
        let Some(cluster) = rollout.cluster_mut(name) else {
            return CommandResult::Rejected(format!(
                "cluster '{name}' is not part of rollout {id}"
            ));
        };
        if cluster.failure.is_some() {
            return CommandResult::Unchanged;
        }
        cluster.failure = Some(reason.to_owned());
        CommandResult::Applied
    }

    pub(super) fn set_rollout_state(
        &mut self,
        id: u64,
        state: RolloutState,
        reason: &str,
        at_ms: u64,
    ) -> CommandResult {
        let rollout = match self.rollout_mut(id) {
            Ok(rollout) => rollout,
            Err(refusal) => return refusal,
        };
        if rollout.state == state {
            return CommandResult::Unchanged;
        }
        rollout.state = state;
        rollout.reason = reason.to_owned();
        if !state.is_active() {
            rollout.finished_at_ms = Some(at_ms);
        }
        CommandResult::Applied
    }

    pub(super) fn rollback(
        &mut self,
        id: u64,
        reason: &str,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        let rollout = match self.rollout_mut(id) {
            Ok(rollout) => rollout,
            Err(refusal) => return refusal,
        };
        if !rollout.state.is_active() && rollout.state != RolloutState::Succeeded {
            return CommandResult::Rejected(format!(
                "rollout {id} is {:?}; nothing to roll back",
                rollout.state
            ));
        }
        rollout.state = RolloutState::RolledBack;
        rollout.reason = reason.to_owned();
        rollout.finished_at_ms = Some(at_ms);
        let revision = rollout.revision.clone();
        let released: Vec<(String, String, String)> = rollout
            .waves
            .iter()
            .flat_map(|wave| wave.clusters.iter())
            .filter(|cluster| {
                cluster.released_at_ms.is_some() && !cluster.previous_revision.is_empty()
            })
            .map(|cluster| {
                (
                    cluster.name.clone(),
                    cluster.previous_revision.clone(),
                    cluster.previous_digest.clone(),
                )
            })
            .collect();
        for (name, previous, digest) in &released {
            let on_this_rollout = self
                .clusters
                .get(name)
                .is_some_and(|record| record.target_revision == revision);
            if on_this_rollout {
                self.set_target(name, previous, digest);
            }
        }
        if actor != CONTROLLER {
            self.audit(
                actor,
                at_ms,
                format!("rolled back rollout {id} (revision {revision})"),
            );
        }
        CommandResult::Applied
    }

    pub(super) fn operate(
        &mut self,
        action: &OperatorAction,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        let Some(id) = self.active_rollout().map(|rollout| rollout.id) else {
            return CommandResult::Rejected("no rollout is in progress".to_owned());
        };
        let rollout = match self.rollout_mut(id) {
            Ok(rollout) => rollout,
            Err(refusal) => return refusal,
        };
        let revision = rollout.revision.clone();
        let described = match action {
            OperatorAction::Promote {
                wave,
                all,
                ignore_windows,
            } => {
                let current = rollout.current_wave();
                let mut promoted = Vec::new();
                for (index, candidate) in rollout.waves.iter_mut().enumerate() {
                    let chosen = *all
                        || wave.as_deref() == Some(candidate.name.as_str())
                        || (wave.is_none() && Some(index) == current);
                    if chosen && candidate.state != WaveState::Succeeded {
                        candidate.approved = true;
                        candidate.ignore_windows |= *ignore_windows;
                        promoted.push(candidate.name.clone());
                    }
                }
                if promoted.is_empty() {
                    return CommandResult::Rejected(match wave {
                        Some(name) => format!("no wave '{name}' left to promote in rollout {id}"),
                        None => format!("no wave left to promote in rollout {id}"),
                    });
                }
                format!(
                    "promoted wave(s) {} of rollout {id} (revision {revision}){}",
                    promoted.join(", "),
                    if *ignore_windows {
                        ", ignoring sync windows"
                    } else {
                        ""
                    }
                )
            }
            OperatorAction::Pause => {
                if rollout.state == RolloutState::Paused {
                    return CommandResult::Rejected(format!("rollout {id} is already paused"));
                }
                rollout.state = RolloutState::Paused;
                rollout.reason = format!("paused by {actor}");
                format!("paused rollout {id} (revision {revision})")
            }
            OperatorAction::Resume => {
                if rollout.state != RolloutState::Paused {
                    return CommandResult::Rejected(format!("rollout {id} is not paused"));
                }
                rollout.state = RolloutState::Progressing;
                rollout.reason.clear();
                // A wave that failed under `onFailure: pause` is tried again.
                for wave in rollout
                    .waves
                    .iter_mut()
                    .filter(|wave| wave.state == WaveState::Failed)
                {
                    wave.state = WaveState::Progressing;
                    wave.finished_at_ms = None;
                    for cluster in &mut wave.clusters {
                        cluster.failure = None;
                        if cluster.released_at_ms.is_some() {
                            cluster.released_at_ms = Some(at_ms);
                        }
                    }
                }
                format!("resumed rollout {id} (revision {revision})")
            }
        };
        self.audit(actor, at_ms, described);
        CommandResult::Applied
    }
}
