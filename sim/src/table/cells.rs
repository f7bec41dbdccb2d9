//! Reading table cell values out of objects: strings, counts, ages,
//! selectors and conditions, with kubectl's `<none>` for empty values.

use serde_json::Value;

use crate::clock::{human_age, parse_rfc3339, unix_seconds_now};

/// A field as display text (empty when absent).
pub fn text(object: &Value, pointer: &str) -> String {
    match object.pointer(pointer) {
        Some(Value::String(value)) => value.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A field as an integer (0 when absent).
pub fn number(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// `<none>` for empty text.
pub fn or_none(value: String) -> String {
    if value.is_empty() {
        "<none>".to_string()
    } else {
        value
    }
}

/// The object's age, like kubectl prints it.
pub fn age(object: &Value) -> String {
    parse_rfc3339(&text(object, "/metadata/creationTimestamp"))
        .map(|created| human_age(unix_seconds_now() - created))
        .unwrap_or_else(|| "<unknown>".to_string())
}

/// Number of keys in the named map fields.
pub fn count(object: &Value, fields: &[&str]) -> i64 {
    fields
        .iter()
        .map(|field| {
            object
                .get(*field)
                .and_then(Value::as_object)
                .map_or(0, |map| map.len() as i64)
        })
        .sum()
}

/// The pod template's containers.
pub fn containers(object: &Value) -> Vec<Value> {
    object
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// One field of each item, comma-joined.
pub fn joined(items: &[Value], field: &str) -> String {
    items
        .iter()
        .map(|item| text(item, &format!("/{field}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// The label selector as `k=v,...`.
pub fn selector(object: &Value) -> String {
    object
        .pointer("/spec/selector/matchLabels")
        .or_else(|| object.pointer("/spec/selector"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| value.as_str().map(|value| format!("{key}={value}")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .map(or_none)
        .unwrap_or_else(|| "<none>".to_string())
}

/// Whether a status condition is True.
pub fn condition_true(object: &Value, condition_type: &str) -> bool {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions.iter().any(|condition| {
                text(condition, "/type") == condition_type && text(condition, "/status") == "True"
            })
        })
}

/// A simple JSONPath (`.spec.x`) as a JSON pointer.
pub fn json_path_pointer(json_path: &str) -> String {
    json_path
        .trim_start_matches('.')
        .split('.')
        .filter(|part| !part.is_empty())
        .fold(String::new(), |mut pointer, part| {
            pointer.push('/');
            pointer.push_str(part);
            pointer
        })
}

/// `default` for empty text.
pub fn or_default(value: String, default: &str) -> String {
    if value.is_empty() {
        default.to_string()
    } else {
        value
    }
}
