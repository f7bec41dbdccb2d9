//! The admin calls that manage notification targets. The URL and secret
//! go into the replicated state only: they are never logged, never put in
//! the audit log, and listed redacted.

use fleet_proto::{
    ListNotificationTargetsResponse, NotificationTargetView, SetNotificationTargetRequest,
};
use tonic::Status;

use crate::notifications::redacted_url;
use crate::state::{
    Command, EventCategory, FleetState, NotificationFormat, NotificationTarget, SecretText,
};

/// Longest target name.
const MAX_NAME_CHARS: usize = 63;
/// Longest URL or secret accepted.
const MAX_URL_OR_SECRET_BYTES: usize = 2048;

/// The command that stores `request`'s target, or `INVALID_ARGUMENT`
/// naming the field at fault.
pub fn set_target_command(
    request: SetNotificationTargetRequest,
    actor: String,
    at_ms: u64,
) -> Result<Command, Status> {
    let name = request.name.trim().to_owned();
    let name_ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(Status::invalid_argument(format!(
            "name: '{name}' is not a valid target name (1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.')"
        )));
    }
    let url = request.url.trim().to_owned();
    let parsed: Option<http::Uri> = url.parse().ok();
    let url_ok = url.len() <= MAX_URL_OR_SECRET_BYTES
        && parsed.as_ref().is_some_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
        });
    if !url_ok {
        // The URL itself is a secret: not echoed.
        return Err(Status::invalid_argument(
            "url: not a valid http:// or https:// URL (at most 2048 bytes)",
        ));
    }
    if request.secret.len() > MAX_URL_OR_SECRET_BYTES {
        return Err(Status::invalid_argument("secret: longer than 2048 bytes"));
    }
    let format = match request.format.as_str() {
        "" | "json" => NotificationFormat::Json,
        "slack" => NotificationFormat::Slack,
        other => {
            return Err(Status::invalid_argument(format!(
                "format: unknown format '{other}' (json or slack)"
            )));
        }
    };
    let mut categories = std::collections::BTreeSet::new();
    for name in request.events.iter().flat_map(|events| events.split(',')) {
        let name = name.trim();
        let category = EventCategory::parse(name).ok_or_else(|| {
            Status::invalid_argument(format!(
                "events: unknown event category '{name}' (rollout, approval, drift, cluster)"
            ))
        })?;
        categories.insert(category);
    }
    if categories.is_empty() {
        return Err(Status::invalid_argument(
            "events: name at least one of rollout, approval, drift, cluster",
        ));
    }
    Ok(Command::SetNotificationTarget {
        target: Box::new(NotificationTarget {
            name,
            url: SecretText(url),
            secret: (!request.secret.is_empty()).then_some(SecretText(request.secret)),
            format,
            categories,
            created_by: actor.clone(),
            created_at_ms: at_ms,
            delivered: 0,
            failed_attempts: 0,
            dropped: 0,
            last_error: None,
            last_error_at_ms: None,
            last_delivered_at_ms: None,
        }),
        actor,
        at_ms,
    })
}

/// Every target, redacted.
pub fn list_targets(state: &FleetState) -> ListNotificationTargetsResponse {
    let notifications = &state.notifications;
    let targets = notifications
        .targets
        .values()
        .map(|target| NotificationTargetView {
            name: target.name.clone(),
            url_redacted: redacted_url(&target.url.0),
            signed: target.secret.is_some(),
            format: match target.format {
                NotificationFormat::Json => "json",
                NotificationFormat::Slack => "slack",
            }
            .to_owned(),
            events: target
                .categories
                .iter()
                .map(|category| category.name().to_owned())
                .collect(),
            delivered: target.delivered,
            failed_attempts: target.failed_attempts,
            dropped: target.dropped,
            pending: notifications
                .outbox
                .iter()
                .filter(|entry| entry.pending.contains_key(&target.name))
                .count() as u64,
            last_error: target.last_error.clone().unwrap_or_default(),
            last_error_at_ms: target.last_error_at_ms,
            last_delivered_at_ms: target.last_delivered_at_ms,
        })
        .collect();
    ListNotificationTargetsResponse { targets }
}
