//! Server-side apply and managed-fields bookkeeping for every write.
//!
//! * [`server_side_apply`] merges an applied configuration for one field
//!   manager: conflicts with other managers are refused unless forced (forcing
//!   takes the fields over), and fields the manager applied before but no
//!   longer applies are removed unless someone else also owns them.
//! * [`record_update`] credits a non-apply write (create, update, patch) to its
//!   manager: the fields it changed move to it from everyone else.

mod field_path;
mod fields_v1;
mod list_keys;
mod managed_fields;
mod merge;

use serde_json::Value;

pub use field_path::{DisplayPath, FieldPath, FieldSet, PathElement, fields_of};
pub use list_keys::{find_item, list_item_keys};
pub use managed_fields::{ManagedFieldsEntry, Operation, read_entries};

use field_path::{remove_path, value_at};
use managed_fields::{prune_entries, write_entries};

/// Which part of an object a write may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The main resource; `status_separate` when the type has a `/status`
    /// subresource (then status is not part of the main resource).
    Main {
        /// Whether status lives in a separate subresource.
        status_separate: bool,
    },
    /// The `/status` subresource: only `status` is written.
    Status,
}

impl Scope {
    fn subresource(self) -> Option<&'static str> {
        match self {
            Scope::Main { .. } => None,
            Scope::Status => Some("status"),
        }
    }
}

/// Metadata the server owns; never tracked as a manager's field.
const SERVER_METADATA: [&str; 10] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The part of `object` that managers can own within `scope`.
pub fn tracked_view(object: &Value, scope: Scope) -> Value {
    let mut view = object.clone();
    let Some(map) = view.as_object_mut() else {
        return Value::Null;
    };
    map.shift_remove("apiVersion");
    map.shift_remove("kind");
    match scope {
        Scope::Main { status_separate } => {
            if status_separate {
                map.shift_remove("status");
            }
            if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                for field in SERVER_METADATA {
                    metadata.shift_remove(field);
                }
                if metadata.is_empty() {
                    map.shift_remove("metadata");
                }
            }
        }
        Scope::Status => map.retain(|name, _| name == "status"),
    }
    view
}

/// One conflict: another manager owns a field with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The other manager.
    pub manager: String,
    /// The contested field.
    pub path: FieldPath,
}

/// What a server-side apply needs besides the objects.
#[derive(Debug, Clone)]
pub struct ApplyOptions<'a> {
    /// The field manager (`?fieldManager=`).
    pub manager: &'a str,
    /// `?force=true`: take conflicting fields over.
    pub force: bool,
    /// Main resource or status.
    pub scope: Scope,
    /// The apiVersion the request used.
    pub api_version: &'a str,
    /// The time to stamp on the entry.
    pub now: &'a str,
}

