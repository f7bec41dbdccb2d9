//! Helpers for the crate's unit tests.

use std::path::Path;
use std::sync::Arc;

use crate::source::{Entry, Snapshot};

/// The files of `fleet-examples/`, with `edits` (path, new content) applied.
pub fn example(edits: &[(&str, &str)]) -> Arc<Snapshot> {
    fn walk(root: &Path, relative: &str, files: &mut Vec<(String, Entry)>) {
        for entry in std::fs::read_dir(root.join(relative)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, files);
            } else {
                let content = std::fs::read(entry.path()).unwrap();
                files.push((path, Entry::File(Arc::from(content))));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fleet-examples");
    let mut files = Vec::new();
    walk(&root, "", &mut files);
    for (path, content) in edits {
        files.retain(|(known, _)| known != path);
        files.push((
            (*path).to_owned(),
            Entry::File(Arc::from(content.as_bytes())),
        ));
    }
    Arc::new(Snapshot::from_entries(files, None, "fleet-examples"))
}
