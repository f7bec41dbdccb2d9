//! # fleet-sim
//!
//! A Kubernetes API simulator — a test and demo tool, not a cluster (being built).
