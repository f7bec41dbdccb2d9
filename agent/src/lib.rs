//! # fleet-agent
//!
//! The pull-only agent that runs in every cluster: it enrolls with a bootstrap
//! token, dials the hub over mTLS gRPC, server-side-applies its cluster's
//! desired state, keeps an inventory for pruning, assesses health, watches for
//! drift and self-heals — also while the hub is unreachable.
//!
//! Not built yet: this crate currently only reserves its place in the
//! workspace. The agent issue fills in `enroll`, `connection`, `inbound`,
//! `outbound`, `apply/`, `inventory/`, `drift/` and `cache/`.

/// What the `fleet-agent` binary says while the agent is not implemented.
pub const NOT_IMPLEMENTED: &str = "fleet-agent is not implemented yet (see the agent issue)";
