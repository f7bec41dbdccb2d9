//! Object-level differences between two renders of one cluster.

use std::collections::BTreeMap;

use serde::Serialize;
use similar::TextDiff;

use crate::render::canonical::to_yaml;
use crate::render::{ClusterRender, ObjectKey, RenderedObject};

/// How an object changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in the new revision.
    Added,
    /// Only in the old revision.
    Removed,
    /// In both, with different content.
    Changed,
}

/// One object that differs between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectChange {
    /// The app the object belongs to (in the new revision when it is there).
    pub app: String,
    /// The object.
    pub object: ObjectKey,
    /// What happens to it.
    pub change: ChangeKind,
    /// Unified diff of its YAML.
    pub diff: String,
}

/// The objects that differ between `old` (absent = nothing deployed) and `new`.
pub fn diff_objects(old: Option<&ClusterRender>, new: &ClusterRender) -> Vec<ObjectChange> {
    let index = |render: &ClusterRender| -> BTreeMap<ObjectKey, (String, RenderedObject)> {
        render
            .objects()
            .map(|(app, object)| (object.key.clone(), (app.app.clone(), object.clone())))
            .collect()
    };
    let old_objects = old.map(index).unwrap_or_default();
    let new_objects = index(new);
    let mut changes = Vec::new();
    for (key, (app, object)) in &new_objects {
        match old_objects.get(key) {
            None => changes.push(change(
                app,
                key,
                ChangeKind::Added,
                "",
                &to_yaml(&object.value()),
            )),
            Some((_, previous)) if previous.digest != object.digest => changes.push(change(
                app,
                key,
                ChangeKind::Changed,
                &to_yaml(&previous.value()),
                &to_yaml(&object.value()),
            )),
            Some(_) => {}
        }
    }
    for (key, (app, object)) in &old_objects {
        if !new_objects.contains_key(key) {
            changes.push(change(
                app,
                key,
                ChangeKind::Removed,
                &to_yaml(&object.value()),
                "",
            ));
        }
    }
    changes
}

fn change(app: &str, key: &ObjectKey, kind: ChangeKind, old: &str, new: &str) -> ObjectChange {
    let name = key.to_string().replace(' ', "/");
    let diff = TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    ObjectChange {
        app: app.to_owned(),
        object: key.clone(),
        change: kind,
        diff,
    }
}
