//! `fleetctl plan`: for each wave of the new revision, which clusters'
//! desired state changes and how, object by object.

use std::fmt::Write as _;

use fleet_core::Renderer;
use fleet_core::plan::{ChangeKind, FleetPlan};

use crate::cli::PlanArgs;
use crate::error::CliError;
use crate::output::{OutputFormat, print_structured};
use crate::repository;

pub fn run(args: &PlanArgs) -> Result<(), CliError> {
    let settings = args.repository.render_settings();
    let old = repository::load(&args.repository.repo, Some(&args.from), settings.limits)?;
    let new = repository::load(&args.repository.repo, Some(&args.to), settings.limits)?;
    let plan = FleetPlan::compute(
        &Renderer::with_settings(old, settings.clone()),
        &Renderer::with_settings(new, settings),
    )?;
    if args.output != OutputFormat::Table {
        print_structured(&plan, args.output)?;
        return Ok(());
    }
    print!("{}", human(&plan, !args.no_diff));
    Ok(())
}

fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

fn human(plan: &FleetPlan, with_diffs: bool) -> String {
    let total: usize = plan
        .waves
        .iter()
        .map(|wave| wave.changed.len() + wave.unchanged)
        .sum();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "plan {} -> {}: {} of {total} clusters change",
        short(&plan.from),
        short(&plan.to),
        plan.changed_clusters()
    );
    for wave in &plan.waves {
        let _ = writeln!(text);
        if wave.changed.is_empty() {
            let _ = writeln!(
                text,
                "wave {}: no changes ({} unchanged)",
                wave.wave, wave.unchanged
            );
            continue;
        }
        let _ = writeln!(
            text,
            "wave {}: {} changed, {} unchanged",
            wave.wave,
            wave.changed.len(),
            wave.unchanged
        );
        for cluster in &wave.changed {
            let added = count(&cluster.objects, ChangeKind::Added);
            let changed = count(&cluster.objects, ChangeKind::Changed);
            let removed = count(&cluster.objects, ChangeKind::Removed);
            let _ = writeln!(
                text,
                "  cluster {}: {added} to add, {changed} to change, {removed} to remove",
                cluster.cluster
            );
            for object in &cluster.objects {
                let marker = match object.change {
                    ChangeKind::Added => '+',
                    ChangeKind::Removed => '-',
                    ChangeKind::Changed => '~',
                };
                let _ = writeln!(text, "    {marker} {} (app {})", object.object, object.app);
                if with_diffs {
                    for line in object.diff.lines() {
                        let _ = writeln!(text, "      {line}");
                    }
                }
            }
        }
    }
    if !plan.removed_clusters.is_empty() {
        let _ = writeln!(text);
        let names: Vec<&str> = plan
            .removed_clusters
            .iter()
            .map(|cluster| cluster.cluster.as_str())
            .collect();
        let _ = writeln!(
            text,
            "clusters removed from the fleet: {}",
            names.join(", ")
        );
    }
    text
}

fn count(objects: &[fleet_core::plan::ObjectChange], kind: ChangeKind) -> usize {
    objects
        .iter()
        .filter(|object| object.change == kind)
        .count()
}
