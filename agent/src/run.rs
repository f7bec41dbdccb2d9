//! Wiring, in order: kube client → identity (enroll or reuse) → cached
//! desired state → inventory → reconciler, certificate renewal, connection
//! and the local HTTP server, each in its own task. The reconciler,
//! renewal and connection tasks are watched: one that ends or panics ends
//! the agent with an error (exit code 1) so its supervisor restarts it. On
//! SIGTERM/SIGINT the reconciler finishes its pass in flight (within the
//! shutdown grace) and the agent exits 0.

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
    /// A task that must run for as long as the agent does ended or
    /// panicked: the process exits non-zero so it is restarted.
    #[error("the {task} task stopped: {reason}")]
    TaskStopped {
        /// Which task (reconciler, certificate renewal, connection).
        task: &'static str,
        /// How it ended (the panic message if it panicked).
        reason: String,
    },
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
        sops_keys: crate::sops_keys::SopsKeys::new(config.sops_age_key_file.clone()),
    });
    let renewal = Renewal::new(&config, credentials, Some(secrets));
    let connection = Connection::following(
        &config.cluster,
        renewal.subscribe(),
        inbound,
        outbound,
        metrics,
    );
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let mut reconciling = tokio::spawn(reconciler.run_until(stop));
    let mut renewing = tokio::spawn(renewal.run());
    let mut connecting = tokio::spawn(connection.run());
    let stopped = tokio::select! {
        outcome = &mut reconciling => Err(task_stopped("reconciler", outcome)),
        outcome = &mut renewing => Err(task_stopped("certificate renewal", outcome)),
        outcome = &mut connecting => Err(task_stopped("connection", outcome)),
        () = shutdown_signal() => Ok(()),
    };
    renewing.abort();
    connecting.abort();
    if let Err(error) = stopped {
        reconciling.abort();
        error!(%error, "stopping: a task the agent needs has stopped");
        return Err(error);
    }
    info!(grace = ?config.shutdown_grace, "stopping: finishing the apply in flight");
    let _ = stop_sender.send(true);
    match tokio::time::timeout(config.shutdown_grace, &mut reconciling).await {
        Ok(_) => info!("stopped"),
        Err(_) => {
            reconciling.abort();
            warn!(grace = ?config.shutdown_grace, "stopping: the apply in flight did not finish within the shutdown grace");
        }
    }
    Ok(())
}

/// The error for a task that ended although it should run forever.
fn task_stopped(task: &'static str, outcome: Result<(), tokio::task::JoinError>) -> RunError {
    let reason = match outcome {
        Ok(()) => "it returned".to_owned(),
        Err(error) if error.is_panic() => {
            let payload = error.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            format!("it panicked: {message}")
        }
        Err(error) => format!("it was cancelled: {error}"),
    };
    RunError::TaskStopped { task, reason }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_dies_is_an_error_naming_it_and_its_panic() {
        let panicked = tokio::spawn(async { panic!("watch stream poisoned") }).await;
        let error = task_stopped("reconciler", panicked);
        assert_eq!(
            error.to_string(),
            "the reconciler task stopped: it panicked: watch stream poisoned"
        );
        let returned = tokio::spawn(async {}).await;
        assert_eq!(
            task_stopped("connection", returned).to_string(),
            "the connection task stopped: it returned"
        );
    }
}
