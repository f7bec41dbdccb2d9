//! # fleet-tests
//!
//! End-to-end tests that start real fleet processes — hub, agents and
//! `fleet-sim` clusters — with real Git repositories (made with the `git` CLI,
//! served by `git daemon`) and real mTLS. This library holds the harness the
//! tests in `tests/` share; the offline `fleetctl` tests live beside the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod agent_client;
pub mod agent_process;
pub mod agent_support;
pub mod binaries;
pub mod chart_repository;
pub mod dashboard_process;
pub mod git_fixture;
pub mod hub_cluster;
pub mod hub_node;
pub mod hub_process;
pub mod link_proxy;
pub mod net;
pub mod pod_process;
pub mod roaming_agent;
pub mod sim_cluster;
pub mod termination;
pub mod test_random;
pub mod tiny_fleet;
pub mod tools;
pub mod webdriver;
pub mod webhook_receiver;
