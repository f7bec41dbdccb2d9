//! The hub's listening ports and the limits every connection to them is
//! held to (`server:` in hub.yaml): a connection limit per port, a TLS
//! handshake timeout and HTTP/2 keepalive on the gRPC port, a header-read
//! timeout on the HTTP port. Nobody who merely reaches a port can hold a
//! connection open without speaking, or open connections without bound.

mod counted;
mod http_server;

pub use counted::{CountedConnection, counted_incoming};
pub use http_server::serve_http;
