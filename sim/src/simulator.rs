//! Starting and stopping a simulator in-process: [`Simulator::start`] binds
//! (an ephemeral port by default), generates TLS material and a token, loads
//! the data directory, and spawns the server and the simulated controllers on
//! the current tokio runtime. Start as many as you like in one process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::SimConfig;
use crate::controllers::{self, ControllerSettings};
use crate::http::{self, ServerState};
use crate::persistence::{self, PersistOperation, PersistenceError};
use crate::status::ApiError;
use crate::store::Store;
use crate::{api, kubeconfig, tls};

/// Namespaces every simulator starts with, like a fresh cluster.
const DEFAULT_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// The one simulated node.
const SIMULATED_NODE: &str = "fleet-sim-node";

/// Failures starting a simulator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// TLS material could not be generated.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The data directory could not be read.
    #[error(transparent)]
    Persistence(#[from] PersistenceError),
    /// The initial objects could not be created.
    #[error("could not create the initial objects: {0}")]
    Bootstrap(#[from] ApiError),
}

/// Entry point for starting simulators.
#[derive(Debug, Clone, Copy)]
pub struct Simulator;

/// A simulator running on the current tokio runtime. Dropping it stops it
/// (without flushing the data directory: call [`RunningSimulator::shutdown`]).
#[derive(Debug)]
pub struct RunningSimulator {
    name: String,
    address: SocketAddr,
    url: String,
    token: String,
    ca_pem: Option<String>,
    kubeconfig: String,
    store: Arc<Store>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    persistence: Option<(mpsc::UnboundedSender<PersistOperation>, JoinHandle<()>)>,
}

impl Simulator {
    /// Starts a simulator with `config` on the current tokio runtime.
    pub async fn start(config: SimConfig) -> Result<RunningSimulator, StartError> {
        // Idempotent; a provider installed by the host process wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let token = config
            .token
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());

        let persistence = config
            .data_dir
            .as_ref()
            .map(|dir| persistence::spawn_writer(dir.clone()));
        let store = Arc::new(Store::new(
            config.watch_window,
            persistence.as_ref().map(|(sender, _)| sender.clone()),
        ));
        {
            let mut state = store.lock()?;
            state.set_namespace_finalize_delay(config.namespace_finalize_delay);
            if let Some(dir) = &config.data_dir {
                for (resource, object) in persistence::load_objects(dir)? {
                    if resource.resource == "customresourcedefinitions" {
                        api::register_crd(&mut state, &object);
                    }
                    if state.catalog().get(&resource).is_some() {
                        state.load(&resource, object);
                    }
                }
            }
            for namespace in DEFAULT_NAMESPACES {
                api::ensure_namespace(&mut state, namespace, "fleet-sim")?;
            }
            api::ensure_node(&mut state, SIMULATED_NODE, "fleet-sim")?;
        }

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    address: config.listen,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: config.listen,
            source,
        })?;
        let (acceptor, ca_pem) = if config.tls {
            let certificate = tls::generate(&config.name)?;
            (
                Some(TlsAcceptor::from(certificate.server_config)),
                Some(certificate.ca_pem),
            )
        } else {
            (None, None)
        };
        let scheme = if config.tls { "https" } else { "http" };
        let url = format!("{scheme}://{address}");
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let server_state = Arc::new(ServerState {
            store: store.clone(),
            token: token.clone(),
            allow_anonymous: !config.tls,
            server_address: address.to_string(),
            bookmark_interval: config.bookmark_interval,
        });
        let server = tokio::spawn(http::serve(
            listener,
            acceptor,
            server_state,
            shutdown_receiver.clone(),
        ));
        let controllers = controllers::spawn(
            store.clone(),
            ControllerSettings {
                rollout_delay: config.rollout_delay,
                progress_deadline: config.progress_deadline,
                simulate_pods: config.simulate_pods,
            },
            shutdown_receiver,
        );
        let kubeconfig = kubeconfig::render(&config.name, &url, ca_pem.as_deref(), &token);
        tracing::info!(name = %config.name, %url, "fleet-sim (Kubernetes API simulator, test/demo tool) started");
        Ok(RunningSimulator {
            name: config.name,
            address,
            url,
            token,
            ca_pem,
            kubeconfig,
            store,
            shutdown,
            tasks: vec![server, controllers],
            persistence,
        })
    }
}

impl RunningSimulator {
    /// The cluster name used in the kubeconfig.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bound address (with the real port).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `https://127.0.0.1:PORT` (or `http://`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bearer token clients must send.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The CA certificate (PEM) when serving HTTPS.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The kubeconfig YAML for this simulator.
    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig
    }

    /// Writes the kubeconfig to `path` and returns the path.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> std::io::Result<PathBuf> {
        let path = path.as_ref();
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &self.kubeconfig)?;
        Ok(path.to_path_buf())
    }

    /// The store, for tests and benchmarks that inspect state directly.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Stops serving, closes every connection and watch, and flushes the
    /// data directory.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        if let Some((sender, writer)) = self.persistence.take() {
            let (done, flushed) = oneshot::channel();
            if sender.send(PersistOperation::Flush(done)).is_ok() {
                let _ = flushed.await;
            }
            drop(sender);
            writer.abort();
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}
