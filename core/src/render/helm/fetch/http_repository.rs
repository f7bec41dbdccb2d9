//! Charts from an HTTP Helm repository: `index.yaml` names each version's
//! archive URL and sha256 digest; the archive must have that digest.

use serde_json::Value;

use super::cache::{CacheEntry, sha256};
use super::http_get::{Authorization, Get, join_url};
use super::render_fetches::IndexFailure;
use super::{ChartFetchSettings, FetchError, FetchedChart, RenderFetches};

/// Fetches `chart` `version` from the repository at `repository`.
pub fn fetch(
    repository: &str,
    chart: &str,
    version: &str,
    settings: &ChartFetchSettings,
    fetches: &RenderFetches,
) -> Result<FetchedChart, FetchError> {
    let http = |source| FetchError::Http {
        chart: chart.to_owned(),
        version: version.to_owned(),
        source,
    };
    let invalid = |message: String| FetchError::Invalid {
        chart: chart.to_owned(),
        version: version.to_owned(),
        message,
    };
    let index_url = format!("{}/index.yaml", repository.trim_end_matches('/'));
    let authorization = settings.credential_for(repository)?;
    let document = fetches
        .index(&index_url, || {
            read_index(&index_url, authorization.clone(), settings)
        })
        .map_err(|failure| match failure {
            IndexFailure::Http(source) => http(source),
            IndexFailure::Invalid(message) => invalid(message),
        })?;
    let versions = document
        .pointer(&format!(
            "/entries/{}",
            chart.replace('~', "~0").replace('/', "~1")
        ))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let version_of = |entry: &Value| match entry.get("version") {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let Some(entry) = versions.iter().find(|entry| version_of(entry) == version) else {
        let mut available: Vec<String> = versions.iter().map(version_of).collect();
        available.truncate(20);
        return Err(FetchError::VersionNotFound {
            chart: chart.to_owned(),
            version: version.to_owned(),
            repository: repository.to_owned(),
            available: if available.is_empty() {
                "none".to_owned()
            } else {
                available.join(", ")
            },
        });
    };
    let announced = entry
        .get("digest")
        .and_then(Value::as_str)
        .map(|digest| format!("sha256:{}", digest.trim_start_matches("sha256:")))
        .ok_or_else(|| invalid(format!("the entry in {index_url} has no digest (refused)")))?;
    let url = entry
        .pointer("/urls/0")
        .and_then(Value::as_str)
        .map(|reference| join_url(&index_url, reference))
        .ok_or_else(|| invalid(format!("the entry in {index_url} has no urls")))?;
    settings.check_recorded(repository, chart, version, &announced)?;
    let cache = CacheEntry::new(settings, repository, chart, version);
    cache.check_recorded(chart, version, &announced)?;
    if let Some(found) = cache.cached(&announced) {
        return Ok(found);
    }
    // Credentials go only to the repository's own host.
    let same_origin = url.starts_with(repository.trim_end_matches('/'));
    let bytes = Get {
        url: &url,
        authorization: if same_origin { authorization } else { None },
        headers: Vec::new(),
        timeout: settings.timeout,
        limit: settings.max_chart_bytes,
        ca_file: settings.ca_file.as_deref(),
    }
    .send()
    .map_err(http)?;
    let actual = sha256(&bytes);
    if actual != announced {
        return Err(FetchError::DigestMismatch {
            chart: chart.to_owned(),
            version: version.to_owned(),
            url,
            expected: announced,
            actual,
        });
    }
    cache.store(&announced, &bytes)
}

/// Downloads and parses the repository index at `index_url`.
fn read_index(
    index_url: &str,
    authorization: Option<Authorization>,
    settings: &ChartFetchSettings,
) -> Result<Value, IndexFailure> {
    let index = Get {
        url: index_url,
        authorization,
        headers: Vec::new(),
        timeout: settings.timeout,
        limit: settings.max_index_bytes,
        ca_file: settings.ca_file.as_deref(),
    }
    .send()
    .map_err(IndexFailure::Http)?;
    let text = String::from_utf8(index)
        .map_err(|_| IndexFailure::Invalid(format!("{index_url} is not text")))?;
    crate::yaml::parse_single(index_url, &text)
        .map(|document| document.value)
        .map_err(|error| {
            IndexFailure::Invalid(format!(
                "{index_url} is not a repository index: {}",
                error.message
            ))
        })
}
