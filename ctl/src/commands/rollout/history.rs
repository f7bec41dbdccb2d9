//! `fleetctl rollout history`: past rollouts and the audit log.

use fleet_proto::{AuditLogRequest, RolloutHistoryRequest, RolloutView};
use serde::Serialize;

use super::show::human;
use crate::cli::HubReadArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
struct History {
    rollouts: Vec<RolloutView>,
    audit: Vec<AuditRow>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditRow {
    sequence: u64,
    at_ms: u64,
    actor: String,
    action: String,
}

pub async fn run(args: &HubReadArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    let rollouts = client
        .rollout_history(RolloutHistoryRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .rollouts;
    let audit = client
        .audit_log(AuditLogRequest::default())
        .await
        .map_err(status_error)?
        .into_inner()
        .entries
        .into_iter()
        .map(|entry| AuditRow {
            sequence: entry.sequence,
            at_ms: entry.at_ms,
            actor: entry.actor,
            action: entry.action,
        })
        .collect();
    let history = History { rollouts, audit };
    if args.output != OutputFormat::Table {
        print_structured(&history, args.output)?;
        return Ok(());
    }
    let now = crate::clock::now_ms();
    for view in &history.rollouts {
        print!("{}", human(view, now));
        println!();
    }
    println!("audit log:");
    for entry in &history.audit {
        println!(
            "  #{} {} {}: {}",
            entry.sequence, entry.at_ms, entry.actor, entry.action
        );
    }
    Ok(())
}
