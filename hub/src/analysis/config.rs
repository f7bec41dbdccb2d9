//! `analysis:` in hub.yaml: where metric gates query Prometheus, and the
//! limits on those queries. The endpoint is a hub setting, not Git: the
//! fleet repository names queries, the operator names the server.

use std::path::{Path, PathBuf};

use fleet_core::model::FleetDuration;
use serde::{Deserialize, Serialize};

/// `analysis:` in hub.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnalysisConfig {
    /// The Prometheus server gates query (none: gates stay "not evaluated"
    /// and their waves fail at the progress deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusConfig>,
}

/// `analysis.prometheus` in hub.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Base URL (`http://…` or `https://…`), e.g. `http://prometheus:9090`.
    pub url: String,
    /// File holding a bearer token sent with every query (read per query,
    /// so a rotated token is picked up; never logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<PathBuf>,
    /// PEM file of the CA that signed an `https` server's certificate
    /// (default: the system's trust store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// How long one query may take (connect, send, answer) before the
    /// gate's evaluation is inconclusive.
    #[serde(default = "default_query_timeout")]
    pub query_timeout: FleetDuration,
    /// Largest answer read from Prometheus (bytes); a larger one is
    /// inconclusive.
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: usize,
}

fn default_query_timeout() -> FleetDuration {
    FleetDuration(std::time::Duration::from_secs(10))
}

fn default_max_response_bytes() -> usize {
    1024 * 1024
}

impl PrometheusConfig {
    /// A server at `url` with the default limits.
    pub fn at(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            bearer_token_file: None,
            ca_file: None,
            query_timeout: default_query_timeout(),
            max_response_bytes: default_max_response_bytes(),
        }
    }
}

impl AnalysisConfig {
    /// Whether nothing is configured (no Prometheus).
    pub fn is_unset(&self) -> bool {
        self.prometheus.is_none()
    }

    /// Resolves relative file paths against `base` (hub.yaml's folder).
    pub fn resolve(&mut self, base: &Path) {
        if let Some(prometheus) = &mut self.prometheus {
            for path in [&mut prometheus.bearer_token_file, &mut prometheus.ca_file]
                .into_iter()
                .flatten()
            {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_settings_have_safe_defaults_and_resolve_their_files() {
        let unset: AnalysisConfig = serde_saphyr::from_str("{}").unwrap();
        assert!(unset.is_unset());
        let text = "prometheus:\n  url: https://prometheus:9090\n  bearerTokenFile: token\n  caFile: /etc/ca.pem\n";
        let mut config: AnalysisConfig = serde_saphyr::from_str(text).unwrap();
        config.resolve(Path::new("/hub"));
        let prometheus = config.prometheus.unwrap();
        assert_eq!(prometheus.query_timeout.0.as_secs(), 10);
        assert_eq!(prometheus.max_response_bytes, 1024 * 1024);
        assert_eq!(
            prometheus.bearer_token_file.as_deref(),
            Some(Path::new("/hub/token"))
        );
        assert_eq!(
            prometheus.ca_file.as_deref(),
            Some(Path::new("/etc/ca.pem"))
        );
        assert!(serde_saphyr::from_str::<AnalysisConfig>("prometheus:\n  uri: x\n").is_err());
    }
}
