//! Building `status.conditions` the way controllers do: transition times
//! change only when a condition's status changes, so recomputing an
//! unchanged status writes nothing.

use serde_json::{Value, json};

use crate::clock::now_rfc3339;

/// One desired condition.
pub struct Condition<'a> {
    /// Condition type, for example `Available`.
    pub condition_type: &'a str,
    /// `True` or `False`.
    pub status: bool,
    /// CamelCase reason.
    pub reason: &'a str,
    /// Human message.
    pub message: String,
}

/// Renders conditions, keeping times from `existing` where nothing changed.
/// `with_update_time` adds `lastUpdateTime` (Deployments have it).
pub fn render(
    existing: Option<&Value>,
    desired: &[Condition<'_>],
    with_update_time: bool,
) -> Value {
    let now = now_rfc3339();
    let previous = |condition_type: &str| {
        existing
            .and_then(|status| status.get("conditions"))
            .and_then(Value::as_array)
            .and_then(|conditions| {
                conditions.iter().find(|condition| {
                    condition.get("type").and_then(Value::as_str) == Some(condition_type)
                })
            })
            .cloned()
    };
    let rendered: Vec<Value> = desired
        .iter()
        .map(|condition| {
            let status = if condition.status { "True" } else { "False" };
            let old = previous(condition.condition_type);
            let same_status = old
                .as_ref()
                .is_some_and(|old| old.get("status").and_then(Value::as_str) == Some(status));
            let same_text = old.as_ref().is_some_and(|old| {
                old.get("reason").and_then(Value::as_str) == Some(condition.reason)
                    && old.get("message").and_then(Value::as_str)
                        == Some(condition.message.as_str())
            });
            let old_time = |field: &str| old.as_ref().and_then(|old| old.get(field)).cloned();
            let transition = if same_status {
                old_time("lastTransitionTime")
            } else {
                None
            };
            let update = if same_status && same_text {
                old_time("lastUpdateTime")
            } else {
                None
            };
            let mut rendered = json!({"type": condition.condition_type, "status": status});
            if with_update_time {
                rendered["lastUpdateTime"] = update.unwrap_or_else(|| json!(now));
            }
            rendered["lastTransitionTime"] = transition.unwrap_or_else(|| json!(now));
            rendered["reason"] = json!(condition.reason);
            rendered["message"] = json!(condition.message);
            rendered
        })
        .collect();
    Value::Array(rendered)
}
