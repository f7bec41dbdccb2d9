//! Remote charts, fetched by fleet itself (never by Helm at render time):
//! HTTP Helm repositories (`index.yaml`, the entry's digest checked) and OCI
//! registries (`oci://`, the distribution API, the chart layer's digest
//! checked). Credentials come from the hub's settings (or fleetctl's),
//! never from Git. Archives are cached by (repository, chart, version,
//! digest); the first digest seen for a version is recorded, and a later
//! different one is refused: "chart podinfo 6.14.1 changed upstream". The
//! digests a revision's verdict recorded (the hub's replicated state) are
//! checked the same way on every node ([`ChartFetchSettings::recorded`]).
//! Within one render each repository index is read once ([`RenderFetches`]).

mod cache;
pub mod http_get;
mod http_repository;
mod oci;
mod render_fetches;

use std::path::PathBuf;
use std::time::Duration;

pub use http_get::HttpError;
pub use render_fetches::{ChartDigest, RenderFetches};

/// Default wall-clock limit of fetching one chart (index and archive): 60 s.
pub const DEFAULT_CHART_FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Default largest chart archive: 20 MiB.
pub const DEFAULT_MAX_CHART_BYTES: u64 = 20 * 1024 * 1024;
/// Default largest repository `index.yaml`: 64 MiB (big public indexes are tens of MB).
pub const DEFAULT_MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// How remote charts are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFetchSettings {
    /// Where archives are cached (the hub: `<dataDir>/charts`; fleetctl:
    /// its cache directory); `None`: a `fleet-charts` folder in the
    /// system's temporary directory.
    pub cache_directory: Option<PathBuf>,
    /// Wall-clock limit of fetching one chart, redirects included.
    pub timeout: Duration,
    /// Largest chart archive accepted.
    pub max_chart_bytes: u64,
    /// Largest `index.yaml` accepted.
    pub max_index_bytes: u64,
    /// Credentials per repository (from the hub's settings only).
    pub credentials: Vec<RepositoryCredential>,
    /// PEM CA certificates trusted for `https://` repositories and
    /// registries besides the system's roots (hub.yaml
    /// `render.chartCaFile`, fleetctl `--chart-ca-file`).
    pub ca_file: Option<PathBuf>,
    /// Digests recorded earlier for chart versions (by the hub: in the
    /// replicated verdicts of the revisions it keeps); a fetched chart
    /// version must still have its recorded digest.
    pub recorded: Vec<ChartDigest>,
}

impl Default for ChartFetchSettings {
    fn default() -> Self {
        Self {
            cache_directory: None,
            timeout: DEFAULT_CHART_FETCH_TIMEOUT,
            max_chart_bytes: DEFAULT_MAX_CHART_BYTES,
            max_index_bytes: DEFAULT_MAX_INDEX_BYTES,
            credentials: Vec::new(),
            ca_file: None,
            recorded: Vec::new(),
        }
    }
}

