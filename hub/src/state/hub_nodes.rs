//! The hub's own nodes as the replicated state records them: who joined
//! (with which single-use join token), under which name and address, and who
//! an operator removed. The leader's membership reconciler
//! (`crate::membership`) turns these records into Raft membership changes,
//! so a new leader carries on where the old one stopped.

use serde::{Deserialize, Serialize};

use super::command::CommandResult;
use super::fleet_state::FleetState;

/// A hub node's Raft id (the same number as `crate::raft::NodeId`).
pub type NodeId = u64;

/// A join token for a new hub node; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinTokenRecord {
    /// When it stops working (Unix milliseconds).
    pub expires_at_ms: u64,
    /// Who created it (certificate identity).
    pub created_by: String,
    /// When it was used, if it was.
    pub used_at_ms: Option<u64>,
}

/// One hub node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubNodeRecord {
    /// Node name (its identity is `spiffe://fleet/hub/<name>`).
    pub name: String,
    /// `host:port` of its gRPC port, as peers reach it.
    pub address: String,
    /// When it joined or was registered (Unix milliseconds).
    pub joined_at_ms: u64,
    /// Whether an operator removed it from the Raft group.
    pub removed: bool,
}

impl FleetState {
    pub(super) fn create_join_token(
        &mut self,
        token_hash: &str,
        at_ms: u64,
        expires_at_ms: u64,
        actor: &str,
    ) -> CommandResult {
        if self.join_tokens.contains_key(token_hash) {
            return CommandResult::Rejected("join token already exists".to_owned());
        }
        self.join_tokens.insert(
            token_hash.to_owned(),
            JoinTokenRecord {
                expires_at_ms,
                created_by: actor.to_owned(),
                used_at_ms: None,
            },
        );
        self.audit(actor, at_ms, "created a hub join token".to_owned());
        CommandResult::Applied
    }

    /// Why node `node_id` named `name` may not join or register now, if it may not.
    pub fn hub_node_conflict(&self, node_id: NodeId, name: &str) -> Option<String> {
        if let Some(existing) = self.hub_nodes.get(&node_id)
            && !existing.removed
        {
            return Some(format!(
                "node id {node_id} belongs to hub node '{}'; remove it first (fleetctl hub remove {})",
                existing.name, existing.name
            ));
        }
        self.hub_nodes
            .iter()
            .find(|(id, record)| record.name == name && !record.removed && **id != node_id)
            .map(|(id, _)| format!("hub node name '{name}' is taken by node {id}; remove it first"))
    }

    pub(super) fn join_hub(
        &mut self,
        token_hash: &str,
        node_id: NodeId,
        name: &str,
        address: &str,
        at_ms: u64,
    ) -> CommandResult {
        let Some(token) = self.join_tokens.get(token_hash) else {
            return CommandResult::Rejected("unknown join token".to_owned());
        };
        if token.used_at_ms.is_some() {
            return CommandResult::Rejected("join token was already used".to_owned());
        }
        if at_ms >= token.expires_at_ms {
            return CommandResult::Rejected("join token has expired".to_owned());
        }
        if let Some(conflict) = self.hub_node_conflict(node_id, name) {
            return CommandResult::Rejected(conflict);
        }
        if let Some(token) = self.join_tokens.get_mut(token_hash) {
            token.used_at_ms = Some(at_ms);
        }
        self.hub_nodes.insert(
            node_id,
            HubNodeRecord {
                name: name.to_owned(),
                address: address.to_owned(),
                joined_at_ms: at_ms,
                removed: false,
            },
        );
        self.audit(
            &format!("spiffe://fleet/hub/{name}"),
            at_ms,
            format!("hub node {name} (id {node_id}, {address}) joined with a join token"),
        );
        CommandResult::Applied
    }

    pub(super) fn register_hub_node(
        &mut self,
        node_id: NodeId,
        name: &str,
        address: &str,
        at_ms: u64,
    ) -> CommandResult {
        if self.hub_nodes.get(&node_id).is_some_and(|record| {
            record.name == name && record.address == address && !record.removed
        }) {
            return CommandResult::Unchanged;
        }
        if let Some(conflict) = self.hub_node_conflict(node_id, name) {
            return CommandResult::Rejected(conflict);
        }
        self.hub_nodes.insert(
            node_id,
            HubNodeRecord {
                name: name.to_owned(),
                address: address.to_owned(),
                joined_at_ms: at_ms,
                removed: false,
            },
        );
        CommandResult::Applied
    }

