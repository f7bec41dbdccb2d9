//! Retention: what the replicated state keeps, so that it stops growing.
//!
//! The leader decides ([`FleetState::trim_command`]) and proposes a
//! [`Command::Trim`] naming exactly what goes; every node applies it
//! ([`FleetState::trim`]) without reading a clock or a setting. Applying
//! re-checks references against the state it applies to, so an entry that
//! became referenced between the decision and the apply (a rollback moved a
//! target back) stays.

use std::collections::BTreeSet;

use super::command::{Command, CommandResult};
use super::fleet_state::FleetState;

/// How much of its history the state keeps (hub.yaml `retention:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionLimits {
    /// Newest revisions kept, besides every revision still referenced.
    pub revisions: usize,
    /// Newest rollouts kept (the active one always stays).
    pub rollouts: usize,
    /// Newest audit entries kept.
    pub audit_entries: usize,
    /// Audit entries older than this (milliseconds) go.
    pub audit_max_age_ms: u64,
}

impl FleetState {
    /// The trim the leader proposes at `now_ms` under `limits`, or `None`
    /// when everything is within them.
    pub fn trim_command(&self, limits: &RetentionLimits, now_ms: u64) -> Option<Command> {
        let rollouts = self.rollouts_past(limits.rollouts);
        let rollouts_set: BTreeSet<u64> = rollouts.iter().copied().collect();
        let referenced = self.referenced_revisions(&rollouts_set);
        let newest_kept = self
            .revision_log
            .len()
            .saturating_sub(limits.revisions.max(1));
        let revisions: Vec<String> = self.revision_log[..newest_kept]
            .iter()
            .filter(|revision| !referenced.contains(revision.as_str()))
            .cloned()
            .collect();
        let audit_through = self.audit_cut(limits, now_ms);
        let users = self.users_past(now_ms);
        if revisions.is_empty()
            && rollouts.is_empty()
            && audit_through.is_none()
            && users.is_empty()
        {
            return None;
        }
        Some(Command::Trim {
            revisions,
            rollouts,
            audit_through_sequence: audit_through.unwrap_or(0),
            users,
            at_ms: now_ms,
        })
    }

    /// Applies a [`Command::Trim`]: drops the named revisions and rollouts
    /// unless they are referenced now, and audit entries up to
    /// `audit_through_sequence`.
    pub(super) fn trim(
        &mut self,
        revisions: &[String],
        rollouts: &[u64],
        audit_through_sequence: u64,
    ) -> CommandResult {
        let mut changed = false;
        let dropped_rollouts: BTreeSet<u64> = rollouts
            .iter()
            .copied()
            .filter(|id| {
                self.rollouts
                    .iter()
                    .any(|rollout| rollout.id == *id && !rollout.state.is_active())
            })
            .collect();
        // Never drop the newest rollout: the next id is counted from it.
        let newest = self.rollouts.last().map(|rollout| rollout.id);
        if !dropped_rollouts.is_empty() {
            let before = self.rollouts.len();
            self.rollouts.retain(|rollout| {
                Some(rollout.id) == newest || !dropped_rollouts.contains(&rollout.id)
            });
            changed |= self.rollouts.len() != before;
        }
        let referenced = self.referenced_revisions(&BTreeSet::new());
        let latest_valid = self
            .latest_valid_revision()
            .map(|record| record.revision.clone());
        let dropped: BTreeSet<&str> = revisions
            .iter()
            .map(String::as_str)
            .filter(|revision| {
                !referenced.contains(revision) && latest_valid.as_deref() != Some(*revision)
            })
            .collect();
        if !dropped.is_empty() {
            let before = self.revision_log.len();
            self.revision_log
                .retain(|revision| !dropped.contains(revision.as_str()));
            self.revisions
                .retain(|revision, _| !dropped.contains(revision.as_str()));
            changed |= self.revision_log.len() != before;
        }
        if audit_through_sequence > self.audit_trimmed_through {
            let before = self.audit.len();
            self.audit
                .retain(|entry| entry.sequence > audit_through_sequence);
            self.audit_trimmed_through = audit_through_sequence;
            changed |= self.audit.len() != before;
        }
        if changed {
            CommandResult::Applied
        } else {
            CommandResult::Unchanged
        }
    }