impl ChartFetchSettings {
    fn cache_directory(&self) -> PathBuf {
        self.cache_directory
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("fleet-charts"))
    }

    /// Refuses `digest` for `chart` `version` of `repository` if another
    /// one was recorded for it in the replicated state.
    fn check_recorded(
        &self,
        repository: &str,
        chart: &str,
        version: &str,
        digest: &str,
    ) -> Result<(), FetchError> {
        match self.recorded.iter().find(|recorded| {
            recorded.repository == repository
                && recorded.chart == chart
                && recorded.version == version
        }) {
            Some(recorded) if recorded.digest != digest => Err(FetchError::ChangedSinceRecorded {
                chart: chart.to_owned(),
                version: version.to_owned(),
                recorded: recorded.digest.clone(),
                now: digest.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// The credential of the longest configured prefix of `repository`,
    /// its password read from its file now.
    fn credential_for(
        &self,
        repository: &str,
    ) -> Result<Option<http_get::Authorization>, FetchError> {
        let Some(credential) = self
            .credentials
            .iter()
            .filter(|credential| {
                repository.starts_with(credential.repository.trim_end_matches('/'))
            })
            .max_by_key(|credential| credential.repository.len())
        else {
            return Ok(None);
        };
        let password = std::fs::read_to_string(&credential.password_file).map_err(|source| {
            FetchError::Credential {
                repository: credential.repository.clone(),
                path: credential.password_file.clone(),
                source,
            }
        })?;
        Ok(Some(http_get::Authorization::Basic {
            username: credential.username.clone(),
            password: password.trim_end_matches(['\r', '\n']).to_owned(),
        }))
    }
}

/// A user name and password file for repositories whose URL starts with
/// `repository` (the password is read when a chart is fetched, never kept
/// in configuration).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepositoryCredential {
    /// URL prefix (`https://charts.example.com`, `oci://registry.example.com/charts`).
    pub repository: String,
    /// User name.
    pub username: String,
    /// File holding the password or token.
    pub password_file: PathBuf,
}

/// A fetched chart archive in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedChart {
    /// The `.tgz` on disk.
    pub archive: PathBuf,
    /// `sha256:<hex>` of the archive.
    pub digest: String,
}

/// Fetching a chart failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A request failed (unreachable, refused, timed out, too large, HTTP error).
    #[error("fetching chart {chart} {version}")]
    Http {
        /// The chart.
        chart: String,
        /// Its version.
        version: String,
        /// What failed.
        #[source]
        source: HttpError,
    },
    /// The repository has no such chart version.
    #[error("chart {chart} version {version} is not in {repository} (versions there: {available})")]
    VersionNotFound {
        /// The chart.
        chart: String,
        /// The version asked for.
        version: String,
        /// The repository.
        repository: String,
        /// The versions it has (or "none").
        available: String,
    },
    /// The index, manifest or reference could not be understood.
    #[error("chart {chart} {version}: {message}")]
    Invalid {
        /// The chart.
        chart: String,
        /// Its version.
        version: String,
        /// What is wrong.
        message: String,
    },
    /// The archive's bytes do not have the digest the index or manifest names.
    #[error(
        "chart {chart} {version}: digest mismatch: {url} has {actual}, expected {expected} (refused)"
    )]
    DigestMismatch {
        /// The chart.
        chart: String,
        /// Its version.
        version: String,
        /// Where it was downloaded.
        url: String,
        /// The digest announced.
        expected: String,
        /// The digest of what was downloaded.
        actual: String,
    },
    /// The same version now has another digest than first seen.
    #[error(
        "chart {chart} {version} changed upstream: it was {recorded}, it is now {now} (refused; publish a new version)"
    )]
    ChangedUpstream {
        /// The chart.
        chart: String,
        /// Its version.
        version: String,
        /// The digest recorded first.
        recorded: String,
        /// The digest the repository now announces.
        now: String,
    },
    /// The version now has another digest than the one recorded in the
    /// hub's replicated state (when a revision using it was first rendered).
    #[error(
        "chart {chart} {version} changed upstream: recorded {recorded}, got {now} (the digest in the revision's replicated verdict; refused, publish a new version)"
    )]
    ChangedSinceRecorded {
        /// The chart.
        chart: String,
        /// Its version.
        version: String,
        /// The digest the replicated state recorded.
        recorded: String,
        /// The digest the repository now announces.
        now: String,
    },
    /// The password file of a repository credential could not be read.
    #[error("reading the password file {path} for {repository}: {source}")]
    Credential {
        /// The credential's repository prefix.
        repository: String,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The cache could not be read or written.
    #[error("chart cache {path}: {source}")]
    Cache {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Fetches `chart` at exactly `version` from `repository` (HTTP or
/// `oci://`) for the render `fetches` belongs to, and notes its digest there.
pub fn fetch(
    repository: &str,
    chart: &str,
    version: &str,
    settings: &ChartFetchSettings,
    fetches: &RenderFetches,
) -> Result<FetchedChart, FetchError> {
    let fetched = if repository.starts_with("oci://") {
        oci::fetch(repository, chart, version, settings)
    } else {
        http_repository::fetch(repository, chart, version, settings, fetches)
    }?;
    fetches.record(repository, chart, version, &fetched.digest);
    Ok(fetched)
}
