//! HTTP routes.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use super::metrics::HubMetrics;
use crate::git::{GitSync, SIGNATURE_HEADER, verify_signature};
use crate::store::FleetStore;
use crate::supervisor::TaskHealth;

/// What the HTTP handlers need.
#[derive(Clone)]
pub struct HttpState {
    /// The replicated state (for readiness and Raft figures).
    pub store: FleetStore,
    /// The Git sync (webhook trigger, readiness).
    pub sync: Arc<GitSync>,
    /// Metrics to export.
    pub metrics: Arc<HubMetrics>,
    /// The webhook's HMAC secret.
    pub webhook_secret: Arc<Vec<u8>>,
    /// Whether a supervised background task has died (then not ready).
    pub tasks: TaskHealth,
    /// Largest webhook request body accepted (`server.maxWebhookBodyBytes`).
    pub webhook_body_limit: usize,
}

/// The HTTP router of a hub node.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/webhook/git",
            post(webhook).layer(DefaultBodyLimit::max(state.webhook_body_limit)),
        )
        .with_state(state)
}

async fn readyz(State(state): State<HttpState>) -> (StatusCode, String) {
    if let Some(failure) = state.tasks.failure() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {failure}\n"),
        );
    }
    let has_leader = state.store.has_leader();
    let git = state.sync.has_read_once();
    let ready = has_leader && git;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let text = format!(
        "{}: raft leader {}, git read {}\n",
        if ready { "ready" } else { "not ready" },
        if has_leader { "known" } else { "unknown" },
        if git { "yes" } else { "not yet" }
    );
    (status, text)
}

async fn metrics(
    State(state): State<HttpState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let figures = state.store.raft_figures();
    state.metrics.raft_term.set(figures.term);
    state.metrics.raft_commit_index.set(figures.commit_index);
    state.metrics.raft_leader.set(i64::from(figures.is_leader));
    let sizes = state.store.raft().state().snapshot_sizes();
    state.metrics.state_bytes.set(sizes.state_bytes);
    state.metrics.snapshot_bytes.set(sizes.snapshot_bytes);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

async fn webhook(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    if !verify_signature(&state.webhook_secret, &body, signature) {
        return (
            StatusCode::UNAUTHORIZED,
            "invalid or missing X-Hub-Signature-256\n",
        );
    }
    state.sync.trigger();
    (StatusCode::ACCEPTED, "fetch scheduled\n")
}
