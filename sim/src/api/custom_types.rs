//! CustomResourceDefinitions as live API changes: a stored CRD makes its type
//! servable at once; deleting it removes the type and all its objects.

use serde_json::Value;

use crate::catalog::{GroupResource, ResourceType, resource_type_from_crd};
use crate::status::{ApiError, ApiResult};
use crate::store::StoreState;

fn is_crd(resource_type: &ResourceType) -> bool {
    resource_type.group == "apiextensions.k8s.io"
        && resource_type.plural == "customresourcedefinitions"
}

/// Validates a CRD about to be stored (422 Invalid when it is not usable).
pub fn validate_crd(crd: &Value, old: Option<&Value>) -> ApiResult<()> {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let new_type = resource_type_from_crd(crd).map_err(|causes| ApiError::Invalid {
        kind: "CustomResourceDefinition.apiextensions.k8s.io".to_string(),
        group: "apiextensions.k8s.io".to_string(),
        name: name.to_string(),
        causes,
    })?;
    if let Some(old_type) = old.and_then(|old| resource_type_from_crd(old).ok())
        && old_type.namespaced != new_type.namespaced
    {
        return Err(ApiError::Invalid {
            kind: "CustomResourceDefinition.apiextensions.k8s.io".to_string(),
            group: "apiextensions.k8s.io".to_string(),
            name: name.to_string(),
            causes: vec![crate::status::StatusCause {
                reason: "FieldValueInvalid".to_string(),
                message: "Invalid value: field is immutable".to_string(),
                field: "spec.scope".to_string(),
            }],
        });
    }
    Ok(())
}

/// Registers the type a stored CRD defines (at start-up and after writes).
pub fn register_crd(state: &mut StoreState, crd: &Value) {
    if let Ok(resource_type) = resource_type_from_crd(crd) {
        let clashes_with_builtin = state
            .catalog()
            .get(&resource_type.group_resource())
            .is_some_and(|existing| !existing.custom);
        if !clashes_with_builtin {
            state.catalog_mut().insert(resource_type);
        }
    }
}

/// Side effects after an object was stored.
pub fn after_write(state: &mut StoreState, resource_type: &ResourceType, stored: &Value) {
    if is_crd(resource_type) {
        register_crd(state, stored);
    }
}

/// Side effects after an object was deleted: a deleted CRD takes its type and
/// every object of it along.
pub fn after_delete(state: &mut StoreState, resource_type: &ResourceType, deleted: &Value) {
    if !is_crd(resource_type) {
        return;
    }
    let Ok(custom) = resource_type_from_crd(deleted) else {
        return;
    };
    let group_resource: GroupResource = custom.group_resource();
    for object in state.list(&group_resource, None) {
        let text = |field: &str| {
            object
                .pointer(&format!("/metadata/{field}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        state.delete(&group_resource, &text("namespace"), &text("name"));
    }
    state.catalog_mut().remove_custom(&group_resource);
}
