//! Which hub node serves which cluster's agent, replicated (issue #18's
//! "cluster disconnected longer than N").
//!
//! A session is known first only to the node that serves it. Each node
//! records its sessions opening and closing in the log
//! ([`Command::RecordPresence`], group-committed by `presence/recorder.rs`),
//! and the same command, written every `presence.nodeHeartbeat` even with
//! no change, is the node's heartbeat. So every node can answer "is this
//! cluster connected, and since when is it not":
//!
//! - a session's close only counts when it is the cluster's current session
//!   (an agent that moved to another node was opened there, maybe before the
//!   old node's close was written);
//! - a node that restarts has a new incarnation: its first heartbeat ends every
//!   session of its previous incarnation, as of that incarnation's last
//!   heartbeat;
//! - a node that stops heartbeating (killed, partitioned) loses its sessions
//!   once it is `presence.nodeStaleAfter` silent, as of its last heartbeat —
//!   its agents reconnect elsewhere and are opened there.
//!
//! Time-based decisions are the leader's: it reads the clock and writes
//! [`Command::ReportDisconnected`] for clusters disconnected longer than
//! `notifications.clusterDisconnectedAfter`; the apply raises one
//! `cluster.disconnected` event for them, and a later open raises
//! `cluster.reconnected`.
//!
//! [`Command::RecordPresence`]: super::Command::RecordPresence
//! [`Command::ReportDisconnected`]: super::Command::ReportDisconnected

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command::CommandResult;
use super::fleet_state::FleetState;
use super::notifications::{EventCategory, NotificationEvent};

/// A cluster stayed disconnected longer than the hub's setting.
pub const CLUSTER_DISCONNECTED: &str = "cluster.disconnected";
/// A cluster reported disconnected has an agent session again.
pub const CLUSTER_RECONNECTED: &str = "cluster.reconnected";
/// Clusters named in one event's message (all are in its `clusters`).
const CLUSTERS_NAMED_IN_MESSAGE: usize = 10;

/// Every node's last heartbeat and every cluster's session, replicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceState {
    /// The last heartbeat of each hub node, by Raft node id.
    pub nodes: BTreeMap<u64, NodeHeartbeat>,
    /// Each cluster's current (or last) session, by cluster name.
    pub clusters: BTreeMap<String, ClusterPresence>,
}

/// A hub node's last heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHeartbeat {
    /// The node process's incarnation (its start time, Unix milliseconds).
    pub incarnation: u64,
    /// When the node last wrote (Unix milliseconds).
    pub at_ms: u64,
}

/// A cluster's current or last agent session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPresence {
    /// The node serving (or that served) it.
    pub node: u64,
    /// That node's incarnation.
    pub incarnation: u64,
    /// The session's number on that incarnation.
    pub session: u64,
    /// Whether the session is open, as last written.
    pub open: bool,
    /// When it opened, or when it closed (Unix milliseconds).
    pub since_ms: u64,
}

/// A session opening or closing on the writing node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionChange {
    /// The cluster.
    pub cluster: String,
    /// The session's number on the writing node's incarnation.
    pub session: u64,
    /// Opened (true) or closed (false).
    pub open: bool,
    /// When (Unix milliseconds, the writing node's clock).
    pub at_ms: u64,
}

/// A cluster the leader found disconnected longer than the setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectedCluster {
    /// The cluster.
    pub cluster: String,
    /// Since when (Unix milliseconds).
    pub since_ms: u64,
}

/// What the replicated records say of a cluster's agent at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// A session is open on `node` since `since_ms`.
    Connected {
        /// The serving node.
        node: u64,
        /// Since when.
        since_ms: u64,
    },
    /// No session since `since_ms`.
    Disconnected {
        /// Since when.
        since_ms: u64,
    },
    /// No session was ever recorded.
    Never,
}

