//! fleetctl's own log lines (library events: the hub client, and the hub and
//! agents the demo runs in-process) on stderr, apart from its diagnostics
//! and progress. Quiet by default (`warn`); `FLEETCTL_LOG` takes an
//! `EnvFilter`. Colour only when stderr is a terminal, never in JSON.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The environment variable holding fleetctl's log filter.
pub const LOG_ENV: &str = "FLEETCTL_LOG";
/// The filter when `FLEETCTL_LOG` is unset.
const DEFAULT_FILTER: &str = "warn";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// One human line per event.
    #[default]
    Text,
    /// One JSON object per event.
    Json,
}

/// Installs the subscriber (once; later calls do nothing).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.with_ansi(false).json().try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}
