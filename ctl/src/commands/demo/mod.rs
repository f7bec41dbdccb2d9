//! `fleetctl demo`: the whole system on one machine, telling its story.
//!
//! A hub (in this process, on embedded defaults), one `fleet-sim` API server
//! per cluster of the example fleet with a real agent each, and a Git
//! repository made from the embedded `fleet-examples/`. Then: the fleet
//! converges; a commit changes an image and rolls out wave by wave (the
//! manual production wave is promoted); a manual edit is reverted; a commit
//! with a failing image stops at the canary and is rolled back while
//! production never moves. Everything stops at the end unless
//! `--keep-running`. The example fleet has a Helm app: the hub renders it
//! with the Helm [`helm_setup`] finds (or sets up).

mod agents;
mod helm_setup;
mod kubectl;
mod narrator;
mod story;
mod world;

use crate::cli::DemoArgs;
use crate::error::CliError;

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| {
            CliError::Failure(anyhow::anyhow!("starting the async runtime: {error}"))
        })?;
    runtime
        .block_on(story::tell(args))
        .map_err(CliError::Failure)
}
