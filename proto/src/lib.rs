//! # fleet-proto
//!
//! The wire contract between the fleet hub, its agents and `fleetctl`:
//! `proto/fleet/v1/{agent,admin,raft}.proto`, the tonic/prost code generated
//! from them at build time (by protox, no `protoc` needed), and [`convert`]
//! (wire <-> `fleet-core` types, one file per type). It is the only crate that
//! knows both the wire types and the core model.

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
pub mod convert;

pub use generated::*;

/// The largest message any fleet service accepts or sends (16 MiB): a
/// cluster's whole desired state fits with room to spare; anything larger is
/// refused with `RESOURCE_EXHAUSTED` before it is decoded.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
