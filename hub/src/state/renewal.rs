//! Certificate renewal as the replicated state records it: an agent that
//! presents one of its cluster's certificates gets a new one for the same
//! cluster. Both stay valid until each expires (an agent that lost the
//! answer can still use, and renew with, the old one); revoking the cluster
//! refuses both.

use super::command::CommandResult;
use super::fleet_state::FleetState;

impl FleetState {
    /// Records `serial` as a new certificate of `cluster`, issued to the
    /// holder of `previous_serial`. Records of certificates that expired
    /// before `at_ms` are dropped on the way (TLS refuses them anyway), so
    /// an agent that renews forever keeps a short list.
    pub(super) fn renew_certificate(
        &mut self,
        cluster: &str,
        previous_serial: &str,
        serial: &str,
        at_ms: u64,
        expires_at_ms: u64,
    ) -> CommandResult {
        let Some(record) = self.clusters.get_mut(cluster) else {
            return CommandResult::Rejected(format!("unknown cluster '{cluster}'"));
        };
        if record.revoked {
            return CommandResult::Rejected(format!("cluster '{cluster}' has been revoked"));
        }
        if !record
            .agents
            .iter()
            .any(|agent| agent.serial == previous_serial)
        {
            return CommandResult::Rejected(format!(
                "certificate {previous_serial} of cluster '{cluster}' is not a current enrollment"
            ));
        }
        if record.agents.iter().any(|agent| agent.serial == serial) {
            return CommandResult::Rejected(format!(
                "certificate {serial} of cluster '{cluster}' is already recorded"
            ));
        }
        record
            .agents
            .retain(|agent| agent.serial == previous_serial || agent.expires_at_ms > at_ms);
        self.add_certificate(
            cluster,
            serial,
            at_ms,
            expires_at_ms,
            format!(
                "renewed the certificate of cluster {cluster} (certificate {serial} replaces {previous_serial})"
            ),
        );
        CommandResult::Applied
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{Command, CommandResult, FleetState};

    /// A state where cluster `a` enrolled at 10 with certificate `s1`
    /// (expiring at 1010).
    fn enrolled() -> FleetState {
        let mut state = FleetState::default();
        let created = state.apply(&Command::CreateToken {
            token_hash: "h".into(),
            cluster: "a".into(),
            at_ms: 0,
            expires_at_ms: 100,
            actor: "spiffe://fleet/admin/ops".into(),
        });
        assert_eq!(created, CommandResult::Applied);
        let enrolled = state.apply(&Command::Enroll {
            token_hash: "h".into(),
            cluster: "a".into(),
            serial: "s1".into(),
            at_ms: 10,
            expires_at_ms: 1010,
        });
        assert_eq!(enrolled, CommandResult::Applied);
        state
    }

    fn renew(
        state: &mut FleetState,
        cluster: &str,
        previous: &str,
        serial: &str,
        at: u64,
    ) -> CommandResult {
        state.apply(&Command::RenewCertificate {
            cluster: cluster.into(),
            previous_serial: previous.into(),
            serial: serial.into(),
            at_ms: at,
            expires_at_ms: at + 1000,
        })
    }

    #[test]
    fn a_renewed_certificate_is_current_and_the_old_one_stays_current_until_it_expires() {
        let mut state = enrolled();
        assert_eq!(
            renew(&mut state, "a", "s1", "s2", 700),
            CommandResult::Applied
        );
        assert!(state.is_current_agent("a", "s1"), "valid until it expires");
        assert!(state.is_current_agent("a", "s2"));
        let record = &state.clusters["a"].agents[1];
        assert_eq!((record.issued_at_ms, record.expires_at_ms), (700, 1700));
        let audit = state.audit.last().unwrap();
        assert_eq!(audit.actor, "spiffe://fleet/cluster/a");
        assert_eq!(
            audit.action,
            "renewed the certificate of cluster a (certificate s2 replaces s1)"
        );
        // The next renewal, after s1 expired, forgets s1.
        assert_eq!(
            renew(&mut state, "a", "s2", "s3", 1400),
            CommandResult::Applied
        );
        let serials: Vec<&str> = state.clusters["a"]
            .agents
            .iter()
            .map(|agent| agent.serial.as_str())
            .collect();
        assert_eq!(serials, ["s2", "s3"]);
    }

    #[test]
    fn only_the_newest_two_certificates_of_a_cluster_are_kept() {
        let mut state = enrolled();
        // A flood of renewals, all with the enrollment certificate while
        // it is current: the records stay two, and s1 stops being current.
        assert_eq!(
            renew(&mut state, "a", "s1", "s2", 20),
            CommandResult::Applied
        );
        assert_eq!(
            renew(&mut state, "a", "s1", "s3", 21),
            CommandResult::Applied
        );
        assert_eq!(
            renew(&mut state, "a", "s1", "s4", 22),
            CommandResult::Rejected(
                "certificate s1 of cluster 'a' is not a current enrollment".into()
            )
        );
        let serials: Vec<&str> = state.clusters["a"]
            .agents
            .iter()
            .map(|agent| agent.serial.as_str())
            .collect();
        assert_eq!(serials, ["s2", "s3"]);
        assert!(!state.is_current_agent("a", "s1"));
    }

    #[test]
    fn revoked_clusters_unknown_serials_and_reused_serials_are_refused_and_change_nothing() {
        let mut state = enrolled();
        let before = state.clone();
        assert_eq!(
            renew(&mut state, "a", "nope", "s2", 20),
            CommandResult::Rejected(
                "certificate nope of cluster 'a' is not a current enrollment".into()
            )
        );
        assert_eq!(
            renew(&mut state, "b", "s1", "s2", 20),
            CommandResult::Rejected("unknown cluster 'b'".into())
        );
        assert_eq!(
            renew(&mut state, "a", "s1", "s1", 20),
            CommandResult::Rejected("certificate s1 of cluster 'a' is already recorded".into())
        );
        assert_eq!(state, before);
        let revoked = state.apply(&Command::RevokeCluster {
            cluster: "a".into(),
            at_ms: 30,
            actor: "spiffe://fleet/admin/ops".into(),
        });
        assert_eq!(revoked, CommandResult::Applied);
        let before = state.clone();
        assert_eq!(
            renew(&mut state, "a", "s1", "s2", 40),
            CommandResult::Rejected("cluster 'a' has been revoked".into())
        );
        assert_eq!(state, before);
        assert!(!state.is_current_agent("a", "s1"));
    }
}
