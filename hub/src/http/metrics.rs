//! Prometheus metrics of a hub node.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The metrics a hub node exports.
pub struct HubMetrics {
    registry: Registry,
    /// Agent sessions open on this node.
    pub sessions: Gauge,
    /// Revisions rendered by this node's Git sync.
    pub revisions_rendered: Counter,
    /// Revisions that failed to render.
    pub render_failures: Counter,
    /// Seconds to render a revision for every cluster.
    pub render_seconds: Histogram,
    /// Desired states pushed to agents.
    pub desired_states_sent: Counter,
    /// Current Raft term.
    pub raft_term: Gauge<u64, AtomicU64>,
    /// Last committed Raft log index.
    pub raft_commit_index: Gauge<u64, AtomicU64>,
    /// 1 when this node is the Raft leader.
    pub raft_leader: Gauge,
    /// JSON size of the fleet state at the last snapshot.
    pub state_bytes: Gauge<u64, AtomicU64>,
    /// Size of the last snapshot.
    pub snapshot_bytes: Gauge<u64, AtomicU64>,
    /// Notifications acknowledged by their receivers (sent by this node).
    pub notifications_delivered: Counter,
    /// Notification attempts that failed (sent by this node).
    pub notification_failures: Counter,
    /// Undelivered events in the outbox (as this node last saw it leading).
    pub notification_outbox_events: Gauge,
}

impl Default for HubMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fleet_hub");
        let sessions = Gauge::default();
        registry.register(
            "agent_sessions",
            "Agent sessions open on this node",
            sessions.clone(),
        );
        let revisions_rendered = Counter::default();
        registry.register(
            "revisions_rendered",
            "Revisions rendered for every cluster",
            revisions_rendered.clone(),
        );
        let render_failures = Counter::default();
        registry.register(
            "render_failures",
            "Revisions that failed to render",
            render_failures.clone(),
        );
        let render_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        registry.register(
            "render_seconds",
            "Seconds to render a revision for every cluster",
            render_seconds.clone(),
        );
        let desired_states_sent = Counter::default();
        registry.register(
            "desired_states_sent",
            "Desired states pushed to agents",
            desired_states_sent.clone(),
        );
        let raft_term = Gauge::<u64, AtomicU64>::default();
        registry.register("raft_term", "Current Raft term", raft_term.clone());
        let raft_commit_index = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "raft_commit_index",
            "Last committed Raft log index",
            raft_commit_index.clone(),
        );
        let raft_leader = Gauge::default();
        registry.register(
            "raft_leader",
            "1 when this node is the Raft leader",
            raft_leader.clone(),
        );
        let state_bytes = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "state_bytes",
            "JSON size of the fleet state at the last snapshot built or installed here",
            state_bytes.clone(),
        );
        let snapshot_bytes = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "snapshot_bytes",
            "Size of the last snapshot built or installed here",
            snapshot_bytes.clone(),
        );
        let notifications_delivered = Counter::default();
        registry.register(
            "notifications_delivered",
            "Notifications acknowledged by their receivers",
            notifications_delivered.clone(),
        );
        let notification_failures = Counter::default();
        registry.register(
            "notification_failures",
            "Notification delivery attempts that failed",
            notification_failures.clone(),
        );
        let notification_outbox_events = Gauge::default();
        registry.register(
            "notification_outbox_events",
            "Undelivered notification events in the outbox",
            notification_outbox_events.clone(),
        );
        Self {
            notifications_delivered,
            notification_failures,
            notification_outbox_events,
            state_bytes,
            snapshot_bytes,
            registry,
            sessions,
            revisions_rendered,
            render_failures,
            render_seconds,
            desired_states_sent,
            raft_term,
            raft_commit_index,
            raft_leader,
        }
    }
}

impl HubMetrics {
    /// Records one render of a revision.
    pub fn observe_render(&self, elapsed: Duration, valid: bool) {
        self.revisions_rendered.inc();
        if !valid {
            self.render_failures.inc();
        }
        self.render_seconds.observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