impl FleetState {
    /// What the records say of `cluster`'s agent at `now_ms`, counting a node
    /// silent for longer than `stale_after_ms` as gone since its last
    /// heartbeat.
    pub fn connection(&self, cluster: &str, now_ms: u64, stale_after_ms: u64) -> Connection {
        let Some(presence) = self.presence.clusters.get(cluster) else {
            return Connection::Never;
        };
        if !presence.open {
            return Connection::Disconnected {
                since_ms: presence.since_ms,
            };
        }
        match self.presence.nodes.get(&presence.node) {
            Some(heartbeat)
                if heartbeat.incarnation == presence.incarnation
                    && now_ms.saturating_sub(heartbeat.at_ms) <= stale_after_ms =>
            {
                Connection::Connected {
                    node: presence.node,
                    since_ms: presence.since_ms,
                }
            }
            Some(heartbeat) => Connection::Disconnected {
                since_ms: heartbeat.at_ms.max(presence.since_ms),
            },
            None => Connection::Disconnected {
                since_ms: presence.since_ms,
            },
        }
    }

    /// The clusters to report disconnected at `now_ms`: disconnected for at
    /// least `after_ms`, not revoked, not reported already (the leader's
    /// decision, written as [`super::Command::ReportDisconnected`]).
    pub fn disconnected_to_report(
        &self,
        now_ms: u64,
        stale_after_ms: u64,
        after_ms: u64,
    ) -> Vec<DisconnectedCluster> {
        self.presence
            .clusters
            .keys()
            .filter(|cluster| !self.notifications.disconnected.contains(*cluster))
            .filter(|cluster| {
                self.clusters
                    .get(*cluster)
                    .is_some_and(|record| !record.revoked)
            })
            .filter_map(
                |cluster| match self.connection(cluster, now_ms, stale_after_ms) {
                    Connection::Disconnected { since_ms }
                        if now_ms.saturating_sub(since_ms) >= after_ms =>
                    {
                        Some(DisconnectedCluster {
                            cluster: cluster.clone(),
                            since_ms,
                        })
                    }
                    _ => None,
                },
            )
            .collect()
    }

    pub(super) fn record_presence(
        &mut self,
        node: u64,
        incarnation: u64,
        changes: &[SessionChange],
        at_ms: u64,
    ) -> CommandResult {
        let previous = self
            .presence
            .nodes
            .insert(node, NodeHeartbeat { incarnation, at_ms });
        if let Some(previous) = previous
            && previous.incarnation != incarnation
        {
            // The node restarted: its earlier sessions ended with it.
            for presence in self.presence.clusters.values_mut() {
                if presence.open
                    && presence.node == node
                    && presence.incarnation == previous.incarnation
                {
                    presence.open = false;
                    presence.since_ms = previous.at_ms.max(presence.since_ms);
                }
            }
        }
        let mut reconnected = Vec::new();
        for change in changes {
            if change.open {
                self.presence.clusters.insert(
                    change.cluster.clone(),
                    ClusterPresence {
                        node,
                        incarnation,
                        session: change.session,
                        open: true,
                        since_ms: change.at_ms,
                    },
                );
                if self.notifications.disconnected.remove(&change.cluster) {
                    reconnected.push(change.cluster.clone());
                }
            } else if let Some(presence) = self.presence.clusters.get_mut(&change.cluster)
                && presence.open
                && (presence.node, presence.incarnation, presence.session)
                    == (node, incarnation, change.session)
            {
                presence.open = false;
                presence.since_ms = change.at_ms;
            }
        }
        if !reconnected.is_empty() {
            let message = format!(
                "{} connected again: {}",
                plural(reconnected.len()),
                named(&reconnected)
            );
            self.raise_cluster_event(CLUSTER_RECONNECTED, reconnected, message, at_ms);
        }
        CommandResult::Applied
    }

    pub(super) fn report_disconnected(
        &mut self,
        clusters: &[DisconnectedCluster],
        after_ms: u64,
        stale_after_ms: u64,
        at_ms: u64,
    ) -> CommandResult {
        let mut reported = Vec::new();
        for disconnected in clusters {
            // An agent that came back after the leader decided is not
            // reported (its open applied before this command).
            let still_disconnected = matches!(
                self.connection(&disconnected.cluster, at_ms, stale_after_ms),
                Connection::Disconnected { .. }
            );
            if !still_disconnected
                || !self
                    .notifications
                    .disconnected
                    .insert(disconnected.cluster.clone())
            {
                continue;
            }
            reported.push(disconnected.cluster.clone());
        }
        if reported.is_empty() {
            return CommandResult::Unchanged;
        }
        let message = format!(
            "{} disconnected longer than {}: {}",
            plural(reported.len()),
            fleet_core::model::FleetDuration(std::time::Duration::from_millis(after_ms)),
            named(&reported)
        );
        self.raise_cluster_event(CLUSTER_DISCONNECTED, reported, message, at_ms);
        CommandResult::Applied
    }

