//! Building responses: JSON bodies, `Status` errors, and the read
//! representations (objects, Tables, PartialObjectMetadata).

use axum::body::Body;
use axum::response::Response;
use http::{StatusCode, header};
use serde_json::{Value, json};

use super::negotiation::Representation;
use crate::api::Target;
use crate::status::ApiError;
use crate::table::to_table;

/// A JSON response.
pub fn json_response(status: u16, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// A `Status` response for an error.
pub fn error_response(error: &ApiError) -> Response {
    json_response(error.code(), &error.to_status())
}

/// `/openapi/v2`: an empty document. kubectl's client-side validation reads
/// it (as protobuf, where zero bytes are an empty document) and skips kinds
/// it has no schema for, so `kubectl apply` behaves as against a real server.
pub fn openapi_v2(accept: Option<&str>) -> Response {
    if accept.is_some_and(|accept| accept.contains("protobuf")) {
        return Response::builder()
            .header(
                header::CONTENT_TYPE,
                "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
            )
            .body(Body::empty())
            .unwrap_or_default();
    }
    json_response(
        200,
        &json!({"swagger": "2.0", "info": {"title": "Kubernetes (fleet-sim)", "version": "v1.32.0"}, "paths": {}}),
    )
}

/// 201 for a create, 200 otherwise.
pub fn written(status_if_created: u16, before_exists: bool, value: &Value) -> Response {
    json_response(
        if before_exists {
            200
        } else {
            status_if_created
        },
        value,
    )
}

/// The `PartialObjectMetadata` form of an object.
pub fn partial_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// Renders a get/list result in the negotiated representation.
pub fn render_read(
    target: &Target,
    representation: Representation,
    value: Value,
    is_list: bool,
) -> Value {
    match representation {
        Representation::Json => value,
        Representation::Table(include) => {
            let items = if is_list {
                value
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            } else {
                vec![value.clone()]
            };
            let version = value
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str);
            to_table(&target.resource_type, &items, version, include)
        }
        Representation::PartialMetadata if is_list => {
            let items: Vec<Value> = value
                .get("items")
                .and_then(Value::as_array)
                .map(|items| items.iter().map(partial_metadata).collect())
                .unwrap_or_default();
            json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": value.get("metadata").cloned().unwrap_or_else(|| json!({})),
                "items": items,
            })
        }
        Representation::PartialMetadata => partial_metadata(&value),
    }
}
