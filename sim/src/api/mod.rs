//! The API verbs (get, list, create, update, patch, apply, delete, scale) on
//! the store, independent of HTTP: each takes a resolved [`Target`] and
//! returns the object (or list) to send back, or an [`ApiError`].

mod admission;
mod commit;
mod create;
mod custom_types;
mod delete;
mod object_meta;
mod patch;
mod read;
mod scale;
mod update;

use std::sync::Arc;

use serde_json::Value;

pub use create::{create, random_suffix};
pub use custom_types::register_crd;
pub use delete::{delete, delete_collection, delete_namespace_contents};
pub use patch::{PatchType, parse_body, patch};
pub use read::{ListOptions, get, list};
pub use scale::{get_scale, patch_scale, update_scale};
pub use update::update;

use crate::catalog::ResourceType;
use crate::status::ApiError;

/// A subresource addressed by a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// `/status`.
    Status,
    /// `/scale`.
    Scale,
}

/// What a request addresses, resolved against the catalog.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource type.
    pub resource_type: Arc<ResourceType>,
    /// The version the client used.
    pub version: String,
    /// The namespace in the path (`None` for cluster-scoped resources and
    /// all-namespace lists).
    pub namespace: Option<String>,
    /// The object name in the path.
    pub name: Option<String>,
    /// The subresource in the path.
    pub subresource: Option<Subresource>,
}

impl Target {
    /// The apiVersion the client used.
    pub fn api_version(&self) -> String {
        self.resource_type.api_version(&self.version)
    }

    /// The namespace as stored (empty for cluster-scoped).
    pub fn namespace_or_empty(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// The object name, or a 405 for collection paths where one is needed.
    pub fn required_name(&self) -> Result<&str, ApiError> {
        self.name.as_deref().ok_or_else(|| {
            ApiError::MethodNotAllowed(
                "the server does not allow this method on the requested resource".to_string(),
            )
        })
    }
}

/// Options shared by all writes.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `?dryRun=All`: compute and return, store nothing.
    pub dry_run: bool,
    /// `?fieldManager=`, or the default derived from the User-Agent.
    pub field_manager: String,
    /// Whether `fieldManager` was given explicitly.
    pub field_manager_given: bool,
    /// `?force=`.
    pub force: Option<bool>,
}

/// Sets the apiVersion to the version the client asked for (custom
/// resources are stored once and served at every served version).
pub fn present(object: &Value, target: &Target) -> Value {
    let mut object = object.clone();
    if target.resource_type.custom
        && let Some(map) = object.as_object_mut()
    {
        map.insert("apiVersion".into(), Value::String(target.api_version()));
    }
    object
}

/// Replaces the status of a stored object, as a controller does through the
/// `/status` subresource (credited to `manager`).
pub fn write_status(
    state: &mut crate::store::StoreState,
    resource_type: &Arc<ResourceType>,
    namespace: &str,
    name: &str,
    status: Value,
    manager: &str,
) -> crate::status::ApiResult<()> {
    let resource = resource_type.group_resource();
    let old = state
        .get(&resource, namespace, name)
        .ok_or_else(|| ApiError::NotFound {
            resource,
            name: name.to_string(),
        })?;
    let stored_version = old
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|api_version| crate::catalog::split_api_version(api_version).1.to_string())
        .unwrap_or_else(|| resource_type.versions.first().cloned().unwrap_or_default());
    let target = Target {
        resource_type: resource_type.clone(),
        version: stored_version,
        namespace: resource_type.namespaced.then(|| namespace.to_string()),
        name: Some(name.to_string()),
        subresource: Some(Subresource::Status),
    };
    let mut new = (*old).clone();
    if let Some(map) = new.as_object_mut() {
        map.insert("status".into(), status);
    }
    commit::commit(
        state,
        &target,
        Some(&old),
        new,
        commit::Accounting::Update { manager },
        false,
    )
    .map(|_| ())
}

