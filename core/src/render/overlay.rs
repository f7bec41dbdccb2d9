//! Per-environment overlays for plain apps: merge patches matched to base
//! objects by apiVersion/kind/namespace/name.
//!
//! Semantics are JSON merge patch (RFC 7386: objects merge, `null` deletes,
//! everything else replaces) with one addition operators expect from
//! Kubernetes: lists whose items all carry a `name` (containers, env, ports,
//! volumes, …) are merged item by item by name; an item with
//! `$patch: delete` removes its namesake.

use serde_json::{Map, Value};

use super::object::{Origin, SourceObject};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::yaml::YamlDocument;

/// The directive key that deletes a named list item.
const PATCH_DIRECTIVE: &str = "$patch";

/// Applies every patch document to the one base object it names.
pub fn apply_overlays(
    objects: &mut [SourceObject],
    patches: &[YamlDocument],
    default_namespace: Option<&str>,
) -> Result<(), Diagnostics> {
    let mut problems = Diagnostics::new();
    for patch in patches {
        match find_target(objects, patch, default_namespace) {
            Ok(index) if super::sops_envelope::is_envelope(&objects[index].value) => {
                problems.push(Diagnostic::in_document(
                    patch,
                    "",
                    format!(
                        "overlay patch targets a SOPS-encrypted object ({}); an encrypted object cannot be patched (edit it with sops instead)",
                        objects[index].origin.file
                    ),
                ));
            }
            Ok(index) => {
                let object = &mut objects[index];
                merge_patch(&mut object.value, &patch.value);
                object.patches.push(Origin::of_document(patch));
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn find_target(
    objects: &[SourceObject],
    patch: &YamlDocument,
    default_namespace: Option<&str>,
) -> Result<usize, Diagnostic> {
    let text = |pointer: &str| patch.value.pointer(pointer).and_then(Value::as_str);
    let (Some(api_version), Some(kind), Some(name)) =
        (text("/apiVersion"), text("/kind"), text("/metadata/name"))
    else {
        return Err(Diagnostic::in_document(
            patch,
            "",
            "an overlay patch needs apiVersion, kind and metadata.name to find its base object",
        ));
    };
    let namespace = text("/metadata/namespace");
    let matches: Vec<usize> = objects
        .iter()
        .enumerate()
        .filter(|(_, object)| {
            let value = &object.value;
            let field = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
            field("/apiVersion") == Some(api_version)
                && field("/kind") == Some(kind)
                && field("/metadata/name") == Some(name)
                && namespace.is_none_or(|namespace| {
                    field("/metadata/namespace").or(default_namespace) == Some(namespace)
                })
        })
        .map(|(index, _)| index)
        .collect();
    let described = match namespace {
        Some(namespace) => format!("{api_version} {kind} {namespace}/{name}"),
        None => format!("{api_version} {kind} {name}"),
    };
    match matches.as_slice() {
        [index] => Ok(*index),
        [] => Err(Diagnostic::in_document(
            patch,
            "",
            format!("overlay patch matches no base object ({described})"),
        )),
        _ => Err(Diagnostic::in_document(
            patch,
            "",
            format!(
                "overlay patch matches several base objects ({described}); add metadata.namespace"
            ),
        )),
    }
}

/// Merges `patch` into `target` (JSON merge patch with named lists).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target_map) = target else {
        return;
    };
    for (key, patch_value) in patch_map {
        if patch_value.is_null() {
            target_map.remove(key);
            continue;
        }
        match (target_map.get_mut(key), patch_value) {
            (Some(Value::Array(target_items)), Value::Array(patch_items))
                if is_named_list(target_items) && is_named_list(patch_items) =>
            {
                merge_named_list(target_items, patch_items);
            }
            (Some(existing @ Value::Object(_)), Value::Object(_)) => {
                merge_patch(existing, patch_value)
            }
            _ => {
                let mut fresh = Value::Null;
                merge_patch(&mut fresh, patch_value);
                target_map.insert(key.clone(), strip_directives(fresh));
            }
        }
    }
}

fn is_named_list(items: &[Value]) -> bool {
    items
        .iter()
        .all(|item| item.get("name").is_some_and(Value::is_string))
}

fn merge_named_list(target: &mut Vec<Value>, patch: &[Value]) {
    for patch_item in patch {
        let name = patch_item.get("name");
        let position = target.iter().position(|item| item.get("name") == name);
        let delete = patch_item.get(PATCH_DIRECTIVE).and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(index), true) => {
                target.remove(index);
            }
            (None, true) => {}
            (Some(index), false) => merge_patch(&mut target[index], patch_item),
            (None, false) => target.push(strip_directives(patch_item.clone())),
        }
    }
    for item in target.iter_mut() {
        if let Value::Object(map) = item {
            map.remove(PATCH_DIRECTIVE);
        }
    }
}

fn strip_directives(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.remove(PATCH_DIRECTIVE);
        map.retain(|_, field| !field.is_null());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_containers_by_name_and_deletes_with_null() {
        let mut base = json!({
            "spec": {"replicas": 1, "paused": false, "template": {"spec": {"containers": [
                {"name": "app", "image": "web:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "proxy:1"}
            ]}}}
        });
        let patch = json!({
            "spec": {"replicas": 3, "paused": null, "template": {"spec": {"containers": [
                {"name": "app", "env": [{"name": "B", "value": "2"}]},
                {"name": "sidecar", "$patch": "delete"},
                {"name": "extra", "image": "x:1"}
            ]}}}
        });
        merge_patch(&mut base, &patch);
        assert_eq!(base["spec"]["replicas"], 3);
        assert!(base["spec"].get("paused").is_none());
        let containers = base["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = containers
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["app", "extra"]);
        assert_eq!(containers[0]["image"], "web:1");
        assert_eq!(containers[0]["env"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn unnamed_lists_are_replaced() {
        let mut base = json!({"args": ["a", "b"]});
        merge_patch(&mut base, &json!({"args": ["c"]}));
        assert_eq!(base, json!({"args": ["c"]}));
    }
}
