//! The body of a notification request and its signature.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::error::{Error, Result};
use crate::clock::UtcTime;
use crate::state::{NotificationEvent, NotificationFormat};

/// `sha256=<hex HMAC-SHA256(secret, body)>`, like GitHub's webhooks.
pub const SIGNATURE_HEADER: &str = "X-Fleet-Signature-256";
/// The event's id, the same on every retry and from every leader.
pub const EVENT_ID_HEADER: &str = "X-Fleet-Event-Id";

/// The JSON body of format `json`.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    /// The event kind, e.g. `rollout.succeeded`.
    pub event: &'a str,
    /// The fleet's name (hub.yaml `notifications.fleetName`).
    pub fleet: &'a str,
    /// The rollout id, if any.
    pub rollout: Option<u64>,
    /// The revision (commit id), empty when none.
    pub revision: &'a str,
    /// The wave, if any.
    pub wave: Option<&'a str>,
    /// The clusters concerned.
    pub clusters: &'a [String],
    /// What happened, in words.
    pub message: &'a str,
    /// When, RFC 3339 in UTC.
    pub at: String,
}

/// The body for `format`, serialized.
pub fn body(event: &NotificationEvent, fleet: &str, format: NotificationFormat) -> Result<Vec<u8>> {
    let at = rfc3339(event.at_ms);
    match format {
        NotificationFormat::Json => serde_json::to_vec(&Payload {
            event: &event.kind,
            fleet,
            rollout: event.rollout,
            revision: &event.revision,
            wave: event.wave.as_deref(),
            clusters: &event.clusters,
            message: &event.message,
            at,
        }),
        NotificationFormat::Slack => {
            let short = event.revision.get(..12).unwrap_or(&event.revision);
            let mut text = format!("[{fleet}] {}: {}", event.kind, event.message);
            if !short.is_empty() && !event.message.contains(&event.revision) {
                text.push_str(&format!(" (revision {short})"));
            }
            serde_json::to_vec(&serde_json::json!({ "text": text }))
        }
    }
    .map_err(Error::Serialize)
}

/// The value of [`SIGNATURE_HEADER`] for `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `scheme://host/…` — what listings show of a target URL.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "…".to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // user:password@ never shows.
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}/…")
}

/// `at_ms` as RFC 3339 in UTC, e.g. `2026-12-05T21:00:00Z` (milliseconds
/// shown when not zero).
fn rfc3339(at_ms: u64) -> String {
    let UtcTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        millis,
    } = UtcTime::from_unix_ms(at_ms);
    if millis == 0 {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::EventCategory;

    fn event() -> NotificationEvent {
        NotificationEvent {
            sequence: 7,
            kind: "rollout.succeeded".into(),
            category: EventCategory::Rollout,
            rollout: Some(3),
            revision: "0123456789abcdef".into(),
            wave: None,
            clusters: vec![],
            message: "done".into(),
            at_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn json_bodies_carry_the_documented_fields() {
        let body = body(&event(), "prod", NotificationFormat::Json).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["event"], "rollout.succeeded");
        assert_eq!(value["fleet"], "prod");
        assert_eq!(value["rollout"], 3);
        assert_eq!(value["at"], "2023-11-14T22:13:20Z");
        let slack = super::body(&event(), "prod", NotificationFormat::Slack).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&slack).unwrap();
        assert_eq!(
            value["text"],
            "[prod] rollout.succeeded: done (revision 0123456789ab)"
        );
    }

    #[test]
    fn signatures_match_a_known_hmac_and_urls_hide_paths_and_credentials() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            redacted_url("https://user:pw@hooks.example.com/services/T0/B0/XYZ?x=1"),
            "https://hooks.example.com/…"
        );
    }
}
