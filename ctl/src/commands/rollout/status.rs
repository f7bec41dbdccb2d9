//! `fleetctl rollout status [--watch]`.

use std::io::IsTerminal as _;
use std::time::Duration;

use fleet_proto::RolloutStatusRequest;

use super::show::human;
use crate::cli::RolloutStatusArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::output::{OutputFormat, print_structured};

/// How often `--watch` asks the hub.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

pub async fn run(args: &RolloutStatusArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.read.hub).await?;
    let terminal = std::io::stdout().is_terminal();
    let mut last_shown = String::new();
    loop {
        let response = client
            .rollout_status(RolloutStatusRequest {})
            .await
            .map_err(status_error)?
            .into_inner();
        let Some(view) = response.rollout else {
            println!("no rollout yet");
            return Ok(());
        };
        let active = matches!(view.state.as_str(), "Progressing" | "Paused");
        if args.read.output != OutputFormat::Table {
            print_structured(&view, args.read.output)?;
        } else {
            let shown = human(&view, crate::clock::now_ms());
            if terminal && args.watch {
                print!("\x1b[2J\x1b[H{shown}");
            } else if shown != last_shown {
                if args.watch && !last_shown.is_empty() {
                    println!();
                }
                print!("{shown}");
            }
            last_shown = shown;
        }
        if !args.watch || !active {
            return Ok(());
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
}
