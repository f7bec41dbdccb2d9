//! Kubernetes objects as the renderer handles them: identity and origin.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::yaml::{LineIndex, YamlDocument};

/// The identity of a Kubernetes object: group, kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectKey {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// The key of `object`, or what is missing from it.
    pub fn of(object: &Value) -> Result<Self, String> {
        let text = |field: &str| object.get(field).and_then(Value::as_str);
        let api_version = text("apiVersion").ok_or("missing apiVersion")?;
        let kind = text("kind").ok_or("missing kind")?;
        let metadata = object.get("metadata");
        let name = metadata
            .and_then(|metadata| metadata.get("name"))
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .ok_or("missing metadata.name")?;
        let namespace = metadata
            .and_then(|metadata| metadata.get("namespace"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Self {
            group: group_of(api_version).to_owned(),
            kind: kind.to_owned(),
            namespace,
            name: name.to_owned(),
        })
    }
}

/// The group part of an `apiVersion` (`apps/v1` → `apps`, `v1` → `""`).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(formatter, "{}", self.kind)?;
        } else {
            write!(formatter, "{}.{}", self.kind, self.group)?;
        }
        match &self.namespace {
            Some(namespace) => write!(formatter, " {namespace}/{}", self.name),
            None => write!(formatter, " {}", self.name),
        }
    }
}

/// Where (part of) an object was written in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Repository-relative file.
    pub file: String,
    /// Line of the document's start.
    pub line: u64,
    /// Lines of the document's values, when known (not for Kustomize output).
    pub lines: Option<Arc<LineIndex>>,
}

impl Origin {
    /// The origin of a parsed document.
    pub fn of_document(document: &YamlDocument) -> Self {
        Self {
            file: document.file.clone(),
            line: document.line,
            lines: Some(Arc::new(document.lines.clone())),
        }
    }

    /// The line of the value at `pointer`, or the document's line.
    pub fn line_of(&self, pointer: &str) -> u64 {
        self.lines
            .as_ref()
            .and_then(|lines| lines.line_of(pointer))
            .unwrap_or(self.line)
    }
}

/// An object on its way through the renderer, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceObject {
    /// The object.
    pub value: Value,
    /// The document that defined it.
    pub origin: Origin,
    /// Overlay patches merged into it, in order.
    pub patches: Vec<Origin>,
}
