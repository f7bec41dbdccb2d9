//! Content negotiation: which representation the client accepts (plain
//! JSON, a `Table`, or `PartialObjectMetadata`) and which body types a verb
//! accepts.

use crate::status::{ApiError, ApiResult};
use crate::table::IncludeObject;

/// The representation to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The objects themselves.
    Json,
    /// A `meta.k8s.io` Table.
    Table(IncludeObject),
    /// `PartialObjectMetadata` / `PartialObjectMetadataList`.
    PartialMetadata,
}

/// Picks the first acceptable representation from an `Accept` header.
pub fn negotiate(accept: Option<&str>, include_object: Option<&str>) -> ApiResult<Representation> {
    let Some(accept) = accept.filter(|accept| !accept.trim().is_empty()) else {
        return Ok(Representation::Json);
    };
    let include = match include_object {
        Some("Object") => IncludeObject::Object,
        Some("None") => IncludeObject::None,
        _ => IncludeObject::Metadata,
    };
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media_type = parts.next().unwrap_or("");
        let mut as_kind = None;
        let mut group = None;
        for parameter in parts {
            match parameter.split_once('=') {
                Some(("as", value)) => as_kind = Some(value),
                Some(("g", value)) => group = Some(value),
                _ => {}
            }
        }
        let json_like = matches!(
            media_type,
            "application/json" | "application/*" | "*/*" | "application/yaml"
        );
        if !json_like {
            continue;
        }
        match (as_kind, group) {
            (None, _) => return Ok(Representation::Json),
            (Some("Table"), Some("meta.k8s.io")) => return Ok(Representation::Table(include)),
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => {
                return Ok(Representation::PartialMetadata);
            }
            _ => continue,
        }
    }
    Err(ApiError::NotAcceptable)
}

/// The media type of a Content-Type header, without parameters.
pub fn media_type(content_type: Option<&str>) -> &str {
    content_type
        .and_then(|value| value.split(';').next())
        .map(str::trim)
        .unwrap_or("")
}

/// How a create/update body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`.
    Json,
    /// `application/yaml`.
    Yaml,
    /// `application/vnd.kubernetes.protobuf` (decoded for a few kinds).
    Protobuf,
}

/// Checks that a create/update body is JSON, YAML or protobuf (415 otherwise).
pub fn require_object_body(content_type: Option<&str>) -> ApiResult<BodyFormat> {
    match media_type(content_type) {
        "application/json" => Ok(BodyFormat::Json),
        "application/yaml" => Ok(BodyFormat::Yaml),
        "application/vnd.kubernetes.protobuf" => Ok(BodyFormat::Protobuf),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml{}",
            if other.is_empty() {
                String::new()
            } else {
                format!(" (got {other})")
            }
        ))),
    }
}
