//! `fleetctl revisions`: what the hub saw on the tracked branch and whether
//! it renders — with every error, file and line, when it does not — and the
//! remote Helm charts (with digests) a valid revision's verdict recorded.

use comfy_table::Table;
use fleet_proto::ListRevisionsRequest;
use serde::Serialize;

use crate::cli::HubReadArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RevisionRow {
    revision: String,
    summary: String,
    observed_at_ms: u64,
    valid: bool,
    clusters: u32,
    errors: Vec<String>,
    charts: Vec<ChartRow>,
}

/// A remote chart version a revision used, and its archive's digest.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartRow {
    repository: String,
    chart: String,
    version: String,
    digest: String,
}

pub async fn run(args: &HubReadArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    let response = client
        .list_revisions(ListRevisionsRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    let rows: Vec<RevisionRow> = response
        .revisions
        .into_iter()
        .map(|revision| RevisionRow {
            revision: revision.revision,
            summary: revision.summary,
            observed_at_ms: revision.observed_at_ms,
            valid: revision.valid,
            clusters: revision.clusters,
            errors: revision.errors,
            charts: revision
                .charts
                .into_iter()
                .map(|chart| ChartRow {
                    repository: chart.repository,
                    chart: chart.chart,
                    version: chart.version,
                    digest: chart.digest,
                })
                .collect(),
        })
        .collect();
    if args.output != OutputFormat::Table {
        print_structured(&rows, args.output)?;
        return Ok(());
    }
    println!("branch {} (newest first)", response.tracked_branch);
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["REVISION", "VERDICT", "CLUSTERS", "SUMMARY"]);
    for row in &rows {
        table.add_row([
            row.revision.chars().take(12).collect::<String>(),
            if row.valid { "valid" } else { "INVALID" }.to_owned(),
            row.clusters.to_string(),
            row.summary.clone(),
        ]);
    }
    println!("{table}");
    for row in rows.iter().filter(|row| !row.charts.is_empty()) {
        println!();
        println!(
            "{} renders these remote charts (digests recorded):",
            row.revision.chars().take(12).collect::<String>()
        );
        for chart in &row.charts {
            println!(
                "  {} {} from {}: {}",
                chart.chart, chart.version, chart.repository, chart.digest
            );
        }
    }
    for row in rows.iter().filter(|row| !row.valid) {
        println!();
        println!(
            "{} does not render; no cluster moved to it:",
            row.revision.chars().take(12).collect::<String>()
        );
        for error in &row.errors {
            println!("  error: {error}");
        }
    }
    Ok(())
}
