//! The request handler: authentication, routing, query parsing, and turning
//! API results into HTTP responses.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Method, header};
use serde_json::Value;

use super::ServerState;
use super::negotiation::{BodyFormat, Representation, negotiate, require_object_body};
use super::request_path::{ResourcePath, Route, parse};
use super::response::{error_response, json_response, openapi_v2, render_read, written};
use crate::api::{self, ListOptions, PatchType, Subresource, Target, WriteOptions};
use crate::status::{ApiError, ApiResult};
use crate::watch::{self, WatchFormat, WatchRequest};
use crate::{discovery, openapi};

/// Bodies larger than this are refused, like the real server's 3 MiB limit.
const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Handles every request.
pub async fn handle(State(server): State<Arc<ServerState>>, request: Request) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let accept = header_text(request.headers(), header::ACCEPT);
    let content_type = header_text(request.headers(), header::CONTENT_TYPE);
    let response = match dispatch(&server, request).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    };
    tracing::debug!(
        target: "fleet_sim::request",
        %method,
        %uri,
        accept = accept.as_deref().unwrap_or(""),
        content_type = content_type.as_deref().unwrap_or(""),
        status = response.status().as_u16(),
        "request"
    );
    response
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

fn query_parameters(request: &Request) -> HashMap<String, String> {
    axum::extract::Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .map(|query| query.0)
        .unwrap_or_default()
}

fn authorized(server: &ServerState, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", server.token);
    match headers.get(header::AUTHORIZATION) {
        None => server.allow_anonymous,
        Some(value) => value.to_str().ok().is_some_and(|value| value == expected),
    }
}

async fn dispatch(server: &Arc<ServerState>, request: Request) -> ApiResult<Response> {
    let route = parse(request.uri().path());
    let public = matches!(route, Route::Version | Route::Health);
    if !public && !authorized(server, request.headers()) {
        return Err(ApiError::Unauthorized);
    }
    let is_read = request.method() == Method::GET;
    if !is_read && !matches!(route, Route::Resource(_)) {
        return Err(ApiError::MethodNotAllowed(format!(
            "the server does not allow this method on the requested resource ({})",
            request.method()
        )));
    }
    let state = || server.store.lock();
    let accept_header = header_text(request.headers(), header::ACCEPT);
    match route {
        Route::Version => Ok(json_response(200, &discovery::version())),
        Route::Health => Ok(Response::builder()
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("ok"))
            .unwrap_or_default()),
        Route::CoreVersions => Ok(json_response(
            200,
            &discovery::core_versions(&server.server_address),
        )),
        Route::GroupList => Ok(json_response(
            200,
            &discovery::group_list(state()?.catalog()),
        )),
        Route::Group(group) => discovery::group(state()?.catalog(), &group)
            .map(|document| json_response(200, &document))
            .ok_or(ApiError::PageNotFound),
        Route::ResourceList { group, version } => {
            discovery::resource_list(state()?.catalog(), &group, &version)
                .map(|document| json_response(200, &document))
                .ok_or(ApiError::PageNotFound)
        }
        Route::OpenApiRoot => Ok(json_response(200, &openapi::root(state()?.catalog()))),
        Route::OpenApiDocument(path) => openapi::group_version_document(state()?.catalog(), &path)
            .map(|document| json_response(200, &document))
            .ok_or(ApiError::PageNotFound),
        Route::OpenApiV2 => Ok(openapi_v2(accept_header.as_deref())),
        Route::OpenApiUnsupported | Route::Unknown => Err(ApiError::PageNotFound),
        Route::Resource(path) => resource_request(server, path, request).await,
    }
}

