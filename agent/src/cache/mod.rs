//! The last desired state the hub sent, kept in the state directory (as the
//! protobuf message itself), so that an agent started while the hub is
//! unreachable still applies and self-heals.

use std::path::{Path, PathBuf};

use fleet_proto::DesiredState;
use prost::Message;

/// File name in the state directory.
const CACHE_FILE: &str = "desired-state.pb";

/// Why the cache could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Reading or writing the file failed.
    #[error("desired-state cache {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a desired state.
    #[error("desired-state cache {path} is corrupt: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: prost::DecodeError,
    },
}

/// Result of this module.
pub type Result<T, E = CacheError> = std::result::Result<T, E>;

/// The desired-state cache of one agent.
#[derive(Debug, Clone)]
pub struct DesiredCache {
    path: PathBuf,
}

impl DesiredCache {
    /// The cache in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join(CACHE_FILE),
        }
    }

    /// The cached desired state, if any.
    pub fn load(&self) -> Result<Option<DesiredState>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CacheError::File {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        DesiredState::decode(bytes.as_slice())
            .map(Some)
            .map_err(|source| CacheError::Corrupt {
                path: self.path.clone(),
                source,
            })
    }

    /// Replaces the cached state (write to a temporary file, then rename, so
    /// a crash leaves the old or the new state, never half of one).
    pub fn store(&self, desired: &DesiredState) -> Result<()> {
        let error = |source| CacheError::File {
            path: self.path.clone(),
            source,
        };
        let temporary = self.path.with_extension("tmp");
        std::fs::write(&temporary, desired.encode_to_vec()).map_err(error)?;
        std::fs::rename(&temporary, &self.path).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_empty_at_first() {
        let directory = tempfile::tempdir().unwrap();
        let cache = DesiredCache::new(directory.path());
        assert!(cache.load().unwrap().is_none());
        let desired = DesiredState {
            cluster: "edge-1".into(),
            revision: "abc".into(),
            digest: "sha256:1".into(),
            apps: Vec::new(),
        };
        cache.store(&desired).unwrap();
        assert_eq!(cache.load().unwrap(), Some(desired));
    }
}
