//! A small Prometheus HTTP API client: one instant query
//! (`GET /api/v1/query`), one number back. Over hyper with rustls (ring),
//! bounded by the configured timeout and response size.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use super::config::PrometheusConfig;

/// Why a query gave no number (every one makes a gate's evaluation
/// inconclusive).
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// The CA file could not be read or holds no certificate.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The bearer token file could not be read.
    #[error("cannot read bearer token file {path}: {source}")]
    TokenFile {
        /// The file.
        path: String,
        /// The read error.
        #[source]
        source: std::io::Error,
    },
    /// The configured URL is not usable.
    #[error("invalid Prometheus URL '{url}': {reason}")]
    Url {
        /// The URL as configured.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Prometheus did not answer in time.
    #[error("Prometheus at {url} did not answer within {seconds}s")]
    Timeout {
        /// The server.
        url: String,
        /// The limit.
        seconds: u64,
    },
    /// The request failed (connection refused, TLS, …).
    #[error("Prometheus at {url} unreachable: {reason}")]
    Unreachable {
        /// The server.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The answer was too large or not the expected JSON.
    #[error("Prometheus answered badly: {0}")]
    Answer(String),
    /// The query returned no series.
    #[error("the query returned no data")]
    Empty,
}

/// `Result` of this module.
pub type Result<T, E = PrometheusError> = std::result::Result<T, E>;

/// Queries one Prometheus server.
#[derive(Clone)]
pub struct PrometheusClient {
    config: PrometheusConfig,
    http: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl PrometheusClient {
    /// A client for `config` (reads its CA file now).
    pub fn new(config: PrometheusConfig) -> Result<Self> {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match &config.ca_file {
            Some(path) => builder.with_tls_config(tls_with_ca(path)?),
            None => builder
                .with_native_roots()
                .map_err(|error| PrometheusError::CaFile {
                    path: "(system trust store)".to_owned(),
                    reason: error.to_string(),
                })?,
        };
        let connector = builder.https_or_http().enable_http1().build();
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { config, http })
    }

    /// Runs the instant query `promql`; its single value.
    pub async fn query(&self, promql: &str) -> Result<f64> {
        let base = self.config.url.trim_end_matches('/');
        let url = format!("{base}/api/v1/query?query={}", percent_encode(promql));
        let uri: hyper::Uri =
            url.parse()
                .map_err(|error: hyper::http::uri::InvalidUri| PrometheusError::Url {
                    url: self.config.url.clone(),
                    reason: error.to_string(),
                })?;
        let mut request = hyper::Request::get(uri);
        if let Some(path) = &self.config.bearer_token_file {
            let token =
                std::fs::read_to_string(path).map_err(|source| PrometheusError::TokenFile {
                    path: path.display().to_string(),
                    source,
                })?;
            request = request.header("authorization", format!("Bearer {}", token.trim()));
        }
        let request = request
            .body(Empty::new())
            .map_err(|error| PrometheusError::Url {
                url: self.config.url.clone(),
                reason: error.to_string(),
            })?;
        let timeout = self.config.query_timeout.0;
        let limit = self.config.max_response_bytes;
        let exchange =
            async {
                let response = self.http.request(request).await.map_err(|error| {
                    PrometheusError::Unreachable {
                        url: self.config.url.clone(),
                        reason: error_chain(&error),
                    }
                })?;
                let status = response.status();
                let body = Limited::new(response.into_body(), limit)
                    .collect()
                    .await
                    .map_err(|error| {
                        PrometheusError::Answer(format!(
                            "reading the answer failed (limit {limit} bytes): {error}"
                        ))
                    })?
                    .to_bytes();
                Ok::<_, PrometheusError>((status, body))
            };
        let (status, body) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| PrometheusError::Timeout {
                url: self.config.url.clone(),
                seconds: timeout.as_secs(),
            })??;
        parse_answer(status.as_u16(), &body)
    }
}

fn tls_with_ca(path: &std::path::Path) -> Result<rustls::ClientConfig> {
    let failed = |reason: String| PrometheusError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|error| failed(error.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pemfile::certs(&mut pem.as_slice()) {
        let certificate = certificate.map_err(|error| failed(error.to_string()))?;
        roots
            .add(certificate)
            .map_err(|error| failed(error.to_string()))?;
    }
    if roots.is_empty() {
        return Err(failed("no PEM certificate in it".to_owned()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| failed(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Percent-encodes `text` for a URL query value (unreserved characters stay).
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum AnswerData {
    Vector(Vec<Sample>),
    Scalar((f64, String)),
    Matrix(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct Sample {
    value: (f64, String),
}

/// The one number in a `/api/v1/query` answer.
fn parse_answer(status: u16, body: &[u8]) -> Result<f64> {
    let answer: Answer = serde_json::from_slice(body).map_err(|error| {
        PrometheusError::Answer(format!("HTTP {status}, not the query API's JSON: {error}"))
    })?;
    if answer.status != "success" {
        return Err(PrometheusError::Answer(format!(
            "HTTP {status}: {}",
            answer.error.unwrap_or(answer.status)
        )));
    }
    let text = match answer.data {
        Some(AnswerData::Scalar((_, value))) => value,
        Some(AnswerData::Vector(samples)) => match samples.as_slice() {
            [] => return Err(PrometheusError::Empty),
            [sample] => sample.value.1.clone(),
            more => {
                return Err(PrometheusError::Answer(format!(
                    "the query returned {} series; a gate needs one (wrap it in max() or sum())",
                    more.len()
                )));
            }
        },
        Some(AnswerData::Matrix(_) | AnswerData::String(_)) | None => {
            return Err(PrometheusError::Answer(
                "the query must return an instant vector or a scalar".to_owned(),
            ));
        }
    };
    text.parse::<f64>()
        .map_err(|_| PrometheusError::Answer(format!("'{text}' is not a number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_one_number_or_refused() {
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"0.25"]}]}}"#;
        assert_eq!(parse_answer(200, vector).unwrap(), 0.25);
        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"3"]}}"#;
        assert_eq!(parse_answer(200, scalar).unwrap(), 3.0);
        let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(matches!(
            parse_answer(200, empty),
            Err(PrometheusError::Empty)
        ));
        let two = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]},{"metric":{},"value":[1,"2"]}]}}"#;
        assert!(
            parse_answer(200, two)
                .unwrap_err()
                .to_string()
                .contains("2 series")
        );
        let bad = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        assert!(
            parse_answer(400, bad)
                .unwrap_err()
                .to_string()
                .contains("parse error")
        );
        assert!(parse_answer(200, b"<html>").is_err());
        assert_eq!(
            percent_encode("a{b=~\"x|y\"} 1"),
            "a%7Bb%3D~%22x%7Cy%22%7D%201"
        );
    }
}
