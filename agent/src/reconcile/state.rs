//! What the reconciler remembers about each app between passes, and how
//! that becomes the app's line in the status report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fleet_proto::AppStatus;

use crate::apply::object::ObjectKey;
use crate::health::Health;

/// An object that could not be applied (or deleted).
#[derive(Debug, Clone)]
pub struct ObjectFailure {
    /// The desired digest that failed (retried when it changes).
    pub digest: String,
    /// What went wrong, with the API server's message.
    pub message: String,
    /// When (retried after a while too).
    pub at: Instant,
    /// The object's namespace is being terminated: not a failure of the
    /// app, only a wait — retried soon, shown as Progressing.
    pub namespace_terminating: bool,
}

impl ObjectFailure {
    /// How long after [`ObjectFailure::at`] the object is tried again.
    pub fn retry_after(&self) -> Duration {
        if self.namespace_terminating {
            super::NAMESPACE_TERMINATING_RETRY
        } else {
            super::RETRY_AFTER
        }
    }

    /// Whether the retry time has come.
    pub fn due(&self) -> bool {
        self.at.elapsed() >= self.retry_after()
    }
}

/// One app's memory.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The desired app digest these counters belong to.
    pub desired_digest: String,
    /// The app digest last applied completely.
    pub applied_digest: String,
    /// Objects that failed.
    pub failures: BTreeMap<ObjectKey, ObjectFailure>,
    /// Drift events seen since the desired digest last changed.
    pub drift_count: u32,
    /// Drift left in place (selfHeal off), per object: its short diff.
    pub drifted: BTreeMap<ObjectKey, String>,
    /// The last drift that was reverted.
    pub last_reverted: Option<String>,
    /// Dependency the app waits for.
    pub waiting_for: Option<String>,
    /// Objects left in the cluster because prune is off.
    pub orphans: Vec<ObjectKey>,
    /// Whether every object is applied at its desired digest.
    pub fully_applied: bool,
    /// Aggregated health.
    pub health: Health,
    /// Degraded objects and why (`Deployment web/web: ProgressDeadlineExceeded`).
    pub degraded: Vec<String>,
    /// Since when the app has been Progressing (for its health timeout).
    pub progressing_since: Option<Instant>,
    /// Whether the health timeout passed.
    pub timed_out: bool,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            desired_digest: String::new(),
            applied_digest: String::new(),
            failures: BTreeMap::new(),
            drift_count: 0,
            drifted: BTreeMap::new(),
            last_reverted: None,
            waiting_for: None,
            orphans: Vec::new(),
            fully_applied: false,
            health: Health::Unknown,
            degraded: Vec::new(),
            progressing_since: None,
            timed_out: false,
        }
    }
}

impl AppState {
    /// Starts counting afresh for a new desired digest.
    pub fn follow(&mut self, desired_digest: &str) {
        if self.desired_digest != desired_digest {
            self.desired_digest = desired_digest.to_owned();
            self.drift_count = 0;
            self.drifted.clear();
            self.last_reverted = None;
            self.progressing_since = None;
            self.timed_out = false;
        }
    }

    /// The app's status message: what is wrong or noteworthy, most
    /// important first; empty when all is well.
    pub fn message(&self) -> String {
        let mut parts = Vec::new();
        if let Some(dependency) = &self.waiting_for {
            parts.push(format!("waiting for dependency {dependency}"));
        }
        for failure in self.failures.values() {
            if failure.namespace_terminating {
                parts.push(format!("waiting: {}", failure.message));
            } else {
                parts.push(format!("apply failed: {}", failure.message));
            }
        }
        parts.extend(self.degraded.iter().cloned());
        if self.timed_out {
            parts.push("not healthy within its health timeout".to_owned());
        }
        for (object, diff) in &self.drifted {
            parts.push(format!("drifted (selfHeal is off): {object}: {diff}"));
        }
        if !self.orphans.is_empty() {
            let names: Vec<String> = self.orphans.iter().map(ToString::to_string).collect();
            parts.push(format!("orphaned (prune is off): {}", names.join(", ")));
        }
        if let Some(drift) = &self.last_reverted {
            parts.push(format!("drift reverted: {drift}"));
        }
        parts.join("; ")
    }

    /// The app's line in the status report.
    pub fn report(&self, app: &str) -> AppStatus {
        AppStatus {
            app: app.to_owned(),
            digest: self.applied_digest.clone(),
            health: self.health.to_wire() as i32,
            message: self.message(),
            drift_count: self.drift_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_lists_what_matters() {
        let mut state = AppState::default();
        assert_eq!(state.message(), "");
        state.waiting_for = Some("database".into());
        state.orphans.push(ObjectKey {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: "web".into(),
            name: "old".into(),
        });
        assert_eq!(
            state.message(),
            "waiting for dependency database; orphaned (prune is off): ConfigMap web/old"
        );
        state.drift_count = 3;
        state.follow("sha256:new");
        assert_eq!(state.drift_count, 0);
    }
}
