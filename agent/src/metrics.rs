//! The agent's Prometheus metrics.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Counters and gauges the agent updates; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    /// Successful server-side applies.
    pub applies: Counter,
    /// Applies or deletes the API server refused.
    pub apply_errors: Counter,
    /// Objects deleted by prune.
    pub prunes: Counter,
    /// Drift events detected.
    pub drift_events: Counter,
    /// Drifted objects re-applied (self-heal).
    pub reverts: Counter,
    /// Objects in the inventory.
    pub managed_objects: Gauge,
    /// Running watches.
    pub watches: Gauge,
    /// 1 while a session with the hub is open.
    pub connected: Gauge,
    /// Seconds from a watch event showing drift to the revert's answer.
    pub revert_seconds: Histogram,
    registry: Arc<Registry>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("fleet_agent");
        let applies = Counter::default();
        let apply_errors = Counter::default();
        let prunes = Counter::default();
        let drift_events = Counter::default();
        let reverts = Counter::default();
        let managed_objects = Gauge::default();
        let watches = Gauge::default();
        let connected = Gauge::default();
        let revert_seconds = Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]);
        registry.register("applies", "Successful server-side applies", applies.clone());
        registry.register(
            "apply_errors",
            "Applies or deletes the API server refused",
            apply_errors.clone(),
        );
        registry.register("prunes", "Objects deleted by prune", prunes.clone());
        registry.register(
            "drift_events",
            "Drift events detected",
            drift_events.clone(),
        );
        registry.register("reverts", "Drifted objects re-applied", reverts.clone());
        registry.register(
            "managed_objects",
            "Objects in the inventory",
            managed_objects.clone(),
        );
        registry.register("watches", "Running watches", watches.clone());
        registry.register(
            "connected",
            "1 while a session with the hub is open",
            connected.clone(),
        );
        registry.register(
            "revert_seconds",
            "Seconds from seeing drift to the revert being applied",
            revert_seconds.clone(),
        );
        Self {
            applies,
            apply_errors,
            prunes,
            drift_events,
            reverts,
            managed_objects,
            watches,
            connected,
            revert_seconds,
            registry: Arc::new(registry),
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
