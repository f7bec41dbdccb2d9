//! The hub's HTTP port: `/healthz`, `/readyz`, `/metrics` (Prometheus text)
//! and the Git webhook `POST /webhook/git`.

pub mod metrics;
mod routes;

pub use routes::{HttpState, router};
