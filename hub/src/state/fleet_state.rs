//! The fleet state and its deterministic transition function.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command::{Command, CommandResult};
use super::hub_nodes::{HubNodeRecord, JoinTokenRecord};
use super::records::{AuditEntry, ClusterRecord, RevisionRecord, RevisionVerdict, TokenRecord};

/// Certificate records kept per cluster: the newest and the one it
/// replaced (an agent that lost a renewal's answer still holds that one).
/// Older certificates are refused from the next renewal on.
pub const CERTIFICATES_KEPT_PER_CLUSTER: usize = 2;

/// Everything the hub decides and remembers, replicated by Raft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetState {
    /// Observed revisions by commit id.
    pub revisions: BTreeMap<String, RevisionRecord>,
    /// Commit ids in the order they were observed.
    pub revision_log: Vec<String>,
    /// Clusters by name: targets, agents, last status.
    pub clusters: BTreeMap<String, ClusterRecord>,
    /// Bootstrap tokens by the hex sha256 of the token.
    pub tokens: BTreeMap<String, TokenRecord>,
    /// Operator actions, oldest first.
    pub audit: Vec<AuditEntry>,
    /// Rollouts, oldest first (at most one is active).
    #[serde(default)]
    pub rollouts: Vec<super::rollout::Rollout>,
    /// Join tokens for new hub nodes by the hex sha256 of the token.
    #[serde(default)]
    pub join_tokens: BTreeMap<String, JoinTokenRecord>,
    /// The hub's nodes by Raft node id.
    #[serde(default)]
    pub hub_nodes: BTreeMap<u64, HubNodeRecord>,
    /// The sequence number of the last audit entry trimmed (0 before any):
    /// new entries are numbered after it even when every entry is gone.
    #[serde(default)]
    pub audit_trimmed_through: u64,
    /// Operators by name (see `state/users.rs`).
    #[serde(default)]
    pub users: BTreeMap<String, super::users::UserRecord>,
    /// Notification targets and the outbox of undelivered events.
    #[serde(default)]
    pub notifications: super::notifications::NotificationState,
    /// Held clusters by name (see `state/holds.rs`).
    #[serde(default)]
    pub holds: BTreeMap<String, super::holds::ClusterHold>,
    /// Hub nodes' heartbeats and clusters' sessions (see `state/presence.rs`).
    #[serde(default)]
    pub presence: super::presence::PresenceState,
}

impl FleetState {
    /// Applies `command`; a rejected command leaves the state unchanged.
    /// Rollout changes raise notification events into the outbox.
    pub fn apply(&mut self, command: &Command) -> CommandResult {
        let before = self.rollout_snapshot(command);
        let result = self.apply_command(command);
        if let Some(before) = before
            && result == CommandResult::Applied
        {
            self.raise_rollout_events(&before);
        }
        result
    }

