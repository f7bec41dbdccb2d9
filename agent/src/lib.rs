//! # fleet-agent
//!
//! The pull-only agent that runs in every cluster (DESIGN §5). It enrolls
//! once with a bootstrap token ([`enroll`]), renews its certificate before
//! it expires ([`renewal`]), keeps one outbound mTLS session
//! with the hub ([`connection`]; hub → agent in [`inbound`], agent → hub in
//! [`outbound`]), and reconciles its cluster ([`reconcile`]): server-side
//! apply with dynamic discovery ([`apply`]), an inventory for pruning
//! ([`inventory`]), health per kind ([`health`]), watches that catch drift
//! and repair it ([`drift`]), and a desired-state cache that keeps it working
//! while the hub is unreachable ([`cache`]). SOPS-encrypted objects arrive
//! as ciphertext and are decrypted here only, with age identities from
//! [`sops_keys`]. It talks to its cluster only
//! through the `kube` crate, so it runs the same against a real cluster and
//! against `fleet-sim`.
//!
//! `docs/agent.md` describes the decisions taken here.

pub mod apply;
pub mod cache;
pub mod cli;
pub mod config;
pub mod connection;
pub mod drift;
pub mod enroll;
pub mod env;
pub mod health;
pub mod http;
pub mod hub_call;
pub mod inbound;
pub mod install;
pub mod inventory;
pub mod metrics;
pub mod outbound;
pub mod reconcile;
pub mod renewal;
pub mod run;
pub mod sops_keys;

pub use config::{Config, ConfigError};
pub use run::{RunError, run};
