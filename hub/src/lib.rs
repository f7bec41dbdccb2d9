//! # fleet-hub
//!
//! The authority of the fleet: a replicated (openraft + redb) state machine that
//! tracks the fleet repository in Git, decides each cluster's target revision
//! wave by wave, enrolls agents with its own CA and serves them desired state
//! over mTLS gRPC.
//!
//! Not built yet: this crate currently only reserves its place in the
//! workspace. The hub issue fills in `config`, `raft/`, `git/`, `rollout/`,
//! `api/` and `http/`.

/// What the `fleet-hub` binary says while the hub is not implemented.
pub const NOT_IMPLEMENTED: &str = "fleet-hub is not implemented yet (see the hub issue)";
