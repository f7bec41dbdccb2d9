//! `/healthz` and `/metrics` on a local port.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tracing::info;

use crate::metrics::Metrics;

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}

/// Binds `address`; the returned future serves until the process ends.
pub async fn serve(
    address: SocketAddr,
    state: Metrics,
) -> std::io::Result<impl std::future::Future<Output = std::io::Result<()>>> {
    let listener = TcpListener::bind(address).await?;
    info!(address = %listener.local_addr()?, "serving /healthz and /metrics");
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state);
    Ok(async move { axum::serve(listener, router).await })
}
