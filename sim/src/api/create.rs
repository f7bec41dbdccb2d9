//! create (POST to a collection).

use serde_json::Value;

use super::commit::{Accounting, commit};
use super::{Target, WriteOptions};
use crate::status::{ApiError, ApiResult};
use crate::store::StoreState;

/// Checks the body's apiVersion and kind against the path (400 when absent
/// or different, as the real decoder answers).
pub fn check_type(body: &Value, target: &Target) -> ApiResult<()> {
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "Object 'Kind' is missing in '{}'",
            truncate(body)
        )));
    }
    if api_version.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "Object 'apiVersion' is missing in '{}'",
            truncate(body)
        )));
    }
    let resource_type = &target.resource_type;
    let (group, version) = crate::catalog::split_api_version(api_version);
    if kind != resource_type.kind
        || group != resource_type.group
        || !resource_type.serves_version(version)
    {
        return Err(ApiError::BadRequest(format!(
            "the object provided is unrecognized (must be of type {}): {api_version}, Kind={kind} does not match the expected {}, Kind={}",
            resource_type.kind,
            target.api_version(),
            resource_type.kind
        )));
    }
    Ok(())
}

/// Checks that a body's namespace, if any, agrees with the path.
pub fn check_namespace(body: &Value, target: &Target) -> ApiResult<()> {
    let body_namespace = body
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    if target.resource_type.namespaced
        && !body_namespace.is_empty()
        && body_namespace != target.namespace_or_empty()
    {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .to_string(),
        ));
    }
    Ok(())
}

fn truncate(body: &Value) -> String {
    let text = body.to_string();
    text.chars().take(200).collect()
}

/// Five characters from the alphabet Kubernetes uses for generated names.
pub fn random_suffix() -> String {
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|byte| alphabet[usize::from(*byte) % alphabet.len()] as char)
        .collect()
}

/// Creates an object.
pub fn create(
    state: &mut StoreState,
    target: &Target,
    mut body: Value,
    options: &WriteOptions,
) -> ApiResult<Value> {
    if target.name.is_some() || target.subresource.is_some() {
        return Err(ApiError::MethodNotAllowed(
            "the server does not allow this method on the requested resource".to_string(),
        ));
    }
    if !body.is_object() {
        return Err(ApiError::BadRequest(
            "the body of the request must be a JSON object".to_string(),
        ));
    }
    check_type(&body, target)?;
    check_namespace(&body, target)?;
    let mut name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty()
        && let Some(prefix) = body
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
        && !prefix.is_empty()
    {
        name = format!("{prefix}{}", random_suffix());
        if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("name".into(), Value::String(name.clone()));
        }
    }
    let resource = target.resource_type.group_resource();
    if !name.is_empty()
        && state
            .get(&resource, target.namespace_or_empty(), &name)
            .is_some()
    {
        return Err(ApiError::AlreadyExists { resource, name });
    }
    let mut create_target = target.clone();
    create_target.name = Some(name);
    commit(
        state,
        &create_target,
        None,
        body,
        Accounting::Update {
            manager: &options.field_manager,
        },
        options.dry_run,
    )
}
