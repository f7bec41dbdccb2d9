//! Notifications of rollout events: the leader delivers the replicated
//! outbox (`state/notifications.rs`) to each target over HTTP(S), signed
//! with the target's secret, and records every outcome in the log.
//!
//! At-least-once: an event leaves the outbox for a target only when its
//! 2xx answer is recorded; a leader that dies between the answer and the
//! record leaves the event to its successor, which sends it again with the
//! same `X-Fleet-Event-Id` — receivers de-duplicate by that id.

mod deliverer;
mod error;
mod payload;
mod sender;
mod settings;

pub use deliverer::NotificationDeliverer;
pub use error::{Error, Result};
pub use payload::{EVENT_ID_HEADER, Payload, SIGNATURE_HEADER, redacted_url, signature};
pub use sender::Sender;
pub use settings::NotificationsConfig;
