//! Wiring a hub node: configuration → certificates → Raft (with the peer
//! network) → Git mirror → services, in that order; then serve gRPC (agents,
//! fleetctl and peer hub nodes on one port) and HTTP until stopped. Every
//! node runs the Git sync, the rollout driver and the membership reconciler;
//! each acts only while its node leads.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use fleet_proto::MAX_MESSAGE_BYTES;
use fleet_proto::admin_service_server::AdminServiceServer;
use fleet_proto::agent_service_server::AgentServiceServer;
use fleet_proto::membership_service_server::MembershipServiceServer;
use fleet_proto::raft_service_server::RaftServiceServer;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tracing::{info, info_span, warn};

use crate::api::{
    AdminApi, AgentApi, ApiContext, DesiredStateCache, MembershipApi, RaftApi, Sessions,
    StatusBatcher, TargetBoard,
};
use crate::config::Config;
use crate::connections::{counted_incoming, serve_http};
use crate::git::{GitMirror, GitSync};
use crate::http::metrics::HubMetrics;
use crate::http::{HttpState, router};
use crate::membership::MembershipReconciler;
use crate::notifications::NotificationDeliverer;
use crate::pki::CertificateAuthority;
use crate::raft::{PeerTls, RaftSettings, start};
use crate::rollout::{ControllerSettings, RolloutDriver};
use crate::store::FleetStore;
use crate::supervisor::TaskSupervisor;

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The webhook's HMAC secret from `path`. An empty secret is refused: with
/// it anyone could sign a webhook call.
fn webhook_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let secret = read(path)?.trim().as_bytes().to_vec();
    if secret.is_empty() {
        anyhow::bail!(
            "the webhook secret file {} (git.webhookSecretFile) is empty: anyone could sign webhook calls with an empty secret; write a random secret into it",
            path.display()
        );
    }
    Ok(secret)
}

/// Runs a hub node until SIGINT/SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    serve_until(config, shutdown_signal()).await
}

