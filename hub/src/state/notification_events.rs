//! Which changes of the replicated state raise notification events.
//!
//! Rollout events come from comparing the rollouts before and after a
//! command applies, so they follow from the log alone: every node raises the
//! same events with the same sequence numbers.

use super::command::Command;
use super::fleet_state::FleetState;
use super::notifications::{EventCategory, NotificationEvent};
use super::rollout::{FailurePolicy, Rollout, RolloutState, WaveState};

/// A rollout started.
pub const ROLLOUT_STARTED: &str = "rollout.started";
/// Every wave of a rollout succeeded.
pub const ROLLOUT_SUCCEEDED: &str = "rollout.succeeded";
/// A wave of a rollout failed (the rollout rolls back or pauses).
pub const ROLLOUT_FAILED: &str = "rollout.failed";
/// A rollout was rolled back (by the controller or an operator).
pub const ROLLOUT_ROLLED_BACK: &str = "rollout.rolled_back";
/// A rollout was paused.
pub const ROLLOUT_PAUSED: &str = "rollout.paused";
/// A manual wave waits for `fleetctl rollout promote`.
pub const WAVE_APPROVAL_NEEDED: &str = "wave.approval_needed";
/// A wave failed; the message holds the clusters' failures.
pub const WAVE_FAILED: &str = "wave.failed";
/// An agent reverted drift (counts only).
pub const DRIFT_REVERTED: &str = "drift.reverted";

/// The rollouts' states before a command, to compare with after.
pub(super) struct RolloutSnapshot {
    at_ms: u64,
    rollouts: Vec<(u64, RolloutState, Vec<WaveState>)>,
}

/// The time of a command that can change a rollout's state.
fn rollout_change_time(command: &Command) -> Option<u64> {
    match command {
        Command::RecordRevision { at_ms, .. }
        | Command::SetWaveState { at_ms, .. }
        | Command::SetRolloutState { at_ms, .. }
        | Command::RollbackRollout { at_ms, .. }
        | Command::Operate { at_ms, .. } => Some(*at_ms),
        _ => None,
    }
}

fn event(kind: &str, category: EventCategory, rollout: &Rollout, at_ms: u64) -> NotificationEvent {
    NotificationEvent {
        sequence: 0,
        kind: kind.to_owned(),
        category,
        rollout: Some(rollout.id),
        revision: rollout.revision.clone(),
        wave: None,
        clusters: Vec::new(),
        message: String::new(),
        at_ms,
    }
}

impl FleetState {
    /// The snapshot to compare with after `command`, when it may raise events.
    pub(super) fn rollout_snapshot(&self, command: &Command) -> Option<RolloutSnapshot> {
        let at_ms = rollout_change_time(command)?;
        if self.notifications.targets.is_empty() {
            return None;
        }
        Some(RolloutSnapshot {
            at_ms,
            rollouts: self
                .rollouts
                .iter()
                .map(|rollout| {
                    (
                        rollout.id,
                        rollout.state,
                        rollout.waves.iter().map(|wave| wave.state).collect(),
                    )
                })
                .collect(),
        })
    }

    /// Raises the events of every rollout change since `before`.
    pub(super) fn raise_rollout_events(&mut self, before: &RolloutSnapshot) {
        let at_ms = before.at_ms;
        let mut events = Vec::new();
        for rollout in &self.rollouts {
            let previous = before.rollouts.iter().find(|(id, ..)| *id == rollout.id);
            let Some((_, previous_state, previous_waves)) = previous else {
                let mut started = event(ROLLOUT_STARTED, EventCategory::Rollout, rollout, at_ms);
                started.message = format!(
                    "rollout {} of revision {} started: {}",
                    rollout.id, rollout.revision, rollout.summary
                );
                events.push(started);
                continue;
            };
            for (index, wave) in rollout.waves.iter().enumerate() {
                if previous_waves.get(index) == Some(&wave.state) {
                    continue;
                }
                match wave.state {
                    WaveState::WaitingApproval => {
                        let mut waiting = event(
                            WAVE_APPROVAL_NEEDED,
                            EventCategory::Approval,
                            rollout,
                            at_ms,
                        );
                        waiting.wave = Some(wave.name.clone());
                        waiting.clusters = wave.clusters.iter().map(|c| c.name.clone()).collect();
                        waiting.message = format!(
                            "wave {} of rollout {} waits for approval (fleetctl rollout promote --wave {})",
                            wave.name, rollout.id, wave.name
                        );
                        events.push(waiting);
                    }
                    WaveState::Failed => {
                        let failed: Vec<_> = wave
                            .clusters
                            .iter()
                            .filter_map(|cluster| {
                                cluster.failure.as_ref().map(|failure| (cluster, failure))
                            })
                            .collect();
                        let messages: Vec<String> = failed
                            .iter()
                            .map(|(cluster, failure)| format!("{}: {failure}", cluster.name))
                            .collect();
                        let mut wave_failed =
                            event(WAVE_FAILED, EventCategory::Rollout, rollout, at_ms);
                        wave_failed.wave = Some(wave.name.clone());
                        wave_failed.clusters = failed
                            .iter()
                            .map(|(cluster, _)| cluster.name.clone())
                            .collect();
                        wave_failed.message = format!(
                            "wave {} of rollout {} failed: {}",
                            wave.name,
                            rollout.id,
                            messages.join("; ")
                        );
                        let mut rollout_failed = wave_failed.clone();
                        rollout_failed.kind = ROLLOUT_FAILED.to_owned();
                        rollout_failed.message = format!(
                            "rollout {} of revision {} failed in wave {} ({})",
                            rollout.id,
                            rollout.revision,
                            wave.name,
                            match rollout.on_failure {
                                FailurePolicy::Rollback => "onFailure: rollback",
                                FailurePolicy::Pause => "onFailure: pause",
                            }
                        );
                        events.push(wave_failed);
                        events.push(rollout_failed);
                    }
                    _ => {}
                }
            }
            if rollout.state != *previous_state {
                let kind = match rollout.state {
                    RolloutState::Succeeded => ROLLOUT_SUCCEEDED,
                    RolloutState::RolledBack => ROLLOUT_ROLLED_BACK,
                    RolloutState::Paused => ROLLOUT_PAUSED,
                    RolloutState::Progressing | RolloutState::Superseded => continue,
                };
                let mut changed = event(kind, EventCategory::Rollout, rollout, at_ms);
                changed.message = if rollout.reason.is_empty() {
                    format!(
                        "rollout {} of revision {}: {kind}",
                        rollout.id, rollout.revision
                    )
                } else {
                    format!(
                        "rollout {} of revision {}: {kind}: {}",
                        rollout.id, rollout.revision, rollout.reason
                    )
                };
                events.push(changed);
            }
        }
        for event in events {
            self.notifications.raise(event);
        }
    }
}
