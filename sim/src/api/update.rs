//! update (PUT), for the main resource and `/status`.

use serde_json::Value;

use super::commit::{Accounting, commit};
use super::create::{check_namespace, check_type};
use super::{Subresource, Target, WriteOptions};
use crate::status::{ApiError, ApiResult};
use crate::store::StoreState;

/// Fails with 409 Conflict when `requested` names a resourceVersion other
/// than the stored one.
pub fn check_resource_version(
    requested: Option<&str>,
    stored: &Value,
    target: &Target,
    name: &str,
) -> ApiResult<()> {
    let Some(requested) = requested.filter(|requested| !requested.is_empty()) else {
        return Ok(());
    };
    let current = stored
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if requested != current {
        return Err(ApiError::Conflict {
            resource: target.resource_type.group_resource(),
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Replaces an object (or its status).
pub fn update(
    state: &mut StoreState,
    target: &Target,
    body: Value,
    options: &WriteOptions,
) -> ApiResult<Value> {
    let name = target.required_name()?.to_string();
    if target.subresource == Some(Subresource::Scale) {
        return super::scale::update_scale(state, target, body, options);
    }
    if !body.is_object() {
        return Err(ApiError::BadRequest(
            "the body of the request must be a JSON object".to_string(),
        ));
    }
    check_type(&body, target)?;
    check_namespace(&body, target)?;
    let body_name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if body_name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let resource = target.resource_type.group_resource();
    let old = state
        .get(&resource, target.namespace_or_empty(), &name)
        .ok_or_else(|| ApiError::NotFound {
            resource: resource.clone(),
            name: name.clone(),
        })?;
    check_resource_version(
        body.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str),
        &old,
        target,
        &name,
    )?;
    commit(
        state,
        target,
        Some(&old),
        body,
        Accounting::Update {
            manager: &options.field_manager,
        },
        options.dry_run,
    )
}
