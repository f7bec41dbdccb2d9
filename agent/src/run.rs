//! Wiring, in order: kube client → identity (enroll or reuse) → cached
//! desired state → inventory → reconciler, certificate renewal, connection
//! and the local HTTP server, each in its own task.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use tracing::{error, info, warn};

use crate::apply::Applier;
use crate::cache::DesiredCache;
use crate::config::Config;
use crate::connection::Connection;
use crate::enroll::{self, EnrollError};
use crate::inbound::Inbound;
use crate::inventory::InventoryStore;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::reconcile::{Reconciler, ReconcilerParts};
use crate::renewal::Renewal;

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The kubeconfig could not be read.
    #[error("kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// No in-cluster configuration and no kubeconfig.
    #[error("no Kubernetes configuration (not in a cluster and no --kubeconfig): {0}")]
    InferConfig(#[source] kube::config::InferConfigError),
    /// The kube client could not be built.
    #[error("cannot build the Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    /// Enrollment failed.
    #[error(transparent)]
    Enroll(#[from] EnrollError),
    /// The local HTTP port could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A kube client from the kubeconfig file or the in-cluster configuration.
pub async fn kube_client(config: &Config) -> Result<kube::Client, RunError> {
    let kube_config = match &config.kubeconfig {
        Some(path) => {
            let error = |source| RunError::Kubeconfig {
                path: path.display().to_string(),
                source,
            };
            let kubeconfig = Kubeconfig::read_from(path).map_err(error)?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(error)?
        }
        None => kube::Config::infer().await.map_err(RunError::InferConfig)?,
    };
    kube::Client::try_from(kube_config).map_err(RunError::Client)
}

/// Runs the agent until the process is stopped.
pub async fn run(config: Config) -> Result<(), RunError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = kube_client(&config).await?;
    let applier = Applier::new(client.clone());
    if let Err(error) = applier.clone().ensure_namespace(&config.namespace).await {
        warn!(%error, "cannot create the agent namespace yet");
    }
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(client.clone(), &config.namespace);
    let credentials = enroll::load_or_enroll(&config, Some(secrets.clone())).await?;

    let cache = DesiredCache::new(&config.state_dir);
    let initial = match cache.load() {
        Ok(initial) => initial.filter(|desired| desired.cluster == config.cluster),
        Err(error) => {
            warn!(%error, "ignoring the desired-state cache");
            None
        }
    };
    if let Some(desired) = &initial {
        info!(revision = %desired.revision, "starting from the cached desired state");
    }

    let metrics = Metrics::new();
    if let Some(address) = config.listen {
        let server = crate::http::serve(address, metrics.clone())
            .await
            .map_err(|source| RunError::Listen { address, source })?;
        tokio::spawn(async move {
            if let Err(error) = server.await {
                error!(%error, "the local HTTP server stopped");
            }
        });
    }

    let inventory_store = InventoryStore::new(client.clone(), &config.namespace);
    let inventory = loop {
        // The inventory decides what may be pruned: never start without it.
        let mut applier = applier.clone();
        if let Err(error) = applier.ensure_namespace(&config.namespace).await {
            warn!(%error, "cannot create the agent namespace yet; retrying");
        } else {
            match inventory_store.load().await {
                Ok(inventory) => break inventory,
                Err(error) => warn!(%error, "cannot read the inventory yet; retrying"),
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    info!(objects = inventory.len(), "inventory loaded");

    let outbound = Outbound::new();
    let inbound = Inbound::new(&config.cluster, cache, initial);
    let reconciler = Reconciler::new(ReconcilerParts {
        cluster: config.cluster.clone(),
        applier,
        inventory_store,
        inventory,
        desired: inbound.subscribe(),
        outbound: outbound.clone(),
        metrics: metrics.clone(),
    });
    let renewal = Renewal::new(&config, credentials, Some(secrets));
    let connection = Connection::following(
        &config.cluster,
        renewal.subscribe(),
        inbound,
        outbound,
        metrics,
    );
    let reconciling = tokio::spawn(reconciler.run());
    let renewing = tokio::spawn(renewal.run());
    let connecting = tokio::spawn(connection.run());
    tokio::select! {
        _ = reconciling => error!("the reconciler stopped"),
        _ = renewing => error!("certificate renewal stopped"),
        _ = connecting => error!("the connection stopped"),
        _ = shutdown_signal() => info!("stopping"),
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