    pub(super) fn set_hub_node_removed(
        &mut self,
        name: &str,
        removed: bool,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        let Some((&node_id, _)) = self
            .hub_nodes
            .iter()
            .rev()
            .find(|(_, record)| record.name == name)
        else {
            return CommandResult::Rejected(format!("unknown hub node '{name}'"));
        };
        if !removed && let Some(conflict) = self.hub_node_conflict(node_id, name) {
            return CommandResult::Rejected(conflict);
        }
        let Some(record) = self.hub_nodes.get_mut(&node_id) else {
            return CommandResult::Rejected(format!("unknown hub node '{name}'"));
        };
        if record.removed == removed {
            return CommandResult::Unchanged;
        }
        if removed {
            let remaining = self
                .hub_nodes
                .values()
                .filter(|record| !record.removed)
                .count();
            if remaining <= 1 {
                return CommandResult::Rejected("cannot remove the last hub node".to_owned());
            }
        }
        if let Some(record) = self.hub_nodes.get_mut(&node_id) {
            record.removed = removed;
        }
        let verb = if removed { "removed" } else { "re-added" };
        self.audit(
            actor,
            at_ms,
            format!("{verb} hub node {name} (id {node_id})"),
        );
        CommandResult::Applied
    }

    /// Whether `name` is a hub node an operator removed (and not re-added
    /// or joined again since): its certificate is refused on every call.
    pub fn is_removed_hub_node(&self, name: &str) -> bool {
        let mut records = self
            .hub_nodes
            .values()
            .filter(|record| record.name == name)
            .peekable();
        records.peek().is_some() && records.all(|record| record.removed)
    }

    /// The hub nodes that are meant to be members (not removed).
    pub fn active_hub_nodes(&self) -> impl Iterator<Item = (&NodeId, &HubNodeRecord)> {
        self.hub_nodes.iter().filter(|(_, record)| !record.removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Command;

    fn join(state: &mut FleetState, hash: &str, id: u64, name: &str, at: u64) -> CommandResult {
        state.apply(&Command::JoinHub {
            token_hash: hash.into(),
            node_id: id,
            name: name.into(),
            address: format!("10.0.0.{id}:7443"),
            at_ms: at,
        })
    }

    #[test]
    fn join_tokens_are_single_use_and_expiring_and_names_unique() {
        let mut state = FleetState::default();
        assert_eq!(
            state.apply(&Command::RegisterHubNode {
                node_id: 1,
                name: "hub-1".into(),
                address: "10.0.0.1:7443".into(),
                at_ms: 0,
            }),
            CommandResult::Applied
        );
        for (hash, expires) in [("t1", 100), ("t2", 100), ("t3", 5)] {
            let created = state.apply(&Command::CreateJoinToken {
                token_hash: hash.into(),
                at_ms: 0,
                expires_at_ms: expires,
                actor: "spiffe://fleet/admin/ops".into(),
            });
            assert_eq!(created, CommandResult::Applied);
        }
        assert_eq!(
            join(&mut state, "t1", 2, "hub-2", 10),
            CommandResult::Applied
        );
        assert_eq!(
            join(&mut state, "t1", 3, "hub-3", 10),
            CommandResult::Rejected("join token was already used".into())
        );
        assert!(matches!(
            join(&mut state, "t2", 3, "hub-2", 10),
            CommandResult::Rejected(_)
        ));
        assert_eq!(
            join(&mut state, "t3", 3, "hub-3", 10),
            CommandResult::Rejected("join token has expired".into())
        );
        assert!(matches!(
            join(&mut state, "nope", 3, "hub-3", 10),
            CommandResult::Rejected(_)
        ));
        let remove = |state: &mut FleetState, name: &str, removed: bool| {
            state.apply(&Command::SetHubNodeRemoved {
                name: name.into(),
                removed,
                actor: "spiffe://fleet/admin/ops".into(),
                at_ms: 20,
            })
        };
        assert_eq!(remove(&mut state, "hub-2", true), CommandResult::Applied);
        assert!(state.is_removed_hub_node("hub-2"));
        assert!(!state.is_removed_hub_node("hub-1") && !state.is_removed_hub_node("unknown"));
        assert!(matches!(
            remove(&mut state, "hub-1", true),
            CommandResult::Rejected(_)
        ));
        // A removed node's id and name are free again.
        assert_eq!(
            join(&mut state, "t2", 2, "hub-2", 30),
            CommandResult::Applied
        );
        assert_eq!(state.active_hub_nodes().count(), 2);
        assert!(!state.is_removed_hub_node("hub-2"));
    }
}
