//! The HTTP port served connection by connection (HTTP/1.1 only: health,
//! readiness, metrics and the Git webhook need nothing more), so that each
//! connection is held to a header-read timeout and the port's connection
//! limit. A client that connects and says nothing, or sends its headers
//! slowly, is disconnected when the timeout passes; so is an idle
//! keep-alive connection.

use std::time::Duration;

use axum::Router;
use futures::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tracing::debug;

use super::counted::counted_incoming;

/// Serves `router` on `listener` until `stop` completes: at most
/// `max_connections` at a time, each closed when a request's headers (or
/// the first request) take longer than `header_read_timeout`. In-flight
/// requests finish on stop.
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    header_read_timeout: Duration,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping.send(true);
    });
    let mut incoming = std::pin::pin!(counted_incoming(listener, max_connections, "http"));
    let mut accept_stopped = stopped.clone();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let next = tokio::select! {
            next = incoming.next() => next,
            () = until_stopped(&mut accept_stopped) => break,
        };
        let Some(Ok(connection)) = next else {
            break;
        };
        let service = TowerToHyperService::new(router.clone());
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let served = builder.serve_connection(TokioIo::new(connection), service);
            let mut served = std::pin::pin!(served);
            let outcome = tokio::select! {
                outcome = served.as_mut() => outcome,
                () = until_stopped(&mut stopped) => {
                    served.as_mut().graceful_shutdown();
                    served.await
                }
            };
            if let Err(error) = outcome {
                debug!(%error, "HTTP connection ended with an error");
            }
        });
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Resolves once the stop flag is set (or its sender is gone).
async fn until_stopped(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}
