//! Turns a CustomResourceDefinition object into a served [`ResourceType`].

use serde_json::Value;

use super::{PrinterColumn, ResourceType, ScaleSpec};
use crate::status::StatusCause;

fn required(field: &str) -> StatusCause {
    StatusCause {
        reason: "FieldValueRequired".to_string(),
        message: "Required value".to_string(),
        field: field.to_string(),
    }
}

fn text<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
}

fn strings(object: &Value, pointer: &str) -> Vec<String> {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Validates a CRD and builds the resource type it defines, or says which
/// fields are wrong (the caller answers 422 Invalid).
pub fn resource_type_from_crd(crd: &Value) -> Result<ResourceType, Vec<StatusCause>> {
    let mut causes = Vec::new();
    let group = text(crd, "/spec/group");
    let plural = text(crd, "/spec/names/plural");
    let kind = text(crd, "/spec/names/kind");
    let scope = text(crd, "/spec/scope");
    if group.is_none() {
        causes.push(required("spec.group"));
    }
    if plural.is_none() {
        causes.push(required("spec.names.plural"));
    }
    if kind.is_none() {
        causes.push(required("spec.names.kind"));
    }
    let namespaced = match scope {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        Some(other) => {
            causes.push(StatusCause {
                reason: "FieldValueNotSupported".to_string(),
                message: format!(
                    "Unsupported value: \"{other}\": supported values: \"Cluster\", \"Namespaced\""
                ),
                field: "spec.scope".to_string(),
            });
            false
        }
        None => {
            causes.push(required("spec.scope"));
            false
        }
    };
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let served: Vec<&Value> = versions
        .iter()
        .filter(|version| {
            version
                .get("served")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
        .collect();
    if versions.is_empty() {
        causes.push(required("spec.versions"));
    } else if versions
        .iter()
        .filter(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
        .count()
        != 1
    {
        causes.push(StatusCause {
            reason: "FieldValueInvalid".to_string(),
            message: "Invalid value: must have exactly one version marked as storage version"
                .to_string(),
            field: "spec.versions".to_string(),
        });
    }
    let (Some(group), Some(plural), Some(kind)) = (group, plural, kind) else {
        return Err(causes);
    };
    let expected_name = format!("{plural}.{group}");
    if text(crd, "/metadata/name") != Some(expected_name.as_str()) {
        causes.push(StatusCause {
            reason: "FieldValueInvalid".to_string(),
            message: format!(
                "Invalid value: must be spec.names.plural+\".\"+spec.group (\"{expected_name}\")"
            ),
            field: "metadata.name".to_string(),
        });
    }
    if !causes.is_empty() {
        return Err(causes);
    }
    // The storage version's subresources and columns stand for all versions:
    // the simulator stores one copy and serves it at every served version.
    let reference = served
        .iter()
        .find(|version| version.get("storage").and_then(Value::as_bool) == Some(true))
        .or(served.first())
        .copied()
        .cloned()
        .unwrap_or(Value::Null);
    let status_subresource = reference.pointer("/subresources/status").is_some();
    let scale = reference
        .pointer("/subresources/scale")
        .map(|scale| ScaleSpec {
            spec_replicas_path: text(scale, "/specReplicasPath")
                .unwrap_or(".spec.replicas")
                .to_string(),
            status_replicas_path: text(scale, "/statusReplicasPath")
                .unwrap_or(".status.replicas")
                .to_string(),
            label_selector_path: text(scale, "/labelSelectorPath").map(str::to_string),
        });
    let printer_columns = reference
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|columns| {
            columns
                .iter()
                .filter_map(|column| {
                    Some(PrinterColumn {
                        name: text(column, "/name")?.to_string(),
                        column_type: text(column, "/type").unwrap_or("string").to_string(),
                        json_path: text(column, "/jsonPath")?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ResourceType {
        group: group.to_string(),
        versions: served
            .iter()
            .filter_map(|version| version.get("name").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
        kind: kind.to_string(),
        list_kind: text(crd, "/spec/names/listKind")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{kind}List")),
        plural: plural.to_string(),
        singular: text(crd, "/spec/names/singular")
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase()),
        short_names: strings(crd, "/spec/names/shortNames"),
        categories: strings(crd, "/spec/names/categories"),
        namespaced,
        status_subresource,
        scale,
        tracks_generation: true,
        custom: true,
        printer_columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_a_namespaced_type_from_a_crd() {
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": true, "storage": true,
                              "subresources": {"status": {}}}]
            }
        });
        let resource_type = resource_type_from_crd(&crd).unwrap();
        assert_eq!(resource_type.kind, "Widget");
        assert_eq!(resource_type.singular, "widget");
        assert!(resource_type.namespaced && resource_type.status_subresource);
        assert_eq!(resource_type.short_names, vec!["wd"]);
    }

    #[test]
    fn rejects_a_crd_whose_name_does_not_match() {
        let crd = json!({
            "metadata": {"name": "wrong"},
            "spec": {"group": "example.com", "scope": "Cluster",
                     "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": true, "storage": true}]}
        });
        let causes = resource_type_from_crd(&crd).unwrap_err();
        assert_eq!(causes[0].field, "metadata.name");
    }
}
