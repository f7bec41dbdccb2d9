//! # fleet-client
//!
//! What a fleet client needs besides the wire types: fleetctl's
//! configuration file ([`ClientConfig`], kubeconfig-style contexts naming a
//! hub's endpoints, its CA and a client certificate). `fleet-hub init` and
//! `init --join` write it; fleetctl reads it. It is a crate of its own so that
//! fleetctl and the hub share the file format without fleetctl depending on
//! the hub for it; it depends on no other fleet crate.

mod config;

pub use config::{ClientConfig, ClientConfigError, Context, DEFAULT_RELATIVE_PATH, FLEETCONFIG};
