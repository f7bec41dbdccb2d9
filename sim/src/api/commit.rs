//! The last step of every write: server-owned metadata, defaults, status
//! separation, managed fields for non-apply writes, no-op detection, dry-run,
//! and finally the store.

use std::sync::Arc;

use serde_json::{Value, json};

use super::admission::apply_defaults;
use super::custom_types;
use super::object_meta::{canonical_order, fill_server_metadata, validate_name};
use super::{Target, present};
use crate::apply::{Scope, record_update};
use crate::catalog::GroupResource;
use crate::clock::now_rfc3339;
use crate::status::{ApiError, ApiResult};
use crate::store::StoreState;

/// How the managed fields of a write are accounted.
#[derive(Debug, Clone, Copy)]
pub enum Accounting<'a> {
    /// A create, update or non-apply patch by this manager.
    Update {
        /// The field manager.
        manager: &'a str,
    },
    /// Server-side apply already wrote the managed fields.
    Applied,
}

/// The scope of a write to `target`.
pub fn scope_of(target: &Target) -> Scope {
    match target.subresource {
        Some(super::Subresource::Status) => Scope::Status,
        _ => Scope::Main {
            status_separate: target.resource_type.status_subresource,
        },
    }
}

/// Checks that the namespace of a namespaced object `name` exists and is
/// not being terminated (the real server's NamespaceLifecycle admission
/// refuses new content in a namespace with a `deletionTimestamp`).
pub fn require_namespace(state: &StoreState, target: &Target, name: &str) -> ApiResult<()> {
    if !target.resource_type.namespaced {
        return Ok(());
    }
    let namespace = target.namespace_or_empty();
    let namespaces = GroupResource::new("", "namespaces");
    let Some(stored) = state.get(&namespaces, "", namespace) else {
        return Err(ApiError::NotFound {
            resource: namespaces,
            name: namespace.to_string(),
        });
    };
    if stored.pointer("/metadata/deletionTimestamp").is_some() {
        return Err(ApiError::NamespaceTerminating {
            resource: target.resource_type.group_resource(),
            name: name.to_string(),
            namespace: namespace.to_string(),
        });
    }
    Ok(())
}

/// Finishes and stores a write. `old` is the stored object (`None` on create).
pub fn commit(
    state: &mut StoreState,
    target: &Target,
    old: Option<&Arc<Value>>,
    mut new: Value,
    accounting: Accounting<'_>,
    dry_run: bool,
) -> ApiResult<Value> {
    let resource_type = target.resource_type.clone();
    let now = now_rfc3339();
    let scope = scope_of(target);
    let name = target
        .name
        .clone()
        .or_else(|| {
            new.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    if old.is_none() {
        validate_name(&resource_type, &name)?;
        require_namespace(state, target, &name)?;
    }
    let Some(map) = new.as_object_mut() else {
        return Err(ApiError::BadRequest(
            "the object must be a JSON object".to_string(),
        ));
    };
    map.insert("apiVersion".into(), json!(target.api_version()));
    map.insert("kind".into(), json!(resource_type.kind));
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| ApiError::BadRequest("metadata must be an object".to_string()))?;
    metadata.insert("name".into(), json!(name));
    if resource_type.namespaced {
        metadata.insert("namespace".into(), json!(target.namespace_or_empty()));
    } else {
        metadata.shift_remove("namespace");
    }

    // Status lives in its own subresource: main writes keep the stored
    // status, status writes keep everything else.
    match scope {
        Scope::Main {
            status_separate: true,
        } => match old.and_then(|old| old.get("status")) {
            Some(status) => {
                map.insert("status".into(), status.clone());
            }
            None => {
                map.shift_remove("status");
            }
        },
        Scope::Status => {
            let status = map.get("status").cloned();
            let mut rebuilt = old.map(|old| (**old).clone()).unwrap_or_else(|| json!({}));
            if let Some(rebuilt_map) = rebuilt.as_object_mut() {
                match status {
                    Some(status) => rebuilt_map.insert("status".into(), status),
                    None => rebuilt_map.shift_remove("status"),
                };
                if let Some(managed) = new.pointer("/metadata/managedFields").cloned()
                    && let Some(metadata) = rebuilt_map
                        .get_mut("metadata")
                        .and_then(Value::as_object_mut)
                {
                    metadata.insert("managedFields".into(), managed);
                }
            }
            new = rebuilt;
        }
        Scope::Main { .. } => {}
    }

    apply_defaults(state, &resource_type, &mut new, old.map(|old| old.as_ref()));
    fill_server_metadata(&mut new, old.map(|old| old.as_ref()), &resource_type, &now);
    if let Accounting::Update { manager } = accounting {
        if let Some(metadata) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            // Clients cannot rewrite ownership with a plain write here; keep
            // the stored entries (the real server mostly does the same).
            metadata.shift_remove("managedFields");
        }
        record_update(
            old.map(|old| old.as_ref()),
            &mut new,
            manager,
            scope,
            &target.api_version(),
            &now,
        );
    }
    if resource_type.group == "apiextensions.k8s.io"
        && resource_type.kind == "CustomResourceDefinition"
    {
        custom_types::validate_crd(&new, old.map(|old| old.as_ref()))?;
    }
    let mut new = canonical_order(new);

    if let Some(old) = old {
        if unchanged(old, &new) {
            return Ok(present(old, target));
        }
        if let Some(metadata) = new.get_mut("metadata").and_then(Value::as_object_mut)
            && let Some(version) = old.pointer("/metadata/resourceVersion")
        {
            metadata.insert("resourceVersion".into(), version.clone());
        }
    }
    if dry_run {
        return Ok(present(&new, target));
    }
    let stored = state.put(&resource_type.group_resource(), new);
    custom_types::after_write(state, &resource_type, &stored);
    Ok(present(&stored, target))
}

/// Whether a write changes nothing but managed-field timestamps (then the
/// real server keeps the object and its resourceVersion as they are).
fn unchanged(old: &Value, new: &Value) -> bool {
    let normalize = |object: &Value| {
        let mut object = object.clone();
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.shift_remove("resourceVersion");
            if let Some(Value::Array(entries)) = metadata.get_mut("managedFields") {
                for entry in entries {
                    if let Some(entry) = entry.as_object_mut() {
                        entry.shift_remove("time");
                    }
                }
            }
        }
        object
    };
    normalize(old) == normalize(new)
}
