//! The HTTP(S) front: an accept loop serving HTTP/1.1 and HTTP/2 (TLS with
//! ALPN, or plain) with one handler that routes like kube-apiserver.

mod negotiation;
mod request_path;
mod response;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::store::Store;

/// What request handlers share.
#[derive(Debug)]
pub struct ServerState {
    /// The object store.
    pub store: Arc<Store>,
    /// The bearer token clients must present.
    pub token: String,
    /// Accept requests without any Authorization header (plain HTTP only:
    /// kubectl never sends credentials over plain HTTP, like the old
    /// insecure port of kube-apiserver). A wrong token is still refused.
    pub allow_anonymous: bool,
    /// `host:port` as advertised in `/api`.
    pub server_address: String,
    /// How often watches send bookmarks (when asked for).
    pub bookmark_interval: Duration,
}

/// Serves connections until `shutdown` turns true; then drops every open
/// connection (including watches).
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<ServerState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = axum::Router::new()
        .fallback(routes::handle)
        .with_state(state);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let tls = tls.clone();
                connections.spawn(async move {
                    let builder = auto::Builder::new(TokioExecutor::new());
                    let result = match tls {
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(stream) => builder.serve_connection(TokioIo::new(stream), service).await,
                            Err(error) => {
                                tracing::debug!(%error, "TLS handshake failed");
                                return;
                            }
                        },
                        None => builder.serve_connection(TokioIo::new(stream), service).await,
                    };
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