    fn apply_command(&mut self, command: &Command) -> CommandResult {
        match command {
            Command::RecordRevision {
                revision,
                summary,
                at_ms,
                verdict,
                plan,
                charts,
            } => self.record_revision(revision, summary, *at_ms, verdict, plan.as_ref(), charts),
            Command::CreateToken {
                token_hash,
                cluster,
                at_ms,
                expires_at_ms,
                actor,
            } => self.create_token(token_hash, cluster, *at_ms, *expires_at_ms, actor),
            Command::Enroll {
                token_hash,
                cluster,
                serial,
                at_ms,
                expires_at_ms,
            } => self.enroll(token_hash, cluster, serial, *at_ms, *expires_at_ms),
            Command::ReportStatus {
                cluster,
                status,
                at_ms,
            } => self.report_status(cluster, status, *at_ms),
            Command::ReportStatuses {
                updates,
                at_ms,
                drift,
                drift_kept,
            } => self.report_statuses(updates, drift, *drift_kept, *at_ms),
            Command::RevokeCluster {
                cluster,
                at_ms,
                actor,
            } => self.revoke_cluster(cluster, actor, *at_ms),
            Command::Audit {
                actor,
                action,
                at_ms,
            } => {
                self.audit(actor, *at_ms, action.clone());
                CommandResult::Applied
            }
            Command::ReleaseClusters {
                rollout,
                clusters,
                at_ms,
            } => self.release(*rollout, clusters, *at_ms),
            Command::SetWaveState {
                rollout,
                wave,
                state,
                at_ms,
            } => self.set_wave_state(*rollout, *wave, *state, *at_ms),
            Command::FailCluster {
                rollout,
                cluster,
                reason,
                at_ms,
            } => self.fail_cluster(*rollout, cluster, reason, *at_ms),
            Command::SetRolloutState {
                rollout,
                state,
                reason,
                at_ms,
            } => self.set_rollout_state(*rollout, *state, reason, *at_ms),
            Command::RollbackRollout {
                rollout,
                reason,
                actor,
                at_ms,
            } => self.rollback(*rollout, reason, actor, *at_ms),
            Command::Operate {
                action,
                actor,
                at_ms,
            } => self.operate(action, actor, *at_ms),
            Command::CreateJoinToken {
                token_hash,
                at_ms,
                expires_at_ms,
                actor,
            } => self.create_join_token(token_hash, *at_ms, *expires_at_ms, actor),
            Command::JoinHub {
                token_hash,
                node_id,
                name,
                address,
                at_ms,
            } => self.join_hub(token_hash, *node_id, name, address, *at_ms),
            Command::RegisterHubNode {
                node_id,
                name,
                address,
                at_ms,
            } => self.register_hub_node(*node_id, name, address, *at_ms),
            Command::SetHubNodeRemoved {
                name,
                removed,
                actor,
                at_ms,
            } => self.set_hub_node_removed(name, *removed, actor, *at_ms),
            Command::RenewCertificate {
                cluster,
                previous_serial,
                serial,
                at_ms,
                expires_at_ms,
            } => self.renew_certificate(cluster, previous_serial, serial, *at_ms, *expires_at_ms),
            Command::Trim {
                revisions,
                rollouts,
                audit_through_sequence,
                users,
                at_ms,
            } => {
                let trimmed = self.trim(revisions, rollouts, *audit_through_sequence);
                if self.trim_users(users, *at_ms) == CommandResult::Applied {
                    CommandResult::Applied
                } else {
                    trimmed
                }
            }
            Command::CreateUser {
                name,
                role,
                environments,
                serial,
                expires_at_ms,
                actor,
                at_ms,
            } => self.create_user(
                name,
                *role,
                environments,
                serial,
                *expires_at_ms,
                actor,
                *at_ms,
            ),
            Command::RevokeUser { name, actor, at_ms } => self.revoke_user(name, actor, *at_ms),
            Command::RenewUser {
                name,
                previous_serial,
                serial,
                expires_at_ms,
                at_ms,
            } => self.renew_user(name, previous_serial, serial, *expires_at_ms, *at_ms),
            Command::RecordInitAdmin {
                name,
                serial,
                expires_at_ms,
                at_ms,
            } => self.record_init_admin(name, serial, *expires_at_ms, *at_ms),
            Command::AuditRefusals { refusals, at_ms } => {
                for refusal in refusals {
                    self.audit_refusal(refusal, *at_ms);
                }
                CommandResult::Applied
            }
            Command::SetNotificationTarget {
                target,
                actor,
                at_ms,
            } => self.set_notification_target(target, actor, *at_ms),
            Command::RemoveNotificationTarget { name, actor, at_ms } => {
                self.remove_notification_target(name, actor, *at_ms)
            }
            Command::RecordNotificationDeliveries { outcomes, at_ms } => {
                self.record_notification_deliveries(outcomes, *at_ms)
            }
            Command::TrimNotifications {
                through_sequence,
                at_ms: _,
            } => self.trim_notifications(*through_sequence),
            Command::RaiseNotification { event } => {
                self.notifications.raise(event.clone());
                CommandResult::Applied
            }
            Command::HoldCluster {
                cluster,
                reason,
                actor,
                at_ms,
            } => self.hold_cluster(cluster, reason, actor, *at_ms),
            Command::ReleaseClusterHold {
                cluster,
                actor,
                at_ms,
            } => self.release_hold(cluster, actor, *at_ms),
            Command::RecordGateEvaluation {
                rollout,
                wave,
                gate,
                outcome,
                at_ms,
            } => self.record_gate_evaluation(*rollout, *wave, gate, outcome, *at_ms),
            Command::RecordPresence {
                node,
                incarnation,
                changes,
                at_ms,
            } => self.record_presence(*node, *incarnation, changes, *at_ms),
            Command::ReportDisconnected {
                clusters,
                after_ms,
                stale_after_ms,
                at_ms,
            } => self.report_disconnected(clusters, *after_ms, *stale_after_ms, *at_ms),
        }
    }

    fn record_revision(
        &mut self,
        revision: &str,
        summary: &str,
        at_ms: u64,
        verdict: &RevisionVerdict,
        plan: Option<&super::rollout::RolloutPlan>,
        charts: &[fleet_core::render::ChartDigest],
    ) -> CommandResult {
        if self.revisions.contains_key(revision) {
            return CommandResult::Unchanged;
        }
        self.revisions.insert(
            revision.to_owned(),
            RevisionRecord {
                revision: revision.to_owned(),
                summary: summary.to_owned(),
                observed_at_ms: at_ms,
                verdict: verdict.clone(),
                charts: charts.to_vec(),
            },
        );
        self.revision_log.push(revision.to_owned());
        if let (RevisionVerdict::Valid { digests }, Some(plan)) = (verdict, plan) {
            self.start_rollout(revision, summary, digests, plan, at_ms);
        }
        CommandResult::Applied
    }

