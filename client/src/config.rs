//! fleetctl's configuration file: how to reach hubs, kubeconfig-style.
//!
//! `fleet-hub init` adds a context for the new hub (its endpoints, CA and the
//! admin certificate it issued); fleetctl reads it. The file is found through
//! `--fleetconfig`, else `$FLEETCONFIG`, else `~/.fleet/config.yaml`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The environment variable naming the file when `--fleetconfig` is not given.
pub const FLEETCONFIG: &str = "FLEETCONFIG";

/// The file's default location under the home directory.
pub const DEFAULT_RELATIVE_PATH: &str = ".fleet/config.yaml";

/// One hub fleetctl can talk to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    /// Context name.
    pub name: String,
    /// gRPC endpoints of the hub's nodes (`https://host:port`).
    pub endpoints: Vec<String>,
    /// The hub CA certificate (PEM file).
    pub ca: PathBuf,
    /// The admin client certificate (PEM file).
    pub certificate: PathBuf,
    /// The admin client key (PEM file).
    pub key: PathBuf,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// The context used when none is named.
    #[serde(default)]
    pub current_context: Option<String>,
    /// Known hubs.
    #[serde(default)]
    pub contexts: Vec<Context>,
}

/// Reading or writing the file failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}: invalid fleetctl configuration: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No home directory to find the default file in.
    #[error("no --fleetconfig, $FLEETCONFIG or $HOME to find fleetctl's configuration")]
    NoLocation,
}

impl ClientConfig {
    /// The file to use: `explicit`, else `$FLEETCONFIG`, else `~/.fleet/config.yaml`.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ClientConfigError> {
        if let Some(path) = explicit {
            return Ok(path.to_owned());
        }
        if let Some(path) = std::env::var_os(FLEETCONFIG).filter(|value| !value.is_empty()) {
            return Ok(PathBuf::from(path));
        }
        std::env::var_os("HOME")
            .map(|home| Path::new(&home).join(DEFAULT_RELATIVE_PATH))
            .ok_or(ClientConfigError::NoLocation)
    }

    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Self, ClientConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(source) => {
                return Err(ClientConfigError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        serde_saphyr::from_str(&text).map_err(|error| ClientConfigError::Invalid {
            path: path.to_owned(),
            message: error.to_string(),
        })
    }

    /// Writes the file (creating its folder).
    pub fn save(&self, path: &Path) -> Result<(), ClientConfigError> {
        let io = |source| ClientConfigError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(io)?;
        }
        let text = serde_saphyr::to_string(self).map_err(|error| ClientConfigError::Invalid {
            path: path.to_owned(),
            message: error.to_string(),
        })?;
        std::fs::write(path, text).map_err(io)
    }

    /// Adds or replaces a context and makes it current.
    pub fn upsert(&mut self, context: Context) {
        self.contexts
            .retain(|existing| existing.name != context.name);
        self.current_context = Some(context.name.clone());
        self.contexts.push(context);
    }

    /// The named context, or the current one.
    pub fn context(&self, name: Option<&str>) -> Option<&Context> {
        let name = name.or(self.current_context.as_deref())?;
        self.contexts.iter().find(|context| context.name == name)
    }
}
