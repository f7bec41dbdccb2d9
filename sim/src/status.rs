//! Errors a client can see: each becomes a Kubernetes `Status` object with the
//! same `reason` and HTTP `code` a real kube-apiserver would send.

use serde_json::{Value, json};

use crate::catalog::GroupResource;

/// One `details.causes` entry of an `Invalid` or apply-conflict `Status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCause {
    /// Machine-readable cause, for example `FieldValueRequired`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// The field path the cause is about, for example `metadata.name`.
    pub field: String,
}

/// A failed API request, rendered as a `Status` object.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The named object does not exist (404 NotFound).
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        /// The resource, for example `deployments.apps`.
        resource: GroupResource,
        /// The object name.
        name: String,
    },
    /// No resource is served at this path (404 NotFound).
    #[error("the server could not find the requested resource")]
    PageNotFound,
    /// An object with this name exists already (409 AlreadyExists).
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        /// The resource.
        resource: GroupResource,
        /// The object name.
        name: String,
    },
    /// An optimistic-concurrency conflict (409 Conflict).
    #[error(
        "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict {
        /// The resource.
        resource: GroupResource,
        /// The object name.
        name: String,
    },
    /// Server-side apply found fields owned by other managers (409 Conflict).
    #[error("{message}")]
    ApplyConflict {
        /// The resource.
        resource: GroupResource,
        /// The object name.
        name: String,
        /// `Apply failed with N conflicts: ...`.
        message: String,
        /// One cause per conflicting field.
        causes: Vec<StatusCause>,
    },
    /// The object failed validation (422 Invalid).
    #[error("{kind} \"{name}\" is invalid: {}", summarize(causes))]
    Invalid {
        /// The kind with its group, for example `Deployment.apps`.
        kind: String,
        /// The group of the kind.
        group: String,
        /// The object name.
        name: String,
        /// What is wrong.
        causes: Vec<StatusCause>,
    },
    /// The request could not be understood (400 BadRequest).
    #[error("{0}")]
    BadRequest(String),
    /// The request body's content type is not accepted here (415 UnsupportedMediaType).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// None of the media types in `Accept` can be produced (406 NotAcceptable).
    #[error("only the following media types are accepted: application/json, application/yaml")]
    NotAcceptable,
    /// The verb is not supported on this path (405 MethodNotAllowed).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A watch asked for history that is no longer retained (410 Expired).
    #[error("too old resource version: {requested} ({oldest})")]
    Expired {
        /// The resourceVersion the client asked for.
        requested: u64,
        /// The oldest resourceVersion still retained.
        oldest: u64,
    },
    /// The request is understood but not allowed (403 Forbidden).
    #[error("{0}")]
    Forbidden(String),
    /// The request body exceeds the size limit (413 RequestEntityTooLarge).
    #[error(
        "the request body is too large (fleet-sim accepts at most {limit} bytes, like the real server's 3 MiB)"
    )]
    RequestEntityTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A create in a namespace that is being deleted (403 Forbidden, with a
    /// `NamespaceTerminating` cause, as the NamespaceLifecycle admission
    /// plugin answers).
    #[error(
        "{resource} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated"
    )]
    NamespaceTerminating {
        /// The resource of the refused object.
        resource: GroupResource,
        /// The refused object's name.
        name: String,
        /// The terminating namespace.
        namespace: String,
    },
    /// The bearer token is missing or wrong (401 Unauthorized).
    #[error("Unauthorized")]
    Unauthorized,
    /// The simulator itself failed (500 InternalError).
    #[error("Internal error occurred: {0}")]
    Internal(String),
}

/// Shorthand for results whose error is a client-visible [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

fn summarize(causes: &[StatusCause]) -> String {
    let parts: Vec<String> = causes
        .iter()
        .map(|cause| {
            if cause.field.is_empty() {
                cause.message.clone()
            } else {
                format!("{}: {}", cause.field, cause.message)
            }
        })
        .collect();
    if parts.len() == 1 {
        parts.join("")
    } else {
        format!("[{}]", parts.join(", "))
    }
}

impl ApiError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } | ApiError::PageNotFound => 404,
            ApiError::AlreadyExists { .. }
            | ApiError::Conflict { .. }
            | ApiError::ApplyConflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::NotAcceptable => 406,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Expired { .. } => 410,
            ApiError::Forbidden(_) | ApiError::NamespaceTerminating { .. } => 403,
            ApiError::RequestEntityTooLarge { .. } => 413,
            ApiError::Unauthorized => 401,
            ApiError::Internal(_) => 500,
        }
    }

    /// The `Status.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::PageNotFound => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } | ApiError::ApplyConflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::NotAcceptable => "NotAcceptable",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::Expired { .. } => "Expired",
            ApiError::Forbidden(_) | ApiError::NamespaceTerminating { .. } => "Forbidden",
            ApiError::RequestEntityTooLarge { .. } => "RequestEntityTooLarge",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Internal(_) => "InternalError",
        }
    }

    /// The full `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
        });
        if let Some(details) = self.details() {
            status["details"] = details;
        }
        status["code"] = json!(self.code());
        status
    }

    fn details(&self) -> Option<Value> {
        let named = |resource: &GroupResource, name: &str| {
            let mut details = json!({"name": name});
            if !resource.group.is_empty() {
                details["group"] = json!(resource.group);
            }
            details["kind"] = json!(resource.resource);
            details
        };
        match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name } => Some(named(resource, name)),
            ApiError::PageNotFound => Some(json!({})),
            ApiError::ApplyConflict {
                resource,
                name,
                causes,
                ..
            } => {
                let mut details = named(resource, name);
                details["causes"] = causes_json(causes);
                Some(details)
            }
            ApiError::NamespaceTerminating {
                resource,
                name,
                namespace,
            } => {
                let mut details = named(resource, name);
                details["causes"] = causes_json(&[StatusCause {
                    reason: "NamespaceTerminating".to_string(),
                    message: format!("namespace {namespace} is being terminated"),
                    field: "metadata.namespace".to_string(),
                }]);
                Some(details)
            }
            ApiError::Invalid {
                kind,
                group,
                name,
                causes,
            } => {
                let bare_kind = kind.split('.').next().unwrap_or(kind);
                let mut details = json!({"name": name});
                if !group.is_empty() {
                    details["group"] = json!(group);
                }
                details["kind"] = json!(bare_kind);
                details["causes"] = causes_json(causes);
                Some(details)
            }
            _ => None,
        }
    }
}

fn causes_json(causes: &[StatusCause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|cause| {
                json!({"reason": cause.reason, "message": cause.message, "field": cause.field})
            })
            .collect(),
    )
}

/// A `Status` with `status: Success`, as DELETE returns it.
pub fn success_status(resource: &GroupResource, name: &str, uid: &str) -> Value {
    let mut details = json!({"name": name});
    if !resource.group.is_empty() {
        details["group"] = json!(resource.group);
    }
    details["kind"] = json!(resource.resource);
    details["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}
