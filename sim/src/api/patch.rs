//! PATCH in its four content types: JSON patch, merge patch, strategic merge
//! patch (merge patch with keyed lists merged by key) and server-side apply.

use serde_json::{Map, Value};

use super::commit::{Accounting, commit, scope_of};
use super::create::{check_namespace, check_type};
use super::object_meta::invalid;
use super::update::check_resource_version;
use super::{Subresource, Target, WriteOptions, present};
use crate::apply::{ApplyOptions, conflict_message, find_item, list_item_keys, server_side_apply};
use crate::clock::now_rfc3339;
use crate::status::{ApiError, ApiResult, StatusCause};
use crate::store::StoreState;

/// The patch content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    StrategicMerge,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// Maps a Content-Type (parameters ignored) to a patch type.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        match media_type {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

fn unsupported_patch() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".to_string(),
    )
}

fn patch_options_invalid(field: &str, reason: &str, message: &str) -> ApiError {
    ApiError::Invalid {
        kind: "PatchOptions.meta.k8s.io".to_string(),
        group: "meta.k8s.io".to_string(),
        name: String::new(),
        causes: vec![StatusCause {
            reason: reason.to_string(),
            message: message.to_string(),
            field: field.to_string(),
        }],
    }
}

/// Parses a body as JSON, or as YAML for apply patches.
pub fn parse_body(body: &[u8], allow_yaml: bool) -> ApiResult<Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => Ok(value),
        Err(json_error) if !allow_yaml => Err(ApiError::BadRequest(format!(
            "error decoding patch: {json_error}"
        ))),
        Err(_) => {
            let text = std::str::from_utf8(body)
                .map_err(|error| ApiError::BadRequest(format!("error decoding YAML: {error}")))?;
            let options = serde_saphyr::options! { legacy_octal_numbers: true };
            serde_saphyr::from_str_with_options::<Value>(text, options)
                .map_err(|error| ApiError::BadRequest(format!("error decoding YAML: {error}")))
        }
    }
}

/// Applies a PATCH request.
pub fn patch(
    state: &mut StoreState,
    target: &Target,
    patch_type: PatchType,
    body: &[u8],
    options: &WriteOptions,
) -> ApiResult<Value> {
    let name = target.required_name()?.to_string();
    if options.force.is_some() && patch_type != PatchType::Apply {
        return Err(patch_options_invalid(
            "force",
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch",
        ));
    }
    if patch_type == PatchType::Apply && !options.field_manager_given {
        return Err(patch_options_invalid(
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch",
        ));
    }
    if patch_type == PatchType::StrategicMerge && target.resource_type.custom {
        return Err(unsupported_patch());
    }
    if target.subresource == Some(Subresource::Scale) {
        return super::scale::patch_scale(state, target, patch_type, body, options);
    }
    let resource = target.resource_type.group_resource();
    let old = state.get(&resource, target.namespace_or_empty(), &name);
    if patch_type == PatchType::Apply {
        return apply(state, target, old, body, options);
    }
    let old = old.ok_or_else(|| ApiError::NotFound {
        resource: resource.clone(),
        name: name.clone(),
    })?;
    let mut patched = present(&old, target);
    match patch_type {
        PatchType::Json => {
            let operations: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|error| ApiError::BadRequest(format!("error decoding patch: {error}")))?;
            json_patch::patch(&mut patched, &operations).map_err(|error| {
                invalid(
                    &target.resource_type,
                    &name,
                    "",
                    "FieldValueInvalid",
                    error.to_string(),
                )
            })?;
        }
        PatchType::Merge => {
            let merge = parse_body(body, false)?;
            json_patch::merge(&mut patched, &merge);
        }
        PatchType::StrategicMerge => {
            let merge = parse_body(body, false)?;
            patched = strategic_merge(&patched, &merge, None);
        }
        PatchType::Apply => {}
    }
    if !patched.is_object() {
        return Err(ApiError::BadRequest(
            "the patched object is not a JSON object".to_string(),
        ));
    }
    check_resource_version(
        patched
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str),
        &old,
        target,
        &name,
    )?;
    commit(
        state,
        target,
        Some(&old),
        patched,
        Accounting::Update {
            manager: &options.field_manager,
        },
        options.dry_run,
    )
}

