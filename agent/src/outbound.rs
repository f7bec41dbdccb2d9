//! Agent → hub: the latest status report (sent when it changes, and again on
//! every new session so the hub catches up after an outage) and drift
//! events (kept while disconnected, oldest dropped past a bound).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use fleet_proto::{DriftEvent, StatusReport};
use tokio::sync::{Notify, watch};

/// Drift events kept while the hub is unreachable.
const PENDING_DRIFT_LIMIT: usize = 256;

/// The outbound side, shared by the reconciler (writer) and the connection
/// (reader).
#[derive(Clone)]
pub struct Outbound {
    status: watch::Sender<StatusReport>,
    drift: Arc<Mutex<VecDeque<DriftEvent>>>,
    drift_ready: Arc<Notify>,
}

impl Default for Outbound {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbound {
    /// Nothing reported yet.
    pub fn new() -> Self {
        Self {
            status: watch::Sender::new(StatusReport::default()),
            drift: Arc::new(Mutex::new(VecDeque::new())),
            drift_ready: Arc::new(Notify::new()),
        }
    }

    /// Sets the current status; wakes the connection only if it changed.
    pub fn report_status(&self, report: StatusReport) {
        self.status.send_if_modified(|current| {
            if *current == report {
                false
            } else {
                *current = report;
                true
            }
        });
    }

    /// The current status.
    pub fn status(&self) -> StatusReport {
        self.status.borrow().clone()
    }

    /// Follows status changes.
    pub fn subscribe(&self) -> watch::Receiver<StatusReport> {
        self.status.subscribe()
    }

    /// Queues a drift event for the hub.
    pub fn report_drift(&self, event: DriftEvent) {
        if let Ok(mut pending) = self.drift.lock() {
            if pending.len() >= PENDING_DRIFT_LIMIT {
                pending.pop_front();
            }
            pending.push_back(event);
        }
        self.drift_ready.notify_one();
    }

    /// Takes the queued drift events.
    pub fn take_drift(&self) -> Vec<DriftEvent> {
        self.drift
            .lock()
            .map(|mut pending| pending.drain(..).collect())
            .unwrap_or_default()
    }

    /// Resolves when drift events are queued.
    pub async fn drift_ready(&self) {
        self.drift_ready.notified().await;
    }

    /// Puts events back (the session broke before they were sent).
    pub fn requeue_drift(&self, events: Vec<DriftEvent>) {
        if let Ok(mut pending) = self.drift.lock() {
            for event in events.into_iter().rev() {
                if pending.len() >= PENDING_DRIFT_LIMIT {
                    break;
                }
                pending.push_front(event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_wakes_only_on_change() {
        let outbound = Outbound::new();
        let mut receiver = outbound.subscribe();
        receiver.mark_unchanged();
        let report = StatusReport {
            applied_digest: "sha256:1".into(),
            ..StatusReport::default()
        };
        outbound.report_status(report.clone());
        assert!(receiver.has_changed().unwrap());
        receiver.mark_unchanged();
        outbound.report_status(report);
        assert!(!receiver.has_changed().unwrap());
    }

    #[test]
    fn drift_is_bounded() {
        let outbound = Outbound::new();
        for index in 0..300 {
            outbound.report_drift(DriftEvent {
                diff: index.to_string(),
                ..DriftEvent::default()
            });
        }
        let events = outbound.take_drift();
        assert_eq!(events.len(), PENDING_DRIFT_LIMIT);
        assert_eq!(events[0].diff, "44");
    }
}
