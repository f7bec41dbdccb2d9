//! `metadata.managedFields`: one entry per (manager, operation, subresource),
//! read from and written back to an object.

use serde_json::{Map, Value, json};

use super::field_path::{FieldSet, value_at};
use super::fields_v1::{from_fields_v1, to_fields_v1};

/// Whether an entry was written by server-side apply or by another write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or a non-apply patch.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedFieldsEntry {
    /// The field manager's name.
    pub manager: String,
    /// How the fields were written.
    pub operation: Operation,
    /// The apiVersion the manager used.
    pub api_version: String,
    /// When the entry last changed (RFC 3339).
    pub time: String,
    /// `status` for writes to the status subresource.
    pub subresource: Option<String>,
    /// The owned fields.
    pub fields: FieldSet,
}

impl ManagedFieldsEntry {
    /// Whether this entry belongs to the same writer identity.
    pub fn same_identity(
        &self,
        manager: &str,
        operation: Operation,
        subresource: Option<&str>,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }
}

/// Reads the entries of an object (missing or malformed entries are skipped).
pub fn read_entries(object: &Value) -> Vec<ManagedFieldsEntry> {
    let Some(entries) = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let operation = match entry.get("operation")?.as_str()? {
                "Apply" => Operation::Apply,
                _ => Operation::Update,
            };
            Some(ManagedFieldsEntry {
                manager: entry.get("manager")?.as_str()?.to_string(),
                operation,
                api_version: entry
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                time: entry
                    .get("time")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                subresource: entry
                    .get("subresource")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                fields: entry
                    .get("fieldsV1")
                    .map(from_fields_v1)
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Drops owned paths that no longer exist in `object`, then empty entries.
pub fn prune_entries(entries: &mut Vec<ManagedFieldsEntry>, object: &Value) {
    for entry in entries.iter_mut() {
        entry.fields.retain(|path| value_at(object, path).is_some());
    }
    entries.retain(|entry| !entry.fields.is_empty());
}

/// Writes the entries into `object.metadata.managedFields` (removing the
/// field when there are none).
pub fn write_entries(object: &mut Value, entries: &[ManagedFieldsEntry]) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if entries.is_empty() {
        metadata.shift_remove("managedFields");
        return;
    }
    let rendered: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let mut map = Map::new();
            map.insert("manager".into(), json!(entry.manager));
            map.insert("operation".into(), json!(entry.operation.as_str()));
            map.insert("apiVersion".into(), json!(entry.api_version));
            map.insert("time".into(), json!(entry.time));
            map.insert("fieldsType".into(), json!("FieldsV1"));
            map.insert("fieldsV1".into(), to_fields_v1(&entry.fields));
            if let Some(subresource) = &entry.subresource {
                map.insert("subresource".into(), json!(subresource));
            }
            Value::Object(map)
        })
        .collect();
    metadata.insert("managedFields".into(), Value::Array(rendered));
}