    fn raise_cluster_event(
        &mut self,
        kind: &str,
        clusters: Vec<String>,
        message: String,
        at_ms: u64,
    ) {
        self.notifications.raise(NotificationEvent {
            sequence: 0,
            kind: kind.to_owned(),
            category: EventCategory::Cluster,
            rollout: None,
            revision: String::new(),
            wave: None,
            clusters,
            message,
            at_ms,
        });
    }
}

fn plural(count: usize) -> String {
    if count == 1 {
        "1 cluster".to_owned()
    } else {
        format!("{count} clusters")
    }
}

/// The first few names, then how many more.
fn named(clusters: &[String]) -> String {
    let shown = clusters
        .iter()
        .take(CLUSTERS_NAMED_IN_MESSAGE)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match clusters.len().saturating_sub(CLUSTERS_NAMED_IN_MESSAGE) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::notifications::test_target;
    use crate::state::{ClusterRecord, Command};

    const STALE: u64 = 30_000;
    const AFTER: u64 = 300_000;

    fn change(cluster: &str, session: u64, open: bool, at_ms: u64) -> SessionChange {
        SessionChange {
            cluster: cluster.into(),
            session,
            open,
            at_ms,
        }
    }

    fn write(
        state: &mut FleetState,
        node: u64,
        incarnation: u64,
        changes: &[SessionChange],
        at_ms: u64,
    ) {
        let result = state.apply(&Command::RecordPresence {
            node,
            incarnation,
            changes: changes.to_vec(),
            at_ms,
        });
        assert_eq!(result, CommandResult::Applied);
    }

    /// A fleet with clusters a and b enrolled and a target for cluster events.
    fn fleet() -> FleetState {
        let mut state = FleetState::default();
        for cluster in ["a", "b"] {
            state
                .clusters
                .insert(cluster.into(), ClusterRecord::default());
        }
        state.apply(&test_target("ops", &[EventCategory::Cluster]));
        state
    }

    fn events(state: &FleetState) -> Vec<(String, Vec<String>)> {
        state
            .notifications
            .outbox
            .iter()
            .map(|entry| (entry.event.kind.clone(), entry.event.clusters.clone()))
            .collect()
    }

    fn report(state: &mut FleetState, now_ms: u64) -> Vec<DisconnectedCluster> {
        let found = state.disconnected_to_report(now_ms, STALE, AFTER);
        if !found.is_empty() {
            state.apply(&Command::ReportDisconnected {
                clusters: found.clone(),
                after_ms: AFTER,
                stale_after_ms: STALE,
                at_ms: now_ms,
            });
        }
        found
    }

    #[test]
    fn a_closed_session_is_reported_once_after_the_setting_and_its_return_is_announced() {
        let mut state = fleet();
        write(&mut state, 1, 100, &[change("a", 1, true, 1_000)], 1_000);
        assert_eq!(
            state.connection("a", 2_000, STALE),
            Connection::Connected {
                node: 1,
                since_ms: 1_000
            }
        );
        assert_eq!(state.connection("b", 2_000, STALE), Connection::Never);
        write(&mut state, 1, 100, &[change("a", 1, false, 10_000)], 10_000);
        write(&mut state, 1, 100, &[], 300_000);
        assert!(report(&mut state, 300_000).is_empty(), "not yet 5 minutes");
        write(&mut state, 1, 100, &[], 310_000);
        let found = report(&mut state, 310_000);
        assert_eq!(
            found,
            [DisconnectedCluster {
                cluster: "a".into(),
                since_ms: 10_000
            }]
        );
        assert!(report(&mut state, 900_000).is_empty(), "reported once");
        write(
            &mut state,
            1,
            100,
            &[change("a", 2, true, 901_000)],
            901_000,
        );
        assert_eq!(
            events(&state),
            [
                (CLUSTER_DISCONNECTED.to_owned(), vec!["a".to_owned()]),
                (CLUSTER_RECONNECTED.to_owned(), vec!["a".to_owned()]),
            ]
        );
        assert!(
            state.notifications.outbox[0]
                .event
                .message
                .contains("longer than 5m")
        );
    }

    #[test]
    fn the_old_nodes_late_close_does_not_end_the_session_on_the_new_node() {
        let mut state = fleet();
        write(&mut state, 1, 100, &[change("a", 7, true, 1_000)], 1_000);
        // The agent moved to node 2, which wrote first.
        write(&mut state, 2, 200, &[change("a", 1, true, 5_000)], 5_000);
        write(&mut state, 1, 100, &[change("a", 7, false, 4_000)], 6_000);
        assert_eq!(
            state.connection("a", 7_000, STALE),
            Connection::Connected {
                node: 2,
                since_ms: 5_000
            }
        );
    }

    #[test]
    fn a_silent_node_loses_its_sessions_as_of_its_last_heartbeat() {
        let mut state = fleet();
        write(&mut state, 1, 100, &[change("a", 1, true, 1_000)], 1_000);
        write(&mut state, 2, 200, &[change("b", 1, true, 1_000)], 1_000);
        write(&mut state, 1, 100, &[], 20_000);
        // Node 2 was killed; node 1 keeps beating.
        write(&mut state, 1, 100, &[], 40_000);
        assert_eq!(
            state.connection("b", 20_000, STALE),
            Connection::Connected {
                node: 2,
                since_ms: 1_000
            }
        );
        write(&mut state, 1, 100, &[], 400_000);
        assert_eq!(
            state.connection("b", 400_000, STALE),
            Connection::Disconnected { since_ms: 1_000 }
        );
        assert_eq!(
            report(&mut state, 400_000),
            [DisconnectedCluster {
                cluster: "b".into(),
                since_ms: 1_000
            }]
        );
        assert_eq!(
            state.connection("a", 400_000, STALE),
            Connection::Connected {
                node: 1,
                since_ms: 1_000
            }
        );
    }

    #[test]
    fn a_node_that_dies_right_after_writing_an_open_in_the_same_millisecond_is_reported() {
        let mut state = fleet();
        write(&mut state, 2, 200, &[change("a", 1, true, 1_000)], 1_000);
        write(&mut state, 1, 100, &[], 400_000);
        assert_eq!(
            report(&mut state, 400_000),
            [DisconnectedCluster {
                cluster: "a".into(),
                since_ms: 1_000
            }]
        );
        assert_eq!(events(&state).len(), 1, "{:?}", events(&state));
    }

    #[test]
    fn a_restarted_node_ends_the_sessions_of_its_previous_incarnation() {
        let mut state = fleet();
        write(&mut state, 1, 100, &[change("a", 1, true, 1_000)], 1_000);
        write(&mut state, 1, 100, &[], 50_000);
        write(&mut state, 1, 999, &[], 60_000);
        assert_eq!(
            state.connection("a", 60_000, STALE),
            Connection::Disconnected { since_ms: 50_000 }
        );
        // A close from the old incarnation changes nothing now.
        write(&mut state, 1, 100, &[change("a", 1, false, 61_000)], 61_000);
        assert_eq!(
            state.connection("a", 61_000, STALE),
            Connection::Disconnected { since_ms: 50_000 }
        );
    }

    #[test]
    fn a_report_decided_before_the_cluster_came_back_is_dropped_and_revoked_clusters_are_not_reported()
     {
        let mut state = fleet();
        write(
            &mut state,
            1,
            100,
            &[change("a", 1, true, 1_000), change("b", 1, true, 1_000)],
            1_000,
        );
        write(
            &mut state,
            1,
            100,
            &[change("a", 1, false, 2_000), change("b", 1, false, 2_000)],
            2_000,
        );
        state.clusters.get_mut("b").unwrap().revoked = true;
        let decided = state.disconnected_to_report(400_000, STALE, AFTER);
        assert_eq!(
            decided,
            [DisconnectedCluster {
                cluster: "a".into(),
                since_ms: 2_000
            }]
        );
        write(
            &mut state,
            1,
            100,
            &[change("a", 2, true, 400_100)],
            400_100,
        );
        let result = state.apply(&Command::ReportDisconnected {
            clusters: decided,
            after_ms: AFTER,
            stale_after_ms: STALE,
            at_ms: 400_200,
        });
        assert_eq!(result, CommandResult::Unchanged);
        assert!(events(&state).is_empty(), "{:?}", events(&state));
    }
}
