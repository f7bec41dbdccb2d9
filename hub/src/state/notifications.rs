//! Notification targets and the replicated outbox of rollout events.
//!
//! Events are appended while commands apply (deterministic: every node ends
//! with the same outbox); the leader delivers them (`notifications/`) and
//! records each outcome with [`Command::RecordNotificationDeliveries`], so a
//! new leader resumes where the old one stopped. An event leaves the outbox
//! when every target it was for acknowledged it or gave up on it, or when the
//! leader trims it ([`Command::TrimNotifications`], retention and the outbox
//! bound are hub.yaml settings and so live in the leader's decision, not in
//! the apply).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::command::{Command, CommandResult};
use super::fleet_state::FleetState;

/// A text that must not appear in logs or listings (a webhook URL or an
/// HMAC secret): `Debug` prints it redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("<redacted>")
    }
}

/// What kinds of events a target asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventCategory {
    /// Rollout started, succeeded, failed, rolled back, paused; wave failed.
    Rollout,
    /// A wave waits for approval.
    Approval,
    /// Drift was reverted in a cluster.
    Drift,
    /// A cluster stayed disconnected too long.
    Cluster,
}

impl EventCategory {
    /// The name used on the command line and the wire.
    pub fn name(self) -> &'static str {
        match self {
            EventCategory::Rollout => "rollout",
            EventCategory::Approval => "approval",
            EventCategory::Drift => "drift",
            EventCategory::Cluster => "cluster",
        }
    }

    /// The category called `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [
            EventCategory::Rollout,
            EventCategory::Approval,
            EventCategory::Drift,
            EventCategory::Cluster,
        ]
        .into_iter()
        .find(|category| category.name() == name)
    }
}

/// How a target wants its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationFormat {
    /// `{event, fleet, rollout, revision, wave, clusters, message, at}`.
    Json,
    /// A Slack incoming-webhook payload (`{"text": …}`).
    Slack,
}

/// A receiver of notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationTarget {
    /// Its name (unique).
    pub name: String,
    /// Where requests go.
    pub url: SecretText,
    /// The HMAC-SHA256 key of `X-Fleet-Signature-256`, if any.
    pub secret: Option<SecretText>,
    /// Body format.
    pub format: NotificationFormat,
    /// Categories it receives.
    pub categories: BTreeSet<EventCategory>,
    /// Who added it (certificate identity).
    pub created_by: String,
    /// When (Unix milliseconds).
    pub created_at_ms: u64,
    /// Events it acknowledged with a 2xx.
    pub delivered: u64,
    /// Attempts that failed (each retry counts).
    pub failed_attempts: u64,
    /// Events given up on (retried past the retry window, or trimmed).
    pub dropped: u64,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at_ms: Option<u64>,
    /// When an event was last acknowledged.
    pub last_delivered_at_ms: Option<u64>,
}

/// One event as receivers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEvent {
    /// Sequence number (1, 2, …); the event id is derived from it.
    pub sequence: u64,
    /// What happened, e.g. `rollout.succeeded` (see `kind` constants).
    pub kind: String,
    /// Its category.
    pub category: EventCategory,
    /// The rollout concerned, if any.
    pub rollout: Option<u64>,
    /// The revision concerned (empty when none).
    pub revision: String,
    /// The wave concerned, if any.
    pub wave: Option<String>,
    /// The clusters concerned.
    pub clusters: Vec<String>,
    /// What happened, in words (failure messages included; never values).
    pub message: String,
    /// When (Unix milliseconds).
    pub at_ms: u64,
}

impl NotificationEvent {
    /// The id sent as `X-Fleet-Event-Id` (stable across retries and leaders).
    pub fn id(&self) -> String {
        format!("event-{}", self.sequence)
    }
}

/// Where one event's delivery to one target is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDelivery {
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this time (Unix milliseconds; 0: at once).
    pub next_attempt_ms: u64,
    /// The last failure, in words.
    pub last_error: Option<String>,
}

