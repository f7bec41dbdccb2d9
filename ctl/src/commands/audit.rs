//! `fleetctl audit`: every operator action the hub recorded — who, with
//! which role, when, what, and whether it was allowed or refused (and why).

use comfy_table::Table;
use fleet_proto::AuditLogRequest;
use serde::Serialize;

use crate::cli::AuditArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditRow {
    sequence: u64,
    at_ms: u64,
    actor: String,
    action: String,
    role: String,
    outcome: String,
    reason: String,
}

pub async fn run(args: &AuditArgs) -> Result<(), CliError> {
    let since_ms = args.since.map_or(0, |since| {
        let since = u64::try_from(since.0.as_millis()).unwrap_or(u64::MAX);
        fleet_hub::clock::now_ms().saturating_sub(since).max(1)
    });
    let args = &args.read;
    let mut client = admin_client(&args.hub).await?;
    let entries = client
        .audit_log(AuditLogRequest { since_ms })
        .await
        .map_err(status_error)?
        .into_inner()
        .entries;
    let rows: Vec<AuditRow> = entries
        .into_iter()
        .map(|entry| AuditRow {
            sequence: entry.sequence,
            at_ms: entry.at_ms,
            actor: entry.actor,
            action: entry.action,
            role: entry.role,
            outcome: entry.outcome,
            reason: entry.reason,
        })
        .collect();
    if args.output != OutputFormat::Table {
        print_structured(&rows, args.output)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["#", "WHEN (UNIX MS)", "WHO", "ROLE", "OUTCOME", "WHAT"]);
    for row in rows {
        let what = if row.reason.is_empty() {
            row.action
        } else {
            format!("{} ({})", row.action, row.reason)
        };
        table.add_row([
            row.sequence.to_string(),
            row.at_ms.to_string(),
            row.actor,
            row.role,
            row.outcome,
            what,
        ]);
    }
    println!("{table}");
    Ok(())
}
