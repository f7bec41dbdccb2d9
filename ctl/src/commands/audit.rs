//! `fleetctl audit`: every operator action the hub recorded — who, when, what.

use comfy_table::Table;
use fleet_proto::AuditLogRequest;
use serde::Serialize;

use crate::cli::HubReadArgs;
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
}

pub async fn run(args: &HubReadArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    let entries = client
        .audit_log(AuditLogRequest {})
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
        })
        .collect();
    if args.output != OutputFormat::Table {
        print_structured(&rows, args.output)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["#", "WHEN (UNIX MS)", "WHO", "WHAT"]);
    for row in rows {
        table.add_row([
            row.sequence.to_string(),
            row.at_ms.to_string(),
            row.actor,
            row.action,
        ]);
    }
    println!("{table}");
    Ok(())
}
