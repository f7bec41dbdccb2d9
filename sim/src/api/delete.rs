//! delete and deletecollection. Deletion is immediate (finalizers are not
//! waited for); deleting a Namespace deletes everything in it first. With a
//! namespace finalize delay (`--namespace-finalize-delay`) a deleted
//! Namespace instead stays `Terminating` with a `deletionTimestamp`, its
//! content deleted, until the simulated namespace controller removes it
//! (see `controllers/namespace.rs`), as on a real API server.

use serde_json::{Value, json};

use super::custom_types::after_delete;
use super::read::ListOptions;
use super::{Target, present};
use crate::catalog::GroupResource;
use crate::clock::now_rfc3339;
use crate::status::{ApiError, ApiResult, success_status};
use crate::store::StoreState;

/// Namespaces the real server refuses to delete.
const PROTECTED_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// DELETE one object. `options` is the DeleteOptions body, if any.
pub fn delete(
    state: &mut StoreState,
    target: &Target,
    options: Option<&Value>,
    dry_run: bool,
) -> ApiResult<Value> {
    let name = target.required_name()?.to_string();
    if target.subresource.is_some() {
        return Err(ApiError::MethodNotAllowed(
            "the server does not allow this method on the requested resource".to_string(),
        ));
    }
    let resource = target.resource_type.group_resource();
    let namespace = target.namespace_or_empty().to_string();
    let stored = state
        .get(&resource, &namespace, &name)
        .ok_or_else(|| ApiError::NotFound {
            resource: resource.clone(),
            name: name.clone(),
        })?;
    let uid = stored
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(preconditions) = options.and_then(|options| options.get("preconditions")) {
        let expected_uid = preconditions.get("uid").and_then(Value::as_str);
        let expected_version = preconditions.get("resourceVersion").and_then(Value::as_str);
        let current_version = stored
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str);
        if expected_uid.is_some_and(|expected| expected != uid)
            || expected_version.is_some_and(|expected| Some(expected) != current_version)
        {
            return Err(ApiError::Conflict { resource, name });
        }
    }
    if resource == GroupResource::new("", "namespaces")
        && PROTECTED_NAMESPACES.contains(&name.as_str())
    {
        return Err(ApiError::Forbidden(format!(
            "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
        )));
    }
    if dry_run {
        return Ok(success_status(&resource, &name, &uid));
    }
    if resource == GroupResource::new("", "namespaces") {
        delete_namespace_contents(state, &name);
        if !state.namespace_finalize_delay().is_zero() {
            let terminating = mark_terminating(state, &stored);
            return Ok(super::present(&terminating, target));
        }
    }
    if let Some(deleted) = state.delete(&resource, &namespace, &name) {
        after_delete(state, &target.resource_type, &deleted);
    }
    let orphan = options
        .and_then(|options| options.get("propagationPolicy"))
        .and_then(Value::as_str)
        == Some("Orphan");
    if !orphan {
        collect_garbage(state, &uid);
    }
    Ok(success_status(&resource, &name, &uid))
}

/// Deletes the dependents of a deleted owner (objects whose
/// `ownerReferences` name its uid), recursively — what the garbage collector
/// does for background and foreground propagation.
fn collect_garbage(state: &mut StoreState, owner_uid: &str) {
    let mut owners = vec![owner_uid.to_string()];
    while let Some(owner) = owners.pop() {
        for (resource, object) in state.dependents(&owner) {
            let text = |field: &str| {
                object
                    .pointer(&format!("/metadata/{field}"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            if state
                .delete(&resource, &text("namespace"), &text("name"))
                .is_some()
            {
                owners.push(text("uid"));
            }
        }
    }
}

/// Sets `deletionTimestamp` and `status.phase: Terminating` on a namespace
/// (once: a second delete keeps the first timestamp) and returns it.
fn mark_terminating(state: &mut StoreState, stored: &Value) -> std::sync::Arc<Value> {
    if stored.pointer("/metadata/deletionTimestamp").is_some() {
        return std::sync::Arc::new(stored.clone());
    }
    let mut terminating = stored.clone();
    if let Some(metadata) = terminating
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
    {
        metadata.insert("deletionTimestamp".into(), json!(now_rfc3339()));
        metadata.insert("deletionGracePeriodSeconds".into(), json!(0));
    }
    if let Some(object) = terminating.as_object_mut() {
        let status = object.entry("status").or_insert_with(|| json!({}));
        status["phase"] = json!("Terminating");
    }
    state.put(&GroupResource::new("", "namespaces"), terminating)
}

/// Deletes every namespaced object in `namespace` (what the namespace
/// controller does before it removes a deleted namespace).
pub fn delete_namespace_contents(state: &mut StoreState, namespace: &str) {
    let namespaced: Vec<GroupResource> = state
        .catalog()
        .all()
        .filter(|resource_type| resource_type.namespaced)
        .map(|resource_type| resource_type.group_resource())
        .collect();
    for resource in namespaced {
        for object in state.list(&resource, Some(namespace)) {
            if let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) {
                state.delete(&resource, namespace, name);
            }
        }
    }
}

/// DELETE a collection: deletes every matching object and returns them.
pub fn delete_collection(
    state: &mut StoreState,
    target: &Target,
    options: &ListOptions,
    dry_run: bool,
) -> ApiResult<Value> {
    let resource = target.resource_type.group_resource();
    let matching: Vec<Value> = state
        .list(&resource, target.namespace.as_deref())
        .into_iter()
        .filter(|object| options.matches(object))
        .map(|object| present(&object, target))
        .collect();
    if !dry_run {
        for object in &matching {
            let text = |field: &str| {
                object
                    .pointer(&format!("/metadata/{field}"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            };
            if resource == GroupResource::new("", "namespaces") {
                delete_namespace_contents(state, text("name"));
                if !state.namespace_finalize_delay().is_zero() {
                    if let Some(stored) = state.get(&resource, "", text("name")) {
                        mark_terminating(state, &stored);
                    }
                    continue;
                }
            }
            if let Some(deleted) = state.delete(&resource, text("namespace"), text("name")) {
                after_delete(state, &target.resource_type, &deleted);
            }
        }
    }
    Ok(json!({
        "apiVersion": target.api_version(),
        "kind": target.resource_type.list_kind,
        "metadata": {"resourceVersion": state.resource_version().to_string()},
        "items": matching,
    }))
}
