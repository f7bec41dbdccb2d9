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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::notifications::test_target as target;
    use crate::state::notifications::{DeliveryOutcome, DeliveryResult};
    use crate::state::{CommandResult, PlannedWave, RevisionVerdict, RolloutPlan};

    fn revision(state: &mut FleetState, revision: &str, digest: &str) {
        let result = state.apply(&Command::RecordRevision {
            charts: Vec::new(),
            revision: revision.into(),
            summary: "change".into(),
            at_ms: 1,
            verdict: RevisionVerdict::Valid {
                digests: [("a".to_owned(), digest.to_owned())].into(),
            },
            plan: Some(RolloutPlan {
                waves: vec![PlannedWave {
                    name: "prod".into(),
                    clusters: vec!["a".into()],
                    manual: true,
                    bake_ms: 0,
                    max_parallel: None,
                    gates: Vec::new(),
                }],
                max_failures: 0,
                progress_deadline_ms: 1000,
                on_failure: FailurePolicy::Rollback,
                windows: Vec::new(),
            }),
        });
        assert_eq!(result, CommandResult::Applied);
    }

    fn kinds(state: &FleetState) -> Vec<&str> {
        state
            .notifications
            .outbox
            .iter()
            .map(|entry| entry.event.kind.as_str())
            .collect()
    }

    #[test]
    fn rollout_changes_raise_events_only_for_targets_that_want_them() {
        let mut state = FleetState::default();
        revision(&mut state, "r1", "d1");
        assert!(state.notifications.outbox.is_empty(), "no target, no event");
        state.apply(&target("approvals", &[EventCategory::Approval]));
        state.apply(&target(
            "everything",
            &[EventCategory::Rollout, EventCategory::Approval],
        ));
        revision(&mut state, "r2", "d2");
        let rollout = state.active_rollout().unwrap().id;
        state.apply(&Command::SetWaveState {
            rollout,
            wave: 0,
            state: WaveState::WaitingApproval,
            at_ms: 2,
        });
        state.apply(&Command::FailCluster {
            rollout,
            cluster: "a".into(),
            reason: "Degraded: image pull failed".into(),
            at_ms: 3,
        });
        state.apply(&Command::SetWaveState {
            rollout,
            wave: 0,
            state: WaveState::Failed,
            at_ms: 3,
        });
        state.apply(&Command::RollbackRollout {
            rollout,
            reason: "wave prod failed".into(),
            actor: crate::state::rollout_transitions::CONTROLLER.into(),
            at_ms: 4,
        });
        assert_eq!(
            kinds(&state),
            [
                ROLLOUT_STARTED,
                WAVE_APPROVAL_NEEDED,
                WAVE_FAILED,
                ROLLOUT_FAILED,
                ROLLOUT_ROLLED_BACK
            ]
        );
        let outbox = &state.notifications.outbox;
        assert_eq!(outbox[1].pending.len(), 2, "both targets want approvals");
        assert_eq!(outbox[0].pending.len(), 1, "only one wants rollout events");
        assert!(
            outbox[2]
                .event
                .message
                .contains("a: Degraded: image pull failed")
        );
        let sequences: Vec<u64> = outbox.iter().map(|entry| entry.event.sequence).collect();
        assert_eq!(sequences, [1, 2, 3, 4, 5]);
        assert!(!format!("{:?}", target("x", &[])).contains("secret-path"));
    }

    #[test]
    fn acknowledged_events_leave_the_outbox_and_failures_stay_with_a_retry_time() {
        let mut state = FleetState::default();
        state.apply(&target("hook", &[EventCategory::Rollout]));
        revision(&mut state, "r1", "d1");
        revision(&mut state, "r2", "d2");
        assert_eq!(kinds(&state), [ROLLOUT_STARTED, ROLLOUT_STARTED]);
        let outcome = |sequence, result| DeliveryOutcome {
            sequence,
            target: "hook".into(),
            result,
        };
        state.apply(&Command::RecordNotificationDeliveries {
            outcomes: vec![
                outcome(1, DeliveryResult::Delivered),
                outcome(
                    2,
                    DeliveryResult::Failed {
                        error: "HTTP 500".into(),
                        next_attempt_ms: 99,
                    },
                ),
            ],
            at_ms: 10,
        });
        assert_eq!(state.notifications.outbox.len(), 1);
        let pending = &state.notifications.outbox[0].pending["hook"];
        assert_eq!((pending.attempts, pending.next_attempt_ms), (1, 99));
        let hook = &state.notifications.targets["hook"];
        assert_eq!((hook.delivered, hook.failed_attempts), (1, 1));
        // Past retention the leader trims; the target counts it as dropped.
        let trim = state.notifications.trim_command(5, 100, 20).unwrap();
        assert_eq!(state.apply(&trim), CommandResult::Applied);
        assert!(state.notifications.outbox.is_empty());
        assert_eq!(state.notifications.targets["hook"].dropped, 1);
        assert_eq!(state.notifications.trim_command(5, 100, 20), None);
    }
}