    /// Revoked users none of whose certificates is valid at `now_ms`: their
    /// records can go. A record is kept while any of its certificates is
    /// valid — for the init admin, whose certificate is an admin's when no
    /// record names it, the record is what refuses the revoked certificate.
    fn users_past(&self, now_ms: u64) -> Vec<String> {
        self.users
            .values()
            .filter(|user| {
                user.revoked_at_ms.is_some()
                    && user
                        .certificates
                        .iter()
                        .all(|certificate| certificate.expires_at_ms <= now_ms)
            })
            .map(|user| user.name.clone())
            .collect()
    }

    /// Drops the named users that are still past keeping at `at_ms` (a user
    /// re-created since the decision stays).
    pub(super) fn trim_users(&mut self, names: &[String], at_ms: u64) -> CommandResult {
        let past: BTreeSet<String> = self.users_past(at_ms).into_iter().collect();
        let before = self.users.len();
        self.users
            .retain(|name, _| !(names.contains(name) && past.contains(name)));
        if self.users.len() == before {
            CommandResult::Unchanged
        } else {
            CommandResult::Applied
        }
    }

    /// Ids of the finished rollouts past the newest `keep` (the active one
    /// is never among them).
    fn rollouts_past(&self, keep: usize) -> Vec<u64> {
        let past = self.rollouts.len().saturating_sub(keep.max(1));
        self.rollouts[..past]
            .iter()
            .filter(|rollout| !rollout.state.is_active())
            .map(|rollout| rollout.id)
            .collect()
    }

    /// Revisions a cluster targets or targeted before, or a rollout not in
    /// `dropping` rolls out or would roll back to.
    fn referenced_revisions(&self, dropping: &BTreeSet<u64>) -> BTreeSet<&str> {
        let mut referenced = BTreeSet::new();
        for record in self.clusters.values() {
            referenced.insert(record.target_revision.as_str());
            referenced.insert(record.previous_revision.as_str());
        }
        for rollout in self
            .rollouts
            .iter()
            .filter(|rollout| !dropping.contains(&rollout.id))
        {
            referenced.insert(rollout.revision.as_str());
            for cluster in rollout.waves.iter().flat_map(|wave| wave.clusters.iter()) {
                referenced.insert(cluster.previous_revision.as_str());
            }
        }
        if let Some(latest) = self.latest_valid_revision() {
            referenced.insert(latest.revision.as_str());
        }
        referenced.remove("");
        referenced
    }

