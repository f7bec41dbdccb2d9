//! Charts from an OCI registry (`oci://host[:port]/path`): the manifest of
//! `<path>/<chart>:<version>` names the chart layer
//! (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`) by digest; the
//! blob must have that digest. Registries on loopback are spoken to over
//! plain HTTP (like `helm --plain-http`), every other one over HTTPS.
//! Bearer-token registries are asked for a pull token with the configured
//! credentials (or anonymously).

use serde_json::Value;

use super::cache::{CacheEntry, sha256};
use super::http_get::{Authorization, Get, HttpError};
use super::{ChartFetchSettings, FetchError, FetchedChart};

/// The media type of a Helm chart layer.
const CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Manifest types asked for.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json";

/// Fetches `chart` `version` from the registry repository `repository`.
pub fn fetch(
    repository: &str,
    chart: &str,
    version: &str,
    settings: &ChartFetchSettings,
) -> Result<FetchedChart, FetchError> {
    let invalid = |message: String| FetchError::Invalid {
        chart: chart.to_owned(),
        version: version.to_owned(),
        message,
    };
    let http = |source| FetchError::Http {
        chart: chart.to_owned(),
        version: version.to_owned(),
        source,
    };
    let rest = repository
        .trim_start_matches("oci://")
        .trim_end_matches('/');
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        return Err(invalid(format!("'{repository}' names no registry host")));
    }
    let loopback = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == *name || host.starts_with(&format!("{name}:")));
    let base = format!("{}://{host}", if loopback { "http" } else { "https" });
    let name = if path.is_empty() {
        chart.to_owned()
    } else {
        format!("{path}/{chart}")
    };
    let mut session = Session {
        settings,
        authorization: None,
        credential: settings.credential_for(repository)?,
    };
    let manifest_url = format!("{base}/v2/{name}/manifests/{version}");
    let manifest = match session.get(
        &manifest_url,
        Some(MANIFEST_TYPES),
        settings.max_index_bytes,
    ) {
        Ok(bytes) => bytes,
        Err(HttpError::Status { status: 404, .. }) => {
            let tags_url = format!("{base}/v2/{name}/tags/list");
            let available = session
                .get(&tags_url, None, settings.max_index_bytes)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                .and_then(|tags| tags.get("tags").cloned())
                .and_then(|tags| serde_json::from_value::<Vec<String>>(tags).ok())
                .filter(|tags| !tags.is_empty())
                .map_or_else(|| "none".to_owned(), |tags| tags.join(", "));
            return Err(FetchError::VersionNotFound {
                chart: chart.to_owned(),
                version: version.to_owned(),
                repository: repository.to_owned(),
                available,
            });
        }
        Err(error) => return Err(http(error)),
    };
    let manifest: Value = serde_json::from_slice(&manifest)
        .map_err(|error| invalid(format!("{manifest_url} is not a manifest: {error}")))?;
    let layer = manifest
        .get("layers")
        .and_then(Value::as_array)
        .and_then(|layers| {
            layers
                .iter()
                .find(|layer| layer.get("mediaType").and_then(Value::as_str) == Some(CHART_LAYER))
        })
        .ok_or_else(|| {
            invalid(format!(
                "{manifest_url} has no Helm chart layer ({CHART_LAYER})"
            ))
        })?;
    let announced = layer
        .get("digest")
        .and_then(Value::as_str)
        .filter(|digest| digest.starts_with("sha256:"))
        .ok_or_else(|| {
            invalid(format!(
                "the chart layer in {manifest_url} has no sha256 digest"
            ))
        })?
        .to_owned();
    settings.check_recorded(repository, chart, version, &announced)?;
    let cache = CacheEntry::new(settings, repository, chart, version);
    cache.check_recorded(chart, version, &announced)?;
    if let Some(found) = cache.cached(&announced) {
        return Ok(found);
    }
    let blob_url = format!("{base}/v2/{name}/blobs/{announced}");
    let bytes = session
        .get(&blob_url, None, settings.max_chart_bytes)
        .map_err(http)?;
    let actual = sha256(&bytes);
    if actual != announced {
        return Err(FetchError::DigestMismatch {
            chart: chart.to_owned(),
            version: version.to_owned(),
            url: blob_url,
            expected: announced,
            actual,
        });
    }
    cache.store(&announced, &bytes)
}

/// Requests to one registry, with the token once one was obtained.
struct Session<'a> {
    settings: &'a ChartFetchSettings,
    authorization: Option<Authorization>,
    credential: Option<Authorization>,
}

impl Session<'_> {
    fn get(&mut self, url: &str, accept: Option<&str>, limit: u64) -> Result<Vec<u8>, HttpError> {
        let request = |authorization: Option<Authorization>| Get {
            url,
            authorization,
            headers: accept
                .map(|types| vec![("Accept", types.to_owned())])
                .unwrap_or_default(),
            timeout: self.settings.timeout,
            limit,
            ca_file: self.settings.ca_file.as_deref(),
        };
        match request(self.authorization.clone()).send() {
            Err(HttpError::Status {
                status: 401,
                authenticate: Some(challenge),
                ..
            }) if self.authorization.is_none() => {
                let authorization = if challenge.to_ascii_lowercase().starts_with("bearer") {
                    Authorization::Bearer(self.token(&challenge)?)
                } else {
                    self.credential.clone().ok_or(HttpError::Status {
                        url: url.to_owned(),
                        status: 401,
                        authenticate: Some(challenge),
                    })?
                };
                self.authorization = Some(authorization.clone());
                request(Some(authorization)).send()
            }
            other => other,
        }
    }

    /// A pull token from the realm of a `Bearer realm=…,service=…,scope=…` challenge.
    fn token(&self, challenge: &str) -> Result<String, HttpError> {
        let field = |name: &str| {
            challenge
                .split(',')
                .filter_map(|part| part.trim().trim_start_matches("Bearer ").split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        };
        let realm = field("realm").ok_or_else(|| HttpError::Url(challenge.to_owned()))?;
        let mut url = realm.clone();
        let mut separator = if realm.contains('?') { '&' } else { '?' };
        for name in ["service", "scope"] {
            if let Some(value) = field(name) {
                url.push_str(&format!("{separator}{name}={value}"));
                separator = '&';
            }
        }
        let body = Get {
            url: &url,
            authorization: self.credential.clone(),
            headers: Vec::new(),
            timeout: self.settings.timeout,
            limit: 1024 * 1024,
            ca_file: self.settings.ca_file.as_deref(),
        }
        .send()?;
        serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|answer| {
                answer
                    .get("token")
                    .or_else(|| answer.get("access_token"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .ok_or_else(|| HttpError::Transport {
                url,
                message: "the token answer has no token".to_owned(),
            })
    }
}