fn apply(
    state: &mut StoreState,
    target: &Target,
    old: Option<std::sync::Arc<Value>>,
    body: &[u8],
    options: &WriteOptions,
) -> ApiResult<Value> {
    let name = target.required_name()?.to_string();
    let applied = parse_body(body, true)?;
    if !applied.is_object() {
        return Err(ApiError::BadRequest(
            "the applied configuration must be an object".to_string(),
        ));
    }
    check_type(&applied, target)?;
    check_namespace(&applied, target)?;
    let body_name = applied
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or(&name);
    if body_name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if old.is_none() {
        if target.subresource == Some(Subresource::Status) {
            return Err(ApiError::NotFound {
                resource: target.resource_type.group_resource(),
                name,
            });
        }
        super::commit::require_namespace(state, target, &name)?;
    }
    let live = old.as_ref().map(|old| present(old, target));
    let now = now_rfc3339();
    let api_version = target.api_version();
    let merged = server_side_apply(
        live.as_ref(),
        &applied,
        &ApplyOptions {
            manager: &options.field_manager,
            force: options.force.unwrap_or(false),
            scope: scope_of(target),
            api_version: &api_version,
            now: &now,
        },
    )
    .map_err(|conflicts| ApiError::ApplyConflict {
        resource: target.resource_type.group_resource(),
        name: name.clone(),
        message: conflict_message(&conflicts),
        causes: conflicts
            .iter()
            .map(|conflict| StatusCause {
                reason: "FieldManagerConflict".to_string(),
                message: format!("conflict with \"{}\"", conflict.manager),
                field: crate::apply::DisplayPath(&conflict.path).to_string(),
            })
            .collect(),
    })?;
    commit(
        state,
        target,
        old.as_ref(),
        merged,
        Accounting::Applied,
        options.dry_run,
    )
}

/// Strategic merge: merge-patch semantics, but lists of named items merge by
/// key and `$patch: delete` removes an item; other `$` directives are ignored.
pub fn strategic_merge(target: &Value, patch: &Value, field_name: Option<&str>) -> Value {
    match (target, patch) {
        (Value::Object(target_map), Value::Object(patch_map)) => {
            if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
                return strip_directives(patch);
            }
            let mut result = target_map.clone();
            for (name, patch_child) in patch_map {
                if name.starts_with('$') {
                    continue;
                }
                if patch_child.is_null() {
                    result.shift_remove(name);
                    continue;
                }
                let merged = match target_map.get(name) {
                    Some(target_child) => strategic_merge(target_child, patch_child, Some(name)),
                    None => strip_directives(patch_child),
                };
                result.insert(name.clone(), merged);
            }
            Value::Object(result)
        }
        (Value::Array(target_items), Value::Array(patch_items)) => {
            let keyed = field_name.and_then(|name| {
                let keys = list_item_keys(name, patch_items)?;
                list_item_keys(name, target_items).map(|_| (name, keys))
            });
            let Some((name, patch_keys)) = keyed else {
                return strip_directives(patch);
            };
            let mut result = target_items.clone();
            for (patch_item, key) in patch_items.iter().zip(patch_keys) {
                let position = find_item(name, &result, &key);
                let delete = patch_item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, delete) {
                    (Some(index), true) => {
                        result.remove(index);
                    }
                    (Some(index), false) => {
                        result[index] = strategic_merge(&result[index], patch_item, None)
                    }
                    (None, true) => {}
                    (None, false) => result.push(strip_directives(patch_item)),
                }
            }
            Value::Array(result)
        }
        _ => strip_directives(patch),
    }
}

fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let cleaned: Map<String, Value> = map
                .iter()
                .filter(|(name, child)| !name.starts_with('$') && !child.is_null())
                .map(|(name, child)| (name.clone(), strip_directives(child)))
                .collect();
            Value::Object(cleaned)
        }
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let target = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        let patch = json!({"spec": {"containers": [{"name": "b", "image": "z"}, {"name": "a", "$patch": "delete"}]}});
        assert_eq!(
            strategic_merge(&target, &patch, None),
            json!({"spec": {"containers": [{"name": "b", "image": "z"}]}})
        );
    }
}
