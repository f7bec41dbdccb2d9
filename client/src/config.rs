//! fleetctl's configuration file: how to reach hubs, kubeconfig-style.
//!
//! `fleet-hub init` adds a context for the new hub (its endpoints, CA and the
//! admin certificate it issued); fleetctl reads it. The file is found through
//! `--fleetconfig`, else `$FLEETCONFIG`, else `~/.fleet/config.yaml`.
//!
//! Like kubeconfig's `*-data` fields, a context may embed the PEM itself
//! (`caData`, `certificateData`, `keyData`) instead of naming files: that is
//! how `fleetctl user create --out FILE` hands a self-contained
//! configuration to a new operator. Embedded data wins over a path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The environment variable naming the file when `--fleetconfig` is not given.
pub const FLEETCONFIG: &str = "FLEETCONFIG";

/// The file's default location under the home directory.
pub const DEFAULT_RELATIVE_PATH: &str = ".fleet/config.yaml";

/// One hub fleetctl can talk to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    /// Context name.
    pub name: String,
    /// gRPC endpoints of the hub's nodes (`https://host:port`).
    pub endpoints: Vec<String>,
    /// The hub CA certificate (PEM file; unused when `ca_data` is set).
    #[serde(default, skip_serializing_if = "is_empty_path")]
    pub ca: PathBuf,
    /// The client certificate (PEM file; unused when `certificate_data` is set).
    #[serde(default, skip_serializing_if = "is_empty_path")]
    pub certificate: PathBuf,
    /// The client key (PEM file; unused when `key_data` is set).
    #[serde(default, skip_serializing_if = "is_empty_path")]
    pub key: PathBuf,
    /// The hub CA certificate, PEM, embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_data: Option<String>,
    /// The client certificate, PEM, embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_data: Option<String>,
    /// The client key, PEM, embedded (the file is then written 0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_data: Option<String>,
}

fn is_empty_path(path: &Path) -> bool {
    path.as_os_str().is_empty()
}

impl Context {
    /// The hub CA certificate PEM: embedded, else read from `ca`.
    pub fn ca_pem(&self) -> Result<String, ClientConfigError> {
        self.pem(self.ca_data.as_ref(), &self.ca, "ca")
    }

    /// The client certificate PEM: embedded, else read from `certificate`.
    pub fn certificate_pem(&self) -> Result<String, ClientConfigError> {
        self.pem(
            self.certificate_data.as_ref(),
            &self.certificate,
            "certificate",
        )
    }

    /// The client key PEM: embedded, else read from `key`.
    pub fn key_pem(&self) -> Result<String, ClientConfigError> {
        self.pem(self.key_data.as_ref(), &self.key, "key")
    }

    fn pem(
        &self,
        data: Option<&String>,
        path: &Path,
        field: &str,
    ) -> Result<String, ClientConfigError> {
        if let Some(data) = data {
            return Ok(data.clone());
        }
        if is_empty_path(path) {
            return Err(ClientConfigError::Missing {
                context: self.name.clone(),
                field: field.to_owned(),
            });
        }
        std::fs::read_to_string(path).map_err(|source| ClientConfigError::Io {
            path: path.to_owned(),
            source,
        })
    }
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
    /// A context names neither a file nor embedded data for a field.
    #[error("context '{context}' has neither {field} nor {field}Data")]
    Missing {
        /// The context.
        context: String,
        /// The field (`ca`, `certificate`, `key`).
        field: String,
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

    /// Writes the file as a new file readable by its owner only (0600 on
    /// Unix) — for a configuration with an embedded key. An existing file is
    /// replaced, so it does not keep a wider mode.
    pub fn save_private(&self, path: &Path) -> Result<(), ClientConfigError> {
        let io = |source| ClientConfigError::Io {
            path: path.to_owned(),
            source,
        };
        let text = serde_saphyr::to_string(self).map_err(|error| ClientConfigError::Invalid {
            path: path.to_owned(),
            message: error.to_string(),
        })?;
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io(error)),
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_is_kept_and_wins_over_paths() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.yaml");
        let mut config = ClientConfig::default();
        config.upsert(Context {
            name: "hub".into(),
            endpoints: vec!["https://127.0.0.1:7443".into()],
            ca_data: Some("CA PEM".into()),
            certificate_data: Some("CERT PEM".into()),
            key_data: Some("KEY PEM".into()),
            key: folder.path().join("missing.key"),
            ..Context::default()
        });
        config.save_private(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("caData") && !text.contains("ca: "), "{text}");
        let loaded = ClientConfig::load(&path).unwrap();
        let context = loaded.context(None).unwrap();
        assert_eq!(context.ca_pem().unwrap(), "CA PEM");
        assert_eq!(context.certificate_pem().unwrap(), "CERT PEM");
        assert_eq!(context.key_pem().unwrap(), "KEY PEM");
        let without = Context {
            name: "bare".into(),
            ..Context::default()
        };
        assert!(without.ca_pem().unwrap_err().to_string().contains("caData"));
    }
}
