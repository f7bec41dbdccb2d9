//! # fleet-sim — a Kubernetes API simulator (a test and demo tool)
//!
//! `fleet-sim` is **not a cluster**. It is an HTTP(S) server that speaks the
//! Kubernetes REST API closely enough that the real `kube` crate and the real
//! `kubectl` work against it unchanged: discovery, CRUD, merge/JSON/strategic
//! patches, server-side apply with managed fields, watch, the status and
//! scale subresources, CustomResourceDefinitions, and simulated workload
//! controllers (a Deployment becomes available after a delay; an image whose
//! tag contains `fail` never does). Tests, benchmarks and the local demo use
//! it as their clusters.
//!
//! ## Starting simulators in-process
//!
//! Each [`Simulator::start`] binds its own ephemeral port on the current
//! tokio runtime, so one process can run a whole simulated fleet:
//!
//! ```no_run
//! use std::time::Duration;
//! use fleet_sim::{SimConfig, Simulator};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let mut clusters = Vec::new();
//! for name in ["edge-1", "edge-2", "prod-eu"] {
//!     let config = SimConfig {
//!         rollout_delay: Duration::from_millis(500),
//!         ..SimConfig::named(name)
//!     };
//!     let simulator = Simulator::start(config).await?;
//!     // Hand `simulator.kubeconfig()` to kube::Config, or write it for kubectl:
//!     simulator.write_kubeconfig(format!("/tmp/{name}.kubeconfig"))?;
//!     println!("{name}: {} (token {})", simulator.url(), simulator.token());
//!     clusters.push(simulator);
//! }
//! for simulator in clusters {
//!     simulator.shutdown().await;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! From the command line: `fleet-sim serve --port 0 --kubeconfig-out
//! sim.kubeconfig` (see `fleet-sim serve --help`), and `fleet-sim bench` for
//! throughput figures. `docs/fleet-sim.md` describes what is simulated and
//! what is not.

pub mod api;
pub mod apply;
pub mod bench;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod controllers;
pub mod discovery;
pub mod http;
pub mod kubeconfig;
pub mod openapi;
pub mod persistence;
pub mod protobuf;
pub mod selectors;
pub mod simulator;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;
pub mod watch;

pub use config::SimConfig;
pub use simulator::{RunningSimulator, Simulator, StartError};
