//! `fleetctl token ...`.

pub mod create;
