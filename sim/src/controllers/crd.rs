//! CustomResourceDefinitions become NamesAccepted and Established at once
//! (their type is already servable when the CRD is stored).

use serde_json::{Value, json};

use super::Decision;
use super::conditions::{Condition, render};

/// CRD status.
pub fn crd(object: &Value) -> Decision {
    let existing = object.get("status");
    let conditions = render(
        existing,
        &[
            Condition {
                condition_type: "NamesAccepted",
                status: true,
                reason: "NoConflicts",
                message: "no conflicts found".to_string(),
            },
            Condition {
                condition_type: "Established",
                status: true,
                reason: "InitialNamesAccepted",
                message: "the initial names have been accepted".to_string(),
            },
        ],
        false,
    );
    let stored_versions: Vec<Value> = object
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|versions| {
            versions
                .iter()
                .filter(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|version| version.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let mut accepted = object
        .pointer("/spec/names")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(names) = accepted.as_object_mut() {
        if !names.contains_key("singular") {
            let singular = names
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            names.insert("singular".into(), json!(singular));
        }
        if !names.contains_key("listKind") {
            let list_kind = format!(
                "{}List",
                names.get("kind").and_then(Value::as_str).unwrap_or("")
            );
            names.insert("listKind".into(), json!(list_kind));
        }
    }
    Decision {
        status: Some(
            json!({"conditions": conditions, "acceptedNames": accepted, "storedVersions": stored_versions}),
        ),
        recheck_after: None,
    }
}
