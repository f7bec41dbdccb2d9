//! Server-side printing: `meta.k8s.io/v1` Table responses, which `kubectl
//! get` asks for, with the columns a real server prints for each kind.

use serde_json::{Value, json};

mod cells;
mod columns;

use crate::catalog::ResourceType;
use columns::columns_and_cells;

/// What each Table row's `object` holds (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

fn row_object(object: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => object.clone(),
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
    }
}

/// Renders objects as a Table.
pub fn to_table(
    resource_type: &ResourceType,
    objects: &[Value],
    resource_version: Option<&str>,
    include: IncludeObject,
) -> Value {
    let empty = json!({"metadata": {}});
    let (columns, _) = columns_and_cells(resource_type, objects.first().unwrap_or(&empty));
    let column_definitions: Vec<Value> = columns
        .iter()
        .map(|column| {
            json!({
                "name": column.name,
                "type": column.column_type,
                "format": if column.name == "Name" { "name" } else { "" },
                "description": "",
                "priority": column.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let (_, cells) = columns_and_cells(resource_type, object);
            json!({"cells": cells, "object": row_object(object, include)})
        })
        .collect();
    let mut metadata = json!({});
    if let Some(resource_version) = resource_version {
        metadata["resourceVersion"] = json!(resource_version);
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}
