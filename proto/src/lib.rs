//! # fleet-proto
//!
//! The wire contract between the fleet hub, its agents and `fleetctl`:
//! `proto/fleet/v1/{agent,admin,raft}.proto`, the tonic/prost code generated
//! from them at build time (by protox, no `protoc` needed). It depends on no
//! other fleet crate: the core → wire conversion of desired state lives in the
//! hub (`hub/src/api/desired_state/convert.rs`), so the agent, which needs
//! only the wire, does not link `fleet-core` (and with it libgit2).

#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod generated {
    tonic::include_proto!("fleet.v1");
}

pub mod codec;

pub use generated::*;

/// The largest message any fleet service accepts or sends (16 MiB): a
/// cluster's whole desired state fits with room to spare; anything larger is
/// refused with `RESOURCE_EXHAUSTED` before it is decoded.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
