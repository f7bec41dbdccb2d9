//! The fleet state and its deterministic transition function.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command::{Command, CommandResult};
use super::hub_nodes::{HubNodeRecord, JoinTokenRecord};
use super::records::{
    AgentRecord, AuditEntry, ClusterRecord, ClusterStatus, RevisionRecord, RevisionVerdict,
    TokenRecord,
};

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
            } => {
                if self.tokens.contains_key(token_hash) {
                    return CommandResult::Rejected("token already exists".to_owned());
                }
                self.tokens.insert(
                    token_hash.clone(),
                    TokenRecord {
                        cluster: cluster.clone(),
                        expires_at_ms: *expires_at_ms,
                        created_by: actor.clone(),
                        used_at_ms: None,
                    },
                );
                self.audit(
                    actor,
                    *at_ms,
                    format!("created a bootstrap token for cluster {cluster}"),
                );
                CommandResult::Applied
            }
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
            } => {
                let mut result = CommandResult::Unchanged;
                for update in updates {
                    if self.report_status(&update.cluster, &update.status, *at_ms)
                        == CommandResult::Applied
                    {
                        result = CommandResult::Applied;
                    }
                }
                for update in drift {
                    self.record_drift(update, *drift_kept);
                    result = CommandResult::Applied;
                }
                result
            }
            Command::RevokeCluster {
                cluster,
                at_ms,
                actor,
            } => {
                let Some(record) = self.clusters.get_mut(cluster) else {
                    return CommandResult::Rejected(format!("unknown cluster '{cluster}'"));
                };
                record.revoked = true;
                self.audit(actor, *at_ms, format!("revoked cluster {cluster}"));
                CommandResult::Applied
            }
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
                at_ms: _,
            } => self.trim(revisions, rollouts, *audit_through_sequence),
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

    /// Records an agent's report (its time even when nothing changed).
    fn report_status(
        &mut self,
        cluster: &str,
        status: &ClusterStatus,
        at_ms: u64,
    ) -> CommandResult {
        let record = self.clusters.entry(cluster.to_owned()).or_default();
        record.last_report_ms = Some(at_ms);
        if record.status.as_ref() == Some(status) {
            return CommandResult::Unchanged;
        }
        record.status = Some(status.clone());
        CommandResult::Applied
    }

    /// Adds a cluster's drift events to its history and keeps the newest
    /// `kept`.
    fn record_drift(&mut self, update: &super::command::DriftUpdate, kept: u32) {
        let record = self.clusters.entry(update.cluster.clone()).or_default();
        record.drift_history.extend(update.events.iter().cloned());
        let kept = usize::try_from(kept).unwrap_or(usize::MAX);
        let excess = record.drift_history.len().saturating_sub(kept);
        record.drift_history.drain(..excess);
    }

    fn enroll(
        &mut self,
        token_hash: &str,
        cluster: &str,
        serial: &str,
        at_ms: u64,
        expires_at_ms: u64,
    ) -> CommandResult {
        let Some(token) = self.tokens.get_mut(token_hash) else {
            return CommandResult::Rejected("unknown bootstrap token".to_owned());
        };
        if token.used_at_ms.is_some() {
            return CommandResult::Rejected("bootstrap token was already used".to_owned());
        }
        if at_ms >= token.expires_at_ms {
            return CommandResult::Rejected("bootstrap token has expired".to_owned());
        }
        if token.cluster != cluster {
            return CommandResult::Rejected(format!(
                "bootstrap token is for cluster '{}', not '{cluster}'",
                token.cluster
            ));
        }
        token.used_at_ms = Some(at_ms);
        let record = self.clusters.entry(cluster.to_owned()).or_default();
        if record.revoked {
            // Re-enrolling a revoked cluster starts a new identity: the
            // certificates revoked with it must stay refused.
            record.agents.clear();
            record.revoked = false;
        }
        self.add_certificate(
            cluster,
            serial,
            at_ms,
            expires_at_ms,
            format!("enrolled cluster {cluster} (certificate {serial})"),
        );
        CommandResult::Applied
    }

    /// Records a certificate issued to `cluster`'s agent (which must have a
    /// record) and audits it as done by the cluster. Only the newest
    /// [`CERTIFICATES_KEPT_PER_CLUSTER`] stay current.
    pub(super) fn add_certificate(
        &mut self,
        cluster: &str,
        serial: &str,
        at_ms: u64,
        expires_at_ms: u64,
        action: String,
    ) {
        if let Some(record) = self.clusters.get_mut(cluster) {
            record.agents.push(AgentRecord {
                serial: serial.to_owned(),
                issued_at_ms: at_ms,
                expires_at_ms,
            });
            // Records are in issue order: the oldest go first.
            let excess = record
                .agents
                .len()
                .saturating_sub(CERTIFICATES_KEPT_PER_CLUSTER);
            record.agents.drain(..excess);
        }
        self.audit(&format!("spiffe://fleet/cluster/{cluster}"), at_ms, action);
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

    /// Whether `serial` is a current (issued, not revoked) certificate of `cluster`.
    pub fn is_current_agent(&self, cluster: &str, serial: &str) -> bool {
        self.clusters.get(cluster).is_some_and(|record| {
            !record.revoked && record.agents.iter().any(|agent| agent.serial == serial)
        })
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

    fn token(state: &mut FleetState, hash: &str, cluster: &str, expires: u64) {
        let result = state.apply(&Command::CreateToken {
            token_hash: hash.into(),
            cluster: cluster.into(),
            at_ms: 0,
            expires_at_ms: expires,
            actor: "spiffe://fleet/admin/ops".into(),
        });
        assert_eq!(result, CommandResult::Applied);
    }

    fn enroll(state: &mut FleetState, hash: &str, cluster: &str, at: u64) -> CommandResult {
        state.apply(&Command::Enroll {
            token_hash: hash.into(),
            cluster: cluster.into(),
            serial: format!("serial-{at}"),
            at_ms: at,
            expires_at_ms: at + 1000,
        })
    }

    #[test]
    fn tokens_are_single_use_expiring_and_bound_to_their_cluster() {
        let mut state = FleetState::default();
        token(&mut state, "h1", "a", 100);
        assert!(matches!(
            enroll(&mut state, "h1", "b", 10),
            CommandResult::Rejected(_)
        ));
        assert_eq!(enroll(&mut state, "h1", "a", 10), CommandResult::Applied);
        let before = state.clone();
        assert_eq!(
            enroll(&mut state, "h1", "a", 11),
            CommandResult::Rejected("bootstrap token was already used".into())
        );
        assert_eq!(state, before, "a rejected command changes nothing");
        token(&mut state, "h2", "a", 100);
        assert_eq!(
            enroll(&mut state, "h2", "a", 100),
            CommandResult::Rejected("bootstrap token has expired".into())
        );
        assert!(matches!(
            enroll(&mut state, "nope", "a", 1),
            CommandResult::Rejected(_)
        ));
        assert!(state.is_current_agent("a", "serial-10"));
        assert_eq!(state.audit.len(), 3);
    }

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

    #[test]
    fn drift_history_keeps_the_newest_events_the_entry_names() {
        let mut state = FleetState::default();
        let event = |name: &str| super::super::records::DriftRecord {
            at_ms: 1,
            app: "web".into(),
            kind: "ConfigMap".into(),
            name: name.into(),
            reverted: true,
            ..Default::default()
        };
        let report = |names: &[&str], kept: u32| Command::ReportStatuses {
            updates: Vec::new(),
            at_ms: 1,
            drift: vec![super::super::command::DriftUpdate {
                cluster: "a".into(),
                events: names.iter().map(|name| event(name)).collect(),
            }],
            drift_kept: kept,
        };
        assert_eq!(
            state.apply(&report(&["one", "two"], 3)),
            CommandResult::Applied
        );
        state.apply(&report(&["three", "four"], 3));
        let names: Vec<&str> = state.clusters["a"]
            .drift_history
            .iter()
            .map(|event| event.name.as_str())
            .collect();
        assert_eq!(names, ["two", "three", "four"], "oldest dropped first");
        state.apply(&report(&["five"], 1));
        assert_eq!(state.clusters["a"].drift_history, [event("five")]);
    }

    #[test]
    fn re_enrolling_a_revoked_cluster_does_not_revive_its_old_certificates() {
        let mut state = FleetState::default();
        token(&mut state, "h1", "a", 1_000);
        assert_eq!(enroll(&mut state, "h1", "a", 10), CommandResult::Applied);
        assert!(state.is_current_agent("a", "serial-10"));
        state.apply(&Command::RevokeCluster {
            cluster: "a".into(),
            actor: "spiffe://fleet/admin/ops".into(),
            at_ms: 20,
        });
        assert!(!state.is_current_agent("a", "serial-10"));
        token(&mut state, "h2", "a", 1_000);
        assert_eq!(enroll(&mut state, "h2", "a", 30), CommandResult::Applied);
        assert!(state.is_current_agent("a", "serial-30"));
        assert!(
            !state.is_current_agent("a", "serial-10"),
            "a certificate revoked with the cluster stays refused"
        );
    }
}
