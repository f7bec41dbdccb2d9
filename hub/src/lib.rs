//! # fleet-hub
//!
//! The authority of the fleet: an openraft state machine persisted in redb
//! that tracks the fleet repository in Git, decides each cluster's target
//! revision, enrolls agents with its own CA and serves them desired state over
//! mTLS gRPC.
//!
//! `app` wires a node: configuration → certificates → `raft` → `git` mirror
//! and sync → `api` services and `http` endpoints. `state` is the replicated
//! data and its deterministic transitions; `store` is how services read and
//! write it; `membership` keeps the Raft group in line with the hub nodes
//! that joined or were removed. `supervisor` watches the node's long-lived
//! background tasks.

pub mod analysis;
pub mod api;
pub mod app;
pub mod clock;
pub mod config;
pub mod connections;
pub mod dashboard_config;
pub mod env;
pub mod git;
pub mod http;
pub mod init;
pub mod join;
pub mod membership;
pub mod notifications;
pub mod pki;
pub mod presence;
pub mod private_files;
pub mod raft;
pub mod rollout;
pub mod state;
pub mod store;
pub mod supervisor;
pub mod users_config;