/// Runs a hub node until `shutdown` completes (the local demo embeds a hub).
pub async fn serve_until(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_sender.send(true);
    });
    let stopped = move || {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Arc::new(config);
    let webhook_secret = webhook_secret(&config.git.webhook_secret_file)?;

    let (authority, server_identity, client_roots, peer_tls) = {
        let _span = info_span!("certificates").entered();
        let ca_certificate = read(&config.tls.ca_certificate)?;
        let authority = CertificateAuthority::load(&ca_certificate, &read(&config.tls.ca_key)?)?;
        let certificate = read(&config.tls.certificate)?;
        let key = read(&config.tls.key)?;
        let identity = Identity::from_pem(&certificate, &key);
        let peer_tls = PeerTls {
            ca_pem: ca_certificate.clone(),
            certificate_pem: certificate,
            key_pem: key,
        };
        (
            Arc::new(authority),
            identity,
            Certificate::from_pem(ca_certificate),
            peer_tls,
        )
    };

    let raft = start(
        &config.data_dir.join("raft"),
        config.node.id,
        raft_settings(&config, peer_tls),
    )
    .await
    .context("starting Raft")?;
    let store = FleetStore::new(raft.clone());
    let controller_store = store.clone();

    let mirror = {
        let _span = info_span!("git mirror", url = %config.git.url).entered();
        Arc::new(
            GitMirror::open(
                &config.data_dir.join("mirror.git"),
                &config.git.url,
                &config.git.branch,
                config.git.token_file.as_deref(),
                config.git.ssh_key_file.as_deref(),
            )?
            .with_render_settings(config.render.settings_in(&config.data_dir)),
        )
    };
    let metrics = Arc::new(HubMetrics::default());
    let notification_metrics = metrics.clone();
    let desired = Arc::new(DesiredStateCache::new(mirror.clone(), store.clone()));
    let sync = Arc::new(
        GitSync::new(
            mirror.clone(),
            store.clone(),
            config.git.poll_interval.0,
            metrics.clone(),
            desired.clone(),
        )
        .with_retention(config.retention.limits()),
    );

    let mut supervisor = TaskSupervisor::new();
    let sessions = Arc::new(Sessions::default());
    let (statuses, status_writer) =
        StatusBatcher::new(store.clone(), config.dashboard.drift_history);
    supervisor.spawn("status batcher", status_writer);
    let (presence, presence_writer) = crate::presence::PresenceRecorder::new(
        store.clone(),
        config.node.id,
        config.presence.node_heartbeat.0,
    );
    supervisor.spawn("presence recorder", presence_writer);
    let targets = TargetBoard::new(store.clone());
    supervisor.spawn("target board", targets.clone().run());
    let context = ApiContext {
        config: config.clone(),
        store: store.clone(),
        authority,
        desired,
        renders: Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        )),
        sessions: sessions.clone(),
        targets: targets.clone(),
        statuses: statuses.clone(),
        presence,
        sync: sync.clone(),
        metrics: metrics.clone(),
        refusals: Arc::new(crate::api::RefusalAudit::new(
            config.users.refusal_audits_per_minute,
        )),
    };

    let limits = &config.server;
    let tls = ServerTlsConfig::new()
        .identity(server_identity)
        .client_ca_root(client_roots)
        .client_auth_optional(true)
        .timeout(limits.tls_handshake_timeout.0);
    let agent = AgentServiceServer::new(AgentApi::new(context.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let admin = AdminServiceServer::new(AdminApi::new(context.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let peers = RaftServiceServer::new(RaftApi::new(raft.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let membership = MembershipServiceServer::new(MembershipApi::new(context))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    // The gRPC port stays open while the node hands over (peers still reach
    // its Raft service during the step-down); it closes once that is done.
    let (drained_sender, drained) = tokio::sync::watch::channel(false);
    let grpc_stop = async move {
        let mut drained = drained;
        let _ = drained.wait_for(|drained| *drained).await;
    };
    let grpc_listener = tokio::net::TcpListener::bind(config.node.grpc_listen)
        .await
        .with_context(|| format!("binding gRPC on {}", config.node.grpc_listen))?;
    let grpc = Server::builder()
        .tls_config(tls)
        .context("configuring TLS")?
        .http2_keepalive_interval(Some(limits.http2_keepalive_interval.0))
        .http2_keepalive_timeout(Some(limits.http2_keepalive_timeout.0))
        .max_concurrent_streams(limits.max_concurrent_streams)
        .add_service(agent)
        .add_service(admin)
        .add_service(peers)
        .add_service(membership)
        .serve_with_incoming_shutdown(
            counted_incoming(grpc_listener, limits.max_connections_per_port, "grpc"),
            grpc_stop,
        );

    let http_listener = tokio::net::TcpListener::bind(config.node.http_listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.node.http_listen))?;
    let http = serve_http(
        http_listener,
        router(HttpState {
            store,
            sync: sync.clone(),
            metrics,
            webhook_secret: Arc::new(webhook_secret),
            tasks: supervisor.health(),
            webhook_body_limit: limits.max_webhook_body_bytes,
        }),
        limits.max_connections_per_port,
        limits.http_header_read_timeout.0,
        stopped(),
    );

    supervisor.spawn(
        "membership reconciler",
        MembershipReconciler::new(
            controller_store.clone(),
            config.node.id,
            config.node.name.clone(),
            config.node.advertised_address(),
        )
        .run(),
    );
    supervisor.spawn("git sync", sync.run());
    let prometheus = match config.analysis.prometheus.clone() {
        Some(settings) => Some(crate::analysis::PrometheusClient::new(settings)?),
        None => None,
    };
    supervisor.spawn(
        "gate analysis",
        crate::analysis::AnalysisRunner::new(controller_store.clone(), prometheus).run(),
    );
    supervisor.spawn(
        "notification deliverer",
        NotificationDeliverer::new(
            controller_store.clone(),
            config.notifications.clone(),
            notification_metrics,
        )
        .run(),
    );
    supervisor.spawn(
        "disconnect watcher",
        crate::presence::DisconnectWatcher::new(
            controller_store.clone(),
            config.presence.clone(),
            config.notifications.cluster_disconnected_after.0,
        )
        .run(),
    );
    supervisor.spawn(
        "rollout driver",
        RolloutDriver::new(controller_store, ControllerSettings::default()).run(),
    );
    info!(
        node = %config.node.name,
        grpc = %config.node.grpc_listen,
        http = %config.node.http_listen,
        "hub node serving"
    );
    let grace = config.node.shutdown_grace.0;
    let hand_over = {
        let raft = raft.clone();
        let stopped = stopped();
        async move {
            stopped.await;
            let started = std::time::Instant::now();
            info!(grace = ?grace, sessions = sessions.count(), "stopping: sending agents to other hub nodes");
            let sequence = async {
                sessions.close_all();
                statuses.flush().await;
                match raft.step_down_if_leader().await {
                    Ok(Some(leader)) => {
                        info!(new_leader = leader, "stopping: leadership handed over")
                    }
                    Ok(None) => {}
                    Err(error) => warn!(%error, "stopping: could not hand leadership over"),
                }
            };
            if tokio::time::timeout(grace, sequence).await.is_err() {
                warn!(grace = ?grace, "stopping: the hand-over did not finish within the shutdown grace");
            }
            let _ = drained_sender.send(true);
            started + grace
        }
    };
    let servers = async { tokio::join!(grpc, http) };
    tokio::pin!(servers);
    let (deadline, (grpc, ())) = tokio::select! {
        failure = supervisor.first_failure() => {
            // Not a clean stop: exit non-zero so the node is restarted.
            let _ = tokio::time::timeout(grace, raft.shutdown()).await;
            return Err(anyhow::Error::new(failure).context("hub node stopped"));
        }
        finished = &mut servers => (std::time::Instant::now() + grace, finished),
        deadline = hand_over => {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            match tokio::time::timeout(remaining, &mut servers).await {
                Ok(finished) => (deadline, finished),
                Err(_) => {
                    warn!("stopping: connections still open when the shutdown grace ran out; closing them");
                    (deadline, (Ok(()), ()))
                }
            }
        }
    };
    grpc.context("gRPC server")?;
    let remaining = deadline.saturating_duration_since(std::time::Instant::now());
    match tokio::time::timeout(remaining, raft.shutdown()).await {
        Ok(outcome) => outcome.context("stopping Raft")?,
        Err(_) => warn!("stopping: Raft did not stop within the shutdown grace"),
    }
    info!("hub node stopped");
    Ok(())
}

/// This node's Raft settings from its configuration.
fn raft_settings(config: &Config, peer_tls: PeerTls) -> RaftSettings {
    let raft = &config.raft;
    RaftSettings {
        bootstrap: !config.node.joined,
        heartbeat_interval: raft.heartbeat_interval.0,
        election_timeout_min: raft.election_timeout_min.0,
        election_timeout_max: raft.election_timeout_max.0,
        snapshot_every: raft.snapshot_every,
        logs_to_keep_after_snapshot: raft.logs_to_keep,
        write_timeout: raft.write_timeout.0,
        peer_tls: Some(peer_tls),
        peer_source_address: Some(config.node.grpc_listen.ip())
            .filter(|address| !address.is_unspecified()),
        ..RaftSettings::new(config.node.advertised_address())
    }
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
