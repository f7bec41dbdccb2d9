//! The leader's delivery loop over the replicated outbox.
//!
//! Each step: trim what is past retention or the outbox bound, then for
//! every target send its due events in order (a target whose oldest event
//! waits for a retry waits as a whole, so receivers see events in order),
//! targets in parallel; then record every outcome in one command.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use tracing::{info, warn};

use super::payload::{EVENT_ID_HEADER, SIGNATURE_HEADER, body, signature};
use super::sender::Sender;
use super::settings::NotificationsConfig;
use crate::clock::now_ms;
use crate::http::metrics::HubMetrics;
use crate::state::{
    Command, DeliveryOutcome, DeliveryResult, FleetState, NotificationEvent, NotificationTarget,
};
use crate::store::FleetStore;

/// How often the leader looks at the outbox even when nothing changed
/// (retries come due without any write).
const TICK: Duration = Duration::from_millis(500);
/// Events sent to one target in one step.
const EVENTS_PER_TARGET_PER_STEP: usize = 32;

/// Delivers notifications while this node leads.
pub struct NotificationDeliverer {
    store: FleetStore,
    sender: Sender,
    config: NotificationsConfig,
    metrics: Arc<HubMetrics>,
}

/// One target's due events, oldest first.
struct TargetBatch {
    target: NotificationTarget,
    events: Vec<(NotificationEvent, u32)>,
}

impl NotificationDeliverer {
    /// A deliverer over `store` with `config`.
    pub fn new(store: FleetStore, config: NotificationsConfig, metrics: Arc<HubMetrics>) -> Self {
        Self {
            store,
            sender: Sender::new(config.request_timeout.0),
            config,
            metrics,
        }
    }

    /// Runs forever.
    pub async fn run(self) {
        let mut changes = self.store.subscribe();
        loop {
            if self.store.is_leader() {
                self.step().await;
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

    async fn step(&self) {
        let now = now_ms();
        let retry_ms = u64::try_from(self.config.retry_for.0.as_millis()).unwrap_or(u64::MAX);
        let trim = self.store.read(|state| {
            state
                .notifications
                .trim_command(retry_ms, self.config.max_outbox_events, now)
        });
        if let Some(trim) = trim
            && let Err(error) = self.store.write(trim).await
        {
            warn!(%error, "notifications: the outbox trim could not be written");
            return;
        }
        let (batches, outbox) = self
            .store
            .read(|state| (due_batches(state, now), state.notifications.outbox.len()));
        self.metrics
            .notification_outbox_events
            .set(i64::try_from(outbox).unwrap_or(i64::MAX));
        if batches.is_empty() {
            return;
        }
        let outcomes: Vec<DeliveryOutcome> = futures::stream::iter(batches)
            .map(|batch| self.deliver(batch, retry_ms))
            .buffer_unordered(self.config.max_concurrent_requests.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .flatten()
            .collect();
        let command = Command::RecordNotificationDeliveries {
            outcomes,
            at_ms: now_ms(),
        };
        if let Err(error) = self.store.write(command).await {
            // The events stay in the outbox: this node (or the next leader)
            // sends them again under the same ids.
            warn!(%error, "notifications: delivery outcomes could not be written");
        }
    }

    /// Sends one target's events in order; stops at its first failure.
    async fn deliver(&self, batch: TargetBatch, retry_ms: u64) -> Vec<DeliveryOutcome> {
        let target = &batch.target;
        let mut outcomes = Vec::new();
        for (event, attempts) in batch.events {
            let sent = match body(&event, &self.config.fleet_name, target.format) {
                Ok(payload) => {
                    let mut headers = vec![(EVENT_ID_HEADER, event.id())];
                    if let Some(secret) = &target.secret {
                        headers.push((SIGNATURE_HEADER, signature(secret.0.as_bytes(), &payload)));
                    }
                    self.sender.post(&target.url.0, &headers, payload).await
                }
                Err(error) => Err(error),
            };
            let now = now_ms();
            match sent {
                Ok(()) => {
                    self.metrics.notifications_delivered.inc();
                    info!(target = %target.name, event = %event.id(), kind = %event.kind, "notification delivered");
                    outcomes.push(DeliveryOutcome {
                        sequence: event.sequence,
                        target: target.name.clone(),
                        result: DeliveryResult::Delivered,
                    });
                }
                Err(error) => {
                    self.metrics.notification_failures.inc();
                    let error = error.to_string();
                    warn!(target = %target.name, event = %event.id(), attempts = attempts + 1, error = %error, "notification not delivered");
                    let result = if now >= event.at_ms.saturating_add(retry_ms) {
                        DeliveryResult::GaveUp { error }
                    } else {
                        let wait = self.config.backoff(attempts.saturating_add(1));
                        DeliveryResult::Failed {
                            error,
                            next_attempt_ms: now
                                + u64::try_from(wait.as_millis()).unwrap_or(u64::MAX / 2),
                        }
                    };
                    outcomes.push(DeliveryOutcome {
                        sequence: event.sequence,
                        target: target.name.clone(),
                        result,
                    });
                    break;
                }
            }
        }
        outcomes
    }
}

/// Per target, its pending events in order while they are due (a target
/// whose oldest pending event is not due yet has none).
fn due_batches(state: &FleetState, now: u64) -> Vec<TargetBatch> {
    let notifications = &state.notifications;
    let mut batches: BTreeMap<&str, (bool, TargetBatch)> = BTreeMap::new();
    for entry in &notifications.outbox {
        for (name, pending) in &entry.pending {
            let Some(target) = notifications.targets.get(name) else {
                continue;
            };
            let (blocked, batch) = batches.entry(name.as_str()).or_insert_with(|| {
                (
                    false,
                    TargetBatch {
                        target: target.clone(),
                        events: Vec::new(),
                    },
                )
            });
            if *blocked || batch.events.len() >= EVENTS_PER_TARGET_PER_STEP {
                continue;
            }
            if pending.next_attempt_ms > now {
                *blocked = true;
                continue;
            }
            batch.events.push((entry.event.clone(), pending.attempts));
        }
    }
    batches
        .into_values()
        .map(|(_, batch)| batch)
        .filter(|batch| !batch.events.is_empty())
        .collect()
}
