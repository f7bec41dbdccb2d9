//! Objects as the agent names them: [`ObjectKey`] (identity across API
//! versions) and [`DesiredObject`] (a rendered manifest with its digest).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Identity of a Kubernetes object: group, kind, namespace and name (the
/// version is not part of it: one object is served at several versions).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectKey {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`""` for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(formatter, "{} {}", self.kind, self.name)
        } else {
            write!(formatter, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(group, _)| group)
        .unwrap_or("")
}

/// Why a manifest from the hub is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Not JSON.
    #[error("a manifest is not JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A required field is missing.
    #[error("a manifest lacks {0}")]
    Missing(&'static str),
}

/// One object of an app's desired state.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    /// Its identity.
    pub key: ObjectKey,
    /// `apiVersion` as rendered.
    pub api_version: String,
    /// Digest of the rendered object (changes iff the object changed).
    pub digest: String,
    /// The object (until decrypted, the hub's envelope of a SOPS document).
    pub manifest: Value,
    /// The SOPS file the object comes from, if it is encrypted in Git: its
    /// values are never shown in drift reports.
    pub sops_file: Option<String>,
}

impl DesiredObject {
    /// Parses a manifest from the hub.
    pub fn parse(json: &str, digest: &str) -> Result<Self, ObjectError> {
        let manifest: Value = serde_json::from_str(json).map_err(ObjectError::Json)?;
        let text = |pointer: &str| {
            manifest
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let api_version = text("/apiVersion");
        let kind = text("/kind");
        let name = text("/metadata/name");
        if api_version.is_empty() {
            return Err(ObjectError::Missing("apiVersion"));
        }
        if kind.is_empty() {
            return Err(ObjectError::Missing("kind"));
        }
        if name.is_empty() {
            return Err(ObjectError::Missing("metadata.name"));
        }
        Ok(Self {
            key: ObjectKey {
                group: group_of(&api_version).to_owned(),
                kind,
                namespace: text("/metadata/namespace"),
                name,
            },
            api_version,
            digest: digest.to_owned(),
            sops_file: fleet_sops::envelope_file(&manifest).map(str::to_owned),
            manifest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_identity() {
        let object = DesiredObject::parse(
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"web"}}"#,
            "sha256:1",
        )
        .unwrap();
        assert_eq!(object.key.group, "apps");
        assert_eq!(object.key.to_string(), "Deployment web/web");
        assert!(DesiredObject::parse(r#"{"kind":"X"}"#, "").is_err());
    }
}
