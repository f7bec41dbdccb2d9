//! The envelope every fleet file shares: `apiVersion`, `kind`, `metadata`, `spec`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::yaml::YamlDocument;

/// The only API version of fleet files so far.
pub const API_VERSION: &str = "fleet/v1alpha1";

/// The kinds of fleet files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `fleet.yaml`.
    Fleet,
    /// `clusters/<name>.yaml`.
    Cluster,
    /// `environments/<name>.yaml`.
    Environment,
    /// `apps/<name>/app.yaml`.
    App,
}

impl Kind {
    /// The `kind:` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fleet => "Fleet",
            Kind::Cluster => "Cluster",
            Kind::Environment => "Environment",
            Kind::App => "App",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A parsed fleet file: its name, labels, typed spec and the document it came
/// from (kept so that later checks can point at lines).
#[derive(Debug, Clone)]
pub struct Resource<S> {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// The typed `spec`.
    pub spec: S,
    /// The source document.
    pub document: YamlDocument,
}

impl<S> Resource<S> {
    /// A diagnostic at the value `pointer` of this resource's file.
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::in_document(&self.document, pointer, message)
    }
}

/// Checks the envelope of `document` and deserializes its spec.
///
/// `expected_name` is the name the file's location demands (`None` for
/// `fleet.yaml`, whose name is free).
pub fn parse_resource<S: DeserializeOwned + Default>(
    document: YamlDocument,
    kind: Kind,
    expected_name: Option<&str>,
) -> Result<Resource<S>, Diagnostic> {
    let at = |pointer: &str, message: String| Diagnostic::in_document(&document, pointer, message);
    let Value::Object(root) = &document.value else {
        return Err(at("", format!("expected a {kind} object (a YAML mapping)")));
    };
    match root.get("apiVersion") {
        Some(Value::String(version)) if version == API_VERSION => {}
        Some(other) => {
            return Err(at(
                "/apiVersion",
                format!("unsupported apiVersion {other}; expected {API_VERSION}"),
            ));
        }
        None => {
            return Err(at(
                "",
                format!("missing apiVersion (expected {API_VERSION})"),
            ));
        }
    }
    match root.get("kind") {
        Some(Value::String(found)) if found == kind.as_str() => {}
        Some(Value::String(found)) if is_known_kind(found) => {
            return Err(at(
                "/kind",
                format!("kind {found} does not belong here; this file must be a {kind}"),
            ));
        }
        Some(other) => {
            return Err(at(
                "/kind",
                format!(
                    "unknown kind {other}; expected {kind} (one of Fleet, Cluster, Environment, App)"
                ),
            ));
        }
        None => return Err(at("", format!("missing kind (expected {kind})"))),
    }
    let metadata = root.get("metadata");
    let name = match metadata.and_then(|metadata| metadata.get("name")) {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        Some(_) => {
            return Err(at(
                "/metadata/name",
                "metadata.name must be a non-empty string".into(),
            ));
        }
        None => {
            return Err(at(
                if metadata.is_some() { "/metadata" } else { "" },
                "missing metadata.name".into(),
            ));
        }
    };
    if let Some(expected) = expected_name
        && name != expected
    {
        return Err(at(
            "/metadata/name",
            format!("metadata.name is '{name}' but the file's location names it '{expected}'"),
        ));
    }
    let labels = match metadata.and_then(|metadata| metadata.get("labels")) {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(value) => serde_json::from_value(value.clone()).map_err(|_| {
            at(
                "/metadata/labels",
                "metadata.labels must map strings to strings".into(),
            )
        })?,
    };
    for key in root.keys() {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            return Err(at(
                &format!("/{key}"),
                format!(
                    "unknown top-level field '{key}' (expected apiVersion, kind, metadata, spec)"
                ),
            ));
        }
    }
    let spec = match root.get("spec") {
        None | Some(Value::Null) => S::default(),
        Some(value) => deserialize_at(&document, "/spec", value)?,
    };
    Ok(Resource {
        name,
        labels,
        spec,
        document,
    })
}

fn is_known_kind(kind: &str) -> bool {
    matches!(kind, "Fleet" | "Cluster" | "Environment" | "App")
}

/// Deserializes `value` (found at `pointer` in `document`) and turns a
/// failure into a diagnostic at the line of the offending field.
pub(crate) fn deserialize_at<T: DeserializeOwned>(
    document: &YamlDocument,
    pointer: &str,
    value: &Value,
) -> Result<T, Diagnostic> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut failing = pointer.to_owned();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    failing.push_str(&format!("/{index}"))
                }
                serde_path_to_error::Segment::Map { key } => {
                    failing.push('/');
                    failing.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        let message = error.inner().to_string();
        // An unknown field is reported at its parent; point at the field itself.
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            failing.push('/');
            failing.push_str(field);
        }
        let field = failing.trim_start_matches('/').replace('/', ".");
        Diagnostic::in_document(document, &failing, format!("{field}: {message}"))
    })
}
