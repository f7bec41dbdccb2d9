//! Cluster holds (issue #19): an operator freezes one cluster (a migration,
//! an incident). A held cluster keeps its current target; the rollout
//! controller skips it, and on release it catches up with the target of the
//! last finished rollout through the normal release path.

use serde::{Deserialize, Serialize};

use super::command::CommandResult;
use super::fleet_state::FleetState;

/// Why and by whom a cluster is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterHold {
    /// The operator's reason, in words.
    pub reason: String,
    /// Who held it (certificate identity).
    pub actor: String,
    /// When (Unix milliseconds).
    pub at_ms: u64,
}

impl ClusterHold {
    /// The hold as one line: "REASON (held by ACTOR)".
    pub fn describe(&self) -> String {
        format!("{} (held by {})", self.reason, self.actor)
    }
}

impl FleetState {
    /// The hold on `cluster`, if it is held.
    pub fn hold_of(&self, cluster: &str) -> Option<&ClusterHold> {
        self.holds.get(cluster)
    }

    /// Whether `cluster` is held.
    pub fn is_held(&self, cluster: &str) -> bool {
        self.holds.contains_key(cluster)
    }

    pub(super) fn hold_cluster(
        &mut self,
        cluster: &str,
        reason: &str,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        if !self.clusters.contains_key(cluster) {
            return CommandResult::Rejected(format!(
                "unknown cluster '{cluster}' (the hub has no record of it)"
            ));
        }
        if let Some(hold) = self.holds.get(cluster) {
            return CommandResult::Rejected(format!(
                "cluster '{cluster}' is already held: {}",
                hold.describe()
            ));
        }
        self.holds.insert(
            cluster.to_owned(),
            ClusterHold {
                reason: reason.to_owned(),
                actor: actor.to_owned(),
                at_ms,
            },
        );
        self.audit(actor, at_ms, format!("held cluster {cluster}: {reason}"));
        CommandResult::Applied
    }

    pub(super) fn release_hold(&mut self, cluster: &str, actor: &str, at_ms: u64) -> CommandResult {
        if self.holds.remove(cluster).is_none() {
            return CommandResult::Rejected(format!("cluster '{cluster}' is not held"));
        }
        self.audit(
            actor,
            at_ms,
            format!("released the hold on cluster {cluster}"),
        );
        CommandResult::Applied
    }
}