fn resolve(server: &ServerState, path: &ResourcePath) -> ApiResult<Target> {
    let state = server.store.lock()?;
    let resource_type = state
        .catalog()
        .find(&path.group, &path.version, &path.resource)
        .ok_or(ApiError::PageNotFound)?;
    if path.namespace.is_some() && !resource_type.namespaced {
        return Err(ApiError::PageNotFound);
    }
    let subresource = match path.subresource.as_deref() {
        None => None,
        Some("status") if resource_type.status_subresource => Some(Subresource::Status),
        Some("scale") if resource_type.scale.is_some() => Some(Subresource::Scale),
        Some(_) => return Err(ApiError::PageNotFound),
    };
    Ok(Target {
        resource_type,
        version: path.version.clone(),
        namespace: path.namespace.clone(),
        name: path.name.clone(),
        subresource,
    })
}

fn write_options(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<WriteOptions> {
    let dry_run = match query.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "Invalid dryRun value: \"{other}\": supported values: \"All\""
            )));
        }
    };
    let given = query
        .get("fieldManager")
        .filter(|manager| !manager.is_empty())
        .cloned();
    let field_manager = given.clone().unwrap_or_else(|| {
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("unknown");
        agent
            .split('/')
            .next()
            .unwrap_or("unknown")
            .chars()
            .take(128)
            .collect()
    });
    let force = match query.get("force").map(String::as_str) {
        None => None,
        Some("true" | "1") => Some(true),
        Some(_) => Some(false),
    };
    Ok(WriteOptions {
        dry_run,
        field_manager,
        field_manager_given: given.is_some(),
        force,
    })
}

async fn read_body(request: Request) -> ApiResult<Bytes> {
    // Oversized bodies (declared or streamed) get 413 like the real server.
    axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::RequestEntityTooLarge {
            limit: MAX_BODY_BYTES,
        })
}

fn parse_object_body(bytes: &[u8], format: BodyFormat) -> ApiResult<Value> {
    match format {
        BodyFormat::Yaml => return api::parse_body(bytes, true),
        BodyFormat::Protobuf => {
            return crate::protobuf::decode(bytes).map_err(|error| match error {
                crate::protobuf::ProtobufError::UnsupportedKind { .. } => {
                    ApiError::UnsupportedMediaType(error.to_string())
                }
                other => ApiError::BadRequest(other.to_string()),
            });
        }
        BodyFormat::Json => {}
    }
    serde_json::from_slice(bytes).map_err(|error| {
        ApiError::BadRequest(format!(
            "couldn't get version/kind; json parse error: {error}"
        ))
    })
}

fn truthy(query: &HashMap<String, String>, name: &str) -> bool {
    matches!(query.get(name).map(String::as_str), Some("true" | "1"))
}

