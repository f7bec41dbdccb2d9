//! [`SimConfig`]: the knobs of one simulator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How one simulator behaves. `SimConfig::default()` is an HTTPS simulator
/// on an ephemeral loopback port, with a 2 s rollout delay.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The cluster/context/user name written into the kubeconfig.
    pub name: String,
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate generated at start (true) or plain HTTP.
    pub tls: bool,
    /// The bearer token clients must send; `None` generates a random one.
    pub token: Option<String>,
    /// How long a workload takes to become available.
    pub rollout_delay: Duration,
    /// How long a workload with a failing image takes to report
    /// `ProgressDeadlineExceeded`.
    pub progress_deadline: Duration,
    /// Keep objects in this directory across restarts.
    pub data_dir: Option<PathBuf>,
    /// How many change events are kept for watches that resume from a
    /// resourceVersion; older ones get 410 Expired.
    pub watch_window: usize,
    /// How often watches that allow bookmarks receive one.
    pub bookmark_interval: Duration,
    /// Create ReplicaSets and Pods for workloads (as real controllers do),
    /// so `kubectl get pods` shows them.
    pub simulate_pods: bool,
    /// How long a deleted namespace stays `Terminating` (with a
    /// `deletionTimestamp`, its content deleted, creates in it refused)
    /// before it is removed. Zero (the default) removes it at once.
    pub namespace_finalize_delay: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            name: "fleet-sim".to_string(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: true,
            token: None,
            rollout_delay: Duration::from_secs(2),
            progress_deadline: Duration::from_secs(10),
            data_dir: None,
            watch_window: 10_000,
            bookmark_interval: Duration::from_secs(30),
            simulate_pods: true,
            namespace_finalize_delay: Duration::ZERO,
        }
    }
}

impl SimConfig {
    /// A config with the given cluster name and defaults otherwise.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }
}

/// A duration that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    /// Not of the form `250ms`, `2s`, `1m` or `1h`.
    #[error("invalid duration {0:?}: use a number with ms, s, m or h (for example 2s)")]
    Invalid(String),
}

/// Parses `250ms`, `2s`, `1.5s`, `1m`, `1h` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let invalid = || DurationError::Invalid(text.to_string());
    let split = text
        .find(|character: char| character.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| invalid())?;
    if !value.is_finite() || value < 0.0 {
        return Err(invalid());
    }
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(invalid()),
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
    }
}
