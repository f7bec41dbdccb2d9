//! Server-owned metadata: uid, creationTimestamp, generation, name checks,
//! and the rules for which parts of an object a write may change.

use serde_json::{Value, json};

use crate::catalog::ResourceType;
use crate::status::{ApiError, StatusCause};

/// Why a name is not a valid DNS-1123 subdomain (or label, for namespaces),
/// in the real server's words; `None` when it is valid.
pub fn name_problem(name: &str, resource_type: &ResourceType) -> Option<String> {
    let is_label = resource_type.kind == "Namespace" && resource_type.group.is_empty();
    let max = if is_label { 63 } else { 253 };
    let allowed_dot = !is_label;
    let characters_ok = name.chars().all(|character| {
        character.is_ascii_lowercase()
            || character.is_ascii_digit()
            || character == '-'
            || (allowed_dot && character == '.')
    });
    let ends_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.len() > max {
        return Some(format!("must be no more than {max} characters"));
    }
    if characters_ok && ends_ok {
        return None;
    }
    Some(if is_label {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string()
    } else {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()
    })
}

/// A 422 Invalid for one field.
pub fn invalid(
    resource_type: &ResourceType,
    name: &str,
    field: &str,
    reason: &str,
    message: String,
) -> ApiError {
    ApiError::Invalid {
        kind: resource_type.qualified_kind(),
        group: resource_type.group.clone(),
        name: name.to_string(),
        causes: vec![StatusCause {
            reason: reason.to_string(),
            message,
            field: field.to_string(),
        }],
    }
}

/// Checks the name of a new object.
pub fn validate_name(resource_type: &ResourceType, name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(invalid(
            resource_type,
            name,
            "metadata.name",
            "FieldValueRequired",
            "Required value: name or generateName is required".to_string(),
        ));
    }
    if let Some(problem) = name_problem(name, resource_type) {
        return Err(invalid(
            resource_type,
            name,
            "metadata.name",
            "FieldValueInvalid",
            format!("Invalid value: \"{name}\": {problem}"),
        ));
    }
    Ok(())
}

/// The part of an object whose change bumps `metadata.generation`: all but
/// metadata, and but status when status is a separate subresource.
pub fn generation_relevant(object: &Value, status_separate: bool) -> Value {
    let mut relevant = object.clone();
    if let Some(map) = relevant.as_object_mut() {
        map.shift_remove("metadata");
        map.shift_remove("apiVersion");
        map.shift_remove("kind");
        if status_separate {
            map.shift_remove("status");
        }
    }
    relevant
}

/// Fills the server-owned metadata of `new` from `old` (or fresh values on
/// create), and bumps the generation when the spec changed.
pub fn fill_server_metadata(
    new: &mut Value,
    old: Option<&Value>,
    resource_type: &ResourceType,
    now: &str,
) {
    let old_metadata = old.and_then(|old| old.get("metadata"));
    let old_text = |field: &str| {
        old_metadata
            .and_then(|metadata| metadata.get(field))
            .cloned()
    };
    let generation = if resource_type.tracks_generation {
        let previous = old_metadata
            .and_then(|metadata| metadata.get("generation"))
            .and_then(Value::as_i64);
        Some(match (previous, old) {
            (Some(previous), Some(old)) => {
                let status_separate = resource_type.status_subresource;
                if generation_relevant(old, status_separate)
                    == generation_relevant(new, status_separate)
                {
                    previous
                } else {
                    previous + 1
                }
            }
            _ => 1,
        })
    } else {
        None
    };
    let Some(metadata) = new.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    metadata.insert(
        "uid".into(),
        old_text("uid").unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())),
    );
    metadata.insert(
        "creationTimestamp".into(),
        old_text("creationTimestamp").unwrap_or_else(|| json!(now)),
    );
    match generation {
        Some(generation) => {
            metadata.insert("generation".into(), json!(generation));
        }
        None => {
            metadata.shift_remove("generation");
        }
    }
    metadata.shift_remove("selfLink");
    metadata.shift_remove("deletionTimestamp");
    metadata.shift_remove("deletionGracePeriodSeconds");
}

/// Puts the server-owned fields in the order a real server prints them
/// (apiVersion, kind, metadata, then the rest as given).
pub fn canonical_order(object: Value) -> Value {
    let Value::Object(mut map) = object else {
        return object;
    };
    let mut ordered = serde_json::Map::new();
    for field in ["apiVersion", "kind", "metadata"] {
        if let Some(value) = map.shift_remove(field) {
            ordered.insert(field.to_string(), value);
        }
    }
    for (field, value) in map {
        ordered.insert(field, value);
    }
    Value::Object(ordered)
}
