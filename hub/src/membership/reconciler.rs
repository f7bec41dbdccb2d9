//! The leader's membership reconciler: replicated hub-node records → Raft
//! membership, one change at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use openraft::{BasicNode, ChangeMembers};
use tracing::{info, warn};

use crate::clock::now_ms;
use crate::raft::NodeId;
use crate::state::{Command, HubNodeRecord};
use crate::store::FleetStore;

/// How often the reconciler looks even when nothing was applied.
const TICK: Duration = Duration::from_millis(500);
/// A learner this close to the leader's last log index counts as caught up.
const CAUGHT_UP_LAG: u64 = 16;

/// One membership change the reconciler decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// Record this node (it bootstrapped the cluster without joining).
    RegisterSelf,
    /// Start replicating to a joined node.
    AddLearner(NodeId, String),
    /// Let a caught-up learner vote.
    Promote(NodeId),
    /// Take a removed node's vote away.
    Demote(NodeId),
    /// Stop replicating to a removed node.
    Forget(NodeId),
}

/// Keeps the Raft membership in line with the replicated hub-node records
/// while this node leads.
pub struct MembershipReconciler {
    store: FleetStore,
    node_id: NodeId,
    name: String,
    address: String,
}

impl MembershipReconciler {
    /// A reconciler for node `node_id` (named `name`, reachable at `address`).
    pub fn new(store: FleetStore, node_id: NodeId, name: String, address: String) -> Self {
        Self {
            store,
            node_id,
            name,
            address,
        }
    }

    /// Runs forever.
    pub async fn run(self) {
        let mut changes = self.store.subscribe();
        loop {
            if self.store.is_leader()
                && let Some(change) = self.decide()
            {
                self.apply(change).await;
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    fn decide(&self) -> Option<Change> {
        let metrics = self.store.raft().raft().metrics().borrow().clone();
        let membership = metrics.membership_config.membership().clone();
        if membership.get_joint_config().len() > 1 {
            return None;
        }
        let records: BTreeMap<NodeId, HubNodeRecord> =
            self.store.read(|state| state.hub_nodes.clone());
        if !records.contains_key(&self.node_id) {
            return Some(Change::RegisterSelf);
        }
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        let learners: BTreeSet<NodeId> = membership.learner_ids().collect();
        let last_index = metrics.last_log_index.unwrap_or(0);
        let matched = metrics.replication.clone().unwrap_or_default();
        decide(&records, &voters, &learners, last_index, |node| {
            matched
                .get(&node)
                .cloned()
                .flatten()
                .map(|log_id| log_id.index)
        })
    }

    async fn apply(&self, change: Change) {
        let raft = self.store.raft().raft();
        let outcome = match &change {
            Change::RegisterSelf => {
                let command = Command::RegisterHubNode {
                    node_id: self.node_id,
                    name: self.name.clone(),
                    address: self.address.clone(),
                    at_ms: now_ms(),
                };
                match self.store.write(command).await {
                    Ok(result) => {
                        info!(?result, node = %self.name, "registered this hub node");
                        return;
                    }
                    Err(error) => {
                        warn!(error = %error, "cannot register this hub node");
                        return;
                    }
                }
            }
            Change::AddLearner(node, address) => {
                info!(node, %address, "adding a joined hub node as a learner");
                raft.add_learner(*node, BasicNode::new(address), false)
                    .await
                    .map(|_| ())
            }
            Change::Promote(node) => {
                info!(node, "the learner caught up: making it a voter");
                raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([*node])), false)
                    .await
                    .map(|_| ())
            }
            Change::Demote(node) => {
                info!(node, "removing a hub node's vote");
                raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([*node])), false)
                    .await
                    .map(|_| ())
            }
            Change::Forget(node) => {
                info!(node, "removing a hub node from the cluster");
                raft.change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([*node])), false)
                    .await
                    .map(|_| ())
            }
        };
        if let Err(error) = outcome {
            warn!(?change, error = %error, "membership change failed; will retry");
        }
    }
}

/// The next change, given the records and the current membership. Pure.
fn decide(
    records: &BTreeMap<NodeId, HubNodeRecord>,
    voters: &BTreeSet<NodeId>,
    learners: &BTreeSet<NodeId>,
    last_index: u64,
    matched_index: impl Fn(NodeId) -> Option<u64>,
) -> Option<Change> {
    for (node, record) in records {
        let member = voters.contains(node) || learners.contains(node);
        if record.removed {
            if voters.contains(node) && voters.len() > 1 {
                return Some(Change::Demote(*node));
            }
            if learners.contains(node) {
                return Some(Change::Forget(*node));
            }
        } else if !member {
            return Some(Change::AddLearner(*node, record.address.clone()));
        } else if learners.contains(node)
            && matched_index(*node).is_some_and(|matched| matched + CAUGHT_UP_LAG >= last_index)
        {
            return Some(Change::Promote(*node));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, removed: bool) -> HubNodeRecord {
        HubNodeRecord {
            name: name.into(),
            address: format!("{name}:7443"),
            joined_at_ms: 0,
            removed,
        }
    }

    #[test]
    fn joined_nodes_become_learners_then_voters_and_removed_ones_leave() {
        let mut records =
            BTreeMap::from([(1, record("hub-1", false)), (2, record("hub-2", false))]);
        let voters = BTreeSet::from([1]);
        let none = BTreeSet::new();
        assert_eq!(
            decide(&records, &voters, &none, 100, |_| None),
            Some(Change::AddLearner(2, "hub-2:7443".into()))
        );
        let learners = BTreeSet::from([2]);
        assert_eq!(
            decide(&records, &voters, &learners, 100, |_| Some(10)),
            None
        );
        assert_eq!(
            decide(&records, &voters, &learners, 100, |_| Some(95)),
            Some(Change::Promote(2))
        );
        records.insert(2, record("hub-2", true));
        let voters = BTreeSet::from([1, 2]);
        assert_eq!(
            decide(&records, &voters, &none, 100, |_| Some(100)),
            Some(Change::Demote(2))
        );
        assert_eq!(
            decide(&records, &BTreeSet::from([1]), &learners, 100, |_| None),
            Some(Change::Forget(2))
        );
        assert_eq!(
            decide(&records, &BTreeSet::from([1]), &none, 100, |_| None),
            None
        );
    }
}
