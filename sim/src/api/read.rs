//! get and list.

use serde_json::{Value, json};

use super::{Target, present};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::{ApiError, ApiResult};
use crate::store::StoreState;

/// Parsed list/watch query options.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `?labelSelector=`.
    pub label_selector: LabelSelector,
    /// `?fieldSelector=`.
    pub field_selector: FieldSelector,
}

impl ListOptions {
    /// Parses the selectors for objects of `kind` (400 when malformed).
    pub fn parse(
        label_selector: Option<&str>,
        field_selector: Option<&str>,
        kind: &str,
    ) -> ApiResult<Self> {
        Ok(Self {
            label_selector: LabelSelector::parse(label_selector.unwrap_or(""))
                .map_err(|error| ApiError::BadRequest(error.to_string()))?,
            field_selector: FieldSelector::parse(field_selector.unwrap_or(""), kind)
                .map_err(|error| ApiError::BadRequest(error.to_string()))?,
        })
    }

    /// Whether an object passes both selectors.
    pub fn matches(&self, object: &Value) -> bool {
        self.label_selector.matches(object) && self.field_selector.matches(object)
    }
}

/// GET one object.
pub fn get(state: &StoreState, target: &Target) -> ApiResult<Value> {
    let name = target.required_name()?;
    let resource = target.resource_type.group_resource();
    state
        .get(&resource, target.namespace_or_empty(), name)
        .map(|object| present(&object, target))
        .ok_or_else(|| ApiError::NotFound {
            resource,
            name: name.to_string(),
        })
}

/// LIST objects: a `<Kind>List` with `metadata.resourceVersion`.
pub fn list(state: &StoreState, target: &Target, options: &ListOptions) -> Value {
    let resource = target.resource_type.group_resource();
    let items: Vec<Value> = state
        .list(&resource, target.namespace.as_deref())
        .into_iter()
        .filter(|object| options.matches(object))
        .map(|object| present(&object, target))
        .collect();
    json!({
        "apiVersion": target.api_version(),
        "kind": target.resource_type.list_kind,
        "metadata": {"resourceVersion": state.resource_version().to_string()},
        "items": items,
    })
}
