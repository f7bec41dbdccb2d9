//! Bootstrap tokens, agent enrollment, the certificates kept per cluster
//! and cluster revocation.

use super::command::CommandResult;
use super::fleet_state::{CERTIFICATES_KEPT_PER_CLUSTER, FleetState};
use super::records::{AgentRecord, TokenRecord};

impl FleetState {
    pub(super) fn create_token(
        &mut self,
        token_hash: &str,
        cluster: &str,
        at_ms: u64,
        expires_at_ms: u64,
        actor: &str,
    ) -> CommandResult {
        if self.tokens.contains_key(token_hash) {
            return CommandResult::Rejected("token already exists".to_owned());
        }
        self.tokens.insert(
            token_hash.to_owned(),
            TokenRecord {
                cluster: cluster.to_owned(),
                expires_at_ms,
                created_by: actor.to_owned(),
                used_at_ms: None,
            },
        );
        self.audit(
            actor,
            at_ms,
            format!("created a bootstrap token for cluster {cluster}"),
        );
        CommandResult::Applied
    }

    pub(super) fn enroll(
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

    pub(super) fn revoke_cluster(
        &mut self,
        cluster: &str,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        let Some(record) = self.clusters.get_mut(cluster) else {
            return CommandResult::Rejected(format!("unknown cluster '{cluster}'"));
        };
        record.revoked = true;
        self.audit(actor, at_ms, format!("revoked cluster {cluster}"));
        CommandResult::Applied
    }

    /// Whether `serial` is a current (issued, not revoked) certificate of `cluster`.
    pub fn is_current_agent(&self, cluster: &str, serial: &str) -> bool {
        self.clusters.get(cluster).is_some_and(|record| {
            !record.revoked && record.agents.iter().any(|agent| agent.serial == serial)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Command;

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