/// An event and the targets that still have to acknowledge it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The event.
    pub event: NotificationEvent,
    /// Targets by name.
    pub pending: BTreeMap<String, PendingDelivery>,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryResult {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed; try again at `next_attempt_ms`.
    Failed {
        /// Why, in words (no URL).
        error: String,
        /// When to try again (Unix milliseconds).
        next_attempt_ms: u64,
    },
    /// It failed and the retry window is over: the event is dropped for it.
    GaveUp {
        /// Why, in words (no URL).
        error: String,
    },
}

/// One attempt, as the leader records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryOutcome {
    /// The event's sequence number.
    pub sequence: u64,
    /// The target's name.
    pub target: String,
    /// What happened.
    pub result: DeliveryResult,
}

/// Targets, the outbox and what has been raised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationState {
    /// Targets by name.
    pub targets: BTreeMap<String, NotificationTarget>,
    /// Undelivered events, oldest first.
    pub outbox: Vec<OutboxEntry>,
    /// The last event sequence number handed out.
    pub last_sequence: u64,
    /// Clusters reported disconnected and not heard from since.
    pub disconnected: BTreeSet<String>,
}

impl NotificationState {
    /// Whether any target receives `category`.
    pub fn wants(&self, category: EventCategory) -> bool {
        self.targets
            .values()
            .any(|target| target.categories.contains(&category))
    }

    /// Appends an event for every target that receives its category (none:
    /// nothing is kept).
    pub fn raise(&mut self, mut event: NotificationEvent) {
        let pending: BTreeMap<String, PendingDelivery> = self
            .targets
            .values()
            .filter(|target| target.categories.contains(&event.category))
            .map(|target| (target.name.clone(), PendingDelivery::default()))
            .collect();
        if pending.is_empty() {
            return;
        }
        self.last_sequence += 1;
        event.sequence = self.last_sequence;
        self.outbox.push(OutboxEntry { event, pending });
    }

    /// The trim the leader proposes: events older than `retention_ms`, and
    /// the oldest past `max_events`.
    pub fn trim_command(
        &self,
        retention_ms: u64,
        max_events: usize,
        now_ms: u64,
    ) -> Option<Command> {
        let excess = self.outbox.len().saturating_sub(max_events);
        let past_bound = excess
            .checked_sub(1)
            .and_then(|index| self.outbox.get(index))
            .map(|entry| entry.event.sequence);
        let through_sequence = past_bound.max(self.expired_through(retention_ms, now_ms))?;
        Some(Command::TrimNotifications {
            through_sequence,
            at_ms: now_ms,
        })
    }

    fn expired_through(&self, retention_ms: u64, now_ms: u64) -> Option<u64> {
        self.outbox
            .iter()
            .take_while(|entry| entry.event.at_ms.saturating_add(retention_ms) <= now_ms)
            .last()
            .map(|entry| entry.event.sequence)
    }
}

impl FleetState {
    pub(super) fn set_notification_target(
        &mut self,
        target: &NotificationTarget,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        let categories: Vec<&str> = target.categories.iter().map(|c| c.name()).collect();
        let mut stored = target.clone();
        if let Some(previous) = self.notifications.targets.get(&target.name) {
            // Replacing keeps the counters: failures stay visible.
            stored.delivered = previous.delivered;
            stored.failed_attempts = previous.failed_attempts;
            stored.dropped = previous.dropped;
            stored.last_error = previous.last_error.clone();
            stored.last_error_at_ms = previous.last_error_at_ms;
            stored.last_delivered_at_ms = previous.last_delivered_at_ms;
        }
        self.notifications
            .targets
            .insert(target.name.clone(), stored);
        self.audit(
            actor,
            at_ms,
            format!(
                "set notification target {} (events {})",
                target.name,
                categories.join(",")
            ),
        );
        CommandResult::Applied
    }

