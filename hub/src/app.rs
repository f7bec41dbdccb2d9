//! Wiring a hub node: configuration → certificates → Raft → Git mirror →
//! services, in that order; then serve gRPC and HTTP until stopped.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use fleet_proto::MAX_MESSAGE_BYTES;
use fleet_proto::admin_service_server::AdminServiceServer;
use fleet_proto::agent_service_server::AgentServiceServer;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tracing::{info, info_span};

use crate::api::{AdminApi, AgentApi, ApiContext, DesiredStateCache, Sessions};
use crate::config::Config;
use crate::git::{GitMirror, GitSync};
use crate::http::metrics::HubMetrics;
use crate::http::{HttpState, router};
use crate::pki::CertificateAuthority;
use crate::raft::{RaftSettings, start};
use crate::rollout::{ControllerSettings, RolloutDriver};
use crate::store::FleetStore;

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Runs a hub node until SIGINT/SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Arc::new(config);

    let (authority, server_identity, client_roots) = {
        let _span = info_span!("certificates").entered();
        let ca_certificate = read(&config.tls.ca_certificate)?;
        let authority = CertificateAuthority::load(&ca_certificate, &read(&config.tls.ca_key)?)?;
        let identity = Identity::from_pem(read(&config.tls.certificate)?, read(&config.tls.key)?);
        (
            Arc::new(authority),
            identity,
            Certificate::from_pem(ca_certificate),
        )
    };

    let raft_address = config.node.grpc_listen.to_string();
    let raft = start(
        &config.data_dir.join("raft"),
        config.node.id,
        RaftSettings::new(raft_address),
    )
    .await
    .context("starting Raft")?;
    let store = FleetStore::new(raft.clone());
    let controller_store = store.clone();

    let mirror = {
        let _span = info_span!("git mirror", url = %config.git.url).entered();
        Arc::new(GitMirror::open(
            &config.data_dir.join("mirror.git"),
            &config.git.url,
            &config.git.branch,
            config.git.token_file.as_deref(),
            config.git.ssh_key_file.as_deref(),
        )?)
    };
    let metrics = Arc::new(HubMetrics::default());
    let sync = Arc::new(GitSync::new(
        mirror.clone(),
        store.clone(),
        config.git.poll_interval.0,
        metrics.clone(),
    ));
    let webhook_secret = read(&config.git.webhook_secret_file)?
        .trim()
        .as_bytes()
        .to_vec();

    let context = ApiContext {
        config: config.clone(),
        store: store.clone(),
        authority,
        desired: Arc::new(DesiredStateCache::new(mirror)),
        sessions: Arc::new(Sessions::default()),
        sync: sync.clone(),
        metrics: metrics.clone(),
    };

    let tls = ServerTlsConfig::new()
        .identity(server_identity)
        .client_ca_root(client_roots)
        .client_auth_optional(true);
    let agent = AgentServiceServer::new(AgentApi::new(context.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let admin = AdminServiceServer::new(AdminApi::new(context))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let grpc = Server::builder()
        .tls_config(tls)
        .context("configuring TLS")?
        .add_service(agent)
        .add_service(admin)
        .serve_with_shutdown(config.node.grpc_listen, shutdown_signal());

    let http_listener = tokio::net::TcpListener::bind(config.node.http_listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.node.http_listen))?;
    let http = axum::serve(
        http_listener,
        router(HttpState {
            store,
            sync: sync.clone(),
            metrics,
            webhook_secret: Arc::new(webhook_secret),
        }),
    )
    .with_graceful_shutdown(shutdown_signal());

    tokio::spawn(sync.run());
    tokio::spawn(RolloutDriver::new(controller_store, ControllerSettings::default()).run());
    info!(
        node = %config.node.name,
        grpc = %config.node.grpc_listen,
        http = %config.node.http_listen,
        "hub node serving"
    );
    let (grpc, http) = tokio::join!(grpc, async { http.await });
    grpc.context("gRPC server")?;
    http.context("HTTP server")?;
    raft.shutdown().await.context("stopping Raft")?;
    info!("hub node stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
