//! The chart cache: archives by (repository, chart, version, digest), and
//! the first digest seen per (repository, chart, version).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{ChartFetchSettings, FetchError, FetchedChart};

/// One chart version's place in the cache.
pub struct CacheEntry {
    folder: PathBuf,
    chart: String,
    version: String,
}

impl CacheEntry {
    /// The entry of `chart` `version` from `repository`.
    pub fn new(
        settings: &ChartFetchSettings,
        repository: &str,
        chart: &str,
        version: &str,
    ) -> Self {
        let repository_key = hex::encode(Sha256::digest(repository.as_bytes()));
        Self {
            folder: settings.cache_directory().join(&repository_key[..32]),
            chart: sanitize(chart),
            version: sanitize(version),
        }
    }

    fn record(&self) -> PathBuf {
        self.folder
            .join(format!("{}-{}.digest", self.chart, self.version))
    }

    fn archive(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        let short = hex.get(..16).unwrap_or(hex);
        self.folder
            .join(format!("{}-{}-{short}.tgz", self.chart, self.version))
    }

    /// Refuses `digest` if another one was recorded first for this version.
    pub fn check_recorded(
        &self,
        chart: &str,
        version: &str,
        digest: &str,
    ) -> Result<(), FetchError> {
        match std::fs::read_to_string(self.record()) {
            Ok(recorded) if recorded.trim() != digest => Err(FetchError::ChangedUpstream {
                chart: chart.to_owned(),
                version: version.to_owned(),
                recorded: recorded.trim().to_owned(),
                now: digest.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// The cached archive with `digest`, if it is there and intact.
    pub fn cached(&self, digest: &str) -> Option<FetchedChart> {
        let archive = self.archive(digest);
        let bytes = std::fs::read(&archive).ok()?;
        (sha256(&bytes) == digest).then(|| FetchedChart {
            archive,
            digest: digest.to_owned(),
        })
    }

    /// Stores `bytes` (already checked to have `digest`) and records the digest.
    pub fn store(&self, digest: &str, bytes: &[u8]) -> Result<FetchedChart, FetchError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| FetchError::Cache { path, source }
        };
        std::fs::create_dir_all(&self.folder).map_err(io(&self.folder))?;
        let archive = self.archive(digest);
        let partial = archive.with_extension(format!("partial-{}", std::process::id()));
        std::fs::write(&partial, bytes).map_err(io(&partial))?;
        std::fs::rename(&partial, &archive).map_err(io(&archive))?;
        if !self.record().exists() {
            std::fs::write(self.record(), digest).map_err(io(&self.record()))?;
        }
        Ok(FetchedChart {
            archive,
            digest: digest.to_owned(),
        })
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A name safe as one file name component.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || "._-+".contains(character) {
                character
            } else {
                '_'
            }
        })
        .collect()
}
