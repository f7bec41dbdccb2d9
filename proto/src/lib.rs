//! # fleet-proto
//!
//! The wire contract between the fleet hub, its agents and `fleetctl`:
//! `proto/fleet/v1/{agent,admin,raft}.proto`, the tonic/prost code generated
//! from them, and `convert/` (wire <-> `fleet-core` types, one file per type).
//! It is the only crate that knows both the wire types and the core model.
//!
//! Not built yet: the hub issue adds the services and their conversions.
