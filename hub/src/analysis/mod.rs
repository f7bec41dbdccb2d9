//! Metric analysis for rollout gates (issue #19): the hub's Prometheus
//! settings, a small query client, and the leader's loop that evaluates the
//! gates of the wave in progress and records the results in the replicated
//! state (so the rollout controller stays pure).

mod config;
mod prometheus;
mod runner;

pub use config::{AnalysisConfig, PrometheusConfig};
pub use prometheus::{PrometheusClient, PrometheusError};
pub use runner::{AnalysisRunner, DueEvaluation, WAVE_CLUSTERS, cluster_regex, due_evaluations};
