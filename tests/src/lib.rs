//! # fleet-tests
//!
//! End-to-end tests that start real fleet processes — hub, agents and
//! `fleet-sim` clusters — with real Git repositories and real mTLS. The
//! offline `fleetctl` tests live beside the CLI in `ctl/tests/`; this crate
//! gathers the cross-process ones as the hub and agent land.