    /// The sequence number up to which audit entries go (by count and by
    /// age), if any go.
    fn audit_cut(&self, limits: &RetentionLimits, now_ms: u64) -> Option<u64> {
        let over = self.audit.len().saturating_sub(limits.audit_entries);
        let by_count = over
            .checked_sub(1)
            .and_then(|last| self.audit.get(last))
            .map(|entry| entry.sequence);
        let oldest_kept_ms = now_ms.saturating_sub(limits.audit_max_age_ms);
        let by_age = self
            .audit
            .iter()
            .take_while(|entry| entry.at_ms < oldest_kept_ms)
            .last()
            .map(|entry| entry.sequence);
        by_count.max(by_age)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::state::{FailurePolicy, PlannedWave, RevisionVerdict, RolloutPlan, RolloutState};

    const LIMITS: RetentionLimits = RetentionLimits {
        revisions: 100,
        rollouts: 100,
        audit_entries: 100_000,
        audit_max_age_ms: 365 * 24 * 3600 * 1000,
    };

    /// Records revision `r{index}` whose digests for clusters `a` and `b`
    /// are `digest`; one wave, so changing clusters wait for a release.
    fn record(state: &mut FleetState, index: usize, digest: &str) {
        let digests: BTreeMap<String, String> = [
            ("a".to_owned(), digest.to_owned()),
            ("b".to_owned(), digest.to_owned()),
        ]
        .into();
        let result = state.apply(&Command::RecordRevision {
            charts: Vec::new(),
            revision: format!("r{index}"),
            summary: String::new(),
            at_ms: index as u64,
            plan: Some(RolloutPlan {
                waves: vec![PlannedWave {
                    name: "all".into(),
                    clusters: digests.keys().cloned().collect(),
                    manual: false,
                    bake_ms: 0,
                    max_parallel: None,
                    gates: Vec::new(),
                }],
                max_failures: 0,
                progress_deadline_ms: 1000,
                on_failure: FailurePolicy::Rollback,
                windows: Vec::new(),
            }),
            verdict: RevisionVerdict::Valid { digests },
        });
        assert_eq!(result, CommandResult::Applied);
    }

    /// Releases both clusters of the newest rollout and marks it succeeded.
    fn finish_newest_rollout(state: &mut FleetState, at_ms: u64) {
        let rollout = state.rollouts.last().unwrap().id;
        state.apply(&Command::ReleaseClusters {
            rollout,
            clusters: vec!["a".into(), "b".into()],
            at_ms,
        });
        state.apply(&Command::SetRolloutState {
            rollout,
            state: RolloutState::Succeeded,
            reason: String::new(),
            at_ms,
        });
    }

    fn trim(state: &mut FleetState, limits: &RetentionLimits, now_ms: u64) {
        if let Some(command) = state.trim_command(limits, now_ms) {
            state.apply(&command);
        }
    }

    #[test]
    fn after_many_revisions_only_the_newest_and_referenced_ones_remain() {
        let mut state = FleetState::default();
        for index in 1..=250 {
            record(&mut state, index, &format!("d{index}"));
            finish_newest_rollout(&mut state, index as u64);
            trim(&mut state, &LIMITS, index as u64);
        }
        // The newest 100, and r150: the oldest kept rollout (151) would
        // roll back to it.
        assert_eq!(state.revision_log.len(), 101);
        assert_eq!(state.revisions.len(), 101);
        assert_eq!(state.revision_log.first().unwrap(), "r150");
        assert_eq!(state.revision_log.last().unwrap(), "r250");
        assert_eq!(state.rollouts.len(), 100);
        assert_eq!(state.rollouts.first().unwrap().id, 151);
        // Nothing more to trim: the leader proposes nothing.
        assert_eq!(state.trim_command(&LIMITS, 250), None);
    }

    #[test]
    fn an_old_revision_a_cluster_still_targets_survives() {
        let limits = RetentionLimits {
            revisions: 3,
            rollouts: 3,
            ..LIMITS
        };
        let mut state = FleetState::default();
        // r1 reaches both clusters at once (they have no target yet).
        record(&mut state, 1, "d1");
        // Later revisions never release cluster `b`: it stays on r1.
        for index in 2..=10 {
            record(&mut state, index, &format!("d{index}"));
            let rollout = state.rollouts.last().unwrap().id;
            state.apply(&Command::ReleaseClusters {
                rollout,
                clusters: vec!["a".into()],
                at_ms: index as u64,
            });
            trim(&mut state, &limits, index as u64);
        }
        assert_eq!(state.clusters["b"].target_revision, "r1");
        assert!(state.revisions.contains_key("r1"), "b's target stays");
        assert!(
            state.revisions.contains_key("r9"),
            "a's previous target stays"
        );
        assert!(!state.revisions.contains_key("r2"));
        // r7: rollout 8 (kept) would put `a` back on it.
        assert_eq!(state.revision_log, ["r1", "r7", "r8", "r9", "r10"]);
    }

    #[test]
    fn a_revision_referenced_when_the_trim_applies_is_kept() {
        let limits = RetentionLimits {
            revisions: 1,
            rollouts: 1,
            ..LIMITS
        };
        let mut state = FleetState::default();
        record(&mut state, 1, "d1");
        record(&mut state, 2, "d2");
        finish_newest_rollout(&mut state, 2);
        record(&mut state, 3, "d3");
        finish_newest_rollout(&mut state, 3);
        // The leader decided to drop r1 (no longer referenced)...
        let Some(Command::Trim { revisions, .. }) = state.trim_command(&limits, 3) else {
            panic!("expected a trim");
        };
        assert_eq!(revisions, ["r1"]);
        // ...but a stale or replayed command cannot drop a current target.
        let mut stale = state.clone();
        assert_eq!(
            stale.trim(&["r3".to_owned(), "r2".to_owned()], &[], 0),
            CommandResult::Unchanged,
            "r3 is the clusters' target and r2 their previous one"
        );
        assert_eq!(stale, state);
    }

    #[test]
    fn rollouts_are_trimmed_except_the_active_one() {
        let limits = RetentionLimits {
            rollouts: 2,
            revisions: 2,
            ..LIMITS
        };
        let mut state = FleetState::default();
        record(&mut state, 1, "d1");
        record(&mut state, 2, "d2");
        // Rollout 2 stays active (paused) while later revisions are recorded
        // as invalid (they start no rollout).
        let active = state.active_rollout().unwrap().id;
        state.apply(&Command::Operate {
            action: crate::state::OperatorAction::Pause,
            actor: "ops".into(),
            at_ms: 3,
        });
        for index in 3..=6 {
            state.apply(&Command::RecordRevision {
                charts: Vec::new(),
                revision: format!("r{index}"),
                summary: String::new(),
                at_ms: index,
                verdict: RevisionVerdict::Invalid {
                    errors: vec!["x".into()],
                },
                plan: None,
            });
        }
        // Asked to drop the active rollout, apply keeps it.
        assert_eq!(
            state.clone().trim(&[], &[active], 0),
            CommandResult::Unchanged
        );
        trim(
            &mut state,
            &RetentionLimits {
                rollouts: 1,
                ..limits
            },
            7,
        );
        let ids: Vec<u64> = state.rollouts.iter().map(|rollout| rollout.id).collect();
        assert_eq!(ids, [active], "rollout 1 went, the active one stayed");
        assert!(
            state.revisions.contains_key("r2"),
            "the active rollout's revision stays"
        );
        assert!(
            state.revisions.contains_key("r1"),
            "its rollback target stays"
        );
        assert_eq!(state.revision_log, ["r1", "r2", "r5", "r6"]);
        // A new rollout after trimming gets the next id.
        record(&mut state, 7, "d7");
        assert_eq!(state.rollouts.last().unwrap().id, active + 1);
    }

    #[test]
    fn audit_entries_are_trimmed_by_count_and_by_age() {
        let mut state = FleetState::default();
        for at_ms in 1..=10 {
            state.apply(&Command::Audit {
                actor: "ops".into(),
                action: format!("action {at_ms}"),
                at_ms: at_ms * 1000,
            });
        }
        let by_count = RetentionLimits {
            audit_entries: 4,
            ..LIMITS
        };
        trim(&mut state, &by_count, 10_000);
        let sequences: Vec<u64> = state.audit.iter().map(|entry| entry.sequence).collect();
        assert_eq!(sequences, [7, 8, 9, 10]);
        let by_age = RetentionLimits {
            audit_max_age_ms: 2_500,
            ..LIMITS
        };
        // At 11.0 s, entries written before 8.5 s are too old.
        trim(&mut state, &by_age, 11_000);
        let sequences: Vec<u64> = state.audit.iter().map(|entry| entry.sequence).collect();
        assert_eq!(sequences, [9, 10]);
        // Sequence numbers go on from the last one, even once all are gone.
        trim(&mut state, &by_age, 100_000);
        assert!(state.audit.is_empty());
        state.apply(&Command::Audit {
            actor: "ops".into(),
            action: "later".into(),
            at_ms: 100_000,
        });
        assert_eq!(state.audit[0].sequence, 11);
    }

    fn user(name: &str, revoked: bool, expires_at_ms: u64) -> crate::state::UserRecord {
        crate::state::UserRecord {
            name: name.into(),
            role: crate::state::Role::Operator,
            environments: Vec::new(),
            certificates: vec![crate::state::UserCertificate {
                serial: format!("serial-{name}"),
                issued_at_ms: 0,
                expires_at_ms,
            }],
            created_at_ms: 0,
            created_by: "spiffe://fleet/admin/ops".into(),
            revoked_at_ms: revoked.then_some(10),
        }
    }

    #[test]
    fn revoked_users_go_once_every_certificate_has_expired_and_a_recreated_one_stays() {
        let mut state = FleetState::default();
        for record in [
            user("gone", true, 1_000),
            user("still-valid", true, 5_000),
            user("active", false, 1_000),
            user("recreated", true, 1_000),
        ] {
            state.users.insert(record.name.clone(), record);
        }
        let limits = RetentionLimits {
            revisions: 10,
            rollouts: 10,
            audit_entries: 1_000,
            audit_max_age_ms: u64::MAX,
        };
        let Some(Command::Trim { users, .. }) = state.trim_command(&limits, 2_000) else {
            panic!("the expired revoked users are past keeping");
        };
        assert_eq!(users, ["gone", "recreated"]);
        // "recreated" is created again before the trim applies.
        state
            .users
            .insert("recreated".into(), user("recreated", false, 9_000));
        assert_eq!(state.trim_users(&users, 2_000), CommandResult::Applied);
        let left: Vec<&str> = state.users.keys().map(String::as_str).collect();
        assert_eq!(left, ["active", "recreated", "still-valid"]);
        assert_eq!(state.trim_users(&users, 2_000), CommandResult::Unchanged);
        // Until its last certificate expires, a revoked user's record stays:
        // it is what refuses that certificate.
        assert_eq!(state.trim_command(&limits, 4_999), None);
    }
}
