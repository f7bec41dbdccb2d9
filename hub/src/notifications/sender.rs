//! The HTTP(S) client that posts events: hyper-util's client over rustls
//! with the system's roots, one request timeout covering connect and answer.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tracing::warn;

use super::error::{Error, Result};
use super::payload::redacted_url;

/// Posts notification requests.
#[derive(Clone)]
pub struct Sender {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl Sender {
    /// A sender whose requests each end after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_native_roots() {
            Ok(builder) => builder,
            Err(error) => {
                // Plain http:// targets still work; https:// ones fail with
                // an error visible in `fleetctl notifications list`.
                warn!(error = %Error::Roots(error), "notifications: no system TLS roots; https:// targets will fail");
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
                    rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth(),
                )
            }
        };
        let connector = builder.https_or_http().enable_http1().build();
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// POSTs `body` to `url` with `headers`; a 2xx answer is success.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<()> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| Error::InvalidUrl(redacted_url(url)))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(Error::InvalidUrl(redacted_url(url)));
        }
        let mut request = http::Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "fleet-hub");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(Error::Request)?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| Error::Timeout(self.timeout))?
            .map_err(|error| Error::Send(fleet_core::diagnostic::error_chain(&error)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(Error::Status(status.as_u16()))
        }
    }
}
