//! A minimal HTTP/1.1 client connection for the benchmark (plain or TLS
//! trusting the simulator's CA), so the simulator crate needs no Kubernetes
//! client library.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::RunningSimulator;

/// Benchmark client failures.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// Connecting or the TLS handshake failed.
    #[error("could not connect to the simulator: {0}")]
    Connect(#[source] std::io::Error),
    /// The CA certificate could not be used.
    #[error("could not trust the simulator's CA: {0}")]
    Trust(String),
    /// The HTTP exchange failed.
    #[error("HTTP request failed: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("could not build the request: {0}")]
    Request(#[from] http::Error),
    /// The server answered with an error status.
    #[error("the simulator answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Response body.
        body: String,
    },
}

/// One keep-alive connection with the simulator's bearer token.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    token: String,
    host: String,
}

impl Connection {
    /// Opens a connection to `simulator`.
    pub async fn open(simulator: &RunningSimulator) -> Result<Self, ConnectionError> {
        let stream = TcpStream::connect(simulator.address())
            .await
            .map_err(ConnectionError::Connect)?;
        stream.set_nodelay(true).map_err(ConnectionError::Connect)?;
        let sender = match simulator.ca_certificate_pem() {
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in rustls_pemfile::certs(&mut pem.as_bytes()) {
                    let certificate =
                        certificate.map_err(|error| ConnectionError::Trust(error.to_string()))?;
                    roots
                        .add(certificate)
                        .map_err(|error| ConnectionError::Trust(error.to_string()))?;
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|error| ConnectionError::Trust(error.to_string()))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
                let server_name = rustls::pki_types::ServerName::try_from("127.0.0.1")
                    .map_err(|error| ConnectionError::Trust(error.to_string()))?;
                let tls = connector
                    .connect(server_name, stream)
                    .await
                    .map_err(ConnectionError::Connect)?;
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
                tokio::spawn(connection);
                sender
            }
            None => {
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(connection);
                sender
            }
        };
        Ok(Self {
            sender,
            token: simulator.token().to_string(),
            host: simulator.address().to_string(),
        })
    }

    /// Sends a request and returns the response with its body still streaming.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Response<Incoming>, ConnectionError> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.host)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ACCEPT, "application/json")
            .body(Full::new(body))?;
        self.sender.ready().await?;
        Ok(self.sender.send_request(request).await?)
    }

    /// Sends a request and reads the whole body; fails on non-2xx answers.
    pub async fn call(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Bytes, ConnectionError> {
        let response = self.send(method, path, content_type, body).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        if !(200..300).contains(&status) {
            return Err(ConnectionError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(body)
    }
}