async fn resource_request(
    server: &Arc<ServerState>,
    path: ResourcePath,
    request: Request,
) -> ApiResult<Response> {
    let mut target = resolve(server, &path)?;
    let query = query_parameters(&request);
    let method = request.method().clone();
    let headers = request.headers().clone();
    let content_type = header_text(&headers, header::CONTENT_TYPE);
    let kind = target.resource_type.kind.clone();
    let list_options = || {
        ListOptions::parse(
            query.get("labelSelector").map(String::as_str),
            query.get("fieldSelector").map(String::as_str),
            &kind,
        )
    };
    let namespaced_without_namespace =
        target.resource_type.namespaced && target.namespace.is_none();
    if namespaced_without_namespace && (method != Method::GET || target.name.is_some()) {
        return Err(ApiError::PageNotFound);
    }
    match method {
        Method::GET => {
            let representation = negotiate(
                header_text(&headers, header::ACCEPT).as_deref(),
                query.get("includeObject").map(String::as_str),
            )?;
            if truthy(&query, "watch") {
                return watch_response(server, target, &query, list_options()?, representation);
            }
            let state = server.store.lock()?;
            let (value, is_list) = match (&target.name, target.subresource) {
                (Some(_), Some(Subresource::Scale)) => (api::get_scale(&state, &target)?, false),
                (Some(_), _) => (api::get(&state, &target)?, false),
                (None, _) => (api::list(&state, &target, &list_options()?), true),
            };
            Ok(json_response(
                200,
                &render_read(&target, representation, value, is_list),
            ))
        }
        Method::POST => {
            let format = require_object_body(content_type.as_deref())?;
            let options = write_options(&query, &headers)?;
            let body = parse_object_body(&read_body(request).await?, format)?;
            let mut state = server.store.lock()?;
            let created = api::create(&mut state, &target, body, &options)?;
            Ok(json_response(201, &created))
        }
        Method::PUT => {
            let format = require_object_body(content_type.as_deref())?;
            let options = write_options(&query, &headers)?;
            let body = parse_object_body(&read_body(request).await?, format)?;
            let mut state = server.store.lock()?;
            let updated = api::update(&mut state, &target, body, &options)?;
            Ok(json_response(200, &updated))
        }
        Method::PATCH => {
            let patch_type = PatchType::from_content_type(content_type.as_deref().unwrap_or("")).ok_or_else(|| {
                ApiError::UnsupportedMediaType(format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml{}",
                    if target.resource_type.custom { "" } else { ", application/strategic-merge-patch+json" }
                ))
            })?;
            let options = write_options(&query, &headers)?;
            let body = read_body(request).await?;
            let mut state = server.store.lock()?;
            let existed = target.name.as_deref().is_some_and(|name| {
                state
                    .get(
                        &target.resource_type.group_resource(),
                        target.namespace_or_empty(),
                        name,
                    )
                    .is_some()
            });
            let patched = api::patch(&mut state, &target, patch_type, &body, &options)?;
            Ok(written(201, existed, &patched))
        }
        Method::DELETE => {
            let options = write_options(&query, &headers)?;
            let body = read_body(request).await?;
            let delete_options: Option<Value> = if body.is_empty() {
                None
            } else {
                Some(serde_json::from_slice(&body).map_err(|error| {
                    ApiError::BadRequest(format!(
                        "couldn't get version/kind; json parse error: {error}"
                    ))
                })?)
            };
            let mut state = server.store.lock()?;
            let result = match target.name {
                Some(_) => api::delete(
                    &mut state,
                    &target,
                    delete_options.as_ref(),
                    options.dry_run,
                )?,
                None => {
                    target.name = None;
                    api::delete_collection(&mut state, &target, &list_options()?, options.dry_run)?
                }
            };
            Ok(json_response(200, &result))
        }
        _ => Err(ApiError::MethodNotAllowed(format!(
            "the server does not allow this method on the requested resource ({method})"
        ))),
    }
}

fn watch_response(
    server: &Arc<ServerState>,
    mut target: Target,
    query: &HashMap<String, String>,
    mut options: ListOptions,
    representation: Representation,
) -> ApiResult<Response> {
    if let Some(name) = target.name.take() {
        // Watching a single object path is a watch with a name selector.
        options = ListOptions::parse(
            query.get("labelSelector").map(String::as_str),
            Some(&format!("metadata.name={name}")),
            &target.resource_type.kind,
        )?;
    }
    let resource_version =
        match query.get("resourceVersion").map(String::as_str) {
            None | Some("") => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!("invalid resource version \"{text}\""))
            })?),
        };
    let format = match representation {
        Representation::Table(include) => WatchFormat::Table(include),
        Representation::PartialMetadata => WatchFormat::Metadata,
        Representation::Json => WatchFormat::Objects,
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|seconds| seconds.parse::<u64>().ok())
        .map(Duration::from_secs);
    let lines = watch::start(
        &server.store,
        WatchRequest {
            target,
            options,
            resource_version,
            send_initial_events: truthy(query, "sendInitialEvents"),
            allow_bookmarks: truthy(query, "allowWatchBookmarks"),
            timeout,
            format,
            bookmark_interval: server.bookmark_interval,
        },
    )?;
    let stream = futures::stream::unfold(lines, |mut lines| async move {
        lines
            .recv()
            .await
            .map(|line| (Ok::<Bytes, std::convert::Infallible>(line), lines))
    });
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(stream))
        .unwrap_or_default())
}
