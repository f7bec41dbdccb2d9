//! What one render of a revision fetched: each repository's `index.yaml`,
//! read at most once and shared by every app and environment of the render,
//! and the digest of every remote chart used — what the hub records in the
//! revision's replicated verdict so every node renders the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::Value;

use super::http_get::HttpError;

/// A remote chart version and the sha256 of the archive a render used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ChartDigest {
    /// The repository URL (`https://…` or `oci://…`), as app.yaml names it.
    pub repository: String,
    /// The chart name.
    pub chart: String,
    /// The exact version.
    pub version: String,
    /// `sha256:<hex>` of the archive.
    pub digest: String,
}

/// Why a repository index could not be read (kept so every app asking for
/// the same index gets the same answer without asking the server again).
#[derive(Debug, Clone)]
pub enum IndexFailure {
    /// The request failed.
    Http(HttpError),
    /// The answer is not a repository index.
    Invalid(String),
}

type SharedIndex = Arc<OnceLock<Result<Arc<Value>, IndexFailure>>>;

/// The fetches of one render (one renderer): indexes shared, charts used
/// recorded.
#[derive(Default)]
pub struct RenderFetches {
    indexes: Mutex<HashMap<String, SharedIndex>>,
    charts: Mutex<BTreeMap<(String, String, String), String>>,
}

impl RenderFetches {
    /// The parsed index at `url`, read with `read` only by the first app
    /// of this render that needs it.
    pub fn index(
        &self,
        url: &str,
        read: impl FnOnce() -> Result<Value, IndexFailure>,
    ) -> Result<Arc<Value>, IndexFailure> {
        let cell = self
            .indexes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(url.to_owned())
            .or_default()
            .clone();
        cell.get_or_init(|| read().map(Arc::new)).clone()
    }

    /// Notes that this render used `chart` `version` from `repository` with `digest`.
    pub fn record(&self, repository: &str, chart: &str, version: &str, digest: &str) {
        self.charts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (repository.to_owned(), chart.to_owned(), version.to_owned()),
                digest.to_owned(),
            );
    }

    /// Every remote chart this render used, sorted.
    pub fn charts(&self) -> Vec<ChartDigest> {
        self.charts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|((repository, chart, version), digest)| ChartDigest {
                repository: repository.clone(),
                chart: chart.clone(),
                version: version.clone(),
                digest: digest.clone(),
            })
            .collect()
    }
}