/// Applies `applied` over `live` (or over nothing, for a create) for one
/// manager and returns the merged object with updated `managedFields`, or the
/// conflicts that stop it.
pub fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    options: &ApplyOptions<'_>,
) -> Result<Value, Vec<FieldConflict>> {
    let empty = Value::Object(Default::default());
    let live_object = live.unwrap_or(&empty);
    let mut entries = read_entries(live_object);
    let applied_view = tracked_view(applied, options.scope);
    let live_view = tracked_view(live_object, options.scope);
    let applied_fields = fields_of(&applied_view);
    let subresource = options.scope.subresource();

    let mut conflicts = Vec::new();
    for entry in &entries {
        if entry.same_identity(options.manager, Operation::Apply, subresource) {
            continue;
        }
        for path in entry.fields.intersection(&applied_fields) {
            if matches!(path.last(), Some(PathElement::Key(_))) {
                continue;
            }
            if value_at(&live_view, path) != value_at(&applied_view, path) {
                conflicts.push(FieldConflict {
                    manager: entry.manager.clone(),
                    path: path.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() && !options.force {
        return Err(conflicts);
    }
    for conflict in &conflicts {
        for entry in entries.iter_mut() {
            if entry.manager == conflict.manager {
                entry.fields.remove(&conflict.path);
            }
        }
    }

    let previous: FieldSet = entries
        .iter()
        .find(|entry| entry.same_identity(options.manager, Operation::Apply, subresource))
        .map(|entry| entry.fields.clone())
        .unwrap_or_default();
    let mut merged = field_path_merge(live_object, applied, options.scope);
    // Remove what this manager applied before and no longer applies, deepest
    // paths first, unless another manager owns it too.
    let stale: Vec<&FieldPath> = previous.difference(&applied_fields).collect();
    for path in stale.into_iter().rev() {
        let owned_by_other = entries.iter().any(|entry| {
            !entry.same_identity(options.manager, Operation::Apply, subresource)
                && entry.fields.contains(path)
        });
        if !owned_by_other {
            remove_path(&mut merged, path);
            remove_emptied_parents(&mut merged, path, &entries);
        }
    }

    match entries
        .iter_mut()
        .find(|entry| entry.same_identity(options.manager, Operation::Apply, subresource))
    {
        Some(entry) => {
            entry.fields = applied_fields;
            entry.time = options.now.to_string();
            entry.api_version = options.api_version.to_string();
        }
        None => entries.push(ManagedFieldsEntry {
            manager: options.manager.to_string(),
            operation: Operation::Apply,
            api_version: options.api_version.to_string(),
            time: options.now.to_string(),
            subresource: subresource.map(str::to_string),
            fields: applied_fields,
        }),
    }
    let merged_view_for_main = tracked_view(
        &merged,
        Scope::Main {
            status_separate: false,
        },
    );
    prune_entries(&mut entries, &merged_view_for_main);
    write_entries(&mut merged, &entries);
    Ok(merged)
}

fn field_path_merge(live: &Value, applied: &Value, scope: Scope) -> Value {
    let mut applied = applied.clone();
    if let Some(map) = applied.as_object_mut() {
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in SERVER_METADATA {
                if field != "name" && field != "namespace" {
                    metadata.shift_remove(field);
                }
            }
        }
        match scope {
            Scope::Main {
                status_separate: true,
            } => {
                map.shift_remove("status");
            }
            Scope::Status => map.retain(|name, _| name == "status"),
            Scope::Main { .. } => {}
        }
    }
    merge::merge_applied(live, &applied, None)
}

/// After removing `path`, removes parent maps it left empty when nobody owns
/// them (so `metadata.labels: {}` does not linger).
fn remove_emptied_parents(
    object: &mut Value,
    path: &[PathElement],
    entries: &[ManagedFieldsEntry],
) {
    let mut depth = path.len();
    while depth > 1 {
        depth -= 1;
        let parent = &path[..depth];
        let is_empty_map = value_at(object, parent)
            .and_then(Value::as_object)
            .is_some_and(|map| map.is_empty());
        let owned = entries.iter().any(|entry| entry.fields.contains(parent));
        if !is_empty_map || owned || !matches!(parent.last(), Some(PathElement::Field(_))) {
            break;
        }
        remove_path(object, parent);
    }
}

/// Credits a non-apply write to `manager`: fields that differ between `old`
/// (absent for a create) and `new` move to the manager's Update entry; owned
/// fields that no longer exist are dropped. Writes `new.metadata.managedFields`.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    scope: Scope,
    api_version: &str,
    now: &str,
) {
    let mut entries = old.map(read_entries).unwrap_or_default();
    let new_view = tracked_view(new, scope);
    let old_view = old.map(|object| tracked_view(object, scope));
    let changed: FieldSet = fields_of(&new_view)
        .into_iter()
        .filter(|path| match &old_view {
            // A list item itself changes hands only when it is new; changes
            // inside it are credited field by field.
            Some(old_view) if matches!(path.last(), Some(PathElement::Key(_))) => {
                value_at(old_view, path).is_none()
            }
            Some(old_view) => value_at(old_view, path) != value_at(&new_view, path),
            None => true,
        })
        .collect();
    let subresource = scope.subresource();
    if !changed.is_empty() {
        for entry in entries.iter_mut() {
            if !entry.same_identity(manager, Operation::Update, subresource) {
                entry.fields.retain(|path| !changed.contains(path));
            }
        }
        match entries
            .iter_mut()
            .find(|entry| entry.same_identity(manager, Operation::Update, subresource))
        {
            Some(entry) => {
                entry.fields.extend(changed);
                entry.time = now.to_string();
                entry.api_version = api_version.to_string();
            }
            None => entries.push(ManagedFieldsEntry {
                manager: manager.to_string(),
                operation: Operation::Update,
                api_version: api_version.to_string(),
                time: now.to_string(),
                subresource: subresource.map(str::to_string),
                fields: changed,
            }),
        }
    }
    let full_view = tracked_view(
        new,
        Scope::Main {
            status_separate: false,
        },
    );
    prune_entries(&mut entries, &full_view);
    write_entries(new, &entries);
}

/// The `Apply failed with N conflicts: ...` message of the real server.
pub fn conflict_message(conflicts: &[FieldConflict]) -> String {
    let count = conflicts.len();
    if count == 1 {
        let conflict = &conflicts[0];
        return format!(
            "Apply failed with 1 conflict: conflict with \"{}\": {}",
            conflict.manager,
            DisplayPath(&conflict.path)
        );
    }
    let mut message = format!("Apply failed with {count} conflicts:");
    let mut managers: Vec<&str> = conflicts
        .iter()
        .map(|conflict| conflict.manager.as_str())
        .collect();
    managers.dedup();
    for manager in managers {
        message.push_str(&format!(" conflicts with \"{manager}\":"));
        for conflict in conflicts
            .iter()
            .filter(|conflict| conflict.manager == manager)
        {
            message.push_str(&format!("\n- {}", DisplayPath(&conflict.path)));
        }
        message.push('\n');
    }
    message.trim_end().to_string()
}

#[cfg(test)]
mod tests;