    pub(super) fn remove_notification_target(
        &mut self,
        name: &str,
        actor: &str,
        at_ms: u64,
    ) -> CommandResult {
        if self.notifications.targets.remove(name).is_none() {
            return CommandResult::Rejected(format!("no notification target '{name}'"));
        }
        for entry in &mut self.notifications.outbox {
            entry.pending.remove(name);
        }
        self.notifications
            .outbox
            .retain(|entry| !entry.pending.is_empty());
        self.audit(actor, at_ms, format!("removed notification target {name}"));
        CommandResult::Applied
    }

    pub(super) fn record_notification_deliveries(
        &mut self,
        outcomes: &[DeliveryOutcome],
        at_ms: u64,
    ) -> CommandResult {
        let notifications = &mut self.notifications;
        let mut changed = false;
        for outcome in outcomes {
            let Some(entry) = notifications
                .outbox
                .iter_mut()
                .find(|entry| entry.event.sequence == outcome.sequence)
            else {
                continue;
            };
            let Some(pending) = entry.pending.get_mut(&outcome.target) else {
                continue;
            };
            let target = notifications.targets.get_mut(&outcome.target);
            changed = true;
            match &outcome.result {
                DeliveryResult::Delivered => {
                    entry.pending.remove(&outcome.target);
                    if let Some(target) = target {
                        target.delivered += 1;
                        target.last_delivered_at_ms = Some(at_ms);
                    }
                }
                DeliveryResult::Failed {
                    error,
                    next_attempt_ms,
                } => {
                    pending.attempts = pending.attempts.saturating_add(1);
                    pending.next_attempt_ms = *next_attempt_ms;
                    pending.last_error = Some(error.clone());
                    if let Some(target) = target {
                        target.failed_attempts += 1;
                        target.last_error = Some(error.clone());
                        target.last_error_at_ms = Some(at_ms);
                    }
                }
                DeliveryResult::GaveUp { error } => {
                    entry.pending.remove(&outcome.target);
                    if let Some(target) = target {
                        target.failed_attempts += 1;
                        target.dropped += 1;
                        target.last_error = Some(format!("gave up on an event: {error}"));
                        target.last_error_at_ms = Some(at_ms);
                    }
                }
            }
        }
        notifications
            .outbox
            .retain(|entry| !entry.pending.is_empty());
        if changed {
            CommandResult::Applied
        } else {
            CommandResult::Unchanged
        }
    }

    pub(super) fn trim_notifications(&mut self, through_sequence: u64) -> CommandResult {
        let notifications = &mut self.notifications;
        let before = notifications.outbox.len();
        for entry in notifications
            .outbox
            .iter()
            .filter(|entry| entry.event.sequence <= through_sequence)
        {
            for name in entry.pending.keys() {
                if let Some(target) = notifications.targets.get_mut(name) {
                    target.dropped += 1;
                }
            }
        }
        notifications
            .outbox
            .retain(|entry| entry.event.sequence > through_sequence);
        if notifications.outbox.len() == before {
            CommandResult::Unchanged
        } else {
            CommandResult::Applied
        }
    }
}

/// A command adding target `name` for `categories` (tests).
#[cfg(test)]
pub(crate) fn test_target(name: &str, categories: &[EventCategory]) -> Command {
    Command::SetNotificationTarget {
        target: Box::new(NotificationTarget {
            name: name.into(),
            url: SecretText("http://receiver.invalid/secret-path".into()),
            secret: Some(SecretText("s3cret".into())),
            format: NotificationFormat::Json,
            categories: categories.iter().copied().collect(),
            created_by: "spiffe://fleet/admin/ops".into(),
            created_at_ms: 0,
            delivered: 0,
            failed_attempts: 0,
            dropped: 0,
            last_error: None,
            last_error_at_ms: None,
            last_delivered_at_ms: None,
        }),
        actor: "spiffe://fleet/admin/ops".into(),
        at_ms: 0,
    }
}
