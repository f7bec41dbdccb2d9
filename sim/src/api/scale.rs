//! The `/scale` subresource: an `autoscaling/v1` Scale view of a scalable
//! object's replicas.

use serde_json::{Value, json};

use super::commit::{Accounting, commit};
use super::patch::{PatchType, parse_body, strategic_merge};
use super::update::check_resource_version;
use super::{Target, WriteOptions};
use crate::status::{ApiError, ApiResult};
use crate::store::StoreState;

fn pointer(json_path: &str) -> String {
    json_path
        .trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut pointer, part| {
            pointer.push('/');
            pointer.push_str(part);
            pointer
        })
}

fn selector_string(object: &Value) -> String {
    object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn load(state: &StoreState, target: &Target) -> ApiResult<std::sync::Arc<Value>> {
    let name = target.required_name()?;
    let resource = target.resource_type.group_resource();
    if target.resource_type.scale.is_none() {
        return Err(ApiError::PageNotFound);
    }
    state
        .get(&resource, target.namespace_or_empty(), name)
        .ok_or_else(|| ApiError::NotFound {
            resource,
            name: name.to_string(),
        })
}

fn scale_of(object: &Value, target: &Target) -> Value {
    let Some(scale) = &target.resource_type.scale else {
        return Value::Null;
    };
    let metadata = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let field = |name: &str| metadata.get(name).cloned().unwrap_or(Value::Null);
    let selector = match &scale.label_selector_path {
        Some(path) if path != ".status.selector" => object
            .pointer(&pointer(path))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_default(),
        _ => selector_string(object),
    };
    let mut scale_object = json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": field("name"),
            "namespace": field("namespace"),
            "uid": field("uid"),
            "resourceVersion": field("resourceVersion"),
            "creationTimestamp": field("creationTimestamp"),
        },
        "spec": {"replicas": object.pointer(&pointer(&scale.spec_replicas_path)).cloned().unwrap_or(json!(0))},
        "status": {"replicas": object.pointer(&pointer(&scale.status_replicas_path)).cloned().unwrap_or(json!(0))},
    });
    if !selector.is_empty() {
        scale_object["status"]["selector"] = json!(selector);
    }
    scale_object
}

/// GET `/scale`.
pub fn get_scale(state: &StoreState, target: &Target) -> ApiResult<Value> {
    let object = load(state, target)?;
    Ok(scale_of(&object, target))
}

/// PUT `/scale` with a Scale body.
pub fn update_scale(
    state: &mut StoreState,
    target: &Target,
    body: Value,
    options: &WriteOptions,
) -> ApiResult<Value> {
    let object = load(state, target)?;
    let name = target.required_name()?.to_string();
    check_resource_version(
        body.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str),
        &object,
        target,
        &name,
    )?;
    let replicas = body
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::BadRequest("spec.replicas must be an integer".to_string()))?;
    if replicas < 0 {
        return Err(super::object_meta::invalid(
            &target.resource_type,
            &name,
            "spec.replicas",
            "FieldValueInvalid",
            format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        ));
    }
    let Some(scale) = &target.resource_type.scale else {
        return Err(ApiError::PageNotFound);
    };
    let mut updated = (*object).clone();
    if let Some(slot) = updated.pointer_mut(&pointer(&scale.spec_replicas_path)) {
        *slot = json!(replicas);
    } else if let Some(spec) = updated.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("replicas".into(), json!(replicas));
    }
    let mut main_target = target.clone();
    main_target.subresource = None;
    let stored = commit(
        state,
        &main_target,
        Some(&object),
        updated,
        Accounting::Update {
            manager: &options.field_manager,
        },
        options.dry_run,
    )?;
    Ok(scale_of(&stored, target))
}

/// PATCH `/scale`: patches the Scale view, then updates it.
pub fn patch_scale(
    state: &mut StoreState,
    target: &Target,
    patch_type: PatchType,
    body: &[u8],
    options: &WriteOptions,
) -> ApiResult<Value> {
    let object = load(state, target)?;
    let mut scale = scale_of(&object, target);
    match patch_type {
        PatchType::Json => {
            let operations: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|error| ApiError::BadRequest(format!("error decoding patch: {error}")))?;
            json_patch::patch(&mut scale, &operations)
                .map_err(|error| ApiError::BadRequest(error.to_string()))?;
        }
        PatchType::Merge => json_patch::merge(&mut scale, &parse_body(body, false)?),
        PatchType::StrategicMerge => {
            scale = strategic_merge(&scale, &parse_body(body, false)?, None)
        }
        PatchType::Apply => {
            let applied = parse_body(body, true)?;
            json_patch::merge(&mut scale, &applied);
        }
    }
    update_scale(state, target, scale, options)
}