    /// Moves `cluster`'s target to `revision` (remembering the old one).
    pub(super) fn set_target(&mut self, cluster: &str, revision: &str, digest: &str) {
        let record = self.clusters.entry(cluster.to_owned()).or_default();
        if record.target_revision != revision {
            record.previous_revision = std::mem::take(&mut record.target_revision);
            record.target_revision = revision.to_owned();
        }
        record.target_digest = digest.to_owned();
    }

    pub(super) fn audit(&mut self, actor: &str, at_ms: u64, action: String) {
        let sequence = self
            .audit
            .last()
            .map_or(self.audit_trimmed_through, |entry| entry.sequence)
            + 1;
        let role = self.role_of_actor(actor);
        self.audit.push(AuditEntry {
            sequence,
            at_ms,
            actor: actor.to_owned(),
            action,
            role,
            refused: None,
        });
    }

    /// Records a refused call (issue #15): who, with which role, what and why.
    fn audit_refusal(&mut self, refusal: &super::command::Refusal, at_ms: u64) {
        let sequence = self
            .audit
            .last()
            .map_or(self.audit_trimmed_through, |entry| entry.sequence)
            + 1;
        self.audit.push(AuditEntry {
            sequence,
            at_ms,
            actor: refusal.actor.clone(),
            action: refusal.action.clone(),
            role: refusal.role.clone(),
            refused: Some(refusal.reason.clone()),
        });
    }

    /// The chart digests recorded by the revisions kept (the newest record
    /// of each chart version): what every render on every node must find.
    pub fn recorded_charts(&self) -> Vec<fleet_core::render::ChartDigest> {
        let mut seen = std::collections::BTreeSet::new();
        self.revision_log
            .iter()
            .rev()
            .filter_map(|revision| self.revisions.get(revision))
            .flat_map(|record| &record.charts)
            .filter(|chart| {
                seen.insert((
                    chart.repository.clone(),
                    chart.chart.clone(),
                    chart.version.clone(),
                ))
            })
            .cloned()
            .collect()
    }

    /// The newest valid revision, if any.
    pub fn latest_valid_revision(&self) -> Option<&RevisionRecord> {
        self.revision_log
            .iter()
            .rev()
            .filter_map(|revision| self.revisions.get(revision))
            .find(|record| matches!(record.verdict, RevisionVerdict::Valid { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_revisions_start_rollouts_and_invalid_ones_move_nothing() {
        let mut state = FleetState::default();
        let digests = |digest: &str| RevisionVerdict::Valid {
            digests: [
                ("a".to_owned(), digest.to_owned()),
                ("b".to_owned(), digest.to_owned()),
            ]
            .into(),
        };
        let record = |state: &mut FleetState, revision: &str, verdict: RevisionVerdict| {
            state.apply(&Command::RecordRevision {
                charts: Vec::new(),
                revision: revision.into(),
                summary: String::new(),
                at_ms: 1,
                plan: match &verdict {
                    RevisionVerdict::Valid { digests } => Some(crate::state::RolloutPlan {
                        waves: vec![crate::state::PlannedWave {
                            name: "all".into(),
                            clusters: digests.keys().cloned().collect(),
                            manual: false,
                            bake_ms: 0,
                            max_parallel: None,
                            gates: Vec::new(),
                        }],
                        max_failures: 0,
                        progress_deadline_ms: 1000,
                        on_failure: crate::state::FailurePolicy::Rollback,
                        windows: Vec::new(),
                    }),
                    RevisionVerdict::Invalid { .. } => None,
                },
                verdict,
            })
        };
        // The first revision reaches clusters with no target at once.
        assert_eq!(
            record(&mut state, "r1", digests("d1")),
            CommandResult::Applied
        );
        assert_eq!(state.clusters["a"].target_revision, "r1");
        let invalid = RevisionVerdict::Invalid {
            errors: vec!["x".into()],
        };
        assert_eq!(record(&mut state, "r2", invalid), CommandResult::Applied);
        assert_eq!(state.clusters["a"].target_revision, "r1");
        assert_eq!(
            state.rollouts.len(),
            1,
            "an invalid revision starts no rollout"
        );
        // A changing revision waits for its wave.
        assert_eq!(
            record(&mut state, "r3", digests("d3")),
            CommandResult::Applied
        );
        assert_eq!(state.clusters["b"].target_revision, "r1");
        let rollout = state.active_rollout().unwrap().id;
        assert_eq!(
            state.rollouts[0].state,
            crate::state::RolloutState::Superseded
        );
        let release = Command::ReleaseClusters {
            rollout,
            clusters: vec!["b".into()],
            at_ms: 2,
        };
        assert_eq!(state.apply(&release), CommandResult::Applied);
        assert_eq!(state.clusters["b"].target_revision, "r3");
        assert_eq!(state.clusters["b"].target_digest, "d3");
        assert_eq!(state.clusters["b"].previous_revision, "r1");
        assert_eq!(state.clusters["a"].target_revision, "r1");
        assert_eq!(
            record(&mut state, "r3", digests("d3")),
            CommandResult::Unchanged
        );
        assert_eq!(state.latest_valid_revision().unwrap().revision, "r3");
    }
}
