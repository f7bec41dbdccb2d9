//! Optional persistence (`--data-dir`): one JSON file per object under
//! `DIR/objects/<group>/<resource>/<namespace>/<name>.json`, written by a
//! background writer in the order changes happen, and read back at start-up
//! so a restarted simulator keeps its objects and custom resource types.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::catalog::GroupResource;

/// Failures reading or writing the data directory.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    /// A file or directory could not be read or written.
    #[error("data directory {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A stored object is not valid JSON.
    #[error("stored object {path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// One change for the writer.
#[derive(Debug)]
pub enum PersistOperation {
    /// Write (create or replace) an object's file.
    Put {
        /// The object's resource.
        resource: GroupResource,
        /// The object as stored.
        object: Arc<Value>,
    },
    /// Remove an object's file.
    Delete {
        /// The object's resource.
        resource: GroupResource,
        /// Namespace, or empty.
        namespace: String,
        /// Name.
        name: String,
    },
    /// Answer once everything sent before has been written.
    Flush(oneshot::Sender<()>),
}

fn object_path(root: &Path, resource: &GroupResource, namespace: &str, name: &str) -> PathBuf {
    let group = if resource.group.is_empty() {
        "core"
    } else {
        &resource.group
    };
    let namespace = if namespace.is_empty() {
        "_cluster"
    } else {
        namespace
    };
    root.join("objects")
        .join(group)
        .join(&resource.resource)
        .join(namespace)
        .join(format!("{name}.json"))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PersistenceError + '_ {
    move |source| PersistenceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_object(
    root: &Path,
    resource: &GroupResource,
    object: &Value,
) -> Result<(), PersistenceError> {
    let text = |field: &str| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let path = object_path(root, resource, text("namespace"), text("name"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let temporary = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(object).map_err(|source| PersistenceError::Json {
        path: path.clone(),
        source,
    })?;
    std::fs::write(&temporary, bytes).map_err(io_error(&temporary))?;
    std::fs::rename(&temporary, &path).map_err(io_error(&path))
}

/// Starts the writer; send it operations, and `Flush` before shutting down.
pub fn spawn_writer(root: PathBuf) -> (mpsc::UnboundedSender<PersistOperation>, JoinHandle<()>) {
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let handle = tokio::task::spawn_blocking(move || {
        while let Some(operation) = receiver.blocking_recv() {
            let result = match operation {
                PersistOperation::Put { resource, object } => {
                    write_object(&root, &resource, &object)
                }
                PersistOperation::Delete {
                    resource,
                    namespace,
                    name,
                } => {
                    let path = object_path(&root, &resource, &namespace, &name);
                    match std::fs::remove_file(&path) {
                        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                            Err(io_error(&path)(error))
                        }
                        _ => Ok(()),
                    }
                }
                PersistOperation::Flush(done) => {
                    let _ = done.send(());
                    Ok(())
                }
            };
            if let Err(error) = result {
                tracing::error!(%error, "fleet-sim could not persist a change");
            }
        }
    });
    (sender, handle)
}

/// Reads every stored object: CustomResourceDefinitions first, so their
/// types exist before their objects are loaded.
pub fn load_objects(root: &Path) -> Result<Vec<(GroupResource, Value)>, PersistenceError> {
    let objects_root = root.join("objects");
    let mut loaded = Vec::new();
    if !objects_root.exists() {
        return Ok(loaded);
    }
    for group_entry in read_dir(&objects_root)? {
        let group_name = file_name(&group_entry);
        let group = if group_name == "core" {
            String::new()
        } else {
            group_name
        };
        for resource_entry in read_dir(&group_entry)? {
            let resource = GroupResource::new(&group, &file_name(&resource_entry));
            for namespace_entry in read_dir(&resource_entry)? {
                for file in read_dir(&namespace_entry)? {
                    if file.extension().and_then(|extension| extension.to_str()) != Some("json") {
                        continue;
                    }
                    let bytes = std::fs::read(&file).map_err(io_error(&file))?;
                    let object = serde_json::from_slice(&bytes).map_err(|source| {
                        PersistenceError::Json {
                            path: file.clone(),
                            source,
                        }
                    })?;
                    loaded.push((resource.clone(), object));
                }
            }
        }
    }
    loaded.sort_by_key(|(resource, _)| resource.resource != "customresourcedefinitions");
    Ok(loaded)
}

fn read_dir(path: &Path) -> Result<Vec<PathBuf>, PersistenceError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_error(path))? {
        entries.push(entry.map_err(io_error(path))?.path());
    }
    entries.sort();
    Ok(entries)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