/// Creates a namespace if it does not exist (used for the default namespaces).
pub fn ensure_namespace(
    state: &mut crate::store::StoreState,
    name: &str,
    manager: &str,
) -> crate::status::ApiResult<()> {
    let namespaces = crate::catalog::GroupResource::new("", "namespaces");
    if state.get(&namespaces, "", name).is_some() {
        return Ok(());
    }
    let resource_type = state
        .catalog()
        .get(&namespaces)
        .ok_or(ApiError::PageNotFound)?;
    let target = Target {
        resource_type,
        version: "v1".to_string(),
        namespace: None,
        name: None,
        subresource: None,
    };
    let options = WriteOptions {
        field_manager: manager.to_string(),
        ..WriteOptions::default()
    };
    let body =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    create(state, &target, body, &options).map(|_| ())
}

/// Registers the simulated node (one Ready node, so `kubectl get nodes` and
/// schedulers-in-tests see a plausible cluster).
pub fn ensure_node(
    state: &mut crate::store::StoreState,
    name: &str,
    manager: &str,
) -> crate::status::ApiResult<()> {
    let nodes = crate::catalog::GroupResource::new("", "nodes");
    if state.get(&nodes, "", name).is_some() {
        return Ok(());
    }
    let resource_type = state.catalog().get(&nodes).ok_or(ApiError::PageNotFound)?;
    let target = Target {
        resource_type: resource_type.clone(),
        version: "v1".to_string(),
        namespace: None,
        name: None,
        subresource: None,
    };
    let options = WriteOptions {
        field_manager: manager.to_string(),
        ..WriteOptions::default()
    };
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/control-plane": ""}},
        "spec": {"podCIDR": "10.244.0.0/24"}
    });
    create(state, &target, body, &options)?;
    let now = crate::clock::now_rfc3339();
    let status = serde_json::json!({
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "fleet-sim simulated node is ready", "lastHeartbeatTime": now, "lastTransitionTime": now}],
        "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": name}],
        "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
        "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
        "nodeInfo": {"kubeletVersion": "v1.32.0-fleet-sim", "operatingSystem": "linux", "architecture": "amd64",
                     "containerRuntimeVersion": "fleet-sim://simulated", "osImage": "fleet-sim (simulated node)",
                     "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "systemUUID": "", "bootID": ""}
    });
    write_status(state, &resource_type, "", name, status, manager)
}

/// Creates an object on behalf of a simulated controller.
pub fn create_as(
    state: &mut crate::store::StoreState,
    resource: &crate::catalog::GroupResource,
    namespace: &str,
    body: Value,
    manager: &str,
) -> crate::status::ApiResult<Value> {
    let resource_type = state
        .catalog()
        .get(resource)
        .ok_or(ApiError::PageNotFound)?;
    let target = Target {
        version: resource_type.versions.first().cloned().unwrap_or_default(),
        namespace: resource_type.namespaced.then(|| namespace.to_string()),
        resource_type,
        name: None,
        subresource: None,
    };
    let options = WriteOptions {
        field_manager: manager.to_string(),
        ..WriteOptions::default()
    };
    create(state, &target, body, &options)
}

/// Replaces the main resource of a stored object on behalf of a simulated
/// controller (for example a ReplicaSet's replica count).
pub fn update_as(
    state: &mut crate::store::StoreState,
    resource: &crate::catalog::GroupResource,
    new: Value,
    manager: &str,
) -> crate::status::ApiResult<Value> {
    let resource_type = state
        .catalog()
        .get(resource)
        .ok_or(ApiError::PageNotFound)?;
    let text = |field: &str| {
        new.pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (namespace, name) = (text("namespace"), text("name"));
    let old = state
        .get(resource, &namespace, &name)
        .ok_or_else(|| ApiError::NotFound {
            resource: resource.clone(),
            name: name.clone(),
        })?;
    let target = Target {
        version: resource_type.versions.first().cloned().unwrap_or_default(),
        namespace: resource_type.namespaced.then_some(namespace),
        resource_type,
        name: Some(name),
        subresource: None,
    };
    commit::commit(
        state,
        &target,
        Some(&old),
        new,
        commit::Accounting::Update { manager },
        false,
    )
}
