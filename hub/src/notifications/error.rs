//! What can go wrong delivering a notification.

/// A delivery error. Never carries the target's URL (it is a secret).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target's URL is not an http(s) URL.
    #[error("the target URL is not a valid http:// or https:// URL: {0}")]
    InvalidUrl(String),
    /// The request could not be built.
    #[error("building the request: {0}")]
    Request(#[source] http::Error),
    /// Connecting or sending failed.
    #[error("sending the request: {0}")]
    Send(String),
    /// The receiver did not answer within the request timeout.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The receiver answered with a status other than 2xx.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    /// The TLS roots of the system could not be loaded.
    #[error("loading the system's TLS roots: {0}")]
    Roots(#[source] std::io::Error),
    /// The body could not be serialized.
    #[error("serializing the event: {0}")]
    Serialize(#[source] serde_json::Error),
}

/// A result with a delivery [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
